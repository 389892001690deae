// Issue 9 item 3: a trunk cannot forge trunkgate's own route hints nor the headers trunkgate adds.
import t, { type Test } from "tap";
import { sipRequest } from "../e2e/harness.js";
import { answer, makeCore } from "./core-harness.js";
import { numberRoute } from "../../../src/sip/route/number-route.js";
import { defaultRoute } from "../../../src/sip/route/decision.js";
import type { SipRequest, SipResponse } from "../../../src/sip/parse/index.js";

const URI = "sip:+4930123456@127.0.0.1:5061";
const rejectUnknown = numberRoute({ lookup: () => undefined }, defaultRoute("svc"), {
  enabled: true, customHeaderName: "X-Trunkgate-Number-Context", unknownNumber: "reject", assumeInternational: true,
});

t.test("an INVITE to an unknown number gets 404 with or without a forged Route naming a service", async (t) => {
  const h = makeCore({ srtp: false, route: rejectUnknown });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI }));
  t.same((h.trunk.take() as SipResponse[]).map((r) => r.status), [100, 404], "plain INVITE: 404");
  for (const route of ["<sip:127.0.0.1:5061;lr;tgs=svc;tgt=0>", "<sip:127.0.0.1:5061;transport=tcp;lr;tgs=svc;tgt=0;tgm=AAAAAAAAAAAAAAAA>"]) {
    h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, extra: [`Route: ${route}`] }));
    t.same((h.trunk.take() as SipResponse[]).map((r) => r.status), [100, 404], `forged ${route}: 404 too`);
  }
  t.equal(h.up(0).sent.length + h.up(1).sent.length, 0, "nothing reached an upstream");
});

t.test("a genuine Route from another call does not make a new INVITE skip the route decision", async (t) => {
  const h = makeCore({ srtp: false });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, callId: "genuine" }));
  const rr = (h.up(0).takeOne() as SipRequest).getHeaders("record-route")!.join(", ");
  const h2 = makeCore({ srtp: false, route: rejectUnknown });
  h2.fromTrunk(sipRequest({ method: "INVITE", uri: URI, callId: "genuine", extra: [`Route: ${rr}`] }));
  t.same((h2.trunk.take() as SipResponse[]).map((r) => r.status), [100, 404]);
});

const FORGED = ["X-Trunkgate-Number-Context: forged-context", "x-trunkgate-peer: other-trunk", "X-Ctx: forged"];

function assertClean(t: Test, req: SipRequest, what: string): void {
  t.equal(req.getHeader("x-trunkgate-number-context"), undefined, `${what}: no forged number context`);
  t.equal(req.getHeader("x-trunkgate-peer"), undefined, `${what}: no forged X-Trunkgate-Peer`);
  t.equal(req.getHeader("x-ctx"), undefined, `${what}: no forged configured context header`);
}

t.test("trunkgate's own headers sent by a trunk never reach the upstream: initial, ACK, INFO, BYE", async (t) => {
  const h = makeCore({ srtp: false, targets: 1, ownedHeaders: ["X-Ctx"] });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, callId: "hdr", fromTag: "ft", extra: FORGED }));
  h.trunk.take();
  const inv = h.up(0).takeOne() as SipRequest;
  assertClean(t, inv, "INVITE");
  h.fromUpstream(0, answer(inv, 200, "OK", { toTag: "ut" }));
  h.trunk.take();
  const rr = inv.getHeaders("record-route")!;
  // in-dialog requests follow the route set (reversed at the caller: the trunk-side entry first)
  const route = `Route: ${[...rr].reverse().join(", ")}`;
  h.fromTrunk(sipRequest({ method: "ACK", uri: URI, callId: "hdr", fromTag: "ft", toTag: "ut", extra: [route, ...FORGED] }));
  assertClean(t, h.up(0).takeOne() as SipRequest, "ACK");
  h.fromTrunk(sipRequest({ method: "INFO", uri: URI, callId: "hdr", fromTag: "ft", toTag: "ut", cseq: 2, extra: [route, ...FORGED] }));
  const info = h.up(0).takeOne() as SipRequest;
  t.equal(info.method, "INFO");
  assertClean(t, info, "INFO");
  t.equal(info.getHeader("route"), undefined, "our entries popped");
  h.fromTrunk(sipRequest({ method: "BYE", uri: URI, callId: "hdr", fromTag: "ft", toTag: "ut", cseq: 3, extra: FORGED }));
  assertClean(t, h.up(0).takeOne() as SipRequest, "BYE (dialog table)");
});

t.test("an in-dialog request with a tampered Route follows the dialog, and the forgery is counted", async (t) => {
  const h = makeCore({ srtp: false });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, callId: "tamper", fromTag: "ft" }));
  h.trunk.take();
  const inv = h.up(0).takeOne() as SipRequest;
  h.fromUpstream(0, answer(inv, 200, "OK", { toTag: "ut" }));
  h.trunk.take();
  const tampered = inv.getHeaders("record-route")!.join(", ").replace("tgt=0", "tgt=1");
  h.fromTrunk(sipRequest({ method: "BYE", uri: URI, callId: "tamper", fromTag: "ft", toTag: "ut", cseq: 2, extra: [`Route: ${tampered}`] }));
  t.equal((h.up(0).takeOne() as SipRequest).method, "BYE", "to the dialog's target 0");
  t.equal(h.up(1).sent.length, 0, "not to the forged target 1");
  t.match(await h.registry.metrics(), /trunkgate_sip_forged_routes_total 1/);
});

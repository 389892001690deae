// Issue 9 item 6: a target that sends no provisional within sip.timeouts.failoverMs is given up
// for the next one; the request as a whole stays bounded by Timer B (64·T1 = 32 s here).
import t from "tap";
import { sipRequest } from "../e2e/harness.js";
import { answer, makeCore } from "./core-harness.js";
import type { SipRequest, SipResponse } from "../../../src/sip/parse/index.js";

const URI = "sip:+4930123456@127.0.0.1:5061";

t.test("two targets that never answer the INVITE: the second gets it after the failover timer, 408 at Timer B", async (t) => {
  const h = makeCore({ srtp: false, failoverMs: 2000 });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI }));
  t.equal((h.trunk.takeOne() as SipResponse).status, 100);
  t.equal((h.up(0).takeOne() as SipRequest).method, "INVITE", "first target tried");
  h.platform.advance(1999);
  t.equal(h.up(1).sent.length, 0, "second target untouched before the failover timer");
  h.platform.advance(1);
  t.equal((h.up(1).takeOne() as SipRequest).method, "INVITE", "second target gets the INVITE at failoverMs");
  t.equal(h.up(0).sent.length, 0, "no CANCEL to a branch that never answered (§9.1)");
  h.platform.advance(32_000 - 2000 - 1);
  t.equal(h.trunk.sent.length, 0, "nothing before Timer B of the request");
  h.platform.advance(1);
  t.equal((h.trunk.takeOne() as SipResponse).status, 408, "408 at 64·T1 after the INVITE arrived, not 64·T1 per target");
  t.match(await h.registry.metrics(), /trunkgate_sip_failovers_total\{service="svc"\} 1/);
});

t.test("a provisional within the failover timer keeps the target", async (t) => {
  const h = makeCore({ srtp: false, failoverMs: 2000 });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI }));
  h.trunk.take();
  const fwd = h.up(0).takeOne() as SipRequest;
  h.platform.advance(500);
  h.fromUpstream(0, answer(fwd, 100, "Trying"));
  h.platform.advance(10_000);
  t.equal(h.up(1).sent.length, 0, "no failover once the target is proceeding");
  h.fromUpstream(0, answer(fwd, 200, "OK", { toTag: "u" }));
  t.equal((h.trunk.takeOne() as SipResponse).status, 200);
});

t.test("a late answer from the abandoned target is a stray; the second target's answer goes through", async (t) => {
  const h = makeCore({ srtp: false, failoverMs: 2000 });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI }));
  h.trunk.take();
  const first = h.up(0).takeOne() as SipRequest;
  h.platform.advance(2000);
  const second = h.up(1).takeOne() as SipRequest;
  h.fromUpstream(0, answer(first, 180, "Ringing", { toTag: "late" }));
  t.equal(h.trunk.sent.length, 0, "late provisional of the abandoned branch not forwarded");
  h.fromUpstream(1, answer(second, 200, "OK", { toTag: "u" }));
  t.equal((h.trunk.takeOne() as SipResponse).status, 200);
});

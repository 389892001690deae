// Flow is a discriminated union (issue 10): a trunk flow always has its peer, an upstream flow its
// target, and code must narrow on `side` to read either. The type-level half of this file is
// checked by the compiler (`npm run build:test`): each @ts-expect-error below fails the build if
// the line it guards starts to compile, e.g. when `peer`/`target` become optional fields of every
// flow again. The runtime half checks both legs of a transaction are named whichever side sent it.
import t from "tap";
import { dialogKey } from "../../../src/sip/dialog/dialogs.js";
import { INBOUND, OUTBOUND } from "../../../src/sip/direction.js";
import type { SipRequest, SipResponse } from "../../../src/sip/parse/index.js";
import { peerNameOf, targetOf, upstreamLabelOf, type Flow, type TrunkFlow, type UpstreamFlow } from "../../../src/sip/transport/flow.js";
import { sipRequest } from "../e2e/harness.js";
import { answer, makeCore } from "../proxy/core-harness.js";

/** Compiled, never called: what the compiler must refuse. */
export function typeLevelGuards(flow: Flow, trunk: TrunkFlow, upstream: UpstreamFlow): unknown[] {
  const out: unknown[] = [];
  // @ts-expect-error a flow of unknown kind has no peer to read
  out.push(flow.peer);
  // @ts-expect-error nor a target
  out.push(flow.target);
  // @ts-expect-error an upstream flow has no peer
  out.push(upstream.peer);
  // @ts-expect-error a trunk flow has no target
  out.push(trunk.target);
  // @ts-expect-error a trunk flow cannot be made without its peer
  const noPeer: TrunkFlow = { id: 1, side: INBOUND, transport: "TLS", open: true, send: () => true };
  out.push(noPeer);
  // @ts-expect-error nor with the upstream side
  const wrongSide: TrunkFlow = { id: 1, side: OUTBOUND, peer: trunk.peer, transport: "TLS", open: true, send: () => true };
  out.push(wrongSide);
  // Narrowed on side, both fields are there without any assertion.
  if (flow.side === INBOUND) out.push(flow.peer.name);
  else out.push(flow.target.label);
  return out;
}

t.test("peerNameOf / targetOf / upstreamLabelOf name the side a flow has", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  const up = h.up(0);
  t.equal(h.trunk.side, INBOUND);
  t.equal(up.side, OUTBOUND);
  t.equal(peerNameOf(h.trunk), "dev-trunk");
  t.equal(peerNameOf(up), undefined, "an upstream flow has no peer");
  t.equal(targetOf(up), h.service.targets[0]);
  t.equal(targetOf(h.trunk), undefined, "a trunk flow has no target");
  t.equal(upstreamLabelOf(up), "10.0.0.1:5060");
  t.equal(upstreamLabelOf(h.trunk), undefined);
});

/** The (first) transaction log line of this method, parsed. */
function transactionLine(lines: readonly string[], method: string): Record<string, unknown> {
  const found = lines.map((l) => JSON.parse(l) as Record<string, unknown>).find((l) => l.event === "sip_transaction" && l.method === method);
  if (found === undefined) throw new Error(`no ${method} transaction line`);
  return found;
}

t.test("a call from a trunk: its transaction names the trunk's peer and the upstream target tried", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: "sip:+4930123456@127.0.0.1:5061", callId: "in1", fromTag: "f" }));
  h.fromUpstream(0, answer(h.up(0).takeOne() as SipRequest, 200, "OK", { toTag: "u" }));
  const line = transactionLine(h.logs.raw, "INVITE");
  t.match(line, { direction: "inbound", peer: "dev-trunk", upstreamService: "svc", upstream: "10.0.0.1:5060", status: 200 });
  const d = h.dialogs.get(dialogKey("in1", "f", "u"), h.timers.now());
  t.match(d, { peer: "dev-trunk", connectionId: h.trunk.id, service: "svc", targetIndex: 0, initiator: INBOUND }, "the dialog knows both legs");
});

t.test("a call from an upstream: its transaction names the peer it went to and the target it came from", async (t) => {
  const h = makeCore({ srtp: false, targets: 1, peerTargets: true });
  const up = h.up(0);
  h.fromUpstream(0, sipRequest({ method: "INVITE", uri: "sip:+4930111@trunk.example.net", callId: "out1", fromTag: "of" }));
  t.equal((up.takeOne() as SipResponse).status, 100);
  const fwd = h.trunk.takeOne() as SipRequest;
  t.match(fwd.recordRoutes()![0]!.uri, new RegExp(`;tgp=dev-trunk;tgc=${h.trunk.id};`), "the trunk-facing Record-Route names the flow it left on");
  h.fromTrunk(answer(fwd, 200, "OK", { toTag: "t" }));
  t.equal((up.takeOne() as SipResponse).status, 200);
  const line = transactionLine(h.logs.raw, "INVITE");
  t.match(line, { direction: "outbound", peer: "dev-trunk", upstreamService: "svc", upstream: "10.0.0.1:5060", status: 200 });
  const d = h.dialogs.get(dialogKey("out1", "of", "t"), h.timers.now());
  t.match(d, { peer: "dev-trunk", connectionId: h.trunk.id, service: "svc", targetIndex: 0, initiator: OUTBOUND }, "the dialog knows both legs");
});

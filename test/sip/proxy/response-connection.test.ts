// Issue 9 item 8: a response goes back on the connection its request came in on, or nowhere
// (dropped, counted as no_connection) when that connection is gone: never on another connection of
// the same peer.
import t from "tap";
import { sipRequest } from "../e2e/harness.js";
import { answer, FakeTrunkFlow, makeCore } from "./core-harness.js";
import type { SipRequest } from "../../../src/sip/parse/index.js";

const URI = "sip:+4930123456@127.0.0.1:5061";

t.test("two connections of one peer: responses for the closed one are dropped, not sent on the other", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  const second = new FakeTrunkFlow(h.trunk.peer);
  h.peerFlows.push(second);
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, callId: "closed-conn" }), second);
  t.equal(second.take().length, 1, "100 Trying on the connection the INVITE came on");
  const fwd = h.up(0).takeOne() as SipRequest;
  second.open = false;
  h.core.onFlowClosed(second);
  h.fromUpstream(0, answer(fwd, 180, "Ringing", { toTag: "u" }));
  h.fromUpstream(0, answer(fwd, 486, "Busy Here", { toTag: "u" }));
  t.equal(h.trunk.sent.length, 0, "nothing on the peer's other connection");
  h.fromTrunk(sipRequest({ method: "OPTIONS", uri: "sip:127.0.0.1:5061" }), second);
  t.equal(h.trunk.sent.length, 0, "a stateless answer is not redirected either");
  t.match(await h.registry.metrics(), /trunkgate_sip_dropped_messages_total\{reason="no_connection"\} 3/);
});

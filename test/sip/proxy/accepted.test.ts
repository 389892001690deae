// An answered INVITE over TLS/TCP keeps only compact records for RFC 6026's Accepted state
// (src/sip/transaction/accepted.ts): the wire behaviour for the 64·T1 after the 2xx must be exactly what
// the full transactions did: retransmitted INVITE absorbed, 2xx retransmissions passed back, ACK
// with the INVITE's branch forwarded, CANCEL answered 200 and not forwarded, and everything gone
// at Timer L / M.
import t from "tap";
import { sipRequest } from "../e2e/harness.js";
import { answer, makeCore } from "./core-harness.js";
import type { SipRequest, SipResponse } from "../../../src/sip/parse/index.js";

const URI = "sip:+4930123456@127.0.0.1:5061";

t.test("Accepted after a 2xx: matching behaviour for 64·T1 with no per-call timer left", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  const invite = sipRequest({ method: "INVITE", uri: URI, branch: "z9hG4bK-acc1", callId: "acc1", fromTag: "f" });
  h.fromTrunk(invite);
  h.trunk.take();
  const fwd = h.up(0).takeOne() as SipRequest;
  h.fromUpstream(0, answer(fwd, 180, "Ringing", { toTag: "u" }));
  const ok = answer(fwd, 200, "OK", { toTag: "u" });
  h.fromUpstream(0, ok);
  t.same((h.trunk.take() as SipResponse[]).map((r) => r.status), [180, 200]);
  t.equal(h.timers.pending, 0, "no timer entry left for the call (Timer L/M kept as keys, B/C stopped)");
  t.equal(h.core.transactions, 1, "server side still matched");
  t.equal(h.core.clientTransactions, 1, "client side still matched");

  h.fromTrunk(invite);
  t.equal(h.trunk.sent.length + h.up(0).sent.length, 0, "retransmitted INVITE absorbed: not answered, not forwarded");

  h.platform.advance(1000);
  h.fromUpstream(0, ok);
  const again = h.trunk.takeOne() as SipResponse;
  t.equal(again.status, 200, "2xx retransmission passed back to the caller");
  t.equal(again.viaList.length, 1, "our Via removed");
  t.equal(again.topVia.branch, "z9hG4bK-acc1");
  t.equal(h.dialogs.size, 1, "dialog still confirmed");
  t.match(await h.registry.metrics(), /trunkgate_sip_responses_total\{class="2xx",method="INVITE",direction="inbound",peer="dev-trunk"\} 2/);

  h.fromUpstream(0, answer(fwd, 500, "Server Error", { toTag: "u" }));
  t.equal(h.trunk.sent.length, 0, "a non-2xx in Accepted is dropped");

  h.fromTrunk(sipRequest({ method: "ACK", uri: URI, branch: "z9hG4bK-acc1", callId: "acc1", fromTag: "f", toTag: "u" }));
  const ack = h.up(0).takeOne() as SipRequest;
  t.equal(ack.method, "ACK", "ACK with the INVITE's branch forwarded end to end");
  t.equal(ack.viaList.length, 2);

  h.fromTrunk(sipRequest({ method: "CANCEL", uri: URI, branch: "z9hG4bK-acc1", callId: "acc1", fromTag: "f" }));
  const c200 = h.trunk.takeOne() as SipResponse;
  t.equal(c200.status, 200, "CANCEL after the final: 200");
  t.equal(c200.cseq.method, "CANCEL");
  t.equal(h.up(0).sent.length, 0, "and not forwarded");

  h.fromUpstream(0, answer(fwd, 200, "OK", { toTag: "u" }).replace("CSeq: 1 INVITE", "CSeq: 1 CANCEL"));
  t.notMatch(await h.registry.metrics(), /dropped_messages_total\{reason="stray_response"\} [1-9]/, "a late answer to a CANCEL of ours is absorbed, not counted stray");

  h.platform.advance(30_999); // 31 999 ms after the 2xx
  h.fromTrunk(invite);
  t.equal(h.up(0).sent.length, 0, "still absorbed just before Timer L");
  t.equal(h.core.transactions, 1);
  h.platform.advance(1);
  t.equal(h.core.transactions, 0, "Timer L: server side gone at 64·T1");
  t.equal(h.core.clientTransactions, 0, "Timer M: client side gone at 64·T1");
  h.fromUpstream(0, ok);
  t.equal((h.trunk.takeOne() as SipResponse).status, 200, "a later 2xx follows the dialog (stateless)");
});

t.test("a 2xx from the upstream side's INVITE toward a trunk: Accepted records route back to the upstream", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  // Upstream → trunk needs an upstream flow to exist: take it, then have the upstream send an INVITE.
  const up = h.up(0);
  const inv = sipRequest({ method: "INVITE", uri: "sip:+4930555@dev-trunk", branch: "z9hG4bK-out1", callId: "out1", fromTag: "of" });
  h.fromUpstream(0, inv);
  t.equal((up.takeOne() as SipResponse).status, 100);
  const fwd = h.trunk.takeOne() as SipRequest;
  t.equal(fwd.method, "INVITE");
  const ok = answer(fwd, 200, "OK", { toTag: "t" });
  h.fromTrunk(ok);
  t.equal((up.takeOne() as SipResponse).status, 200);
  t.equal(h.core.clientTransactions, 1, "the client side is a compact Accepted record");
  h.fromTrunk(ok);
  t.equal((up.takeOne() as SipResponse).status, 200, "2xx retransmission goes back to the upstream");
  // Issue 13 item 4: the peer label is the trunk the transaction involves, for the 2xx and for its
  // retransmission relayed from Accepted alike (that one used to be labelled by the upstream flow).
  const metrics = await h.registry.metrics();
  t.match(metrics, /trunkgate_sip_responses_total\{class="2xx",method="INVITE",direction="outbound",peer="dev-trunk"\} 2/);
  t.notMatch(metrics, /trunkgate_sip_responses_total\{class="2xx",method="INVITE",direction="outbound",peer="unknown"\} [1-9]/);
  h.fromUpstream(0, inv);
  t.equal(up.sent.length + h.trunk.sent.length, 0, "retransmitted INVITE absorbed");
  h.fromUpstream(0, sipRequest({ method: "ACK", uri: "sip:+4930555@dev-trunk", branch: "z9hG4bK-out1", callId: "out1", fromTag: "of", toTag: "t" }));
  t.equal((h.trunk.takeOne() as SipRequest).method, "ACK", "ACK toward the trunk (direction kept)");
});

// A 2xx retransmission that crossed the ACK can reach the proxy after the BYE ended the dialog: it
// is still passed back to the caller, but it must not put the dialog back (the compact Accepted
// record used to re-confirm the Dialog it held: a call counted as up until the idle sweep, an hour).
t.test("a 2xx retransmission after the BYE does not bring the dialog back", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, branch: "z9hG4bK-late1", callId: "late1", fromTag: "f" }));
  const fwd = h.up(0).takeOne() as SipRequest;
  const ok = answer(fwd, 200, "OK", { toTag: "u" });
  h.fromUpstream(0, ok);
  t.equal(h.dialogs.size, 1, "the 2xx confirmed the dialog");
  h.fromTrunk(sipRequest({ method: "ACK", uri: URI, branch: "z9hG4bK-late2", callId: "late1", fromTag: "f", toTag: "u" }));
  h.fromTrunk(sipRequest({ method: "BYE", uri: URI, branch: "z9hG4bK-late3", callId: "late1", fromTag: "f", toTag: "u", cseq: 2 }));
  const bye = h.up(0).take().pop() as SipRequest;
  t.equal(bye.method, "BYE");
  h.fromUpstream(0, answer(bye, 200, "OK"));
  t.equal(h.dialogs.size, 0, "the BYE ended it");
  h.trunk.take();

  h.platform.advance(500);
  h.fromUpstream(0, ok);
  const again = h.trunk.takeOne() as SipResponse;
  t.same([again.status, again.cseq.method], [200, "INVITE"], "the retransmission still goes back to the caller");
  t.equal(h.dialogs.size, 0, "and the dialog stays ended");
  t.match(await h.registry.metrics(), /trunkgate_sip_active_calls(\{[^}]*\})? 0\n/);
});

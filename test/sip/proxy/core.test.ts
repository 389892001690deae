// RFC 3261 §16/§17 behaviour of the proxy core, deterministic: fake flows, manual clock, real
// parser, editor and transaction state machines.
import t from "tap";
import { sipRequest, RTP_SDP, SRTP_SDP } from "../e2e/harness.js";
import { answer, makeCore } from "./core-harness.js";
import type { SipRequest, SipResponse } from "../../../src/sip/parse/index.js";

const URI = "sip:+4930123456@127.0.0.1:5061";


t.test("INVITE: 100 Trying, forwarded with our Via, Max-Forwards-1, double Record-Route; responses routed back", async (t) => {
  const h = makeCore({ srtp: false });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, branch: "z9hG4bK-a1", maxForwards: 10, body: RTP_SDP }));
  const trying = h.trunk.takeOne() as SipResponse;
  t.equal(trying.status, 100, "100 Trying at once");
  t.equal(trying.to.tag, undefined, "no To tag on 100");
  const fwd = h.up(0).takeOne() as SipRequest;
  t.equal(fwd.method, "INVITE");
  t.equal(fwd.requestUri, URI, "Request-URI untouched");
  t.equal(fwd.viaList.length, 2);
  t.match(fwd.topVia.branch, /^z9hG4bKtg/, "our branch with the magic cookie");
  t.equal(fwd.topVia.transport, "TCP", "Via names the transport of the upstream hop");
  t.equal(fwd.topVia.host, "127.0.0.1");
  t.equal(fwd.viaList[1]!.branch, "z9hG4bK-a1");
  t.equal(fwd.maxForwards, 9);
  const rr = fwd.recordRoutes()!;
  t.equal(rr.length, 2, "double Record-Route (trunk side and upstream side)");
  t.match(rr[0]!.uri, /;lr;tgs=svc;tgt=0;tgm=[A-Za-z0-9_-]{16}$/, "hints signed (issue 9 item 3)");
  t.match(rr[1]!.uri, new RegExp(`;transport=tls;lr;tgp=dev-trunk;tgc=${h.trunk.id};tgm=[A-Za-z0-9_-]{16}$`));
  t.equal(fwd.body.toString(), RTP_SDP, "body forwarded");

  h.fromUpstream(0, answer(fwd, 100, "Trying"));
  t.equal(h.trunk.sent.length, 0, "100 from upstream is hop by hop: not forwarded");
  h.fromUpstream(0, answer(fwd, 180, "Ringing", { toTag: "u1" }));
  const ringing = h.trunk.takeOne() as SipResponse;
  t.equal(ringing.status, 180);
  t.equal(ringing.viaList.length, 1, "our Via removed");
  t.equal(ringing.topVia.branch, "z9hG4bK-a1");
  h.fromUpstream(0, answer(fwd, 200, "OK", { toTag: "u1", extra: ["Contact: <sip:uas@10.0.0.1:5060>"] }));
  const ok = h.trunk.takeOne() as SipResponse;
  t.equal(ok.status, 200);
  t.equal(ok.recordRoutes()!.length, 2, "Record-Route passed back to the caller");
  t.equal(h.dialogs.size, 1, "dialog confirmed");
  t.match(await h.registry.metrics(), /trunkgate_sip_active_calls 1/);
});

t.test("Max-Forwards absent: 70 inserted", async (t) => {
  const h = makeCore({ srtp: false });
  h.fromTrunk(sipRequest({ method: "MESSAGE", uri: URI, maxForwards: null }));
  const fwd = h.up(0).takeOne() as SipRequest;
  t.equal(fwd.maxForwards, 70, "Max-Forwards: 70 added when absent");
});

t.test("§16.3 validation", async (t) => {
  const h = makeCore();
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, maxForwards: 0 }));
  t.equal((h.trunk.takeOne() as SipResponse).status, 483, "Max-Forwards 0 → 483");
  h.fromTrunk(sipRequest({ method: "OPTIONS", uri: URI, maxForwards: 0 }));
  const opt = h.trunk.takeOne() as SipResponse;
  t.equal(opt.status, 200, "OPTIONS with Max-Forwards 0 is answered by the proxy");
  t.ok(opt.getHeader("allow")?.includes("INVITE"), "with Allow");
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, extra: ["Proxy-Require: foo, bar"] }));
  const r420 = h.trunk.takeOne() as SipResponse;
  t.equal(r420.status, 420);
  t.equal(r420.getHeader("unsupported"), "foo, bar", "Unsupported lists the tags");
  h.fromTrunk(sipRequest({ method: "OPTIONS", uri: "sip:127.0.0.1:5061" }));
  t.equal((h.trunk.takeOne() as SipResponse).status, 200, "OPTIONS to trunkgate itself answered 200");
  t.equal(h.up(0).sent.length, 0, "nothing forwarded");
  h.fromTrunk(sipRequest({ method: "OPTIONS", uri: "sip:service@127.0.0.1:5061" }));
  t.equal(h.up(0).requests()[0]?.method, "OPTIONS", "OPTIONS with a user part is forwarded");
});

t.test("loop → 482, spiral (different Request-URI) forwarded", async (t) => {
  const h = makeCore({ srtp: false });
  h.fromTrunk(sipRequest({ method: "MESSAGE", uri: URI, callId: "loop-1", fromTag: "ft", cseq: 5 }));
  const fwd = h.up(0).takeOne() as SipRequest;
  // The request comes back to us from upstream with our Via in it.
  const looped = fwd.buf.toString("latin1").replace("Via: ", "Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-up-1\r\nVia: ");
  h.fromUpstream(0, looped);
  t.equal((h.up(0).takeOne() as SipResponse).status, 482, "looped request refused with 482");
  const spiral = looped.replace(`MESSAGE ${URI}`, "MESSAGE sip:other@127.0.0.1:5061").replace("z9hG4bK-up-1", "z9hG4bK-up-2");
  h.fromUpstream(0, spiral);
  const sent = h.up(0).take();
  t.notOk(sent.some((m) => m.kind === "response" && m.status === 482), "a spiral is not a loop");
});

t.test("failover: 503 from the first target → second target; the 200 reaches the trunk", async (t) => {
  const h = makeCore({ srtp: false });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI }));
  h.trunk.take();
  const first = h.up(0).takeOne() as SipRequest;
  h.fromUpstream(0, answer(first, 503, "Service Unavailable", { toTag: "x" }));
  const ack = h.up(0).takeOne() as SipRequest;
  t.equal(ack.method, "ACK", "hop-by-hop ACK for the 503");
  t.equal(ack.topVia.branch, first.topVia.branch, "ACK has the INVITE's branch");
  t.equal(ack.to.tag, "x");
  t.equal(h.trunk.sent.length, 0, "503 not forwarded");
  const second = h.up(1).takeOne() as SipRequest;
  t.equal(second.method, "INVITE", "retried on the second target");
  t.not(second.topVia.branch, first.topVia.branch, "new branch for the new client transaction");
  h.fromUpstream(1, answer(second, 200, "OK", { toTag: "y" }));
  t.equal((h.trunk.takeOne() as SipResponse).status, 200);
  t.match(await h.registry.metrics(), /trunkgate_sip_failovers_total\{service="svc"\} 1/);
});

t.test("no failover on 486: forwarded as is", async (t) => {
  const h = makeCore({ srtp: false });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI }));
  h.trunk.take();
  const first = h.up(0).takeOne() as SipRequest;
  h.fromUpstream(0, answer(first, 486, "Busy Here", { toTag: "x" }));
  t.equal((h.trunk.takeOne() as SipResponse).status, 486);
  t.equal(h.up(1).sent.length, 0, "second target untouched");
});

t.test("every target 503 → the 503 goes on (all tried); transport failure everywhere → 503 Retry-After", async (t) => {
  const h = makeCore({ srtp: false });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI }));
  h.trunk.take();
  h.fromUpstream(0, answer(h.up(0).takeOne() as SipRequest, 503, "Service Unavailable", { toTag: "a" }));
  h.fromUpstream(1, answer(h.up(1).requests()[0]!, 503, "Service Unavailable", { toTag: "b" }));
  t.equal((h.trunk.takeOne() as SipResponse).status, 503, "503 forwarded once every target answered 503");

  const h2 = makeCore({ srtp: false });
  h2.refused.add(0);
  h2.refused.add(1);
  h2.fromTrunk(sipRequest({ method: "BYE", uri: URI, toTag: "z" }));
  const r = h2.trunk.takeOne() as SipResponse;
  t.equal(r.status, 503);
  t.equal(r.getHeader("retry-after"), "30");
});

t.test("all targets down by health → 503 with Retry-After, nothing forwarded", async (t) => {
  const h = makeCore();
  for (const target of h.service.targets) for (let i = 0; i < 2; i++) target.health.record(false);
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI }));
  const msgs = h.trunk.take() as SipResponse[];
  t.same(msgs.map((m) => m.status), [100, 503]);
  t.equal(msgs[1]!.getHeader("retry-after"), "30");
  t.equal(h.up(0).sent.length + h.up(1).sent.length, 0);
});

t.test("unhealthy target skipped", async (t) => {
  const h = makeCore({ srtp: false });
  h.service.targets[0]!.health.record(false);
  h.service.targets[0]!.health.record(false);
  h.fromTrunk(sipRequest({ method: "MESSAGE", uri: URI }));
  t.equal(h.up(0).sent.length, 0);
  t.equal(h.up(1).requests()[0]?.method, "MESSAGE");
});

t.test("Timer B: no response → 408 after 64·T1 (failover first)", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI }));
  h.trunk.take();
  h.platform.advance(31_999);
  t.equal(h.trunk.sent.length, 0, "nothing before 32 s");
  h.platform.advance(1);
  t.equal((h.trunk.takeOne() as SipResponse).status, 408, "408 Request Timeout at 32 s");
});

t.test("Timer F: non-INVITE without response → 408", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  h.fromTrunk(sipRequest({ method: "BYE", uri: URI, toTag: "t" }));
  h.platform.advance(32_000);
  t.equal((h.trunk.takeOne() as SipResponse).status, 408);
});

t.test("Timer C: provisional but no final for > 3 min → CANCEL upstream, 487 goes back", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI }));
  h.trunk.take();
  const fwd = h.up(0).takeOne() as SipRequest;
  h.fromUpstream(0, answer(fwd, 180, "Ringing", { toTag: "u" }));
  h.trunk.take();
  h.platform.advance(180_000);
  t.equal(h.up(0).sent.length, 0, "nothing before Timer C");
  h.platform.advance(1);
  const cancel = h.up(0).takeOne() as SipRequest;
  t.equal(cancel.method, "CANCEL");
  t.equal(cancel.topVia.branch, fwd.topVia.branch);
  h.fromUpstream(0, answer(fwd, 487, "Request Terminated", { toTag: "u" }));
  t.equal((h.trunk.takeOne() as SipResponse).status, 487);
});

t.test("CANCEL: 200 to the CANCEL, CANCEL upstream after a provisional, 487 back, ACK absorbed", async (t) => {
  const h = makeCore({ srtp: false });
  const inv = sipRequest({ method: "INVITE", uri: URI, branch: "z9hG4bK-c1", callId: "c1" });
  h.fromTrunk(inv);
  h.trunk.take();
  const fwd = h.up(0).takeOne() as SipRequest;
  // CANCEL before any provisional from upstream: held (§9.1)
  h.fromTrunk(sipRequest({ method: "CANCEL", uri: URI, branch: "z9hG4bK-c1", callId: "c1", cseq: 1 }).replace("CSeq: 1 CANCEL", "CSeq: 1 CANCEL"));
  const okCancel = h.trunk.takeOne() as SipResponse;
  t.equal(okCancel.status, 200);
  t.equal(okCancel.cseq.method, "CANCEL");
  t.equal(h.up(0).sent.length, 0, "CANCEL held until a provisional arrives");
  h.fromUpstream(0, answer(fwd, 180, "Ringing", { toTag: "u" }));
  const cancel = h.up(0).requests().find((r) => r.method === "CANCEL");
  t.ok(cancel, "CANCEL sent upstream once a provisional arrived");
  t.equal(cancel!.topVia.branch, fwd.topVia.branch, "same branch as the INVITE");
  t.equal(cancel!.requestUri, fwd.requestUri);
  h.up(0).take();
  h.fromUpstream(0, answer(cancel!, 200, "OK", { toTag: "u" }));
  h.fromUpstream(0, answer(fwd, 487, "Request Terminated", { toTag: "u" }));
  t.equal((h.up(0).takeOne() as SipRequest).method, "ACK", "ACK for the 487 upstream");
  const msgs = h.trunk.take() as SipResponse[];
  t.same(msgs.map((m) => m.status), [180, 487]);
  t.equal(h.up(1).sent.length, 0, "no failover after a CANCEL");
  // the trunk's ACK for the 487 has the INVITE's branch: absorbed
  h.fromTrunk(sipRequest({ method: "ACK", uri: URI, branch: "z9hG4bK-c1", callId: "c1", toTag: "u" }));
  t.equal(h.up(0).sent.length, 0, "ACK for non-2xx absorbed hop by hop");
  t.equal(h.core.transactions, 0, "server transaction done");
});

t.test("CANCEL without a matching INVITE → 481", async (t) => {
  const h = makeCore();
  h.fromTrunk(sipRequest({ method: "CANCEL", uri: URI, branch: "z9hG4bK-none" }));
  t.equal((h.trunk.takeOne() as SipResponse).status, 481);
});

t.test("ACK for 2xx and BYE without Route (SIPp style, R-URI = us) follow the dialog", async (t) => {
  const h = makeCore({ srtp: false });
  h.refused.add(0); // connection to target 0 fails: failover, the dialog lives on target 1
  h.fromTrunk(sipRequest({ method: "INVITE", uri: "sip:service@127.0.0.1:5061", callId: "d1", fromTag: "ft" }));
  h.trunk.take();
  const fwd = h.up(1).requests()[0]!;
  h.fromUpstream(1, answer(fwd, 200, "OK", { toTag: "ut" }));
  t.equal((h.trunk.take() as SipResponse[]).pop()!.status, 200);
  h.up(1).take();
  h.fromTrunk(sipRequest({ method: "ACK", uri: "sip:service@127.0.0.1:5061", callId: "d1", fromTag: "ft", toTag: "ut", branch: "z9hG4bK-ack2" }));
  const ack = h.up(1).takeOne() as SipRequest;
  t.equal(ack.method, "ACK", "ACK for 2xx relayed end to end to the dialog's target");
  t.match(ack.topVia.branch, /^z9hG4bKtg/);
  h.fromTrunk(sipRequest({ method: "BYE", uri: "sip:service@127.0.0.1:5061", callId: "d1", fromTag: "ft", toTag: "ut", cseq: 2 }));
  const bye = h.up(1).takeOne() as SipRequest;
  t.equal(bye.method, "BYE", "BYE relayed to the dialog's target, not looped to ourselves");
  t.equal(bye.requestUri, "sip:service@127.0.0.1:5061");
  h.fromUpstream(1, answer(bye, 200, "OK"));
  t.equal((h.trunk.takeOne() as SipResponse).status, 200);
  t.equal(h.dialogs.size, 0, "dialog ended by BYE");
});

t.test("BYE from upstream with our Route entries reaches the trunk's connection", async (t) => {
  const h = makeCore({ srtp: false });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, callId: "u1", fromTag: "ft" }));
  h.trunk.take();
  const fwd = h.up(0).takeOne() as SipRequest;
  h.fromUpstream(0, answer(fwd, 200, "OK", { toTag: "ut" }));
  h.trunk.take();
  const rr = fwd.getHeaders("record-route")!;
  const bye = [
    "BYE sip:caller@192.0.2.9:5999;transport=tls SIP/2.0",
    "Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-ub1",
    `Route: ${rr.join(", ")}`,
    "Max-Forwards: 70",
    "From: <sip:callee@127.0.0.1>;tag=ut",
    "To: <sip:caller@dev-trunk.local>;tag=ft",
    "Call-ID: u1",
    "CSeq: 1 BYE",
    "Content-Length: 0", "", "",
  ].join("\r\n");
  h.dialogs.clear(); // prove the Route hints alone are enough
  h.fromUpstream(0, bye);
  const out = h.trunk.takeOne() as SipRequest;
  t.equal(out.method, "BYE");
  t.equal(out.getHeader("route"), undefined, "both of our Route entries removed");
  t.equal(out.requestUri, "sip:caller@192.0.2.9:5999;transport=tls", "Request-URI untouched");
  t.equal(out.topVia.transport, "TLS");
  h.fromTrunk(answer(out, 200, "OK"));
  const okUp = h.up(0).takeOne() as SipResponse;
  t.equal(okUp.status, 200, "the trunk's 200 goes back upstream");
  t.equal(okUp.topVia.branch, "z9hG4bK-ub1");
  t.match(await h.registry.metrics(), /trunkgate_sip_requests_total\{method="BYE",direction="outbound",peer="unknown"\} 1/);
});

t.test("SRTP policy: RTP/AVP offer → 488; other suites removed from an offer", async (t) => {
  const h = makeCore();
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, body: RTP_SDP }));
  const r = h.trunk.takeOne() as SipResponse;
  t.equal(r.status, 488);
  t.match(r.getHeader("warning"), /SRTP/);
  t.equal(h.up(0).sent.length, 0);
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, body: SRTP_SDP }));
  const fwd = h.up(0).requests()[0]!;
  const body = fwd.body.toString();
  t.ok(body.includes("AES_CM_128_HMAC_SHA1_80"), "allowed suite kept");
  t.notOk(body.includes("AES_CM_128_HMAC_SHA1_32"), "other suite removed");
  t.equal(fwd.contentLength, fwd.body.length, "Content-Length fixed");
  t.notOk(h.logs.text.includes("inline:"), "no key material in logs");
});

t.test("SRTP policy: a 2xx answer with RTP/AVP → ACK+BYE upstream, 488 to the trunk", async (t) => {
  const h = makeCore({ targets: 1 });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, body: SRTP_SDP }));
  h.trunk.take();
  const fwd = h.up(0).takeOne() as SipRequest;
  h.fromUpstream(0, answer(fwd, 183, "Session Progress", { toTag: "u", body: RTP_SDP }));
  t.equal(h.trunk.sent.length, 0, "18x with insecure SDP not forwarded");
  h.fromUpstream(0, answer(fwd, 200, "OK", { toTag: "u", body: RTP_SDP, extra: ["Contact: <sip:uas@10.0.0.1:5060>"] }));
  const reqs = h.up(0).requests();
  t.same(reqs.map((r) => r.method), ["ACK", "BYE"], "session ended upstream");
  t.equal(reqs[1]!.requestUri, "sip:uas@10.0.0.1:5060", "BYE to the UAS Contact");
  t.equal(reqs[1]!.cseq.seq, fwd.cseq.seq + 1);
  const r = h.trunk.takeOne() as SipResponse;
  t.equal(r.status, 488);
  t.equal(h.dialogs.size, 0);
});

t.test("stray response dropped and counted", async (t) => {
  const h = makeCore();
  h.fromUpstream(0, [
    "SIP/2.0 200 OK", "Via: SIP/2.0/TCP 127.0.0.1:5061;branch=z9hG4bKtgnothing.x0", "Via: SIP/2.0/TLS 1.2.3.4;branch=z9hG4bK-1",
    "From: <sip:a@b>;tag=1", "To: <sip:c@d>;tag=2", "Call-ID: s1", "CSeq: 1 INVITE", "Content-Length: 0", "", "",
  ].join("\r\n"));
  t.equal(h.trunk.sent.length, 0);
  t.match(await h.registry.metrics(), /trunkgate_sip_dropped_messages_total\{reason="stray_response"\} 1/);
});

t.test("INVITE retransmission answered from the server transaction, not forwarded twice", async (t) => {
  const h = makeCore({ srtp: false });
  const inv = sipRequest({ method: "INVITE", uri: URI, branch: "z9hG4bK-r1" });
  h.fromTrunk(inv);
  t.equal((h.trunk.takeOne() as SipResponse).status, 100);
  h.fromTrunk(inv);
  t.equal((h.trunk.takeOne() as SipResponse).status, 100, "last provisional resent");
  t.equal(h.up(0).requests().length, 1, "forwarded once");
});

t.test("route decision: reject, async service choice, new Request-URI and extra headers", async (t) => {
  const h = makeCore({
    srtp: false,
    route: (req) => req.uri.user === "blocked" ? { reject: 403, reason: "Forbidden" } :
      Promise.resolve({ service: "svc", requestUri: "sip:+4930999@10.0.0.1", extraHeaders: [["X-Route", "numbers"]] }),
  });
  h.fromTrunk(sipRequest({ method: "MESSAGE", uri: "sip:blocked@127.0.0.1:5061" }));
  t.equal((h.trunk.takeOne() as SipResponse).status, 403);
  h.fromTrunk(sipRequest({ method: "MESSAGE", uri: URI }));
  await new Promise((r) => setImmediate(r));
  const fwd = h.up(0).takeOne() as SipRequest;
  t.equal(fwd.requestUri, "sip:+4930999@10.0.0.1");
  t.equal(fwd.getHeader("x-route"), "numbers");
});

t.test("a new request from upstream goes to the trunk by Request-URI host (peer targets)", async (t) => {
  const h = makeCore({ srtp: false, peerTargets: true });
  h.fromUpstream(0, [
    "INVITE sip:+4930111@trunk.example.net SIP/2.0", "Via: SIP/2.0/TCP 10.0.0.1:5060;branch=z9hG4bK-n1", "Max-Forwards: 70",
    "From: <sip:svc@10.0.0.1>;tag=a", "To: <sip:+4930111@trunk.example.net>", "Call-ID: n1", "CSeq: 1 INVITE",
    "Content-Length: 0", "", "",
  ].join("\r\n"));
  t.equal((h.up(0).takeOne() as SipResponse).status, 100);
  const out = h.trunk.takeOne() as SipRequest;
  t.equal(out.method, "INVITE");
  const rr = out.recordRoutes()!;
  t.match(rr[0]!.uri, /tgp=dev-trunk/, "trunk-facing Record-Route on top toward the trunk");
  t.match(rr[1]!.uri, /tgs=svc;tgt=0/);
});

t.test("drain: new calls get 503, in-dialog requests still flow", async (t) => {
  const h = makeCore({ srtp: false });
  const drained = h.core.drain();
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI }));
  t.equal((h.trunk.takeOne() as SipResponse).status, 503);
  h.fromTrunk(sipRequest({ method: "BYE", uri: URI, toTag: "x" }));
  const bye = h.up(0).requests()[0]!;
  t.equal(bye.method, "BYE");
  h.fromUpstream(0, answer(bye, 200, "OK"));
  await drained;
  t.pass("drain resolved once the last transaction finished");
});

t.test("one log line per transaction with hashed Call-ID, no numbers", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, callId: "secret-call-id" }));
  const fwd = h.up(0).takeOne() as SipRequest;
  h.fromUpstream(0, answer(fwd, 486, "Busy Here", { toTag: "b" }));
  const lines = h.logs.lines.filter((l) => l.event === "sip_transaction");
  t.equal(lines.length, 1);
  t.equal(lines[0]!.status, 486);
  t.equal(lines[0]!.upstream, "10.0.0.1:5060");
  t.match(String(lines[0]!.callId), /^[0-9a-f]{16}$/);
  t.notOk(h.logs.text.includes("secret-call-id"));
  t.notOk(h.logs.text.includes("4930123456"));
});


t.test("a 2xx retransmission after the transaction ended follows the dialog to the trunk", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, callId: "s2xx" }));
  h.trunk.take();
  const fwd = h.up(0).takeOne() as SipRequest;
  const ok = answer(fwd, 200, "OK", { toTag: "u" });
  h.fromUpstream(0, ok);
  t.equal((h.trunk.takeOne() as SipResponse).status, 200);
  h.platform.advance(32_000); // Timer L / M: transactions gone
  t.equal(h.core.clientTransactions, 0);
  h.fromUpstream(0, ok);
  const again = h.trunk.takeOne() as SipResponse;
  t.equal(again.status, 200, "forwarded statelessly along the dialog");
  t.equal(again.viaList.length, 1, "our Via removed");
});

t.test("a route decision that throws or rejects → 500, never a crash", async (t) => {
  const h = makeCore({ srtp: false, route: (req) => { if (req.uri.user === "sync") throw new Error("db down"); return Promise.reject(new Error("db down")); } });
  h.fromTrunk(sipRequest({ method: "MESSAGE", uri: "sip:sync@127.0.0.1:5061" }));
  t.equal((h.trunk.takeOne() as SipResponse).status, 500);
  h.fromTrunk(sipRequest({ method: "MESSAGE", uri: "sip:async@127.0.0.1:5061" }));
  await new Promise((r) => setImmediate(r));
  t.equal((h.trunk.takeOne() as SipResponse).status, 500);
  t.ok(h.logs.lines.some((l) => l.msg === "route decision failed"));
});

t.test("drain waits for calls to end (BYE), not for the 32 s the transactions are kept", async (t) => {
  const h = makeCore({ srtp: false, targets: 1 });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, callId: "dr1", fromTag: "f" }));
  h.trunk.take();
  h.fromUpstream(0, answer(h.up(0).takeOne() as SipRequest, 200, "OK", { toTag: "u" }));
  h.trunk.take();
  let drained = false;
  void h.core.drain().then(() => (drained = true));
  await new Promise((r) => setImmediate(r));
  t.notOk(drained, "a call is up");
  h.fromTrunk(sipRequest({ method: "BYE", uri: URI, callId: "dr1", fromTag: "f", toTag: "u", cseq: 2 }));
  h.fromUpstream(0, answer(h.up(0).requests().find((r) => r.method === "BYE")!, 200, "OK"));
  await new Promise((r) => setImmediate(r));
  t.ok(drained, "drained once the BYE completed");
  t.ok(h.core.transactions > 0, "while the INVITE transaction is still kept (RFC 6026)");
});

t.test("the same branch from two different senders makes two transactions (sent-by is part of the key)", async (t) => {
  const h = makeCore({ srtp: false });
  const a = sipRequest({ method: "INVITE", uri: URI, branch: "z9hG4bK-same", callId: "a" });
  const b = sipRequest({ method: "INVITE", uri: URI, branch: "z9hG4bK-same", callId: "b" }).replace("127.0.0.1:5999", "192.0.2.7:5999");
  h.fromTrunk(a);
  h.fromTrunk(b);
  t.equal(h.up(0).requests().filter((r) => r.method === "INVITE").length, 2, "both forwarded");
});

t.test("a stray 2xx (its transactions gone) passes the same media filter as any 2xx: other suites removed", async (t) => {
  const h = makeCore({ targets: 1 });
  h.fromTrunk(sipRequest({ method: "INVITE", uri: URI, body: SRTP_SDP, callId: "stray-sdp", fromTag: "f" }));
  h.trunk.take();
  const fwd = h.up(0).takeOne() as SipRequest;
  const ok = answer(fwd, 200, "OK", { toTag: "u", body: SRTP_SDP });
  h.fromUpstream(0, ok);
  const first = h.trunk.takeOne() as SipResponse;
  t.equal(first.status, 200);
  t.notOk(first.body.toString().includes("AES_CM_128_HMAC_SHA1_32"), "the 2xx itself: other suite removed");
  h.platform.advance(64 * 500 + 1); // the Accepted state (Timer L/M) is over: no transaction left
  t.equal(h.core.clientTransactions, 0);
  h.fromUpstream(0, ok); // the UAS retransmits its 2xx (our ACK was slow): forwarded along the dialog
  const again = h.trunk.takeOne() as SipResponse;
  t.equal(again.status, 200);
  t.ok(again.body.toString().includes("AES_CM_128_HMAC_SHA1_80"), "allowed suite kept");
  t.notOk(again.body.toString().includes("AES_CM_128_HMAC_SHA1_32"), "other suite removed here too");
  t.equal(again.contentLength, again.body.length, "Content-Length follows the body");
});

// Protocol edge cases over a real mutual-TLS connection from a trunk (a Node TLS client with the
// dev-trunk certificate): malformed requests, oversized messages, CRLF keepalive, the SRTP policy,
// all upstreams down, health checks, first-message and idle timeouts.
import t from "tap";
import type { SipResponse } from "../../../src/sip/parse/index.js";
import { freeTcpPort, startSipp } from "../../helpers/sipp.js";
import { RTP_SDP, SRTP_SDP, TrunkClient, sipRequest, startGateway } from "./harness.js";
import { bound, until } from "../../helpers/time.js";

async function response(c: TrunkClient, status?: number): Promise<SipResponse> {
  for (;;) {
    const m = await c.next(5000);
    if (m === "pong" || m.kind !== "response") continue;
    if (m.status === status || m.status >= 200) return m;
  }
}

t.test("malformed requests → 400 with a reason; the connection stays usable", async (t) => {
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: 9 }] }] });
  t.teardown(() => gw.stop());
  const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => c.close());
  c.send(sipRequest({ method: "INVITE", uri: "sip:x@127.0.0.1" }).replace(/CSeq: 1 INVITE/, "CSeq: x INVITE"));
  const raw = await c.next(5000);
  // The answer echoes the broken CSeq (as it must), so the client's own parser refuses it: read the bytes.
  t.ok(typeof raw === "object" && raw.kind === "unparsed", "answer echoes the malformed CSeq");
  t.match(typeof raw === "object" && raw.kind === "unparsed" ? raw.buf.toString() : "", /^SIP\/2\.0 400 Bad Request - Malformed CSeq Header\r\n/, "400 with the reason naming the header");
  c.send(sipRequest({ method: "INVITE", uri: "sip:x@127.0.0.1" }).replace(/Call-ID: .*\r\n/, ""));
  const missing = await c.next(5000);
  t.match(typeof missing === "object" && missing.kind === "unparsed" ? missing.buf.toString() : "", /^SIP\/2\.0 400 Bad Request - Missing Call-ID Header\r\n/);
  c.send(sipRequest({ method: "OPTIONS", uri: "sip:x@127.0.0.1" }).replace("SIP/2.0\r\n", "SIP/3.0\r\n"));
  t.equal((await response(c)).status, 505, "unsupported version → 505");
  c.send(sipRequest({ method: "OPTIONS", uri: "http://example.com/" }));
  t.equal((await response(c)).status, 416, "unsupported URI scheme → 416");
  c.send("SIP/2.0 200 OK\r\nVia: garbage\r\nContent-Length: 0\r\n\r\n");
  c.send(sipRequest({ method: "OPTIONS", uri: `sip:127.0.0.1:${gw.port}` }));
  t.equal((await response(c)).status, 200, "a malformed response is dropped silently; the next request is answered");
  const m = await gw.metrics();
  t.match(m, /trunkgate_sip_parse_errors_total\{reason="malformed",peer="dev-trunk"\} 2/, "bad CSeq and the bad response");
  t.match(m, /trunkgate_sip_parse_errors_total\{reason="missing-header",peer="dev-trunk"\} 1/);
  t.match(m, /trunkgate_sip_dropped_messages_total\{reason="malformed_response"\} 1/);
});

t.test("oversized message → 513, framing continues; unframable stream → closed", async (t) => {
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: 9 }] }], sip: { limits: { maxMessageBytes: 4096 } } });
  t.teardown(() => gw.stop());
  const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => c.close());
  c.send(sipRequest({ method: "MESSAGE", uri: "sip:x@127.0.0.1", body: "x".repeat(5000), contentType: "text/plain" }));
  const r = await response(c);
  t.equal(r.status, 513);
  t.equal(r.reason, "Message Too Large");
  c.send(sipRequest({ method: "OPTIONS", uri: `sip:127.0.0.1:${gw.port}` }));
  t.equal((await response(c)).status, 200, "next message on the same connection is processed");
  c.send("INVITE sip:x@y SIP/2.0\r\nVia: SIP/2.0/TLS h;branch=z9hG4bK1\r\nContent-Length: nope\r\n\r\n");
  await c.waitClosed(3000);
  t.ok(c.closed, "connection closed when the stream can no longer be framed");
});

t.test("CRLF keepalive: ping → pong", async (t) => {
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: 9 }] }] });
  t.teardown(() => gw.stop());
  const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => c.close());
  c.send("\r\n\r\n");
  t.equal(await c.next(2000), "pong");
  c.send("\r\n\r\n");
  t.equal(await c.next(2000), "pong", "again");
});

t.test("SRTP policy over the wire: plain RTP → 488; SRTP offer forwarded with only the allowed suite", async (t) => {
  const uas = await startSipp({ scenario: "uas", timeoutSeconds: 30 });
  t.teardown(() => uas.stop());
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: uas.port }] }] });
  t.teardown(() => gw.stop());
  const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => c.close());
  c.send(sipRequest({ method: "INVITE", uri: `sip:service@127.0.0.1:${gw.port}`, body: RTP_SDP }));
  const r = await response(c);
  t.equal(r.status, 488);
  t.match(r.getHeader("warning"), /AES_CM_128_HMAC_SHA1_80/);
  // SIPp's uas answers with plain RTP/AVP: trunkgate ends that session upstream and refuses it.
  c.send(sipRequest({ method: "INVITE", uri: `sip:service@127.0.0.1:${gw.port}`, body: SRTP_SDP }));
  const r2 = await response(c, 488);
  t.equal(r2.status, 488, "an insecure answer from upstream becomes 488 for the trunk");
  t.notOk(gw.logs.text.includes("inline:"), "no key material in logs");
});

t.test("all upstream targets down (health checks) → 503 with Retry-After; gauge 0", async (t) => {
  const closed = await freeTcpPort();
  const gw = await startGateway({
    upstreams: [{ name: "svc", targets: [{ port: closed }], healthCheck: { enabled: true, intervalMs: 200, timeoutMs: 200, downThreshold: 1, upThreshold: 1 } }],
    sip: { retryAfterSeconds: 7 },
  });
  t.teardown(() => gw.stop());
  await until(() => gw.proxy.stats().upstreamTargetsUp === 0, "target marked down", 30_000).catch(() => undefined);
  t.equal(gw.proxy.stats().upstreamTargetsUp, 0, "target marked down");
  t.match(await gw.metrics(), new RegExp(`trunkgate_sip_upstream_target_up\\{service="svc",target="127.0.0.1:${closed}"\\} 0`));
  const c = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  t.teardown(() => c.close());
  c.send(sipRequest({ method: "INVITE", uri: `sip:service@127.0.0.1:${gw.port}` }));
  const r = await response(c);
  t.equal(r.status, 503);
  t.equal(r.getHeader("retry-after"), "7");
});

t.test("health checks: a target answering OPTIONS (SIPp -aa) stays up, goes down when it stops, traffic fails over", async (t) => {
  const uas = await startSipp({ scenario: "uas", timeoutSeconds: 30, args: ["-aa"] });
  const gw = await startGateway({
    upstreams: [{ name: "svc", targets: [{ port: uas.port }], healthCheck: { enabled: true, intervalMs: 150, timeoutMs: 300, downThreshold: 2, upThreshold: 1 } }],
  });
  t.teardown(() => gw.stop());
  await new Promise((r) => setTimeout(r, 600)); // several probe rounds (no event to wait on: proving nothing changes)
  t.equal(gw.proxy.stats().upstreamTargetsUp, 1, "answered probes keep it up");
  await uas.stop();
  await until(() => gw.proxy.stats().upstreamTargetsUp === 0, "target marked down", 30_000).catch(() => undefined);
  t.equal(gw.proxy.stats().upstreamTargetsUp, 0, "down after it stopped answering");
});

t.test("first-message timeout closes a silent connection", async (t) => {
  // The idle timeout is far beyond the wait: only the first-message timer can close it in time.
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: 9 }] }], sip: { timeouts: { firstMessageMs: 300, idleMs: 3_600_000 } } });
  t.teardown(() => gw.stop());
  const silent = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  await silent.waitClosed(bound(60_000));
  t.pass("silent connection closed by the first-message timeout");
});

t.test("idle timeout closes a connection that went quiet, not before idleMs after its last complete message", async (t) => {
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: 9 }] }], sip: { timeouts: { firstMessageMs: 300, idleMs: 1000 } } });
  t.teardown(() => gw.stop());
  const talker = await TrunkClient.connect(gw.port, gw.pki.client, gw.pki);
  // A complete message passes the first-message timer (a keep-alive does not: slow-clients.test.ts),
  // and idle counts from the last complete message. Taken before the request leaves: the server's
  // idle clock starts when it arrives, later, so the difference below is a lower bound however slow
  // the machine is (timers never fire early).
  const sent = Date.now();
  talker.send(sipRequest({ method: "OPTIONS", uri: `sip:127.0.0.1:${gw.port}` }));
  t.equal((await response(talker)).status, 200);
  await talker.waitClosed(bound(60_000));
  t.ok(Date.now() - sent >= 900, `idle connection closed ${Date.now() - sent} ms after its last message, not at the 300 ms first-message timeout`);
});

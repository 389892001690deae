// Acceptance: SIPp's built-in uac scenario over TLS (stunnel with the dev-trunk client
// certificate) completes 1,000 calls through trunkgate to SIPp's built-in uas with 0 failed
// calls. The upstream hop is TLS too: a stunnel server in front of the uas requires and verifies
// trunkgate's client certificate (tls.clientCertificate), and trunkgate verifies the stunnel
// server's certificate for 127.0.0.1 against the trust store (no SNI for an IP address).
import t from "tap";
import { freeTcpPort, runSipp, startSipp, startStunnel } from "../../helpers/sipp.js";
import { startGateway, testPki } from "./harness.js";

t.test("1,000 calls, 200 calls/s, one persistent TLS connection each side, 0 failed", async (t) => {
  const pki = await testPki();
  const uas = await startSipp({ scenario: "uas", timeoutSeconds: 90 });
  t.teardown(() => uas.stop());
  const upstreamTls = await startStunnel({
    mode: "server",
    acceptPort: await freeTcpPort(),
    connectPort: uas.port,
    certPath: pki.serverEcdsa.certPath,
    keyPath: pki.serverEcdsa.keyPath,
    caPath: pki.ca.certPath,
    verifyClient: true,
  });
  t.teardown(() => upstreamTls.stop());
  const gw = await startGateway({
    upstreams: [{ name: "svc", targets: [{ port: upstreamTls.port, transport: "tls" }] }],
    // SIPp's built-in uac offers RTP/AVP, so the SRTP-only policy is off for this scenario.
    sip: { media: { srtpPolicy: "off" } },
  });
  t.teardown(() => gw.stop());
  gw.logs.lines.length = 0;
  const st = await gw.stunnelClient();
  const started = Date.now();
  const res = await runSipp({
    scenario: "uac",
    target: `127.0.0.1:${gw.port}`,
    via: `127.0.0.1:${st.port}`,
    calls: 1000,
    rate: 200,
    limit: 400,
    timeoutSeconds: 180, // a bound for a loaded machine; speed is the benchmark's business
    recvTimeoutMs: 30_000,
  });
  const wallMs = Date.now() - started;
  t.equal(res.stats.outgoing, 1000, "1000 calls placed");
  t.equal(res.stats.successful, 1000, "1000 calls successful");
  t.equal(res.stats.failed, 0, "0 failed calls");
  t.equal(res.code, 0, `sipp exit code 0${res.code === 0 ? "" : `: ${res.output.slice(-2000)}`}`);
  const stats = gw.proxy.stats();
  t.equal(stats.activeCalls, 0, "no dialog left");
  t.equal(stats.upstreamConnections, 1, "one pooled TLS connection upstream");
  t.comment(`mean INVITE→200 ${res.stats.rtt1Ms} ms; wall ${wallMs} ms`);
});

// A full call INVITE/100/180/200/ACK/BYE/200 from SIPp's built-in uac (behind a stunnel client with
// the dev-trunk certificate) through trunkgate to SIPp's built-in uas over TCP.
import t from "tap";
import { runSipp, startSipp } from "../../helpers/sipp.js";
import { startGateway } from "./harness.js";

t.test("SIPp uac → stunnel → trunkgate → SIPp uas: 5 calls complete", async (t) => {
  const uas = await startSipp({ scenario: "uas", timeoutSeconds: 60 });
  t.teardown(() => uas.stop());
  // SIPp's built-in scenarios offer plain RTP/AVP: the SRTP policy is off for them.
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: uas.port }] }], sip: { media: { srtpPolicy: "off" } } });
  t.teardown(() => gw.stop());
  const st = await gw.stunnelClient();
  const res = await runSipp({
    scenario: "uac",
    target: `127.0.0.1:${gw.port}`,
    via: `127.0.0.1:${st.port}`,
    calls: 5,
    rate: 10,
    timeoutSeconds: 20,
  });
  t.equal(res.stats.failed, 0, "no failed call");
  t.equal(res.stats.successful, 5, "5 successful calls");
  t.equal(res.code, 0, `sipp exit code 0 (output: ${res.code === 0 ? "" : res.output.slice(-3000)})`);
  const m = await gw.metrics();
  t.match(m, /trunkgate_sip_requests_total\{method="INVITE",direction="inbound",peer="dev-trunk"\} 5/);
  t.match(m, /trunkgate_sip_requests_total\{method="BYE",direction="inbound",peer="dev-trunk"\} 5/);
  t.match(m, /trunkgate_sip_active_calls 0/);
  const tx = gw.logs.lines.filter((l) => l.event === "sip_transaction");
  t.ok(tx.some((l) => l.method === "INVITE" && l.status === 200 && l.peer === "dev-trunk"), "transaction log line for INVITE");
  t.notOk(gw.logs.text.includes("service@"), "no user part of a URI in logs");
});

t.test("SRTP-only policy: SIPp's plain RTP/AVP offer is refused with 488 and never reaches the callee", async (t) => {
  const uas = await startSipp({ scenario: "uas", timeoutSeconds: 30 });
  t.teardown(() => uas.stop());
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: uas.port }] }] });
  t.teardown(() => gw.stop());
  const st = await gw.stunnelClient();
  const res = await runSipp({ scenario: "uac", target: `127.0.0.1:${gw.port}`, via: `127.0.0.1:${st.port}`, calls: 3, rate: 10, timeoutSeconds: 10 });
  t.equal(res.stats.successful, 0, "no call set up");
  t.equal(res.stats.failed, 3, "every call refused");
  const m = await gw.metrics();
  t.match(m, /trunkgate_sip_responses_total\{class="4xx",method="INVITE",direction="inbound",peer="dev-trunk"\} 3/, "3 × 488");
  const u = await uas.finish();
  t.equal(u.stats.outgoing, 0, "the callee never saw an INVITE");
});

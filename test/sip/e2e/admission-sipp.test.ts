// Issue 14 part 2, the acceptance test: a SIPp burst from one peer at 5× its new-call limit leaves
// another peer's calls at 0 failed, while the bursting peer gets 503s, each counted in
// trunkgate_sip_admission_rejections_total. Both SIPp clients run at once, each behind its own
// stunnel client with its own certificate (two peers over mutual TLS). Bounded: 40 + 10 calls.
import t from "tap";
import { runSipp, startSipp, startStunnel, freeTcpPort } from "../../helpers/sipp.js";
import { startGateway, testPki } from "./harness.js";

const LIMIT_CPS = 4;

t.test("SIPp: carrier-a bursts at 5× its call rate; carrier-b's calls all complete", async (t) => {
  const pki = await testPki();
  const carrierB = await pki.issue({ name: "admission-sipp-b", commonName: "carrier-b", dns: ["carrier-b.local"], eku: ["clientAuth"] });
  const uas = await startSipp({ scenario: "uas", timeoutSeconds: 120 });
  t.teardown(() => uas.stop());
  const gw = await startGateway({
    upstreams: [{ name: "svc", targets: [{ port: uas.port }] }],
    // SIPp's built-in scenarios offer plain RTP/AVP: the SRTP policy is off for them.
    sip: { media: { srtpPolicy: "off" }, logTransactions: false },
    peers: [
      { name: "carrier-a", match: { dnsNames: ["dev-trunk.local"] }, admission: { newCallsPerSecond: LIMIT_CPS, newCallsBurst: LIMIT_CPS } },
      { name: "carrier-b", match: { dnsNames: ["carrier-b.local"] }, admission: { newCallsPerSecond: 10, newCallsBurst: 20 } },
    ],
  });
  t.teardown(() => gw.stop());
  const stA = await gw.stunnelClient();
  const stB = await startStunnel({
    mode: "client", acceptPort: await freeTcpPort(), connectPort: gw.port,
    certPath: carrierB.certPath, keyPath: carrierB.keyPath, caPath: pki.ca.certPath,
  });
  t.teardown(() => stB.stop());

  const target = `127.0.0.1:${gw.port}`;
  const [a, b] = await Promise.all([
    runSipp({ scenario: "uac", target, via: `127.0.0.1:${stA.port}`, calls: 40, rate: 5 * LIMIT_CPS, timeoutSeconds: 90 }),
    runSipp({ scenario: "uac", target, via: `127.0.0.1:${stB.port}`, calls: 10, rate: 2, timeoutSeconds: 90 }),
  ]);
  t.equal(b.stats.failed, 0, `carrier-b: 0 failed calls (output: ${b.stats.failed === 0 ? "" : b.output.slice(-2000)})`);
  t.equal(b.stats.successful, 10, "carrier-b: all 10 calls completed");
  t.ok(a.stats.failed > 0, `carrier-a: some calls refused (${a.stats.failed} of 40)`);
  t.ok(a.stats.successful > 0, `carrier-a: the calls within its limit went through (${a.stats.successful})`);
  t.equal(a.stats.successful + a.stats.failed, 40, "carrier-a: every call accounted for");
  const m = await gw.metrics();
  const count = (peer: string, reason: string): number => {
    const line = m.split("\n").find((l) => l.startsWith(`trunkgate_sip_admission_rejections_total{peer="${peer}",reason="${reason}"}`));
    return Number(line?.split(" ").pop());
  };
  t.equal(count("carrier-a", "call_rate"), a.stats.failed, "each refused call of carrier-a counted as call_rate");
  t.equal(count("carrier-b", "call_rate"), 0, "nothing refused for carrier-b");
  t.match(m, /trunkgate_sip_responses_total\{class="5xx",method="INVITE",direction="inbound"[^}]*\} [1-9]/, "the refusals went out as 5xx");
  t.match(m, /trunkgate_sip_admission_calls\{peer="carrier-a"\} 0/, "carrier-a: no call left counted");
  t.match(m, /trunkgate_sip_admission_calls\{peer="carrier-b"\} 0/, "carrier-b: no call left counted");
});

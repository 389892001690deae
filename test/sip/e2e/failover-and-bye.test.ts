// Failover (first target 503 → second target 200) and a BYE from the upstream side reaching the
// trunk over its own TLS connection, both with SIPp on each side.
import { readFileSync } from "node:fs";
import t from "tap";
import { repoPath } from "../../helpers/paths.js";
import { runSipp, startSipp } from "../../helpers/sipp.js";
import { startGateway } from "./harness.js";

const scenario = (name: string) => ({ name, xml: readFileSync(repoPath("test/sip/e2e/scenarios", `${name}.xml`), "utf8") });

t.test("first target answers 503, the second 200: calls succeed, the 503 never reaches the trunk", async (t) => {
  const busy = await startSipp({ scenario: scenario("uas-503"), timeoutSeconds: 30 });
  t.teardown(() => busy.stop());
  const good = await startSipp({ scenario: "uas", timeoutSeconds: 30 });
  t.teardown(() => good.stop());
  const gw = await startGateway({
    upstreams: [{ name: "svc", targets: [{ port: busy.port, priority: 0 }, { port: good.port, priority: 1 }] }],
    sip: { media: { srtpPolicy: "off" } },
  });
  t.teardown(() => gw.stop());
  const st = await gw.stunnelClient();
  const res = await runSipp({ scenario: "uac", target: `127.0.0.1:${gw.port}`, via: `127.0.0.1:${st.port}`, calls: 4, rate: 20, timeoutSeconds: 15 });
  t.equal(res.stats.successful, 4, `4 calls successful${res.stats.successful === 4 ? "" : `: ${res.output.slice(-2500)}`}`);
  t.equal(res.stats.failed, 0);
  const b = await busy.finish();
  t.equal(b.stats.successful, 4, "the busy target got each INVITE and the hop-by-hop ACK for its 503");
  const m = await gw.metrics();
  t.match(m, /trunkgate_sip_failovers_total\{service="svc"\} 4/);
  t.notMatch(m, /trunkgate_sip_responses_total\{class="5xx",method="INVITE",direction="inbound",peer="dev-trunk"\} [1-9]/, "no 5xx to the trunk");
});

t.test("BYE from the upstream side follows trunkgate's Record-Route back to the trunk", async (t) => {
  const uas = await startSipp({ scenario: scenario("uas-bye"), timeoutSeconds: 30 });
  t.teardown(() => uas.stop());
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: uas.port }] }] });
  t.teardown(() => gw.stop());
  const st = await gw.stunnelClient();
  const res = await runSipp({ scenario: scenario("uac-recv-bye"), target: `127.0.0.1:${gw.port}`, via: `127.0.0.1:${st.port}`, calls: 3, rate: 10, timeoutSeconds: 15 });
  t.equal(res.stats.successful, 3, `the caller received the BYE and answered it${res.stats.successful === 3 ? "" : `: ${res.output.slice(-2500)}`}`);
  const u = await uas.finish();
  t.equal(u.stats.successful, 3, "the callee got the 200 for its BYE");
  const m = await gw.metrics();
  t.match(m, /trunkgate_sip_requests_total\{method="BYE",direction="outbound",peer="unknown"\} 3/);
  t.match(m, /trunkgate_sip_active_calls 0/);
  // The peer has no sip.targets: the trunk's own open TLS connection was the only way to reach it.
  t.equal(gw.config.peers[0]!.sip.targets.length, 0);
});

// A cancelled call end to end: the caller (SIPp, over TLS via stunnel) cancels after 180; trunkgate
// answers the CANCEL with 200, cancels the upstream INVITE (the callee is SIPp too), the 487 comes
// back through, and the caller's ACK for it is absorbed hop by hop.
import { readFileSync } from "node:fs";
import t from "tap";
import { repoPath } from "../../helpers/paths.js";
import { runSipp, startSipp } from "../../helpers/sipp.js";
import { startGateway } from "./harness.js";

const scenario = (name: string) => ({ name, xml: readFileSync(repoPath("test/sip/e2e/scenarios", `${name}.xml`), "utf8") });

t.test("CANCEL after 180: 200 for the CANCEL, 487 for the INVITE, on both sides", async (t) => {
  const uas = await startSipp({ scenario: scenario("uas-cancel"), timeoutSeconds: 30 });
  t.teardown(() => uas.stop());
  const gw = await startGateway({ upstreams: [{ name: "svc", targets: [{ port: uas.port }] }] });
  t.teardown(() => gw.stop());
  const st = await gw.stunnelClient();
  const res = await runSipp({ scenario: scenario("uac-cancel"), target: `127.0.0.1:${gw.port}`, via: `127.0.0.1:${st.port}`, calls: 3, rate: 10, timeoutSeconds: 15 });
  t.equal(res.stats.successful, 3, `3 cancelled calls completed${res.stats.successful === 3 ? "" : `: ${res.output.slice(-2500)}`}`);
  t.equal(res.stats.failed, 0);
  const u = await uas.finish();
  t.equal(u.stats.successful, 3, "the callee saw CANCEL, sent 487 and got its ACK");
  const m = await gw.metrics();
  t.match(m, /trunkgate_sip_requests_total\{method="CANCEL",direction="inbound",peer="dev-trunk"\} 3/);
  t.match(m, /trunkgate_sip_responses_total\{class="4xx",method="INVITE",direction="inbound",peer="dev-trunk"\} 3/);
  t.equal(gw.proxy.stats().serverTransactions, 0, "no transaction left");
});

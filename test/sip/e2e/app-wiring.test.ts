// The SIP component inside the real App (composition root, admin endpoints, store): a SIPp call
// through it, metrics on /metrics, readiness, graceful stop.
import t from "tap";
import { sipComponent } from "../../../src/sip/component.js";
import { runSipp, startSipp, freeTcpPort, startStunnel } from "../../helpers/sipp.js";
import { startEdge } from "../../helpers/edge.js";
import { testPki } from "./harness.js";

t.test("App + sipComponent: a call, /metrics, /readyz, stop", async (t) => {
  const pki = await testPki();
  const uas = await startSipp({ scenario: "uas", timeoutSeconds: 30, args: ["-aa"] });
  t.teardown(() => uas.stop());
  const edge = await startEdge(pki, {
    builders: [async (s) => sipComponent(s).component],
    config: {
      logging: { level: "info" },
      sip: {
        upstreams: [{ name: "local-uas", targets: [{ host: "127.0.0.1", port: uas.port, transport: "tcp" }] }],
        media: { srtpPolicy: "off" },
      },
    },
  });
  let stopped = false;
  t.teardown(() => (stopped ? undefined : edge.stop()));
  const port = edge.port("sip");
  const st = await startStunnel({ mode: "client", acceptPort: await freeTcpPort(), connectPort: port, certPath: pki.client.certPath, keyPath: pki.client.keyPath, caPath: pki.ca.certPath });
  t.teardown(() => st.stop());
  const ready = await fetch(`${edge.adminUrl}/readyz`, { signal: AbortSignal.timeout(5000) });
  t.equal(ready.status, 200, "ready");
  const res = await runSipp({ scenario: "uac", target: `127.0.0.1:${port}`, via: `127.0.0.1:${st.port}`, calls: 3, rate: 10, timeoutSeconds: 15 });
  t.equal(res.stats.successful, 3, `3 calls${res.stats.successful === 3 ? "" : `: ${res.output.slice(-2000)}`}`);
  const m = await edge.metrics();
  t.match(m, /trunkgate_sip_requests_total\{method="INVITE",direction="inbound",peer="dev-trunk"\} 3/);
  t.match(m, /trunkgate_sip_upstream_target_up\{service="local-uas",target="127\.0\.0\.1:\d+"\} 1/);
  t.ok(edge.logs.some((l) => l.includes('"event":"sip_transaction"')), "transaction log lines");
  await edge.stop();
  stopped = true;
  t.pass("stopped");
});

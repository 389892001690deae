// How the primary merges worker registries: counters and histograms summed, gauges of shared state
// not multiplied, process metrics kept per process, a departed worker's counters kept.
import t from "tap";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import { aggregateCluster, retire } from "../../src/cluster/metrics-aggregation.js";
import { metricSum } from "./harness.js";

function workerRegistry(handshakes: number, open: number, notAfter: number, targetUp: number) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Counter({ name: "trunkgate_tls_handshakes_total", help: "h", labelNames: ["listener"], registers: [registry] }).labels("sip").inc(handshakes);
  new Gauge({ name: "trunkgate_active_connections", help: "h", labelNames: ["listener"], registers: [registry] }).labels("sip").set(open);
  new Gauge({ name: "trunkgate_certificate_not_after_timestamp_seconds", help: "h", labelNames: ["role"], registers: [registry] }).labels("server").set(notAfter);
  new Gauge({ name: "trunkgate_sip_upstream_target_up", help: "h", labelNames: ["target"], registers: [registry] }).labels("a").set(targetUp);
  new Gauge({ name: "trunkgate_build_info", help: "h", labelNames: ["version"], registers: [registry] }).labels("1.0").set(1);
  const h = new Histogram({ name: "trunkgate_tls_handshake_duration_seconds", help: "h", buckets: [0.01, 0.1], registers: [registry] });
  for (let i = 0; i < handshakes; i++) h.observe(0.05);
  return registry;
}

t.test("counters, histograms and counting gauges are summed; shared-state gauges are not", async (t) => {
  const w1 = await workerRegistry(3, 1, 2000, 1).getMetricsAsJSON();
  const w2 = await workerRegistry(5, 2, 1000, 0).getMetricsAsJSON();
  const text = await aggregateCluster([{ worker: "1", metrics: w1 }, { worker: "2", metrics: w2 }], []).metrics();
  t.equal(metricSum(text, "trunkgate_tls_handshakes_total", 'listener="sip"'), 8);
  t.equal(metricSum(text, "trunkgate_active_connections", 'listener="sip"'), 3);
  t.equal(metricSum(text, "trunkgate_tls_handshake_duration_seconds_count"), 8);
  t.equal(metricSum(text, "trunkgate_tls_handshake_duration_seconds_bucket", 'le="0.1"'), 8);
  t.equal(metricSum(text, "trunkgate_certificate_not_after_timestamp_seconds"), 1000, "earliest expiry");
  t.equal(metricSum(text, "trunkgate_sip_upstream_target_up"), 0, "up only if every worker sees it up");
  t.equal(metricSum(text, "trunkgate_build_info"), 1);
  t.ok(metricSum(text, "process_cpu_user_seconds_total", 'worker="1"') >= 0);
  t.ok(metricSum(text, "process_cpu_user_seconds_total", 'worker="2"') >= 0);
  t.match(text, /nodejs_heap_size_total_bytes\{worker="1"\} \d+/);
  t.match(text, /nodejs_heap_size_total_bytes\{worker="2"\} \d+/);
});

t.test("a departed worker's counters stay in the totals; its gauges and process metrics go", async (t) => {
  const w1 = await workerRegistry(3, 1, 2000, 1).getMetricsAsJSON();
  const w2 = await workerRegistry(5, 2, 2000, 1).getMetricsAsJSON();
  let retired = await retire([], w2);
  const replacement = await workerRegistry(1, 0, 2000, 1).getMetricsAsJSON();
  let text = await aggregateCluster([{ worker: "1", metrics: w1 }, { worker: "2", metrics: replacement }], retired).metrics();
  t.equal(metricSum(text, "trunkgate_tls_handshakes_total"), 3 + 5 + 1);
  t.equal(metricSum(text, "trunkgate_tls_handshake_duration_seconds_count"), 9);
  t.equal(metricSum(text, "trunkgate_active_connections"), 1, "only live workers' open connections");
  t.equal(metricSum(text, "trunkgate_certificate_not_after_timestamp_seconds"), 2000);
  t.equal(text.match(/process_cpu_user_seconds_total\{worker="2"\}/g)?.length, 1, "one series per live process");
  // A second departure accumulates.
  retired = await retire(retired, replacement);
  text = await aggregateCluster([{ worker: "1", metrics: w1 }], retired).metrics();
  t.equal(metricSum(text, "trunkgate_tls_handshakes_total"), 9);
});

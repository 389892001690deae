// One /metrics for the whole cluster, from every worker's registry (sent over IPC as JSON) and the
// primary's own. prom-client's AggregatorRegistry.aggregate() merges samples with the same name and
// labels using each metric's `aggregator` (default: sum); this module decides that aggregator:
//
// * trunkgate_* counters and histograms: summed (handshakes, requests… of the whole instance);
// * trunkgate_* gauges that count things in each process (connections, calls, queue depth): summed;
// * trunkgate_* gauges that describe state every worker holds a copy of: SHARED_STATE_GAUGES below
//   (summing two workers' certificate expiry would be nonsense);
// * process_* and nodejs_* (prom-client's default metrics): not merged but kept per process, with a
//   `worker` label ("1".."N", "primary"), since one process's heap or event-loop lag is what matters.
//
// Counters must not go backwards when a worker is replaced (Prometheus would read a reset): the
// last trunkgate_* counters and histograms seen from a worker that exited are kept as "retired"
// totals and added in. A new gauge that describes shared state belongs in SHARED_STATE_GAUGES.
import { AggregatorRegistry, type Aggregator, type Registry } from "prom-client";
import type { MetricsJson } from "./messages.js";

type Metric = MetricsJson[number];

export const SHARED_STATE_GAUGES: Readonly<Record<string, Aggregator>> = {
  // Conservative for expiry alerts: the earliest expiry any worker still presents or trusts.
  trunkgate_certificate_not_after_timestamp_seconds: "min",
  trunkgate_trusted_root_not_after_timestamp_seconds: "min",
  // 1 per version label; a worker started from newer files shows up as a second series.
  trunkgate_build_info: "max",
  // Each worker health-checks on its own: up only when every worker sees the target up.
  trunkgate_sip_upstream_target_up: "min",
  // Every worker's routing cache loads the same table.
  trunkgate_store_numbers_provisioned: "max",
};

const PER_PROCESS = /^(process|nodejs)_/;

/** "counter", "gauge", "histogram", "summary" (prom-client's typings declare a numeric enum). */
function kind(m: Metric): string {
  return m.type as unknown as string;
}

export function isPerProcess(name: string): boolean {
  return PER_PROCESS.test(name);
}

/** A metric from process `worker` ("1".."N", "primary"), with the aggregator the cluster uses for it. */
export function prepare(metric: Metric, worker: string): Metric {
  if (isPerProcess(metric.name)) {
    const label = worker;
    return {
      ...metric,
      aggregator: "sum",
      values: metric.values.map((v) => ({ ...v, labels: { ...v.labels, worker: label } })),
    };
  }
  const shared = kind(metric) === "gauge" ? SHARED_STATE_GAUGES[metric.name] : undefined;
  return { ...metric, aggregator: shared ?? "sum" };
}

/** The part of a worker's metrics that must outlive it: trunkgate_* counters and histograms. */
export function monotonicPart(metrics: MetricsJson): MetricsJson {
  return metrics.filter((m) => !isPerProcess(m.name) && (kind(m) === "counter" || kind(m) === "histogram"));
}

export interface ProcessMetrics {
  /** The `worker` label value: the slot number, or "primary". */
  worker: string;
  metrics: MetricsJson;
}

/** Everything merged into one registry (render with .metrics()). */
export function aggregateCluster(processes: readonly ProcessMetrics[], retired: MetricsJson): Registry {
  const lists: MetricsJson[] = processes.map((p) => p.metrics.map((m) => prepare(m, p.worker)));
  if (retired.length > 0) lists.push(retired.map((m) => ({ ...m, aggregator: "sum" })));
  return AggregatorRegistry.aggregate(lists);
}

/** Adds a departed worker's counters and histograms to the retired totals. */
export async function retire(retired: MetricsJson, departed: MetricsJson): Promise<MetricsJson> {
  const part = monotonicPart(departed);
  if (part.length === 0) return retired;
  const merged = AggregatorRegistry.aggregate([retired, part].map((l) => l.map((m) => ({ ...m, aggregator: "sum" as const }))));
  return merged.getMetricsAsJSON();
}

// The primary's own metrics: its process metrics (labelled worker="primary" in the aggregate) and the
// state of the pool.
import { Counter, Gauge, Registry } from "prom-client";
import { collectProcessMetrics } from "../observability/process-metrics.js";

export interface ClusterMetrics {
  registry: Registry;
  workers: Gauge<"state">;
  restarts: Counter;
}

export function createClusterMetrics(): ClusterMetrics {
  const registry = new Registry();
  collectProcessMetrics(registry);
  return {
    registry,
    workers: new Gauge({
      name: "trunkgate_cluster_workers",
      help: "Worker processes: desired (lifecycle.workers) and running (started, not exited)",
      labelNames: ["state"],
      registers: [registry],
    }),
    restarts: new Counter({
      name: "trunkgate_cluster_worker_restarts_total",
      help: "Workers replaced after an unexpected exit",
      registers: [registry],
    }),
  };
}

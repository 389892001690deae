// prom-client's default process_* and nodejs_* metrics, minus the three it names wrongly: its totals
// of active handles/requests/resources are gauges called *_total, a suffix Prometheus reserves for
// counters (`promtool check metrics` fails on them). The per-type gauges (nodejs_active_handles{type}
// …) carry the same numbers, so the totals are dropped.
import { collectDefaultMetrics, type Registry } from "prom-client";

const MISNAMED = ["nodejs_active_handles_total", "nodejs_active_requests_total", "nodejs_active_resources_total"];

export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED) registry.removeSingleMetric(name);
}

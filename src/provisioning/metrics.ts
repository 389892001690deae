// Metrics of the provisioning API, on the shared registry. Labels come from fixed sets: the route
// template (never a number), the method folded to OTHER outside the API's own, the status class.
import { Counter, Histogram, type Registry } from "prom-client";
import { internalErrors } from "../observability/internal-errors.js";

export const AUTH_FAILURE_REASONS = ["missing", "invalid", "expired", "forbidden"] as const;
export type AuthFailureLabel = (typeof AUTH_FAILURE_REASONS)[number];

const METHODS: ReadonlySet<string> = new Set(["GET", "PUT", "POST", "DELETE", "HEAD", "PATCH", "OPTIONS"]);
const STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;

export interface ProvisioningMetrics {
  requests: Counter<"route" | "method" | "status_class">;
  duration: Histogram<"route">;
  authFailures: Counter<"reason">;
  rateLimited: Counter;
  jwksReloads: Counter<"result">;
  /** trunkgate_internal_errors_total{component="provisioning"}: requests answered 500 by the boundary. */
  internalErrors: { inc(): void };
}

export function methodLabel(method: string | undefined): string {
  return method !== undefined && METHODS.has(method) ? method : "OTHER";
}

export function statusClass(status: number): string {
  return STATUS_CLASSES[Math.floor(status / 100) - 1] ?? "5xx";
}

/** Reuses a metric already on the registry (a second component in one process, e.g. tests). */
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createProvisioningMetrics(registry: Registry): ProvisioningMetrics {
  const registers = [registry];
  const m: ProvisioningMetrics = {
    internalErrors: internalErrors(registry).labels("provisioning"),
    requests: once(registry, "trunkgate_provisioning_requests_total", () =>
      new Counter({
        name: "trunkgate_provisioning_requests_total",
        help: "Provisioning API requests answered, by route template, method and status class",
        labelNames: ["route", "method", "status_class"],
        registers,
      }),
    ),
    duration: once(registry, "trunkgate_provisioning_request_duration_seconds", () =>
      new Histogram({
        name: "trunkgate_provisioning_request_duration_seconds",
        help: "Provisioning API request duration by route template",
        labelNames: ["route"],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        registers,
      }),
    ),
    authFailures: once(registry, "trunkgate_provisioning_auth_failures_total", () =>
      new Counter({
        name: "trunkgate_provisioning_auth_failures_total",
        help: "Provisioning API requests refused by authentication (missing, invalid, expired token) or authorisation (forbidden)",
        labelNames: ["reason"],
        registers,
      }),
    ),
    rateLimited: once(registry, "trunkgate_provisioning_rate_limited_total", () =>
      new Counter({
        name: "trunkgate_provisioning_rate_limited_total",
        help: "Provisioning API requests refused with 429 by the per-client rate limit",
        registers,
      }),
    ),
    jwksReloads: once(registry, "trunkgate_provisioning_jwks_reloads_total", () =>
      new Counter({
        name: "trunkgate_provisioning_jwks_reloads_total",
        help: "Reloads of the provisioning JWKS file by result (success, error)",
        labelNames: ["result"],
        registers,
      }),
    ),
  };
  for (const r of AUTH_FAILURE_REASONS) m.authFailures.labels(r).inc(0);
  m.rateLimited.inc(0);
  m.jwksReloads.labels("success").inc(0);
  m.jwksReloads.labels("error").inc(0);
  return m;
}

// Metrics of the HTTP proxy, on the shared registry. Labels come from small fixed sets: the method
// is folded to OTHER outside the standard ones, the status to its class.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"] as const;
export const UPSTREAM_ERROR_KINDS = ["connect", "timeout", "reset", "tls", "other"] as const;
export type UpstreamErrorKind = (typeof UPSTREAM_ERROR_KINDS)[number];
/** headers: not complete within headersMs (408); body: stalled over bodyIdleMs (408); idle: no request for keepAliveMs. */
export const CLIENT_TIMEOUT_PHASES = ["headers", "body", "idle"] as const;

const METHOD_SET: ReadonlySet<string> = new Set(HTTP_METHODS);
const STATUS_CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx"] as const;

export interface HttpMetrics {
  /** One answered request: the counter and the histogram, through cached labelled children. */
  record(method: string, status: number, seconds: number): void;
  requests: Counter<"method" | "status_class">;
  duration: Histogram<"status_class">;
  upstreamErrors: Counter<"kind">;
  /** Downstream connections or requests ended for lack of progress (slow or idle clients). */
  clientTimeouts: Counter<"phase">;
  activeRequests: Gauge;
  websocketTunnels: Gauge;
}

export function methodLabel(method: string | undefined): string {
  return method !== undefined && METHOD_SET.has(method) ? method : "OTHER";
}

export function statusClass(status: number): string {
  return STATUS_CLASSES[statusClassIndex(status)]!;
}

/** 0..4 for 1xx..5xx; anything out of range counts as 5xx. */
function statusClassIndex(status: number): number {
  const i = Math.floor(status / 100) - 1;
  return i >= 0 && i < STATUS_CLASSES.length ? i : STATUS_CLASSES.length - 1;
}

const METHOD_LABELS = [...HTTP_METHODS, "OTHER"] as const;
const METHOD_INDEX: ReadonlyMap<string, number> = new Map(METHOD_LABELS.map((m, i) => [m, i]));

/** A metric of the same name already on the registry (a second proxy in one process) is reused. */
function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createHttpMetrics(registry: Registry): HttpMetrics {
  const registers = [registry];
  // prom-client's labels() builds, validates and binds a label object on every call: the children
  // of these small fixed label sets are made once, on first use, and kept (per request this leaves
  // only prom-client's own hash lookup).
  const counted: ({ inc(): void } | undefined)[] = [];
  const timed: ({ observe(v: number): void } | undefined)[] = [];
  const m: HttpMetrics = {
    record(method, status, seconds) {
      const c = statusClassIndex(status);
      const k = (METHOD_INDEX.get(method) ?? METHOD_LABELS.length - 1) * STATUS_CLASSES.length + c;
      (counted[k] ??= m.requests.labels(METHOD_LABELS[Math.floor(k / STATUS_CLASSES.length)]!, STATUS_CLASSES[c]!)).inc();
      (timed[c] ??= m.duration.labels(STATUS_CLASSES[c]!)).observe(seconds);
    },
    requests: once(registry, "trunkgate_http_requests_total", () =>
      new Counter({
        name: "trunkgate_http_requests_total",
        help: "HTTP requests answered, by method (fixed set, else OTHER) and status class",
        labelNames: ["method", "status_class"],
        registers,
      }),
    ),
    duration: once(registry, "trunkgate_http_request_duration_seconds", () =>
      new Histogram({
        name: "trunkgate_http_request_duration_seconds",
        help: "Time from request headers received to response finished",
        labelNames: ["status_class"],
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
        registers,
      }),
    ),
    upstreamErrors: once(registry, "trunkgate_http_upstream_errors_total", () =>
      new Counter({
        name: "trunkgate_http_upstream_errors_total",
        help: "Failed upstream exchanges by kind (connect, timeout, reset, tls, other)",
        labelNames: ["kind"],
        registers,
      }),
    ),
    clientTimeouts: once(registry, "trunkgate_http_client_timeouts_total", () =>
      new Counter({
        name: "trunkgate_http_client_timeouts_total",
        help: "Client connections or requests ended for lack of progress, by phase (headers, body, idle)",
        labelNames: ["phase"],
        registers,
      }),
    ),
    activeRequests: once(registry, "trunkgate_http_active_requests", () =>
      new Gauge({ name: "trunkgate_http_active_requests", help: "HTTP requests in flight", registers }),
    ),
    websocketTunnels: once(registry, "trunkgate_http_websocket_tunnels", () =>
      new Gauge({ name: "trunkgate_http_websocket_tunnels", help: "Open WebSocket tunnels", registers }),
    ),
  };
  for (const k of UPSTREAM_ERROR_KINDS) m.upstreamErrors.labels(k).inc(0);
  for (const p of CLIENT_TIMEOUT_PHASES) m.clientTimeouts.labels(p).inc(0);
  return m;
}

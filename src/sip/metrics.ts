// SIP metrics on the shared registry. Every label comes from a small fixed set (methods, classes,
// directions, reasons) or from configuration (upstream service and target host:port): never a
// number, Call-ID or peer address. The per-message counters (requests, responses) are plain
// numbers in typed arrays, copied into prom-client when scraped (collect()), so a message costs an
// array increment, not prom-client's label hashing; other children are resolved once.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Direction } from "./direction.js";

export const METHODS = [
  "INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "UPDATE", "INFO", "PRACK",
  "SUBSCRIBE", "NOTIFY", "REFER", "MESSAGE", "other",
] as const;
export type MethodLabel = (typeof METHODS)[number];
const OTHER_METHOD = METHODS.length - 1;

/** inbound = sent by a trunk (downstream peer), outbound = sent by an upstream service. */
export const DIRECTIONS = ["inbound", "outbound"] as const;
// Kept importable from here for older callers; the definition lives in ./direction.ts.
export { INBOUND, OUTBOUND, type Direction } from "./direction.js";

export const RESPONSE_METHODS = ["OPTIONS", "INVITE", "other"] as const;
export const CLASSES = ["1xx", "2xx", "3xx", "4xx", "5xx", "6xx"] as const;

export const PARSE_ERRORS = ["malformed", "missing-header", "cseq-mismatch", "bad-version", "unsupported-uri-scheme", "too_large", "framing"] as const;
export type ParseErrorLabel = (typeof PARSE_ERRORS)[number];

export const DROP_REASONS = [
  "stray_response", // no client transaction matches
  "malformed_response", // responses are never answered, only dropped
  "no_connection", // nowhere to send (the request's connection gone, no target)
  "srtp_policy", // ACK or provisional with SDP the media policy refuses
  "loop", // stateless ACK that would loop
  "draining", // a new request while draining (answered 503 as well)
  "write_failed",
  "unanswerable_request", // a request without Via: the connection is closed instead
] as const;
export type DropReason = (typeof DROP_REASONS)[number];

/** Why a trunk's connection was refused, or an older one closed to admit it (see docs/operations.md). */
export const REFUSAL_REASONS = ["total_limit", "peer_limit", "evicted"] as const;
export type RefusalReason = (typeof REFUSAL_REASONS)[number];
/** Which progress timeout closed a connection (transport/sip-connection.ts). */
export const TIMEOUT_REASONS = ["first_message", "incomplete_message", "idle"] as const;
export type TimeoutReason = (typeof TIMEOUT_REASONS)[number];

export function methodIndex(method: string): number {
  switch (method) {
    case "INVITE": return 0;
    case "ACK": return 1;
    case "BYE": return 2;
    case "CANCEL": return 3;
    case "OPTIONS": return 4;
    case "REGISTER": return 5;
    case "UPDATE": return 6;
    case "INFO": return 7;
    case "PRACK": return 8;
    case "SUBSCRIBE": return 9;
    case "NOTIFY": return 10;
    case "REFER": return 11;
    case "MESSAGE": return 12;
    default: return OTHER_METHOD;
  }
}

function responseMethodIndex(method: string): number {
  return method === "OPTIONS" ? 0 : method === "INVITE" ? 1 : 2;
}

type CounterChild = { inc(n?: number): void };
type HistChild = { observe(v: number): void };

export class SipMetrics {
  readonly requests: Counter<"method" | "direction">;
  readonly responses: Counter<"class" | "method" | "direction">;
  readonly activeCalls: Gauge;
  readonly transactionDuration: Histogram<"method" | "direction">;
  readonly targetUp: Gauge<"service" | "target">;
  readonly parseErrors: Counter<"reason">;
  readonly drops: Counter<"reason">;
  readonly failovers: Counter<"service">;
  readonly connections: Gauge<"side">;
  readonly forgedRoutes: Counter;
  readonly dialogsEvicted: Counter;
  readonly connectionsRefused: Counter<"reason">;
  readonly connectionTimeouts: Counter<"reason">;
  readonly #reqCounts = new Float64Array(METHODS.length * DIRECTIONS.length);
  readonly #resCounts = new Float64Array(CLASSES.length * RESPONSE_METHODS.length * DIRECTIONS.length);
  #dur: HistChild[] = [];
  #parse = new Map<string, CounterChild>();
  #drop = new Map<string, CounterChild>();

  constructor(registry: Registry) {
    const registers = [registry];
    const reqCounts = this.#reqCounts;
    const resCounts = this.#resCounts;
    this.requests = new Counter({
      name: "trunkgate_sip_requests_total",
      help: "SIP requests received, by method and direction (inbound = from a trunk, outbound = from an upstream)",
      labelNames: ["method", "direction"], registers,
      collect() {
        this.reset();
        let i = 0;
        for (const m of METHODS) for (const d of DIRECTIONS) this.labels(m, d).inc(reqCounts[i++]!);
      },
    });
    this.responses = new Counter({
      name: "trunkgate_sip_responses_total",
      help: "SIP responses sent back toward the side that sent the request (forwarded or generated), by class, request method and the request's direction",
      labelNames: ["class", "method", "direction"], registers,
      collect() {
        this.reset();
        let i = 0;
        for (const c of CLASSES) for (const m of RESPONSE_METHODS) for (const d of DIRECTIONS) this.labels(c, m, d).inc(resCounts[i++]!);
      },
    });
    this.activeCalls = new Gauge({ name: "trunkgate_sip_active_calls", help: "Confirmed INVITE dialogs (2xx seen, no BYE yet)", registers });
    this.transactionDuration = new Histogram({
      name: "trunkgate_sip_transaction_duration_seconds",
      help: "Time from receiving a request to sending its final response",
      labelNames: ["method", "direction"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    this.targetUp = new Gauge({
      name: "trunkgate_sip_upstream_target_up",
      help: "1 when the upstream target is considered up by health checks, else 0",
      labelNames: ["service", "target"], registers,
    });
    this.parseErrors = new Counter({ name: "trunkgate_sip_parse_errors_total", help: "Unparsable or refused SIP messages by reason", labelNames: ["reason"], registers });
    this.drops = new Counter({ name: "trunkgate_sip_dropped_messages_total", help: "SIP messages dropped without forwarding, by reason", labelNames: ["reason"], registers });
    this.failovers = new Counter({ name: "trunkgate_sip_failovers_total", help: "Requests retried on another target of the service", labelNames: ["service"], registers });
    this.forgedRoutes = new Counter({
      name: "trunkgate_sip_forged_routes_total",
      help: "Route entries naming trunkgate whose route hints failed the MAC (ignored: forged, or signed under another route key)",
      registers,
    });
    this.dialogsEvicted = new Counter({
      name: "trunkgate_sip_dialogs_evicted_total",
      help: "Confirmed dialogs forgotten because sip.limits.maxDialogs was reached (oldest first)",
      registers,
    });
    this.connections = new Gauge({ name: "trunkgate_sip_connections", help: "Open SIP connections (downstream = from trunks, upstream = to services)", labelNames: ["side"], registers });

    this.connectionsRefused = new Counter({
      name: "trunkgate_sip_connections_refused_total",
      help: "Trunk connections refused at a connection cap (total_limit, peer_limit) or closed to make room for a newer one of the same peer (evicted)",
      labelNames: ["reason"],
      registers,
    });
    this.connectionTimeouts = new Counter({
      name: "trunkgate_sip_connection_timeouts_total",
      help: "SIP connections closed for lack of progress: no complete first message, a message left incomplete, or idle",
      labelNames: ["reason"],
      registers,
    });
    for (const r of REFUSAL_REASONS) this.connectionsRefused.labels(r).inc(0);
    for (const r of TIMEOUT_REASONS) this.connectionTimeouts.labels(r).inc(0);
    for (const m of METHODS) for (const d of DIRECTIONS) this.#dur.push(this.transactionDuration.labels(m, d));
    for (const r of PARSE_ERRORS) this.#parse.set(r, this.parseErrors.labels(r));
    for (const r of DROP_REASONS) this.#drop.set(r, this.drops.labels(r));
    for (const c of this.#parse.values()) c.inc(0);
    for (const c of this.#drop.values()) c.inc(0);
    this.activeCalls.set(0);
    this.connections.labels("downstream").set(0);
    this.connections.labels("upstream").set(0);
  }

  request(method: string, dir: Direction): void {
    this.#reqCounts[methodIndex(method) * 2 + dir]!++;
  }

  response(status: number, requestMethod: string, dir: Direction): void {
    const cls = Math.floor(status / 100) - 1;
    if (cls < 0 || cls > 5) return;
    this.#resCounts[(cls * 3 + responseMethodIndex(requestMethod)) * 2 + dir]!++;
  }

  duration(method: string, dir: Direction, seconds: number): void {
    this.#dur[methodIndex(method) * 2 + dir]!.observe(seconds);
  }

  parseError(reason: ParseErrorLabel): void {
    this.#parse.get(reason)?.inc();
  }

  drop(reason: DropReason): void {
    this.#drop.get(reason)?.inc();
  }
}

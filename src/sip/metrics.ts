// SIP metrics on the shared registry. Every label comes from a small fixed set (methods, classes,
// directions, reasons) or from configuration (upstream service and target host:port, peer names):
// never a number, Call-ID or peer address. `peer` is a configured peer's name or "unknown"
// (bounded by the configuration, so an operator sees which carrier fails). The per-message counters (requests, responses) are plain
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

/** The `peer` label of whatever is not attributed to a configured peer (e.g. messages from upstreams). */
export const UNKNOWN_PEER = "unknown";
type HistChild = { observe(v: number): void };

export class SipMetrics {
  readonly requests: Counter<"method" | "direction" | "peer">;
  readonly responses: Counter<"class" | "method" | "direction" | "peer">;
  readonly activeCalls: Gauge;
  readonly transactionDuration: Histogram<"method" | "direction">;
  readonly targetUp: Gauge<"service" | "target">;
  readonly parseErrors: Counter<"reason" | "peer">;
  readonly drops: Counter<"reason">;
  readonly failovers: Counter<"service">;
  readonly connections: Gauge<"side">;
  readonly forgedRoutes: Counter;
  readonly dialogsEvicted: Counter;
  readonly connectionsRefused: Counter<"reason" | "peer">;
  readonly connectionTimeouts: Counter<"reason" | "peer">;
  /** Configured peer names, then UNKNOWN_PEER last; a message's peer is an index into it. */
  readonly #peerLabels: readonly string[];
  readonly #peerIndex = new Map<string, number>();
  readonly #unknownPeer: number;
  readonly #reqCounts: Float64Array;
  readonly #resCounts: Float64Array;
  #dur: HistChild[] = [];
  #parse = new Map<string, CounterChild>();
  #drop = new Map<string, CounterChild>();

  constructor(registry: Registry, peerNames: readonly string[] = []) {
    const registers = [registry];
    const peers = [...peerNames.filter((n) => n !== UNKNOWN_PEER), UNKNOWN_PEER];
    this.#peerLabels = peers;
    for (let i = 0; i < peers.length; i++) this.#peerIndex.set(peers[i]!, i);
    this.#unknownPeer = peers.length - 1;
    const reqBlock = METHODS.length * DIRECTIONS.length;
    const resBlock = CLASSES.length * RESPONSE_METHODS.length * DIRECTIONS.length;
    const reqCounts = (this.#reqCounts = new Float64Array(reqBlock * peers.length));
    const resCounts = (this.#resCounts = new Float64Array(resBlock * peers.length));
    this.requests = new Counter({
      name: "trunkgate_sip_requests_total",
      help: "SIP requests received, by method, direction (inbound = from a trunk, outbound = from an upstream) and the peer that sent it (unknown: from an upstream)",
      labelNames: ["method", "direction", "peer"], registers,
      collect() {
        this.reset();
        for (let p = 0; p < peers.length; p++) {
          const base = p * reqBlock;
          // A peer that never sent anything adds no series (the unknown row is always there).
          if (p !== peers.length - 1 && !anyCounted(reqCounts, base, reqBlock)) continue;
          let i = base;
          for (const m of METHODS) for (const d of DIRECTIONS) this.labels(m, d, peers[p]!).inc(reqCounts[i++]!);
        }
      },
    });
    this.responses = new Counter({
      name: "trunkgate_sip_responses_total",
      help: "SIP responses sent back toward the side that sent the request (forwarded or generated), by class, request method, the request's direction and the trunk's peer (the sender of an inbound request, the trunk an outbound one went to)",
      labelNames: ["class", "method", "direction", "peer"], registers,
      collect() {
        this.reset();
        for (let p = 0; p < peers.length; p++) {
          const base = p * resBlock;
          if (p !== peers.length - 1 && !anyCounted(resCounts, base, resBlock)) continue;
          let i = base;
          for (const c of CLASSES) for (const m of RESPONSE_METHODS) for (const d of DIRECTIONS) this.labels(c, m, d, peers[p]!).inc(resCounts[i++]!);
        }
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
    this.parseErrors = new Counter({
      name: "trunkgate_sip_parse_errors_total",
      help: "Unparsable or refused SIP messages by reason and the peer whose connection carried them (unknown: an upstream's)",
      labelNames: ["reason", "peer"],
      registers,
    });
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
    this.connections = new Gauge({ name: "trunkgate_sip_connections", help: "Open SIP connections (downstream = with trunks, accepted or opened toward a peer's sip.targets; upstream = to targets of upstream services)", labelNames: ["side"], registers });

    this.connectionsRefused = new Counter({
      name: "trunkgate_sip_connections_refused_total",
      help: "Trunk connections refused at a connection cap (total_limit, peer_limit) or closed to make room for a newer one of the same peer (evicted)",
      labelNames: ["reason", "peer"],
      registers,
    });
    this.connectionTimeouts = new Counter({
      name: "trunkgate_sip_connection_timeouts_total",
      help: "SIP connections closed for lack of progress: no complete first message, a message left incomplete, or idle; by the connection's peer (unknown: an upstream connection)",
      labelNames: ["reason", "peer"],
      registers,
    });
    // Zero series for the unknown peer only: per configured peer, a series appears with its first count.
    for (const r of REFUSAL_REASONS) this.connectionsRefused.labels(r, UNKNOWN_PEER).inc(0);
    for (const r of TIMEOUT_REASONS) this.connectionTimeouts.labels(r, UNKNOWN_PEER).inc(0);
    for (const m of METHODS) for (const d of DIRECTIONS) this.#dur.push(this.transactionDuration.labels(m, d));
    for (const r of PARSE_ERRORS) this.#parse.set(r, this.parseErrors.labels(r, UNKNOWN_PEER));
    for (const r of DROP_REASONS) this.#drop.set(r, this.drops.labels(r));
    for (const c of this.#parse.values()) c.inc(0);
    for (const c of this.#drop.values()) c.inc(0);
    this.activeCalls.set(0);
    this.connections.labels("downstream").set(0);
    this.connections.labels("upstream").set(0);
  }

  /** The `peer` label for a peer name: configured names only, anything else (or none) is unknown. */
  peerLabel(peer: string | undefined): string {
    return this.#peerLabels[this.#peerSlot(peer)]!;
  }

  #peerSlot(peer: string | undefined): number {
    return peer === undefined ? this.#unknownPeer : (this.#peerIndex.get(peer) ?? this.#unknownPeer);
  }

  /** `peer`: the configured peer whose connection carried the request (undefined: from an upstream). */
  request(method: string, dir: Direction, peer?: string): void {
    this.#reqCounts[this.#peerSlot(peer) * (METHODS.length * 2) + methodIndex(method) * 2 + dir]!++;
  }

  /** `peer`: the trunk of the transaction (the sender of an inbound request, the destination of an outbound one). */
  response(status: number, requestMethod: string, dir: Direction, peer?: string): void {
    const cls = Math.floor(status / 100) - 1;
    if (cls < 0 || cls > 5) return;
    const block = CLASSES.length * RESPONSE_METHODS.length * 2;
    this.#resCounts[this.#peerSlot(peer) * block + (cls * 3 + responseMethodIndex(requestMethod)) * 2 + dir]!++;
  }

  duration(method: string, dir: Direction, seconds: number): void {
    this.#dur[methodIndex(method) * 2 + dir]!.observe(seconds);
  }

  parseError(reason: ParseErrorLabel, peer?: string): void {
    if (peer === undefined || !this.#peerIndex.has(peer) || peer === UNKNOWN_PEER) return void this.#parse.get(reason)?.inc();
    this.parseErrors.labels(reason, peer).inc(); // rare: the label lookup is fine here
  }

  connectionRefused(reason: RefusalReason, peer?: string): void {
    this.connectionsRefused.labels(reason, this.peerLabel(peer)).inc();
  }

  connectionTimeout(reason: TimeoutReason, peer?: string): void {
    this.connectionTimeouts.labels(reason, this.peerLabel(peer)).inc();
  }

  drop(reason: DropReason): void {
    this.#drop.get(reason)?.inc();
  }
}

function anyCounted(counts: Float64Array, from: number, length: number): boolean {
  for (let i = from; i < from + length; i++) if (counts[i] !== 0) return true;
  return false;
}

// SIP message tracing at the transport (sip-connection.ts calls it for every framed message it
// reads and every message it sends, i.e. the bytes inside TLS, on both legs): HEP3 to a Homer
// collector (sip.trace.hep) and, at logging.level trace, one log line per message, redacted unless
// sip.trace.logUnredacted. Which calls: a share sampled by Call-ID hash (both legs of a call share
// the Call-ID through a proxy, so they are kept or dropped together) and only peers with
// peers[].sip.trace. The upstream leg has no peer of its own: while every peer is traced it follows
// the sampling alone; once a peer is switched off, an upstream-leg message is traced only when its
// Call-ID was seen on a traced trunk connection (so an off peer's calls never leak through their
// upstream leg; an upstream-originated call is traced from its first trunk-leg message on).
import { isIP, type Socket } from "node:net";
import { Counter, type Registry } from "prom-client";
import type { PeerConfig, SipConfig } from "../../config/schema/index.js";
import { hashId } from "../../observability/hash.js";
import { encodeHep3 } from "../../observability/hep/hep3.js";
import { INBOUND, type OUTBOUND } from "../direction.js";
import { HepExporter } from "../../observability/hep/exporter.js";
import type { Logger } from "../../observability/logger.js";
import { callIdOf, callSampled } from "./call-id.js";
import { redactSipMessage } from "./redact-message.js";

/**
 * What the tap needs of a connection (a SipConnection; structural, so sip/trace imports no
 * transport or upstream module): a trunk connection's peer, or an upstream connection's target.
 */
export type TappedConnection =
  | { readonly socket: Socket; readonly side: typeof INBOUND; readonly peer: PeerConfig }
  | { readonly socket: Socket; readonly side: typeof OUTBOUND; readonly target: TappedTarget };

/** An UpstreamTarget as the tap sees it. */
interface TappedTarget {
  readonly label: string;
  readonly config: { readonly host: string; readonly port: number };
}

export interface SipTap {
  received(conn: TappedConnection, message: Buffer): void;
  sent(conn: TappedConnection, message: Buffer): void;
  close(): void;
}

/** Call-IDs of traced trunk-leg messages remembered for their upstream leg (FIFO beyond it). */
const RECENT_CALLS = 65_536;
const TRACE_RESULTS = ["sent", "send_error", "too_large"] as const;

export interface SipTapOptions {
  config: SipConfig;
  peers: readonly PeerConfig[];
  logger: Logger;
  registry: Registry;
}

/** The tap for this configuration, or undefined when nothing would be traced (the default: no cost per message). */
export function createSipTap(o: SipTapOptions): SipTap | undefined {
  const t = o.config.trace;
  const logging = o.logger.isLevelEnabled("trace");
  if ((!t.hep.enabled && !logging) || t.sampleRate === 0 || (o.peers.length > 0 && o.peers.every((p) => !p.sip.trace))) return undefined;
  return new SipTracer(o, logging);
}

class SipTracer implements SipTap {
  readonly #rate: number;
  readonly #someOff: boolean;
  readonly #recent = new Set<string>();
  readonly #recentOrder: string[] = [];
  readonly #hep: HepExporter | undefined;
  readonly #captureId: number;
  readonly #logger: Logger | undefined;
  readonly #unredacted: boolean;
  readonly #ownedHeaders: ReadonlySet<string>;
  readonly #results: Map<string, { inc(n?: number): void }>;

  constructor(o: SipTapOptions, logging: boolean) {
    const t = o.config.trace;
    this.#rate = t.sampleRate;
    this.#someOff = o.peers.some((p) => !p.sip.trace);
    this.#captureId = t.hep.captureId;
    this.#logger = logging ? o.logger : undefined;
    this.#unredacted = t.logUnredacted;
    this.#ownedHeaders = new Set([o.config.numberRouting.customHeaderName.toLowerCase()]);
    const name = "trunkgate_sip_trace_messages_total";
    const counter =
      (o.registry.getSingleMetric(name) as Counter<"result"> | undefined) ??
      new Counter({ name, help: "SIP messages exported over HEP by result (sent, send_error, too_large: over 64 KiB)", labelNames: ["result"], registers: [o.registry] });
    this.#results = new Map(TRACE_RESULTS.map((r) => [r, counter.labels(r)]));
    for (const c of this.#results.values()) c.inc(0);
    this.#hep = t.hep.enabled ? new HepExporter(t.hep.host, t.hep.port, (r) => this.#results.get(r)!.inc()) : undefined;
    if (t.logUnredacted && logging) o.logger.warn("sip.trace.logUnredacted: SIP messages are logged with numbers and bodies in clear");
  }

  received(conn: TappedConnection, message: Buffer): void {
    this.#capture(conn, message, true);
  }

  sent(conn: TappedConnection, message: Buffer): void {
    this.#capture(conn, message, false);
  }

  close(): void {
    this.#hep?.close();
  }

  #capture(conn: TappedConnection, message: Buffer, received: boolean): void {
    const callId = callIdOf(message);
    if (callId === undefined || !this.#traced(conn, callId)) return;
    const micros = Math.round((performance.timeOrigin + performance.now()) * 1000);
    if (this.#hep !== undefined) this.#export(conn, message, received, callId, micros);
    this.#logger?.trace(
      {
        event: "sip_message",
        direction: received ? "received" : "sent",
        peer: conn.side === INBOUND ? conn.peer.name : undefined,
        upstream: conn.side === INBOUND ? undefined : conn.target.label,
        callId: hashId(callId),
        bytes: message.length,
        message: this.#unredacted ? message.toString("latin1") : redactSipMessage(message, this.#ownedHeaders),
      },
      "sip message",
    );
  }

  #traced(conn: TappedConnection, callId: string): boolean {
    if (!callSampled(callId, this.#rate)) return false;
    if (conn.side !== INBOUND) return !this.#someOff || this.#recent.has(callId);
    const peer = conn.peer;
    if (!peer.sip.trace) return false;
    if (this.#someOff && !this.#recent.has(callId)) {
      this.#recent.add(callId);
      this.#recentOrder.push(callId);
      if (this.#recentOrder.length > RECENT_CALLS) this.#recent.delete(this.#recentOrder.shift()!);
    }
    return true;
  }

  #export(conn: TappedConnection, message: Buffer, received: boolean, callId: string, micros: number): void {
    const s = conn.socket;
    // A connection we opened may still be connecting (its first requests are queued): the packet
    // waits for the addresses, with the capture time of now.
    if (s.localAddress === undefined && s.connecting) {
      s.once("connect", () => this.#export(conn, message, received, callId, micros));
      return;
    }
    // Failed before connecting: the target's address and the unspecified local one.
    const target = conn.side === INBOUND ? undefined : conn.target.config;
    const remote = s.remoteAddress ?? (target !== undefined && isIP(target.host) ? target.host : "0.0.0.0");
    const remotePort = s.remotePort ?? target?.port ?? 0;
    const local = s.localAddress ?? (isIP(remote) === 6 ? "::" : "0.0.0.0");
    const localPort = s.localPort ?? 0;
    const packet = encodeHep3({
      sourceAddress: received ? remote : local,
      sourcePort: received ? remotePort : localPort,
      destinationAddress: received ? local : remote,
      destinationPort: received ? localPort : remotePort,
      timestampMicros: micros,
      captureId: this.#captureId,
      correlationId: callId,
      payload: message,
    });
    if (packet === undefined) return this.#results.get("too_large")!.inc();
    this.#hep!.send(packet);
  }
}

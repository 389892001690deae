// All SIP connections of the process: downstream TrunkConnections (accepted by the mTLS listener,
// or opened by us toward a peer's sip.targets) grouped by peer for RFC 5923-style reuse, and
// UpstreamConnections (one pooled connection per target of an upstream service, opened on demand).
// Implements the core's FlowProvider.
import { connect as netConnect } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import type { PeerConfig } from "../../config/schema/index.js";
import type { Logger } from "../../observability/logger.js";
import type { FramingLimits } from "./framing.js";
import { INBOUND } from "../direction.js";
import type { SipMetrics } from "../metrics.js";
import type { Timers } from "../timer/timers.js";
import { isIpLiteral, type UpstreamTarget } from "../upstream/service.js";
import type { Flow, FlowProvider, TrunkFlow, UpstreamFlow } from "./flow.js";
import { TrunkConnection, UpstreamConnection, type ConnectionHandler, type ConnectionTimeouts, type SipConnection } from "./sip-connection.js";
import type { SecureContext } from "node:tls";
import type { SipTap } from "../trace/sip-tap.js";

export interface ConnectionManagerOptions {
  handler: ConnectionHandler;
  timers: Timers;
  timeouts: ConnectionTimeouts;
  limits: FramingLimits;
  connectMs: number;
  maxConnectionsTotal: number;
  peers: ReadonlyMap<string, PeerConfig>;
  /** The current client context (trunkgate's client certificate + trust store); read per connect. */
  clientContext: () => SecureContext;
  metrics: SipMetrics;
  logger: Logger;
  /** SIP tracing, handed to every connection (undefined: off). */
  tap?: SipTap | undefined;
}

/** What the manager needs of the proxy's identity: the sent-by to advertise per local address. */
export interface Advertiser {
  readonly sentBy: string;
  sentByFor(localAddress: string | undefined): string;
}

export class ConnectionManager implements FlowProvider {
  /** Set at start (the listening port is known then); connections made before get none. */
  identity: Advertiser | undefined;
  /** The sent-by of the last connection to a target that connected: a guess for the next one while it connects. */
  readonly #lastSentBy = new Map<UpstreamTarget | string, string>();
  readonly #byId = new Map<number, SipConnection>();
  readonly #byPeer = new Map<string, TrunkConnection[]>();
  readonly #byTarget = new Map<UpstreamTarget, UpstreamConnection>();
  #downstream = 0;
  #closing = false;

  constructor(private o: ConnectionManagerOptions) {}

  get size(): number {
    return this.#byId.size;
  }

  get downstreamCount(): number {
    return this.#downstream;
  }

  get upstreamCount(): number {
    return this.#byTarget.size;
  }

  /**
   * An authenticated connection from the listener. Returns the connection, or undefined if refused.
   * At the total cap it is refused. At its peer's cap (peers[].maxConnections) one of that peer's
   * connections makes room instead (the cap is the peer's own budget: slow or stale connections of
   * a peer must never lock out its new ones): see evictionVictim.
   */
  accept(socket: TLSSocket, peer: PeerConfig): TrunkConnection | undefined {
    if (this.#closing) {
      socket.destroy();
      return undefined;
    }
    const list = this.#byPeer.get(peer.name);
    if (list !== undefined && list.length >= peer.maxConnections) {
      const victim = evictionVictim(list);
      if (victim === undefined) return this.#refuse(socket, peer, "peer_limit", peer.maxConnections);
      this.o.metrics.connectionRefused("evicted", peer.name);
      this.o.logger.info({ peer: peer.name, limit: peer.maxConnections, carriedMessage: victim.carriedMessage }, "per-peer SIP connection limit: closed an older connection of the peer");
      victim.destroy(); // forget() runs from its close: the slot is free now
    }
    if (this.#downstream >= this.o.maxConnectionsTotal) return this.#refuse(socket, peer, "total_limit", this.o.maxConnectionsTotal);
    const conn = new TrunkConnection(socket, peer, true, this.o.handler, this.o.timers, this.o.timeouts, this.o.limits);
    if (this.identity !== undefined) conn.advertise(this.identity.sentByFor(socket.localAddress));
    this.#track(conn);
    return conn;
  }

  #refuse(socket: TLSSocket, peer: PeerConfig, reason: "total_limit" | "peer_limit", limit: number): undefined {
    this.o.metrics.connectionRefused(reason, peer.name);
    this.o.logger.warn({ peer: peer.name, limit, reason }, "SIP connection refused at a connection limit");
    socket.destroy();
    return undefined;
  }

  #track(conn: TrunkConnection): void {
    conn.tap = this.o.tap;
    this.#byId.set(conn.id, conn);
    this.#downstream++;
    this.o.metrics.connections.labels("downstream").inc();
    const name = conn.peer.name;
    const list = this.#byPeer.get(name);
    if (list === undefined) this.#byPeer.set(name, [conn]);
    else list.push(conn);
  }

  /** Called by the handler when a connection closed (before the core fails its transactions). */
  forget(conn: SipConnection): void {
    if (!this.#byId.delete(conn.id)) return;
    if (conn.side === INBOUND) {
      this.#downstream--;
      this.o.metrics.connections.labels("downstream").dec();
      const list = this.#byPeer.get(conn.peer.name);
      if (list !== undefined) {
        const i = list.indexOf(conn);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.#byPeer.delete(conn.peer.name);
      }
    } else {
      this.o.metrics.connections.labels("upstream").dec();
      if (this.#byTarget.get(conn.target) === conn) this.#byTarget.delete(conn.target);
    }
  }

  toTarget(target: UpstreamTarget): UpstreamFlow {
    const existing = this.#byTarget.get(target);
    if (existing !== undefined && existing.open) return existing;
    const cfg = target.config;
    const tls = cfg.transport === "tls";
    const socket = tls
      ? tlsConnect({
          host: cfg.host,
          port: cfg.port,
          secureContext: this.o.clientContext(),
          // SNI and the name checked against the certificate: a host name, never an IP address
          // (without servername Node checks an IP target against the certificate's IP SANs).
          ...(target.serverName !== undefined ? { servername: target.serverName } : {}),
          rejectUnauthorized: true,
        })
      : netConnect({ host: cfg.host, port: cfg.port });
    const conn = new UpstreamConnection(socket, target, tls, this.o.handler, this.o.timers, this.o.timeouts, this.o.limits);
    conn.armConnectTimeout(this.o.connectMs);
    this.#advertiseWhileConnecting(conn, target, cfg.host);
    socket.once(tls ? "secureConnect" : "connect", () => {
      conn.markConnected();
      this.#advertiseConnected(conn, target);
    });
    socket.once("error", (err: Error) => {
      this.o.logger.warn({ upstreamService: target.service, upstream: target.label, error: (err as NodeJS.ErrnoException).code ?? err.message }, "upstream connection failed");
    });
    conn.tap = this.o.tap;
    this.#byId.set(conn.id, conn);
    this.#byTarget.set(target, conn);
    this.o.metrics.connections.labels("upstream").inc();
    return conn;
  }

  toPeer(peer: string, preferredId: number): TrunkFlow | undefined {
    if (preferredId >= 0) {
      const c = this.#byId.get(preferredId);
      if (c !== undefined && c.open && c.side === INBOUND && c.peer.name === peer) return c;
    }
    const list = this.#byPeer.get(peer);
    if (list !== undefined) {
      for (let i = list.length - 1; i >= 0; i--) if (list[i]!.open) return list[i];
    }
    const cfg = this.o.peers.get(peer);
    const t = cfg?.sip.targets[0];
    if (cfg === undefined || t === undefined || this.#closing) return undefined;
    const servername = t.serverName ?? (isIpLiteral(t.host) ? undefined : t.host);
    const socket = tlsConnect({
      host: t.host,
      port: t.port,
      secureContext: this.o.clientContext(),
      ...(servername !== undefined ? { servername } : {}),
      rejectUnauthorized: true,
    });
    const conn = new TrunkConnection(socket, cfg, false, this.o.handler, this.o.timers, this.o.timeouts, this.o.limits);
    conn.armConnectTimeout(this.o.connectMs);
    this.#advertiseWhileConnecting(conn, peer, t.host);
    socket.once("secureConnect", () => {
      conn.markConnected();
      this.#advertiseConnected(conn, peer);
    });
    socket.once("error", (err: Error) => {
      this.o.logger.warn({ peer, error: (err as NodeJS.ErrnoException).code ?? err.message }, "connection to peer failed");
    });
    this.#track(conn);
    return conn;
  }

  /**
   * A connection we open has no local address until it connected, but requests are written to it
   * (queued) at once: until then it advertises what the last connection to the same place used,
   * else the proxy-wide default.
   */
  #advertiseWhileConnecting(conn: SipConnection, to: UpstreamTarget | string, host: string): void {
    const id = this.identity;
    if (id === undefined) return;
    // Toward a loopback address the connection will use a loopback address too (127.0.0.1 or ::1).
    const guess = this.#lastSentBy.get(to) ?? (isLoopback(host) ? id.sentByFor(host.includes(":") ? "::1" : "127.0.0.1") : id.sentBy);
    conn.advertise(guess);
  }

  #advertiseConnected(conn: SipConnection, to: UpstreamTarget | string): void {
    if (this.identity === undefined) return;
    const sentBy = this.identity.sentByFor(conn.socket.localAddress);
    conn.advertise(sentBy);
    this.#lastSentBy.set(to, sentBy);
  }

  aliasOf(flow: Flow): Flow | undefined {
    if (flow.side === INBOUND) {
      const list = this.#byPeer.get(flow.peer.name);
      if (list !== undefined) for (let i = list.length - 1; i >= 0; i--) if (list[i]!.open) return list[i];
      return undefined;
    }
    const c = this.#byTarget.get(flow.target);
    return c !== undefined && c.open ? c : undefined;
  }

  /** Every open connection (for drain/close). */
  all(): IterableIterator<SipConnection> {
    return this.#byId.values();
  }

  closeAll(): void {
    this.#closing = true;
    for (const c of [...this.#byId.values()]) c.destroy();
  }

  /** Gracefully end downstream connections (after the last transaction): flush and close. */
  endAll(): void {
    this.#closing = true;
    for (const c of [...this.#byId.values()]) c.end();
  }
}

function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === "localhost" || h.startsWith("127.") || h === "::1" || h === "[::1]";
}

/**
 * Which of a peer's connections gives way to a new one at its cap: the oldest that never carried a
 * complete SIP message (a handshake-and-wait or keep-alive-only connection), else the one whose
 * last complete message is the oldest (idle longest). Connections trunkgate is still opening are
 * never chosen. Undefined when none qualifies.
 */
export function evictionVictim(list: readonly TrunkConnection[]): TrunkConnection | undefined {
  let silent: TrunkConnection | undefined;
  let idlest: TrunkConnection | undefined;
  for (const c of list) {
    if (!c.open || !c.connected) continue;
    if (!c.carriedMessage) {
      if (silent === undefined || c.openedAt < silent.openedAt) silent = c;
    } else if (idlest === undefined || c.lastMessageAt < idlest.lastMessageAt) idlest = c;
  }
  return silent ?? idlest;
}

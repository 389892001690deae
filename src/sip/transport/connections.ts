// All SIP connections of the process: trunk-side ones (accepted by the mTLS listener, or opened by
// us toward a peer's sip.targets) grouped by peer for RFC 5923-style reuse, and upstream ones (one
// pooled connection per target, opened on demand). Implements the core's FlowProvider.
import { connect as netConnect } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import type { PeerConfig } from "../../config/schema/index.js";
import type { Logger } from "../../observability/logger.js";
import type { FramingLimits } from "../parse/index.js";
import { INBOUND, OUTBOUND, type SipMetrics } from "../metrics.js";
import type { Timers } from "../timer/timers.js";
import { isIpLiteral, type UpstreamTarget } from "../upstream/cluster.js";
import type { Flow, FlowProvider } from "./flow.js";
import { SipConnection, type ConnectionHandler, type ConnectionTimeouts } from "./sip-connection.js";
import type { SecureContext } from "node:tls";

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
}

export class ConnectionManager implements FlowProvider {
  readonly #byId = new Map<number, SipConnection>();
  readonly #byPeer = new Map<string, SipConnection[]>();
  readonly #byTarget = new Map<UpstreamTarget, SipConnection>();
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

  /** An authenticated connection from the listener. Returns the connection, or undefined if refused. */
  accept(socket: TLSSocket, peer: PeerConfig): SipConnection | undefined {
    if (this.#closing || this.#downstream >= this.o.maxConnectionsTotal) {
      this.o.logger.warn({ peer: peer.name, limit: this.o.maxConnectionsTotal }, "SIP connection limit reached");
      socket.destroy();
      return undefined;
    }
    const list = this.#byPeer.get(peer.name);
    if (list !== undefined && list.length >= peer.maxConnections) {
      this.o.logger.warn({ peer: peer.name, limit: peer.maxConnections }, "per-peer SIP connection limit reached");
      socket.destroy();
      return undefined;
    }
    const conn = new SipConnection(socket, INBOUND, peer, undefined, true, true, this.o.handler, this.o.timers, this.o.timeouts, this.o.limits);
    this.#track(conn);
    return conn;
  }

  #track(conn: SipConnection): void {
    this.#byId.set(conn.id, conn);
    if (conn.side === INBOUND) {
      this.#downstream++;
      this.o.metrics.connections.labels("downstream").inc();
      const name = conn.peer!.name;
      const list = this.#byPeer.get(name);
      if (list === undefined) this.#byPeer.set(name, [conn]);
      else list.push(conn);
    } else {
      this.o.metrics.connections.labels("upstream").inc();
    }
  }

  /** Called by the handler when a connection closed (before the core fails its transactions). */
  forget(conn: SipConnection): void {
    if (!this.#byId.delete(conn.id)) return;
    if (conn.side === INBOUND) {
      this.#downstream--;
      this.o.metrics.connections.labels("downstream").dec();
      const list = this.#byPeer.get(conn.peer!.name);
      if (list !== undefined) {
        const i = list.indexOf(conn);
        if (i >= 0) list.splice(i, 1);
        if (list.length === 0) this.#byPeer.delete(conn.peer!.name);
      }
    } else {
      this.o.metrics.connections.labels("upstream").dec();
      if (conn.target !== undefined && this.#byTarget.get(conn.target) === conn) this.#byTarget.delete(conn.target);
    }
  }

  toTarget(target: UpstreamTarget): Flow {
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
    const conn = new SipConnection(socket, OUTBOUND, undefined, target, tls, false, this.o.handler, this.o.timers, this.o.timeouts, this.o.limits);
    conn.armConnectTimeout(this.o.connectMs);
    socket.once(tls ? "secureConnect" : "connect", () => conn.markConnected());
    socket.once("error", (err: Error) => {
      this.o.logger.warn({ upstreamService: target.service, upstream: target.label, error: (err as NodeJS.ErrnoException).code ?? err.message }, "upstream connection failed");
    });
    this.#byId.set(conn.id, conn);
    this.#byTarget.set(target, conn);
    this.o.metrics.connections.labels("upstream").inc();
    return conn;
  }

  toPeer(peer: string, preferredId: number): Flow | undefined {
    if (preferredId >= 0) {
      const c = this.#byId.get(preferredId);
      if (c !== undefined && c.open && c.side === INBOUND && c.peer?.name === peer) return c;
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
    const conn = new SipConnection(socket, INBOUND, cfg, undefined, true, false, this.o.handler, this.o.timers, this.o.timeouts, this.o.limits);
    conn.armConnectTimeout(this.o.connectMs);
    socket.once("secureConnect", () => conn.markConnected());
    socket.once("error", (err: Error) => {
      this.o.logger.warn({ peer, error: (err as NodeJS.ErrnoException).code ?? err.message }, "connection to peer failed");
    });
    this.#track(conn);
    return conn;
  }

  aliasOf(flow: Flow): Flow | undefined {
    if (flow.side === INBOUND && flow.peer !== undefined) {
      const list = this.#byPeer.get(flow.peer.name);
      if (list !== undefined) for (let i = list.length - 1; i >= 0; i--) if (list[i]!.open) return list[i];
      return undefined;
    }
    if (flow.target !== undefined) {
      const c = this.#byTarget.get(flow.target);
      return c !== undefined && c.open ? c : undefined;
    }
    return undefined;
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

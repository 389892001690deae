// The SIP proxy component: wires connections, parsing, the proxy core, upstream services, health
// checks, the dialog table and metrics. The composition root creates it with createSipProxy(),
// hands it every authenticated listener connection (handleConnection), and calls start() once the
// listener's port is known, drain() on shutdown, close() at the end.
import type { SecureContext, TLSSocket } from "node:tls";
import type { Registry } from "prom-client";
import type { PeerConfig, SipConfig } from "../config/schema/index.js";
import type { Logger } from "../observability/logger.js";
import { internalErrors } from "../observability/internal-errors.js";
import { Admit, AdmissionControl } from "./admission/admission-control.js";
import { DialogTable } from "./dialog/dialogs.js";
import { SipErrorBoundary, errorText } from "./error-boundary.js";
import { INBOUND, SipMetrics } from "./metrics.js";
import { createSipTap, type SipTap } from "./trace/sip-tap.js";
import { parseMessage } from "./parse/index.js";
import type { FramingError } from "./transport/framing.js";
import { peerNameOf, upstreamLabelOf } from "./transport/flow.js";
import { BranchFactory } from "./proxy/branch.js";
import { ProxyCore } from "./proxy/core.js";
import type { CallObserver } from "./proxy/call-observer.js";
import { ProxyIdentity, defaultAdvertisedHost } from "./proxy/identity.js";
import { RouteSigner } from "./proxy/route-set.js";
import { buildRawErrorResponse, isResponseStart } from "./proxy/raw-response.js";
import { defaultPeerRoute, defaultRoute, type PeerRouteFn, type RouteFn } from "./route/decision.js";
import { FifoTimers, type TimerTarget, type Timers } from "./timer/timers.js";
import type { TxTiming } from "./transaction/types.js";
import { ConnectionManager } from "./transport/connections.js";
import type { ConnectionHandler, ConnectionTimeout, SipConnection } from "./transport/sip-connection.js";
import { UpstreamService } from "./upstream/service.js";
import { HealthChecker } from "./upstream/health-checker.js";

export interface SipProxyDeps {
  /** The `sip` config section. */
  config: SipConfig;
  /** The `peers` config section (trunks: identities, connection caps, sip.targets). */
  peers: readonly PeerConfig[];
  /** Source of trunkgate's client TLS context (TlsContextProvider); read at each connect, so hot reloads apply. */
  tls: { readonly clientContext: SecureContext };
  logger: Logger;
  registry: Registry;
  /** Route decision for new requests from trunks; default: sip.defaultUpstream or the first upstream. */
  route?: RouteFn;
  /** Route decision for new requests from upstream services toward trunks; default: by R-URI host. */
  routeToPeer?: PeerRouteFn;
  /** Told of completed INVITEs and BYEs (call records). */
  calls?: CallObserver;
  /** Injectable timers (tests); default: FIFO timer queues on real time. */
  timers?: Timers;
  /** Secret for branch hashing (8 bytes); random per process by default. */
  branchSecret?: Buffer;
  /** Key signing our Record-Route hints (sip.routeKeyFile); random per process by default. */
  routeKey?: Buffer;
}

export interface SipProxyStats {
  started: boolean;
  draining: boolean;
  downstreamConnections: number;
  upstreamConnections: number;
  /** Requests still waiting for a final response. */
  pendingRequests: number;
  /** Server transactions alive, including those kept after their final response (RFC 6026). */
  serverTransactions: number;
  clientTransactions: number;
  activeCalls: number;
  upstreamTargetsUp: number;
  upstreamTargets: number;
}

export interface SipProxy {
  /** For the mTLS listener: an accepted, authenticated connection of `peer`. */
  handleConnection(socket: TLSSocket, peer: PeerConfig): void;
  /** Begin (health checks, sweeps). `listeningPort`: the port actually bound (when config says 0). */
  start(listeningPort?: number): void;
  /** Refuse new calls (503), let transactions finish, then end connections; bounded by `deadline` (ms epoch). */
  drain(deadline?: number): Promise<void>;
  close(): void;
  ready(): boolean;
  stats(): SipProxyStats;
  readonly metrics: SipMetrics;
  readonly services: ReadonlyMap<string, UpstreamService>;
  /** Per-peer admission control (the gate before the core); reconfigure() applies a reload. */
  readonly admission: AdmissionControl;
}

const SWEEP_MS = 60_000;

/** Reason phrases of the answers to messages the framer could not take. */
const FRAMING_REASONS: Record<FramingError["code"], string> = {
  "message-too-large": "Message Too Large",
  "too-many-headers": "Bad Request - Too Many Headers",
  "line-too-long": "Bad Request - Line Too Long",
  "header-section-too-large": "Bad Request - Header Section Too Large",
  "missing-content-length": "Bad Request - Missing Content-Length Header",
  "invalid-content-length": "Bad Request - Malformed Content-Length Header",
  "malformed-keepalive": "Bad Request",
};

export function createSipProxy(deps: SipProxyDeps): SipProxy {
  return new SipProxyServer(deps);
}

class SipProxyServer implements SipProxy, ConnectionHandler, TimerTarget {
  readonly metrics: SipMetrics;
  readonly services = new Map<string, UpstreamService>();
  readonly admission: AdmissionControl;
  readonly #deps: SipProxyDeps;
  readonly #timers: Timers;
  readonly #conns: ConnectionManager;
  readonly #dialogs: DialogTable;
  readonly #peers = new Map<string, PeerConfig>();
  #tap: SipTap | undefined;
  readonly #boundary: SipErrorBoundary;
  #core: ProxyCore | undefined;
  #health: HealthChecker | undefined;
  #started = false;
  #closed = false;
  #sweep: ReturnType<Timers["start"]> | undefined;

  constructor(deps: SipProxyDeps) {
    this.#deps = deps;
    const cfg = deps.config;
    this.metrics = new SipMetrics(deps.registry, deps.peers.map((p) => p.name));
    const boundary = (this.#boundary = new SipErrorBoundary(internalErrors(deps.registry), deps.logger));
    this.#timers = deps.timers ?? new FifoTimers(undefined, (err) => {
      boundary.count();
      deps.logger.error({ error: errorText(err) }, "SIP timer handler failed");
    });
    for (const u of cfg.upstreams) this.services.set(u.name, new UpstreamService(u));
    for (const p of deps.peers) this.#peers.set(p.name, p);
    this.#dialogs = new DialogTable(cfg.timeouts.dialogIdleMs, (n) => this.metrics.activeCalls.set(n), cfg.limits.maxDialogs, () => this.metrics.dialogsEvicted.inc());
    const timers = this.#timers;
    this.admission = new AdmissionControl({
      config: cfg.admission, peers: deps.peers, registry: deps.registry, logger: deps.logger, sipMetrics: this.metrics, now: () => timers.now(),
    });
    // Answered calls count against their peer's limit from the dialog table's own events.
    this.#dialogs.listener = this.admission;
    this.#conns = new ConnectionManager({
      handler: this,
      timers: this.#timers,
      // Linger: as long as a client transaction may wait for its final response (Timer B/F).
      timeouts: {
        firstMessageMs: cfg.timeouts.firstMessageMs,
        idleMs: cfg.timeouts.idleMs,
        messageCompleteMs: cfg.timeouts.messageCompleteMs,
        lingerMs: 64 * cfg.timeouts.t1Ms,
      },
      limits: { maxMessageBytes: cfg.limits.maxMessageBytes, maxHeaders: cfg.limits.maxHeaders, maxLineBytes: cfg.limits.maxLineBytes },
      connectMs: cfg.timeouts.connectMs,
      maxConnectionsTotal: cfg.limits.maxConnectionsTotal,
      peers: this.#peers,
      clientContext: () => deps.tls.clientContext,
      metrics: this.metrics,
      logger: deps.logger,
      tap: (this.#tap = createSipTap({ config: cfg, peers: deps.peers, logger: deps.logger, registry: deps.registry })),
    });
  }

  start(listeningPort?: number): void {
    if (this.#started) return;
    const cfg = this.#deps.config;
    const listenHost = cfg.listen.host;
    const wildcard = listenHost === "0.0.0.0" || listenHost === "::";
    const port = listeningPort ?? cfg.listen.port;
    const identity = new ProxyIdentity(cfg.advertisedHost ?? (wildcard ? defaultAdvertisedHost() : listenHost), cfg.advertisedPort ?? port, listenHost, {
      ...(cfg.advertisedHost !== undefined ? { fixedHost: cfg.advertisedHost } : {}),
      listeningPort: port,
    });
    this.#conns.identity = identity;
    const timing: TxTiming = {
      t1: cfg.timeouts.t1Ms,
      t2: cfg.timeouts.t2Ms,
      t4: cfg.timeouts.t4Ms,
      reliable: true,
      timerC: cfg.timeouts.timerCMs,
    };
    const services = [...this.services.values()];
    this.#health = new HealthChecker({
      services,
      timers: this.#timers,
      identity,
      metrics: this.metrics,
      logger: this.#deps.logger,
      flowTo: (t) => this.#conns.toTarget(t),
    });
    const health = this.#health;
    this.#core = new ProxyCore({
      identity,
      timers: this.#timers,
      timing,
      flows: this.#conns,
      services: this.services,
      peers: this.#peers,
      // Route functions are the operator's or the data layer's code: their exceptions are counted
      // as internal errors (the core answers those requests 500).
      route: this.#boundary.routeFn(this.#deps.route ?? defaultRoute(cfg.defaultUpstream ?? cfg.upstreams[0]?.name)),
      routeToPeer: this.#boundary.routeFn(this.#deps.routeToPeer ?? defaultPeerRoute(this.#deps.peers)),
      dialogs: this.#dialogs,
      metrics: this.metrics,
      logger: this.#deps.logger,
      srtpEnforce: cfg.media.srtpPolicy === "enforce",
      retryAfterSeconds: cfg.retryAfterSeconds,
      logTransactions: cfg.logTransactions,
      branches: new BranchFactory(this.#deps.branchSecret),
      routeSigner: new RouteSigner(this.#deps.routeKey),
      failoverMs: cfg.timeouts.failoverMs,
      ownedHeaders: [cfg.numberRouting.customHeaderName],
      probeResponse: (branch, status) => health.onResponse(branch, status),
      calls: this.admission.observe(this.#deps.calls),
    });
    this.admission.start();
    this.#started = true;
    this.#health.start();
    this.#sweep = this.#timers.start(this, 0, SWEEP_MS);
  }

  onTimer(): void {
    if (this.#closed) return;
    const n = this.#dialogs.sweep(this.#timers.now());
    if (n > 0) {
      this.#deps.logger.info({ dialogs: n }, "forgot idle dialogs (no BYE seen)");
      this.#core?.recheckDrain();
    }
    // No INVITE transaction lives longer than Timer C plus the 64·T1 guards after it.
    const t = this.#deps.config.timeouts;
    this.admission.sweep(t.timerCMs + 3 * 64 * t.t1Ms);
    this.#sweep = this.#timers.start(this, 0, SWEEP_MS);
  }

  handleConnection(socket: TLSSocket, peer: PeerConfig): void {
    if (!this.#started || this.#closed || this.#core?.draining) {
      socket.destroy();
      return;
    }
    this.#conns.accept(socket, peer);
  }

  // ---------------------------------------------------------------- ConnectionHandler

  onMessage(conn: SipConnection, buf: Buffer): void {
    // The error boundary: a bug must cost one message, never the process.
    try {
      this.#handleMessage(conn, buf);
    } catch (err) {
      this.#boundary.messageFailed(conn, buf, err);
    }
  }

  #handleMessage(conn: SipConnection, buf: Buffer): void {
    const core = this.#core;
    if (core === undefined) return;
    const r = parseMessage(buf);
    if (r.ok) {
      const msg = r.message;
      if (msg.kind === "response") return core.onResponse(conn, msg);
      if (conn.side !== INBOUND) return core.onRequest(conn, msg);
      // The admission gate: requests from trunks only, before the core spends anything on them.
      const admit = this.admission.admit(conn, msg);
      if (admit === Admit.Refused) return;
      if (admit === Admit.Passed) return core.onRequest(conn, msg);
      // A new call counted from here: if the core answered it without a transaction (400, 488,
      // draining 503, …, or a bug the error boundary answers 500) no final-response event will
      // end it, so it ends now.
      const pending = core.pendingRequests;
      try {
        core.onRequest(conn, msg);
      } finally {
        if (core.pendingRequests === pending) this.admission.notTaken(msg);
      }
      return;
    }
    this.metrics.parseError(r.kind, peerNameOf(conn));
    // Malformed responses are dropped (nobody to answer); malformed requests get 400/416/505.
    if (isResponseStart(buf)) {
      this.metrics.drop("malformed_response");
      return;
    }
    const reply = buildRawErrorResponse(buf, r.status, r.reason);
    if (reply === undefined) {
      // A request without a Via: no answer could be matched by its sender, and leaving it
      // unanswered would leave the sender waiting. Close (after answers already in flight).
      this.metrics.drop("unanswerable_request");
      this.#deps.logger.info({ peer: peerNameOf(conn), upstream: upstreamLabelOf(conn) }, "SIP request without Via: closing the connection");
      conn.closeUnanswerable();
      return;
    }
    conn.send(reply);
    this.metrics.response(r.status, "other", conn.side, peerNameOf(conn));
  }

  onFramingError(conn: SipConnection, err: FramingError): void {
    try {
      this.#answerFramingError(conn, err);
    } catch (e) {
      this.#boundary.messageFailed(conn, err.headerSection ?? Buffer.alloc(0), e);
    }
  }

  #answerFramingError(conn: SipConnection, err: FramingError): void {
    this.metrics.parseError(err.code === "message-too-large" ? "too_large" : "framing", peerNameOf(conn));
    this.#deps.logger.info({ peer: peerNameOf(conn), upstream: upstreamLabelOf(conn), code: err.code, detail: err.detail, fatal: err.fatal }, "SIP framing error");
    if (err.headerSection === undefined) return;
    const status = err.code === "message-too-large" ? 513 : 400;
    const reply = buildRawErrorResponse(err.headerSection, status, FRAMING_REASONS[err.code]);
    if (reply !== undefined) {
      conn.send(reply);
      this.metrics.response(status, "other", conn.side, peerNameOf(conn));
    }
  }

  onTimeout(conn: SipConnection, reason: ConnectionTimeout): void {
    this.metrics.connectionTimeout(reason, peerNameOf(conn));
    this.#deps.logger.info({ peer: peerNameOf(conn), upstream: upstreamLabelOf(conn), reason }, "SIP connection closed: no progress");
  }

  onClose(conn: SipConnection): void {
    this.#conns.forget(conn);
    this.admission.connectionClosed(conn);
    this.#core?.onFlowClosed(conn);
    this.#health?.onFlowClosed(conn);
  }

  // ---------------------------------------------------------------- lifecycle

  async drain(deadline?: number): Promise<void> {
    if (this.#core === undefined) return;
    const done = this.#core.drain();
    if (deadline !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
        timer.unref();
      });
      await Promise.race([done, late]);
      clearTimeout(timer);
    } else await done;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#health?.stop();
    this.admission.close();
    this.#timers.cancel(this.#sweep);
    this.#conns.closeAll();
    this.#tap?.close();
    this.#dialogs.clear();
    if (this.#deps.timers === undefined) this.#timers.close();
  }

  ready(): boolean {
    return this.#started && !this.#closed && !(this.#core?.draining ?? false);
  }

  stats(): SipProxyStats {
    const h = this.#health?.summary() ?? { up: 0, total: 0 };
    return {
      started: this.#started,
      draining: this.#core?.draining ?? false,
      downstreamConnections: this.#conns.downstreamCount,
      upstreamConnections: this.#conns.upstreamCount,
      pendingRequests: this.#core?.pendingRequests ?? 0,
      serverTransactions: this.#core?.transactions ?? 0,
      clientTransactions: this.#core?.clientTransactions ?? 0,
      activeCalls: this.#dialogs.size,
      upstreamTargetsUp: h.up,
      upstreamTargets: h.total,
    };
  }
}

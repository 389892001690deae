// The HTTPS reverse proxy: the shared mTLS listener (same TLS policy, client-certificate and peer
// rules as SIP) with an HTTP/2 server that falls back to HTTP/1.1 by ALPN, forwarding to
// http.upstream.url. This file wires the pieces and owns the lifecycle (start, drain, close).
import type { AddressInfo } from "node:net";
import type { IncomingMessage } from "node:http";
import { createSecureServer, Http2ServerRequest, type Http2SecureServer, type Http2ServerResponse, type ServerHttp2Session } from "node:http2";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import type { Config } from "../config/schema/index.js";
import { MtlsListener } from "../listener/mtls-listener.js";
import type { Logger } from "../observability/logger.js";
import { internalErrors } from "../observability/internal-errors.js";
import type { EdgeMetrics } from "../observability/metrics.js";
import type { TlsContextProvider } from "../tls/context-provider.js";
import type { PeerIdentity } from "../tls/peer-identity.js";
import { reportInternalError } from "./boundary.js";
import { handleConnect } from "./connect.js";
import { attachConnectionInfo, connectionInfoOf } from "./connection-info.js";
import { handleRequest, type ProxyShared } from "./exchange.js";
import { H1Connection, type LeanShared } from "./h1-connection.js";
import { boundIdle } from "./idle-bound.js";
import type { HostRewrite } from "./headers.js";
import { createHttpMetrics } from "./metrics.js";
import { handleClientError } from "./parser-errors.js";
import { UpstreamPool } from "./upstream-pool.js";
import { handleUpgrade } from "./websocket.js";

export interface HttpProxyDeps {
  config: Config;
  tls: TlsContextProvider;
  identity: PeerIdentity;
  metrics: EdgeMetrics;
  logger: Logger;
}

export interface HttpProxy {
  listener: MtlsListener;
  start(): Promise<AddressInfo>;
  /** Stop accepting, let requests in flight finish (HTTP/1.1 Connection: close, HTTP/2 GOAWAY), close all by graceMs. */
  drain(graceMs: number): Promise<void>;
  close(): Promise<void>;
  activeRequests(): number;
}

/** Node's HTTP/1.1 knobs, which http2.createSecureServer({allowHTTP1}) reads from the server object. */
interface Http1Knobs {
  headersTimeout: number;
  requestTimeout: number;
  connectionsCheckingInterval: number;
  keepAliveTimeout: number;
  maxHeaderSize: number;
  maxHeadersCount: number;
  maxRequestsPerSocket: number;
}

export function createHttpProxy(deps: HttpProxyDeps): HttpProxy {
  const { config, tls, identity, metrics } = deps;
  const cfg = config.http;
  const logger = deps.logger.child({ component: "http" });
  const upstream = new UpstreamPool(cfg, tls, logger);
  const sessions = new Set<ServerHttp2Session>();
  const tunnels = new Set<Duplex>();
  let idleWaiters: (() => void)[] = [];

  const shared: ProxyShared = {
    cfg,
    upstream,
    pathPrefix: upstream.url.pathname === "/" ? "" : upstream.url.pathname.replace(/\/+$/, ""),
    host: hostRewrite(cfg.upstream.host, upstream.url),
    metrics: createHttpMetrics(metrics.registry),
    logger,
    internalErrors: internalErrors(metrics.registry).labels("http"),
    draining: false,
    active: 0,
    onIdle() {
      if (shared.active === 0 && idleWaiters.length > 0) {
        const ws = idleWaiters;
        idleWaiters = [];
        for (const w of ws) w();
      }
    },
  };

  const { limits, timeouts } = cfg;
  const lean: LeanShared = {
    s: shared,
    tunnels,
    connections: new Set<H1Connection>(),
    limits: { maxHeaderBytes: limits.maxHeaderBytes, maxHeaders: limits.maxHeaders },
    headersMs: timeouts.headersMs,
  };
  const idleCloses = shared.metrics.clientTimeouts.labels("idle");
  // Never below headersMs: a request whose header section is still (legitimately) arriving is
  // Node's headers timeout's to end, with a 408.
  const idleBound = { keepAliveMs: Math.max(timeouts.keepAliveMs, timeouts.headersMs), onIdleClose: () => idleCloses.inc() };
  const listener = new MtlsListener({
    name: "http",
    host: cfg.listen.host,
    port: cfg.listen.port,
    tls,
    identity,
    metrics,
    logger,
    handshakeTimeoutMs: config.tls.handshakeTimeoutMs,
    requireClientAuthEku: config.tls.requireClientAuthEku,
    maxConnections: limits.maxConnections,
    perPeerLimit: (peer) => peer.maxConnections,
    alpnProtocols: ["h2", "http/1.1"],
    createServer: (options) => {
      const h2 = createSecureServer({
        ...options,
        allowHTTP1: true,
        // Above these nghttp2 resets the stream outright; up to them the request is checked
        // against the configured limits and answered 431, as on HTTP/1.1.
        maxHeaderListPairs: limits.maxHeaders * 2 + 8,
        settings: {
          maxConcurrentStreams: limits.maxConcurrentStreams,
          maxHeaderListSize: limits.maxHeaderBytes * 2,
          enablePush: false,
        },
      });
      if (cfg.engine === "lean") routeHttp1To(h2, lean);
      return h2;
    },
    onConnection: ({ socket, peer, certificate }) => {
      const info = attachConnectionInfo(socket, peer, certificate);
      boundIdle(socket, info, idleBound);
    },
  });
  const server = listener.server as Http2SecureServer;

  const knobs = server as unknown as Http1Knobs;
  knobs.headersTimeout = timeouts.headersMs;
  knobs.requestTimeout = 0; // bodies are watched for stalls instead (BodyMeter): long uploads stay possible
  knobs.connectionsCheckingInterval = Math.max(50, Math.min(1_000, Math.floor(timeouts.headersMs / 4)));
  knobs.keepAliveTimeout = timeouts.keepAliveMs;
  knobs.maxHeaderSize = limits.maxHeaderBytes;
  // One over the limit so that "too many" is visible (Node silently drops fields beyond it).
  knobs.maxHeadersCount = limits.maxHeaders + 1;
  knobs.maxRequestsPerSocket = 0;

  server.on("request", (req, res) => handleRequest(shared, req, res));
  // Error boundary of the paths that do not go through an Exchange: a throw costs that one
  // connection (destroyed) and is counted, never the process.
  const guarded = (where: string, socket: Duplex, handle: () => void): void => {
    try {
      handle();
    } catch (err) {
      reportInternalError(shared, err, where);
      socket.destroy();
    }
  };
  server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    guarded("upgrade", socket, () => handleUpgrade(shared, tunnels, req, socket, head)),
  );
  // CONNECT never arrives as a 'request': HTTP/2 emits 'connect' with a request and a response
  // (the exchange answers it like any other request), HTTP/1.1 with the raw socket.
  server.on("connect", (req: IncomingMessage | Http2ServerRequest, socketOrRes: Duplex | Http2ServerResponse) => {
    if (req instanceof Http2ServerRequest) return handleRequest(shared, req, socketOrRes as Http2ServerResponse);
    const socket = socketOrRes as Duplex;
    guarded("connect", socket, () => handleConnect(shared, req, socket));
  });
  server.on("clientError", (err: Error, socket: Duplex) => guarded("client error", socket, () => handleClientError(shared, err, socket)));
  server.on("sessionError", (err: Error) => logger.debug({ error: err.message }, "http/2 session error"));
  server.on("session", (session: ServerHttp2Session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    if (shared.draining) session.close();
    // The connection's idle bound (boundIdle) closes it with a GOAWAY through this session.
    const info = connectionInfoOf(session.socket as unknown as TLSSocket);
    if (info) info.session = session;
  });

  /** Resolves when no request or tunnel is in flight, or after ms. */
  const idle = (ms: number): Promise<void> =>
    shared.active === 0
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.max(0, ms));
          timer.unref();
          idleWaiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= (async () => {
      shared.draining = true;
      listener.stopAccepting();
      for (const t of tunnels) t.destroy();
      for (const c of lean.connections) c.socket.destroy();
      for (const s of sessions) s.destroy();
      listener.destroyAll();
      await upstream.destroy();
      // Destroyed sockets report their requests' ends on the next ticks: let the books close.
      await idle(1_000);
    })();
    return closed;
  };

  return {
    listener,
    start: () => listener.listen(),
    async drain(graceMs: number) {
      shared.draining = true;
      listener.stopAccepting(); // also closes idle HTTP/1.1 connections
      for (const s of sessions) s.close(); // GOAWAY: streams in flight finish, no new ones
      for (const c of lean.connections) c.drain();
      await idle(graceMs);
      await close();
    },
    close,
    activeRequests: () => shared.active,
  };
}

/**
 * The lean engine takes the HTTP/1.1 connections (ALPN http/1.1, or none) from the HTTP/2 server,
 * which keeps those that chose h2. The listener's own check runs before (it is prepended later)
 * and leaves a refused socket destroyed, without connection info.
 */
function routeHttp1To(server: Http2SecureServer, lean: LeanShared): void {
  const http2Handlers = server.listeners("secureConnection") as ((socket: TLSSocket) => void)[];
  server.removeAllListeners("secureConnection");
  server.on("secureConnection", (socket: TLSSocket) => {
    if (socket.alpnProtocol === "h2") {
      for (const h of http2Handlers) h.call(server, socket);
      return;
    }
    const info = connectionInfoOf(socket);
    if (info === undefined || socket.destroyed) return void socket.destroy();
    new H1Connection(lean, socket, info);
  });
}

function hostRewrite(setting: string, url: URL): HostRewrite {
  if (setting === "preserve") return { mode: "preserve", value: "" };
  if (setting === "upstream") return { mode: "upstream", value: url.host };
  return { mode: "literal", value: setting };
}

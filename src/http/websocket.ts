// WebSocket passthrough (RFC 6455 over HTTP/1.1; SIP over WebSocket, RFC 7118, rides on it):
// the upgrade request is forwarded with the same header rewrite as any request, the upstream's
// 101 relayed, then the client socket and a fresh upstream connection are piped both ways.
// An upstream that refuses the upgrade (401, 403, 404, …) has its answer relayed as is, then the
// connection closes. HTTP/2 extended CONNECT (RFC 8441) is not offered: clients use HTTP/1.1.
import { STATUS_CODES, type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import type { Dispatcher } from "undici";
import { logAccess, pathOnly } from "./access-log.js";
import { connectionInfoOf } from "./connection-info.js";
import { classifyUpstreamError, rawErrorResponse } from "./errors.js";
import { downstreamResponseHeaders, upstreamRequestHeaders } from "./headers.js";
import type { ProxyShared } from "./exchange.js";
import { requestIdFor } from "./request-id.js";

const LINGER_MS = 5_000;

/** What an upgrade needs of its request (Node's IncomingMessage, or the lean engine's head). */
export type UpgradeRequest = Pick<IncomingMessage, "headers" | "httpVersionMajor" | "httpVersion" | "method" | "url" | "rawHeaders">;

export function handleUpgrade(s: ProxyShared, tunnels: Set<Duplex>, req: UpgradeRequest, socket: Duplex, head: Buffer): void {
  const started = process.hrtime.bigint();
  const conn = connectionInfoOf(socket as never);
  const requestId = requestIdFor(req.headers["x-request-id"]);
  let status = 0;
  let error: string | undefined;
  let upstreamMs: number | undefined;
  let bytesIn = 0;
  let bytesOut = 0;
  let ended = false;
  s.active++;
  s.metrics.activeRequests.inc();
  // A tunnel is in flight for its whole life: the connection's idle bound must not close it.
  if (conn) conn.inFlight++;

  const end = () => {
    if (ended) return;
    ended = true;
    if (conn) {
      conn.inFlight--;
      conn.lastProgress = performance.now();
    }
    s.active--;
    s.metrics.activeRequests.dec();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const st = status || 499;
    s.metrics.record("GET", st, seconds);
    logAccess(s.logger, {
      requestId,
      method: "GET",
      path: pathOnly(req.url),
      status: st,
      httpVersion: req.httpVersion,
      bytesIn,
      bytesOut,
      durationMs: Math.round(seconds * 1e6) / 1e3,
      upstreamMs,
      peer: conn?.peer.name,
      tlsVersion: conn?.tlsVersion,
      cipher: conn?.cipher,
      error,
    });
    s.onIdle();
  };
  socket.once("close", end);

  const refuse = (st: number, why: string) => {
    status = st;
    error = why;
    if (socket.writable) socket.end(rawErrorResponse(st, requestId));
    const t = setTimeout(() => socket.destroy(), LINGER_MS);
    t.unref();
    socket.resume(); // discard whatever follows until the close
  };

  if (!conn) return refuse(500, "no connection identity");
  if (s.draining) return refuse(503, "draining");
  if (req.httpVersionMajor !== 1) return refuse(505, "http version not supported");
  if (req.method !== "GET" || (req.headers.upgrade ?? "").toLowerCase() !== "websocket") return refuse(400, "only websocket upgrades");
  const target = req.url ?? "";
  if (target.charCodeAt(0) !== 47) return refuse(400, "request target not origin-form");
  const h = upstreamRequestHeaders(req.rawHeaders, false, {
    conn,
    requestId,
    host: s.host,
    appendChain: s.cfg.forwardedChain === "append",
    maxHeaders: s.cfg.limits.maxHeaders,
    maxHeaderBytes: s.cfg.limits.maxHeaderBytes,
  });
  if (!h.ok) return refuse(h.status, h.reason);

  const upstreamStart = process.hrtime.bigint();
  let controller: Dispatcher.DispatchController | undefined;
  let relaying = false;
  socket.once("close", () => controller?.abort(new Error("client closed")));
  const handler: Dispatcher.DispatchHandler = {
    onRequestStart(c) {
      controller = c;
    },
    onRequestUpgrade(_c, statusCode, headers, upstream) {
      upstreamMs = Number(process.hrtime.bigint() - upstreamStart) / 1e6;
      status = statusCode;
      if (socket.destroyed) return void upstream.destroy();
      const out = downstreamResponseHeaders(headers as Record<string, string | string[]>, requestId, false);
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: websocket\r\n${headerLines(out)}\r\n`);
      if (head.length > 0) upstream.write(head);
      tunnels.add(socket);
      s.metrics.websocketTunnels.inc();
      const close = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on("data", (b: Buffer) => (bytesIn += b.length));
      upstream.on("data", (b: Buffer) => (bytesOut += b.length));
      socket.on("error", close);
      upstream.on("error", close);
      socket.once("close", () => {
        tunnels.delete(socket);
        s.metrics.websocketTunnels.dec();
        upstream.destroy();
      });
      upstream.once("close", close);
      socket.pipe(upstream);
      upstream.pipe(socket);
    },
    onResponseStart(_c, statusCode, headers) {
      // The upstream answered without upgrading: relay its answer, close-delimited.
      upstreamMs = Number(process.hrtime.bigint() - upstreamStart) / 1e6;
      status = statusCode;
      relaying = true;
      const out = downstreamResponseHeaders(headers as Record<string, string | string[]>, requestId, true);
      socket.write(`HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? "Unknown"}\r\n${headerLines(out)}\r\n`);
    },
    onResponseData(c, chunk) {
      bytesOut += chunk.length;
      if (!socket.write(chunk)) {
        c.pause();
        socket.once("drain", () => c.resume());
      }
    },
    onResponseEnd() {
      socket.end();
      const t = setTimeout(() => socket.destroy(), LINGER_MS);
      t.unref();
    },
    onResponseError(_c, err) {
      if (socket.destroyed) return;
      if (relaying) return void socket.destroy();
      const f = classifyUpstreamError(err);
      s.metrics.upstreamErrors.labels(f.kind).inc();
      refuse(f.status, `upstream ${f.kind}`);
    },
  };
  s.upstream.pool.dispatch({ path: s.pathPrefix + target, method: "GET", headers: h.headers, upgrade: "websocket" }, handler);
}

function headerLines(headers: Record<string, string | string[]>): string {
  let out = "";
  for (const name in headers) {
    const v = headers[name]!;
    if (Array.isArray(v)) for (const x of v) out += `${name}: ${x}\r\n`;
    else out += `${name}: ${v}\r\n`;
  }
  return out;
}

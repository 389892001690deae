// One request through the proxy, HTTP/1.1 or HTTP/2 (Node's compatibility API gives both the same
// shape): checks, header rewrite, body streamed upstream through the meter, response streamed back,
// then exactly one metrics update and one access-log line.
import type { IncomingMessage, ServerResponse } from "node:http";
import { constants as h2c, Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import type { HttpConfig } from "../config/schema/index.js";
import type { Logger } from "../observability/logger.js";
import { accessLogWanted, logAccess, pathOnly } from "./access-log.js";
import { reportInternalError, type BoundaryContext } from "./boundary.js";
import { BodyMeter, BodyTooLargeError } from "./body-meter.js";
import { connectionInfoOf, type ConnectionInfo } from "./connection-info.js";
import { ALLOW_HEADER, classifyUpstreamError, errorBody } from "./errors.js";
import { LeanRequest } from "./h1-message.js";
import { downstreamResponseHeaders, upstreamRequestHeaders, type HostRewrite } from "./headers.js";
import { methodLabel, type HttpMetrics } from "./metrics.js";
import { requestIdFor } from "./request-id.js";
import type { UpstreamPool } from "./upstream-pool.js";
import { type ResponseHeaders, type UpstreamController, UpstreamError, type UpstreamHandler } from "./upstream-types.js";

export type ProxyRequest = IncomingMessage | Http2ServerRequest | LeanRequest;
/** The lean engine's LeanResponse passes as a ServerResponse: it has the members used here. */
export type ProxyResponse = ServerResponse | Http2ServerResponse;

/** Shared by every exchange of one proxy. */
export interface ProxyShared extends BoundaryContext {
  cfg: HttpConfig;
  upstream: UpstreamPool;
  /** Path of http.upstream.url without its trailing slash ("" for "/"). */
  pathPrefix: string;
  host: HostRewrite;
  metrics: HttpMetrics;
  logger: Logger;
  draining: boolean;
  active: number;
  /** Called whenever a request or tunnel ends (drain waits on it). */
  onIdle(): void;
}

/** After an error answer on HTTP/1.1 whose request body was not read: discard it this long, then close. */
const LINGER_MS = 5_000;

/** The reason handed to the upstream client when the client went away (shared: never thrown, never logged). */
const CLIENT_CLOSED = new Error("client closed");

const kExchange = Symbol("trunkgate.http.exchange");

/**
 * The error boundary of one request: whatever goes wrong while handling it is answered 500 (or,
 * once the response has started, that stream or connection alone is reset), logged without
 * request data, and counted; the process and every other connection carry on.
 */
export function handleRequest(s: ProxyShared, req: ProxyRequest, res: ProxyResponse): void {
  let exchange: Exchange | undefined;
  try {
    exchange = new Exchange(s, req, res);
    exchange.run();
  } catch (err) {
    if (exchange) exchange.internalError(err, "run");
    else {
      // Not even an exchange: nothing was counted in flight, so only answer and count.
      reportInternalError(s, err, "request setup");
      try {
        if (res.headersSent) res.destroy();
        else (res as ServerResponse).writeHead(500, { "content-length": 0, connection: "close" }).end(); // see onResponseStart
      } catch {
        res.destroy();
      }
    }
  }
}

/**
 * One request, and at the same time the upstream client's handler for its upstream exchange
 * (upstream-types.ts: the lean client and undici's Pool call the same callbacks): the response
 * comes back as callbacks on this object (no Promise, no response Readable, no
 * AbortController/AbortSignal and no stream.pipeline per request; together they were ~25 % of
 * the CPU per keep-alive request). Backpressure: a full downstream pauses the client's read of
 * the upstream socket until 'drain'.
 */
class Exchange implements UpstreamHandler {
  readonly #started = performance.now();
  readonly #isH2: boolean;
  readonly #conn: ConnectionInfo | undefined;
  readonly #requestId: string;
  #meter: BodyMeter | undefined;
  /** The upstream client's handle on the upstream exchange. */
  #controller: UpstreamController | undefined;
  #upstreamStart = 0;
  #upstreamMs: number | undefined;
  #bytesOut = 0;
  #error: string | undefined;
  /** trunkgate answered (or reset) itself: later upstream callbacks have nothing left to do. */
  #replied = false;
  #done = false;

  constructor(
    private readonly s: ProxyShared,
    private readonly req: ProxyRequest,
    private readonly res: ProxyResponse,
  ) {
    // The connection's protocol (ALPN chose it; the HTTP/2 session made this request object), never
    // the version the request line claims: an HTTP/1.1 request may say "HTTP/2.0".
    this.#isH2 = req instanceof Http2ServerRequest;
    this.#conn = connectionInfoOf(req.socket);
    this.#requestId = requestIdFor(req.headers["x-request-id"]);
  }

  /** The response's 'close' listener, one function for all requests (no closure per request). */
  static #onClose(this: ProxyResponse): void {
    const x = (this as unknown as Record<symbol, Exchange>)[kExchange]!;
    try {
      x.#finish();
    } catch (err) {
      // The books of this request could not be closed: count it; the response is over anyway.
      x.#done = true;
      reportInternalError(x.s, err, "finish");
    }
  }

  /** The boundary's answer to an exception thrown while handling this request. */
  internalError(err: unknown, where: string): void {
    reportInternalError(this.s, err, where, this.#requestId);
    if (this.#done) return;
    try {
      this.#reply(500, "internal error");
    } catch {
      this.res.destroy();
    }
  }

  run(): void {
    const { s, req, res } = this;
    s.active++;
    s.metrics.activeRequests.inc();
    if (this.#conn) {
      this.#conn.inFlight++;
      this.#conn.lastProgress = this.#started;
    }
    (res as unknown as Record<symbol, Exchange>)[kExchange] = this;
    res.once("close", Exchange.#onClose);

    if (!this.#conn) return this.#reply(500, "no connection identity");
    // HTTP/2 is only spoken after ALPN "h2"; an HTTP/1.1 connection claiming another version gets 505.
    if (!this.#isH2 && req.httpVersionMajor !== 1) return this.#reply(505, "http version not supported");
    const method = req.method ?? "";
    if (method === "CONNECT") return this.#reply(405, "connect not supported", ALLOW_HEADER);
    const target = req.url ?? "";
    if (target.charCodeAt(0) !== 47 /* / */) return this.#reply(400, "request target not origin-form");

    const h = upstreamRequestHeaders(req.rawHeaders, this.#isH2, {
      conn: this.#conn,
      requestId: this.#requestId,
      host: s.host,
      appendChain: s.cfg.forwardedChain === "append",
      maxHeaders: s.cfg.limits.maxHeaders,
      maxHeaderBytes: s.cfg.limits.maxHeaderBytes,
    });
    if (!h.ok) return this.#reply(h.status, h.reason);

    const max = s.cfg.limits.maxBodyBytes;
    let declared: number | undefined;
    if (h.contentLength !== undefined) {
      declared = Number(h.contentLength);
      if (!Number.isSafeInteger(declared) || declared < 0) return this.#reply(400, "invalid content-length");
      if (max > 0 && declared > max) return this.#reply(413, "declared body too large");
    }
    const hasBody = this.#isH2 ? !(req as Http2ServerRequest).stream.endAfterHeaders : h.chunked || (declared ?? 0) > 0;
    let body: BodyMeter | null = null;
    if (hasBody) {
      const meter = (body = this.#meter = new BodyMeter(max, s.cfg.timeouts.bodyIdleMs));
      if (req instanceof LeanRequest) req.bodyTo(meter);
      else {
        req.on("error", (err) => meter.destroy(err));
        // pipe, not pipeline: a meter error must not destroy the request (that would destroy the
        // socket before the 413/408 is written).
        req.pipe(meter);
        meter.on("error", () => req.unpipe(meter));
      }
    }

    this.#upstreamStart = performance.now();
    s.upstream.dispatch({ path: s.pathPrefix + target, method, headers: h.headers, body }, this);
  }

  // --- UpstreamHandler -----------------------------------------------------------------------

  onRequestStart(controller: UpstreamController): void {
    this.#controller = controller;
    // The client left while the request waited for a pooled connection: do not send it.
    if (this.#done) controller.abort(CLIENT_CLOSED);
  }

  onResponseStart(controller: UpstreamController, statusCode: number, headers: ResponseHeaders): void {
    // An interim answer (102, 103; undici hands them on) is not forwarded: the final one follows.
    if (statusCode < 200) return;
    const { res } = this;
    this.#upstreamMs = performance.now() - this.#upstreamStart;
    if (this.#done || this.#replied || this.#gone()) return void controller.abort(CLIENT_CLOSED);
    const closeConn = this.s.draining && !this.#isH2;
    try {
      // Both response kinds take writeHead(status, headers); @types/node 24 types the union as not callable.
      (res as ServerResponse).writeHead(statusCode, downstreamResponseHeaders(headers, this.#requestId, closeConn));
    } catch {
      return this.#reply(502, "invalid upstream response headers");
    }
  }

  onResponseData(controller: UpstreamController, chunk: Buffer): void {
    if (this.#done || this.#replied) return;
    this.#bytesOut += chunk.length;
    if (!(this.res as ServerResponse).write(chunk)) {
      controller.pause();
      this.res.once("drain", () => controller.resume());
    }
  }

  onResponseEnd(): void {
    if (this.#done || this.#replied) return;
    this.res.end();
  }

  onResponseError(controller: UpstreamController | undefined, err: Error): void {
    // The clients guard the other callbacks (a throw there aborts the exchange and lands here), not this one.
    try {
      this.#onResponseError(controller, err);
    } catch (e) {
      this.internalError(e, "upstream error");
    }
  }

  #onResponseError(_controller: UpstreamController | undefined, err: Error): void {
    if (this.#done || this.#replied) return; // the client went away first, or trunkgate answered
    if (!this.res.headersSent) return this.#upstreamFailed(err);
    // Headers are out: the only honest signal left is a reset (HTTP/1.1 close, HTTP/2 RST_STREAM).
    if (this.#meter?.errored instanceof BodyTooLargeError) this.#error = "body too large";
    else this.#noteUpstreamError(err, "upstream failed mid-response");
    this.#replied = true;
    this.res.destroy();
  }

  // -----------------------------------------------------------------------------------------

  #upstreamFailed(err: unknown): void {
    this.#upstreamMs = performance.now() - this.#upstreamStart;
    const meterErr = this.#meter?.errored;
    if (meterErr) {
      if (meterErr instanceof BodyTooLargeError) return this.#reply(413, "body too large");
      if ((meterErr as { code?: string }).code === "TRUNKGATE_BODY_IDLE_TIMEOUT") {
        this.s.metrics.clientTimeouts.labels("body").inc();
        return this.#reply(408, "request body stalled");
      }
      return this.#reply(400, "request body aborted");
    }
    const code = (err as { code?: string }).code;
    if (code === "UND_ERR_INVALID_ARG" || code === "UND_ERR_NOT_SUPPORTED" || code === "TRUNKGATE_UPSTREAM_INVALID_REQUEST") return this.#reply(400, "request not forwardable");
    const f = this.#noteUpstreamError(err, undefined);
    this.#reply(f.status, `upstream ${f.kind}`);
  }

  #noteUpstreamError(err: unknown, reason: string | undefined) {
    const f = classifyUpstreamError(err);
    this.s.metrics.upstreamErrors.labels(f.kind).inc();
    this.#error = reason ?? `upstream ${f.kind}`;
    // The lean client's messages are fixed text (never upstream bytes): they name what was wrong.
    const detail = err instanceof UpstreamError ? err.message : undefined;
    this.s.logger.debug({ requestId: this.#requestId, kind: f.kind, code: f.code, detail }, "http upstream error");
    return f;
  }

  /** trunkgate's own answer; once the response has started, a reset instead. */
  #reply(status: number, reason: string, extra?: Readonly<Record<string, string>>): void {
    const { req, res } = this;
    this.#error = reason;
    this.#replied = true;
    this.#controller?.abort(CLIENT_CLOSED);
    if (res.headersSent || this.#gone()) {
      res.destroy();
      return;
    }
    const bodyText = errorBody(status, this.#requestId);
    const unread = !req.complete;
    const headers: Record<string, string | number> = {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(bodyText),
      "cache-control": "no-store",
      "x-request-id": this.#requestId,
      ...extra,
    };
    // HTTP/1.1 cannot skip an unread body: close after the answer (HTTP/2 resets the stream).
    if (!this.#isH2 && (unread || this.s.draining || status === 400 || status === 500 || status === 505)) headers.connection = "close";
    (res as ServerResponse).writeHead(status, headers); // same signature on both kinds (see onResponseStart)
    if (unread && this.#isH2) {
      // RFC 9113 §8.1: a complete answer, then RST_STREAM(NO_ERROR) tells the client to stop sending.
      const stream = (req as Http2ServerRequest).stream;
      (res as Http2ServerResponse).end(bodyText, () => {
        if (!stream.destroyed) stream.close(h2c.NGHTTP2_NO_ERROR);
      });
      return;
    }
    res.end(bodyText);
    if (unread) {
      {
        // Lingering close: read and discard what the client still sends, for a bounded time, so
        // it sees the answer rather than a reset caused by unread data.
        const socket = req.socket;
        req.resume();
        const t = setTimeout(() => socket.destroy(), LINGER_MS);
        t.unref();
        socket.once("close", () => clearTimeout(t));
      }
    }
  }

  /**
   * Whether the response went out whole. An HTTP/2 stream the client reset (RST_STREAM with an
   * error code) also reports writableFinished, so there the response must have been ended by us
   * and the stream closed without error.
   */
  #completed(): boolean {
    if (!this.#isH2) return this.res.writableFinished;
    const rst = (this.req as Http2ServerRequest).stream.rstCode;
    return this.res.writableEnded && (rst === undefined || rst === h2c.NGHTTP2_NO_ERROR);
  }

  #gone(): boolean {
    return this.#isH2 ? (this.res as Http2ServerResponse).stream.destroyed : (this.res as ServerResponse).destroyed;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    const { s, req, res } = this;
    const completed = this.#completed();
    if (!completed) {
      this.#controller?.abort(CLIENT_CLOSED);
      this.#meter?.destroy();
      this.#error ??= "client closed";
    }
    const status = res.headersSent || completed ? res.statusCode : 499;
    s.active--;
    s.metrics.activeRequests.dec();
    const now = performance.now();
    if (this.#conn) {
      this.#conn.inFlight--;
      this.#conn.lastProgress = now;
    }
    const method = methodLabel(req.method);
    const ms = now - this.#started;
    s.metrics.record(method, status, ms / 1e3);
    if (accessLogWanted(s.logger, this.#error !== undefined)) {
      const c = this.#conn;
      logAccess(s.logger, {
        requestId: this.#requestId,
        method,
        path: pathOnly(req.url),
        status,
        httpVersion: this.#isH2 ? "2" : req.httpVersion,
        bytesIn: this.#meter?.bytes ?? 0,
        bytesOut: this.#bytesOut,
        durationMs: Math.round(ms * 1e3) / 1e3,
        upstreamMs: this.#upstreamMs,
        peer: c?.peer.name,
        tlsVersion: c?.tlsVersion,
        cipher: c?.cipher,
        error: this.#error,
      });
    }
    s.onIdle();
  }
}

// One request through the proxy, HTTP/1.1 or HTTP/2 (Node's compatibility API gives both the same
// shape): checks, header rewrite, body streamed upstream through the meter, response streamed back,
// then exactly one metrics update and one access-log line.
import type { IncomingMessage, ServerResponse } from "node:http";
import { constants as h2c, type Http2ServerRequest, type Http2ServerResponse } from "node:http2";
import { pipeline } from "node:stream";
import type { Dispatcher } from "undici";
import type { HttpConfig } from "../config/schema/index.js";
import type { Logger } from "../observability/logger.js";
import { logAccess, pathOnly } from "./access-log.js";
import { BodyMeter, BodyTooLargeError } from "./body-meter.js";
import { connectionInfoOf, type ConnectionInfo } from "./connection-info.js";
import { classifyUpstreamError, errorBody } from "./errors.js";
import { downstreamResponseHeaders, upstreamRequestHeaders, type HostRewrite } from "./headers.js";
import { methodLabel, statusClass, type HttpMetrics } from "./metrics.js";
import { requestIdFor } from "./request-id.js";
import type { UpstreamPool } from "./upstream-pool.js";

export type ProxyRequest = IncomingMessage | Http2ServerRequest;
export type ProxyResponse = ServerResponse | Http2ServerResponse;

/** Shared by every exchange of one proxy. */
export interface ProxyShared {
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

export function handleRequest(s: ProxyShared, req: ProxyRequest, res: ProxyResponse): void {
  new Exchange(s, req, res).run();
}

class Exchange {
  readonly #started = process.hrtime.bigint();
  readonly #isH2: boolean;
  readonly #conn: ConnectionInfo | undefined;
  readonly #requestId: string;
  #meter: BodyMeter | undefined;
  #abort: AbortController | undefined;
  #upstreamStart = 0n;
  #upstreamMs: number | undefined;
  #bytesOut = 0;
  #error: string | undefined;
  #done = false;

  constructor(
    private readonly s: ProxyShared,
    private readonly req: ProxyRequest,
    private readonly res: ProxyResponse,
  ) {
    this.#isH2 = req.httpVersionMajor === 2;
    this.#conn = connectionInfoOf(req.socket);
    this.#requestId = requestIdFor(req.headers["x-request-id"]);
  }

  run(): void {
    const { s, req, res } = this;
    s.active++;
    s.metrics.activeRequests.inc();
    if (this.#conn) this.#conn.inFlight++;
    res.once("close", () => this.#finish());
    req.on("error", (err) => this.#meter?.destroy(err));

    if (!this.#conn) return this.#reply(500, "no connection identity");
    const method = req.method ?? "";
    if (method === "CONNECT") return this.#reply(405, "connect not supported");
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
      body = this.#meter = new BodyMeter(max, s.cfg.timeouts.bodyIdleMs);
      // pipe, not pipeline: a meter error must not destroy the request (that would destroy the
      // socket before the 413/408 is written).
      req.pipe(body);
      body.on("error", () => req.unpipe(body!));
    }

    this.#abort = new AbortController();
    this.#upstreamStart = process.hrtime.bigint();
    s.upstream.pool
      .request({
        path: s.pathPrefix + target,
        method,
        headers: h.headers,
        body,
        signal: this.#abort.signal,
      })
      .then(
        (r) => this.#respond(r),
        (err) => this.#upstreamFailed(err),
      );
  }

  #respond(r: Dispatcher.ResponseData): void {
    const { res } = this;
    this.#upstreamMs = Number(process.hrtime.bigint() - this.#upstreamStart) / 1e6;
    if (this.#done || this.#gone()) {
      r.body.destroy();
      return;
    }
    const closeConn = this.s.draining && !this.#isH2;
    try {
      res.writeHead(r.statusCode, downstreamResponseHeaders(r.headers, this.#requestId, closeConn));
    } catch {
      r.body.destroy();
      return this.#reply(502, "invalid upstream response headers");
    }
    r.body.on("data", (chunk: Buffer) => {
      this.#bytesOut += chunk.length;
    });
    pipeline(r.body, res as NodeJS.WritableStream, (err) => {
      if (!err || this.#done) return;
      // Headers are out: the only honest signal left is a reset (HTTP/1.1 close, HTTP/2 RST_STREAM).
      if (this.#meter?.errored instanceof BodyTooLargeError) this.#error = "body too large";
      else this.#noteUpstreamError(err, "upstream failed mid-response");
      res.destroy();
    });
  }

  #upstreamFailed(err: unknown): void {
    this.#upstreamMs = Number(process.hrtime.bigint() - this.#upstreamStart) / 1e6;
    if (this.#done) return; // the client went away first: not an upstream failure
    const meterErr = this.#meter?.errored;
    if (meterErr) {
      if (meterErr instanceof BodyTooLargeError) return this.#reply(413, "body too large");
      if ((meterErr as { code?: string }).code === "TRUNKGATE_BODY_IDLE_TIMEOUT") return this.#reply(408, "request body stalled");
      return this.#reply(400, "request body aborted");
    }
    const code = (err as { code?: string }).code;
    if (code === "UND_ERR_INVALID_ARG" || code === "UND_ERR_NOT_SUPPORTED") return this.#reply(400, "request not forwardable");
    const f = this.#noteUpstreamError(err, undefined);
    this.#reply(f.status, `upstream ${f.kind}`);
  }

  #noteUpstreamError(err: unknown, reason: string | undefined) {
    const f = classifyUpstreamError(err);
    this.s.metrics.upstreamErrors.labels(f.kind).inc();
    this.#error = reason ?? `upstream ${f.kind}`;
    this.s.logger.debug({ requestId: this.#requestId, kind: f.kind, code: f.code }, "http upstream error");
    return f;
  }

  /** trunkgate's own answer; once the response has started, a reset instead. */
  #reply(status: number, reason: string): void {
    const { req, res } = this;
    this.#error = reason;
    this.#abort?.abort();
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
    };
    // HTTP/1.1 cannot skip an unread body: close after the answer (HTTP/2 resets the stream).
    if (!this.#isH2 && (unread || this.s.draining || status === 400)) headers.connection = "close";
    res.writeHead(status, headers);
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

  #gone(): boolean {
    return this.#isH2 ? (this.res as Http2ServerResponse).stream.destroyed : (this.res as ServerResponse).destroyed;
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    const { s, req, res } = this;
    const completed = res.writableFinished;
    if (!completed) {
      this.#abort?.abort();
      this.#meter?.destroy();
      this.#error ??= "client closed";
    }
    const status = res.headersSent || completed ? res.statusCode : 499;
    s.active--;
    s.metrics.activeRequests.dec();
    if (this.#conn) this.#conn.inFlight--;
    const method = methodLabel(req.method);
    const seconds = Number(process.hrtime.bigint() - this.#started) / 1e9;
    s.metrics.requests.labels(method, statusClass(status)).inc();
    s.metrics.duration.labels(statusClass(status)).observe(seconds);
    const c = this.#conn;
    logAccess(s.logger, {
      requestId: this.#requestId,
      method,
      path: pathOnly(req.url),
      status,
      httpVersion: this.#isH2 ? "2" : req.httpVersion,
      bytesIn: this.#meter?.bytes ?? 0,
      bytesOut: this.#bytesOut,
      durationMs: Math.round(seconds * 1e6) / 1e3,
      upstreamMs: this.#upstreamMs,
      peer: c?.peer.name,
      tlsVersion: c?.tlsVersion,
      cipher: c?.cipher,
      error: this.#error,
    });
    s.onIdle();
  }
}

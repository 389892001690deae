// The one interface between an exchange and whichever HTTP/1.1 upstream client carries it
// (http.upstream.client: trunkgate's lean client or undici's Pool). It is the shape of undici's
// Dispatcher handler API, narrowed to what the exchange uses, so undici's Pool takes the same
// handler unchanged and the exchange exists once.
import type { Readable } from "node:stream";

/** One request toward the upstream. `headers` is a flat name, value, name, value… list. */
export interface UpstreamRequest {
  path: string;
  method: string;
  headers: string[];
  /** The metered request body, or null when there is none. */
  body: Readable | null;
}

/** The exchange's handle on its upstream request. */
export interface UpstreamController {
  /** Drop the request (dequeue it, or close its connection): no further callbacks. */
  abort(reason: Error): void;
  /** Stop reading the response until resume() (downstream backpressure). */
  pause(): void;
  resume(): void;
}

export type ResponseHeaders = Record<string, string | string[] | undefined>;

/** Callbacks of one upstream exchange, in order: start, response start, data…, end or error. */
export interface UpstreamHandler {
  onRequestStart(controller: UpstreamController, context: unknown): void;
  onResponseStart(controller: UpstreamController, statusCode: number, headers: ResponseHeaders, statusMessage?: string): void;
  onResponseData(controller: UpstreamController, chunk: Buffer): void;
  onResponseEnd(controller: UpstreamController, trailers: ResponseHeaders): void;
  onResponseError(controller: UpstreamController | undefined, err: Error): void;
}

export interface UpstreamClient {
  dispatch(request: UpstreamRequest, handler: UpstreamHandler): void;
  /** Let requests in flight and queued finish, then close the connections. */
  close(): Promise<void>;
  /** Tear down every connection now. */
  destroy(): Promise<void>;
}

/** An upstream failure the lean client reports; `code` is what classifyUpstreamError reads. */
export class UpstreamError extends Error {
  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export type UpstreamErrorCode =
  | "TRUNKGATE_UPSTREAM_CONNECT_TIMEOUT"
  | "TRUNKGATE_UPSTREAM_RESPONSE_TIMEOUT"
  | "TRUNKGATE_UPSTREAM_BODY_TIMEOUT"
  /** The upstream closed the connection before the response was complete. */
  | "TRUNKGATE_UPSTREAM_CLOSED"
  /** The response broke HTTP/1.1 framing or syntax (the connection is dropped). */
  | "TRUNKGATE_UPSTREAM_BAD_RESPONSE"
  /** The request could not be written as HTTP/1.1 (a header value with CR, LF or NUL). */
  | "TRUNKGATE_UPSTREAM_INVALID_REQUEST"
  /** The request body did not match its Content-Length. */
  | "TRUNKGATE_UPSTREAM_BODY_LENGTH"
  | "TRUNKGATE_UPSTREAM_CLIENT_CLOSED";

// One request of the lean upstream client, from dispatch to its last callback: the head as it goes
// on the wire (made and checked once, at dispatch), whether it may be sent again, and the
// controller the exchange holds (abort, pause, resume go to whoever carries it: the pool's queue
// while it waits, its connection once it is on one).
import { type UpstreamController, UpstreamError, type UpstreamHandler, type UpstreamRequest } from "./upstream-types.js";

/** Whoever holds a request right now. */
export interface RequestCarrier {
  abortRequest(p: PendingRequest): void;
  pauseReading(): void;
  resumeReading(): void;
}

/** RFC 9110 §9.2.2; only without a body (a streamed body cannot be sent twice). */
const IDEMPOTENT: ReadonlySet<string> = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** Methods whose requests carry content: without a body they say so with Content-Length: 0 (as undici). */
const EXPECTS_CONTENT: ReadonlySet<string> = new Set(["POST", "PUT", "PATCH"]);

/** CR, LF or NUL would split the head; the target may hold no whitespace or controls either. */
const UNSAFE_VALUE = /[\r\n\0]/;
const UNSAFE_TARGET = /[\0-\x20\x7f]/;

export class PendingRequest implements UpstreamController {
  /** The head on the wire, or undefined when the request cannot be written (see `invalid`). */
  readonly head: string | undefined;
  /** Content-Length of the body, -1 when it goes chunked (or there is none). */
  readonly declaredLength: number;
  /** Sent again once if a reused connection closes before any byte of its response. */
  readonly retryable: boolean;
  readonly isHead: boolean;
  retried = false;
  aborted = false;
  carrier: RequestCarrier | undefined;
  /** While queued: the body failing (bad framing, client gone) fails the request at once. */
  readonly #onEarlyBodyEnd: (() => void) | undefined;

  constructor(
    readonly req: UpstreamRequest,
    readonly handler: UpstreamHandler,
  ) {
    const { method, path, headers, body } = req;
    this.isHead = method === "HEAD";
    this.retryable = body === null && IDEMPOTENT.has(method);
    let declared = -1;
    let head: string | undefined = `${method} ${path} HTTP/1.1\r\n`;
    if (UNSAFE_TARGET.test(path)) head = undefined;
    for (let i = 0; head !== undefined && i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      if (UNSAFE_VALUE.test(value)) head = undefined;
      else {
        if (name === "content-length") declared = Number(value);
        head += `${name}: ${value}\r\n`;
      }
    }
    if (head !== undefined) {
      if (body !== null && declared < 0) head += "transfer-encoding: chunked\r\n";
      else if (body === null && declared < 0 && EXPECTS_CONTENT.has(method)) head += "content-length: 0\r\n";
      head += "connection: keep-alive\r\n\r\n";
    }
    this.head = head;
    this.declaredLength = declared;
    if (body !== null) {
      this.#onEarlyBodyEnd = () => this.#bodyEndedEarly();
      body.on("error", this.#onEarlyBodyEnd);
      body.on("close", this.#onEarlyBodyEnd);
    }
  }

  /** The request goes on a connection, which watches the body from now on. */
  unwatchBody(): void {
    const body = this.req.body;
    if (body === null || this.#onEarlyBodyEnd === undefined) return;
    body.removeListener("error", this.#onEarlyBodyEnd);
    body.removeListener("close", this.#onEarlyBodyEnd);
  }

  /** The body's error, once it ended before its end (undefined while it is alive or ended well). */
  get bodyFailure(): Error | undefined {
    const body = this.req.body;
    if (body === null || !body.destroyed || body.readableEnded) return undefined;
    return body.errored ?? new UpstreamError("TRUNKGATE_UPSTREAM_CLIENT_CLOSED", "request body closed before its end");
  }

  #bodyEndedEarly(): void {
    const err = this.bodyFailure;
    if (err === undefined) return;
    this.unwatchBody();
    const c = this.carrier;
    this.carrier = undefined;
    c?.abortRequest(this);
    this.fail(err);
  }

  abort(_reason: Error): void {
    if (this.aborted) return;
    this.aborted = true;
    const c = this.carrier;
    this.carrier = undefined;
    c?.abortRequest(this);
  }

  pause(): void {
    this.carrier?.pauseReading();
  }

  resume(): void {
    this.carrier?.resumeReading();
  }

  /** The request's last word: an error (at most once, never after an abort). */
  fail(err: Error): void {
    this.carrier = undefined;
    this.unwatchBody();
    if (this.aborted) return;
    this.aborted = true;
    this.handler.onResponseError(this, err);
  }
}

// One pooled HTTP/1.1 connection of the lean upstream client: it writes a request (head, then the
// body streamed with Content-Length or chunked framing, with the socket's backpressure), reads the
// response head (h1-response-head.ts) and body (Content-Length, chunked, or up to the close) and
// hands the body on as slices of the socket's buffers. One request at a time, no pipelining.
// It goes back to the pool only when the response was read whole, said nothing of a close, left no
// stray bytes, and the request body was written whole; anything else closes it.
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import { ChunkedDecoder, CHUNKED_MORE, type ChunkSink } from "./h1-chunked.js";
import { HEAD_BARE_LF, HEAD_INCOMPLETE, headEnd } from "./h1-head.js";
import { BodyFraming, headerRecord, keepAliveTimeoutMs, parseResponseHead } from "./h1-response-head.js";
import type { PendingRequest, RequestCarrier } from "./upstream-request.js";
import { type ConnectionOptions, openUpstreamSocket, Phase, PhaseTimers } from "./upstream-socket.js";
import { UpstreamError } from "./upstream-types.js";

/** The pool, as its connections see it. */
export interface ConnectionOwner {
  readonly options: ConnectionOptions;
  tlsSession: Buffer | undefined;
  connected(c: UpstreamConnection): void;
  connectFailed(c: UpstreamConnection, err: Error): void;
  /**
   * The connection may carry another request: just connected, or its response was read whole
   * (`settle`: let it read for one event-loop turn first).
   */
  released(c: UpstreamConnection, settle: boolean): void;
  closed(c: UpstreamConnection): void;
  retry(p: PendingRequest): void;
}

const enum State {
  Connecting,
  Idle,
  /** Request written (or being written), response head awaited. */
  Head,
  Body,
  Closed,
}

/** undici's keepAliveTimeoutThreshold: an upstream's Keep-Alive timeout less this margin. */
const KEEP_ALIVE_MARGIN_MS = 2_000;
const NO_TRAILERS: Readonly<Record<string, string>> = Object.freeze({});
const LAST_CHUNK = "0\r\n\r\n";

const closedByUpstream = (): UpstreamError => new UpstreamError("TRUNKGATE_UPSTREAM_CLOSED", "upstream closed the connection");

export class UpstreamConnection implements RequestCarrier, ChunkSink {
  readonly socket: Socket;
  #state = State.Connecting;
  #p: PendingRequest | undefined;
  /** Requests this connection completed (a reused connection may have gone stale). */
  #served = 0;
  /** Any byte of the current response arrived. */
  #gotBytes = false;
  /** Head bytes not yet parsed. */
  #buf: Buffer | undefined;
  #framing = BodyFraming.None;
  #bodyLeft = 0;
  #chunked: ChunkedDecoder | undefined;
  #reusable = false;
  #paused = false;
  /** The request body being written, until its end. */
  #body: Readable | null = null;
  #bodyWritten = 0;
  #headSent = true;
  readonly #timers: PhaseTimers;

  readonly #onBodyData = (chunk: Buffer) => this.#writeBody(chunk);
  readonly #onBodyEnd = () => this.#endBody();
  readonly #onBodyError = (err: Error) => this.#fail(err, false);
  /** Destroyed before its end: the request cannot be completed (undici's RequestAbortedError). */
  readonly #onBodyClose = () => {
    if (this.#body !== null) this.#fail(new UpstreamError("TRUNKGATE_UPSTREAM_CLIENT_CLOSED", "request body closed before its end"), false);
  };

  constructor(private readonly owner: ConnectionOwner) {
    const o = owner.options;
    this.#timers = new PhaseTimers([o.connectMs, o.responseMs, o.bodyIdleMs, o.keepAliveMs], (phase) => this.#onTimer(phase));
    this.#timers.arm(Phase.Connect);
    const s = (this.socket = openUpstreamSocket(o, owner.tlsSession));
    s.once(o.secureContext ? "secureConnect" : "connect", () => this.#onConnected());
    if (o.secureContext) s.on("session", (session: Buffer) => (owner.tlsSession = session));
    s.on("data", (chunk: Buffer) => this.#onData(chunk));
    s.on("drain", () => this.#body?.resume());
    s.on("end", () => this.#onEnd());
    s.on("error", (err: Error) => this.#fail(err, true));
    s.on("close", () => this.#onClose());
  }

  get usable(): boolean {
    return this.#state === State.Idle && !this.socket.destroyed;
  }

  /** Puts the request on the wire (the connection is connected and idle). */
  start(p: PendingRequest): void {
    p.unwatchBody();
    const early = p.bodyFailure;
    if (early !== undefined) {
      // Its body failed while it waited: nothing was written, the connection stays good.
      p.fail(early);
      return this.owner.released(this, false);
    }
    this.#state = State.Head;
    this.#p = p;
    p.carrier = this;
    this.#gotBytes = false;
    this.#unpause();
    this.socket.ref();
    this.#timers.arm(Phase.Response);
    const body = p.req.body;
    if (body === null) {
      this.socket.write(p.head!, "latin1");
      return;
    }
    // The head waits for the body's first bytes (or its end), as undici's writer does: a body that
    // fails before any byte (bad chunked framing, a client gone) sends the upstream nothing.
    this.#body = body;
    this.#bodyWritten = 0;
    this.#headSent = false;
    body.on("data", this.#onBodyData);
    body.on("end", this.#onBodyEnd);
    body.on("error", this.#onBodyError);
    body.on("close", this.#onBodyClose);
  }

  /** Close now (pool destroy, retirement, or a request abort). */
  destroy(): void {
    if (this.#state === State.Closed) return;
    this.#state = State.Closed;
    this.#detachBody();
    this.socket.destroy();
  }

  // --- RequestCarrier ---------------------------------------------------------------------------

  abortRequest(p: PendingRequest): void {
    if (this.#p !== p) return;
    this.#p = undefined;
    this.destroy(); // the response was not read whole: never reused
  }

  pauseReading(): void {
    this.#paused = true;
    this.socket.pause();
  }

  resumeReading(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.socket.resume();
    this.#timers.refresh(Phase.BodyIdle);
  }

  // --- request body --------------------------------------------------------------------------------

  #writeBody(chunk: Buffer): void {
    const p = this.#p;
    if (!p || chunk.length === 0) return;
    this.#bodyWritten += chunk.length;
    if (p.declaredLength >= 0 && this.#bodyWritten > p.declaredLength) {
      return this.#fail(new UpstreamError("TRUNKGATE_UPSTREAM_BODY_LENGTH", "request body longer than its content-length"), false);
    }
    const s = this.socket;
    s.cork();
    if (!this.#headSent) this.#sendHead(p);
    let ok: boolean;
    if (p.declaredLength >= 0) ok = s.write(chunk);
    else {
      s.write(`${chunk.length.toString(16)}\r\n`, "latin1");
      s.write(chunk);
      ok = s.write("\r\n", "latin1");
    }
    s.uncork();
    if (!ok) this.#body?.pause();
  }

  #endBody(): void {
    const p = this.#p;
    if (!p) return;
    if (p.declaredLength >= 0 && this.#bodyWritten !== p.declaredLength) {
      return this.#fail(new UpstreamError("TRUNKGATE_UPSTREAM_BODY_LENGTH", "request body shorter than its content-length"), false);
    }
    if (!this.#headSent) this.#sendHead(p);
    if (p.declaredLength < 0) this.socket.write(LAST_CHUNK, "latin1");
    this.#detachBody();
  }

  #sendHead(p: PendingRequest): void {
    this.#headSent = true;
    this.socket.write(p.head!, "latin1");
  }

  #detachBody(): void {
    const b = this.#body;
    if (!b) return;
    this.#body = null;
    b.removeListener("data", this.#onBodyData);
    b.removeListener("end", this.#onBodyEnd);
    b.removeListener("error", this.#onBodyError);
    b.removeListener("close", this.#onBodyClose);
  }

  // --- response ------------------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    if (this.#state === State.Head) this.#readHead(chunk);
    else if (this.#state === State.Body) this.#readBody(chunk, 0);
    // Bytes while idle are no response to anything: the connection cannot be trusted again.
    else if (this.#state === State.Idle) this.destroy();
  }

  #readHead(chunk: Buffer): void {
    this.#gotBytes = true;
    const limits = this.owner.options.limits;
    // LFs before `from` were checked when they arrived (none ended the head).
    let from = this.#buf === undefined ? 0 : this.#buf.length;
    let buf = this.#buf === undefined ? chunk : Buffer.concat([this.#buf, chunk]);
    for (;;) {
      const end = headEnd(buf, 0, from, buf.length);
      if (end === HEAD_BARE_LF) return this.#badResponse("bare LF in response head");
      if (end === HEAD_INCOMPLETE) {
        if (buf.length > limits.maxHeaderBytes) return this.#badResponse("response head too large");
        this.#buf = buf;
        return;
      }
      if (end > limits.maxHeaderBytes) return this.#badResponse("response head too large");
      const p = this.#p!;
      const head = parseResponseHead(buf, 0, end, limits, p.isHead);
      if (typeof head === "string") return this.#badResponse(head);
      if (head.status === 101) return this.#badResponse("unexpected protocol switch");
      if (head.status < 200) {
        // 100 Continue, 102, 103 Early Hints: interim, not forwarded; the final answer follows.
        buf = buf.subarray(end);
        from = 0;
        if (buf.length === 0) {
          this.#buf = undefined;
          return;
        }
        continue;
      }
      this.#buf = undefined;
      this.#framing = head.framing;
      this.#bodyLeft = head.contentLength;
      let idleMs = this.owner.options.keepAliveMs;
      const hinted = keepAliveTimeoutMs(head.keepAliveHint);
      if (hinted !== undefined) idleMs = Math.min(idleMs, hinted - KEEP_ALIVE_MARGIN_MS);
      this.#reusable = head.keepAlive && idleMs > 0;
      if (idleMs > 0) this.#timers.setMs(Phase.KeepAlive, idleMs);
      this.#state = State.Body;
      this.#timers.arm(Phase.BodyIdle);
      try {
        p.handler.onResponseStart(p, head.status, headerRecord(head.rawHeaders), head.statusText);
      } catch (err) {
        return this.#fail(err as Error, false);
      }
      if (this.#p !== p) return; // aborted from the callback
      if (head.framing === BodyFraming.None) return this.#complete(end < buf.length);
      if (end < buf.length) this.#readBody(buf, end);
      return;
    }
  }

  #readBody(buf: Buffer, from: number): void {
    this.#timers.refresh(Phase.BodyIdle);
    const p = this.#p!;
    switch (this.#framing) {
      case BodyFraming.Length: {
        const n = Math.min(this.#bodyLeft, buf.length - from);
        this.#deliver(p, from === 0 && n === buf.length ? buf : buf.subarray(from, from + n));
        if (this.#p !== p) return;
        this.#bodyLeft -= n;
        if (this.#bodyLeft === 0) this.#complete(from + n < buf.length);
        return;
      }
      case BodyFraming.Chunked: {
        this.#chunked ??= new ChunkedDecoder(this.owner.options.limits.maxHeaderBytes);
        const r = this.#chunked.decode(buf, from, buf.length, this);
        if (this.#p !== p) return;
        if (r >= 0) this.#complete(r < buf.length);
        else if (r !== CHUNKED_MORE) this.#badResponse("malformed chunked response body");
        return;
      }
      case BodyFraming.Close:
        this.#deliver(p, from === 0 ? buf : buf.subarray(from));
        return;
    }
  }

  chunkData(buf: Buffer, from: number, to: number): void {
    const p = this.#p;
    if (p && to > from) this.#deliver(p, buf.subarray(from, to));
  }

  #deliver(p: PendingRequest, chunk: Buffer): void {
    try {
      p.handler.onResponseData(p, chunk);
    } catch (err) {
      this.#fail(err as Error, false);
    }
  }

  /** The response was read whole; `stray`: bytes followed it. */
  #complete(stray: boolean): void {
    const p = this.#p!;
    this.#p = undefined;
    p.carrier = undefined;
    this.#served++;
    this.#chunked?.reset();
    // A request body still being written when the answer is complete: stop, and close (as undici).
    // After HEAD the connection closes, as undici does: a server that sends a body anyway would
    // have it read as the next request's answer.
    const reusable = this.#reusable && !stray && this.#body === null && !p.isHead;
    const unsent = this.#body;
    if (unsent) {
      // The rest of the request body is read and dropped: the downstream side decides whether its
      // connection survives (it closes when a body was left unread).
      this.#detachBody();
      unsent.resume();
    }
    this.#timers.disarm();
    if (reusable) this.#state = State.Idle;
    else this.destroy();
    try {
      p.handler.onResponseEnd(p, NO_TRAILERS);
    } catch {
      // The exchange's own boundary answers for its callbacks; the connection is done with it.
    }
    if (reusable && this.#state === State.Idle) this.owner.released(this, true);
  }

  /** Called by the pool when the connection goes back to its idle list. */
  idle(): void {
    this.#unpause();
    this.socket.unref();
    this.#timers.arm(Phase.KeepAlive);
  }

  #unpause(): void {
    if (!this.#paused) return;
    this.#paused = false;
    this.socket.resume();
  }

  #badResponse(reason: string): void {
    this.#fail(new UpstreamError("TRUNKGATE_UPSTREAM_BAD_RESPONSE", reason), false);
  }

  #onEnd(): void {
    if (this.#state === State.Body && this.#framing === BodyFraming.Close) {
      this.#reusable = false;
      return this.#complete(false);
    }
    this.#fail(closedByUpstream(), true);
  }

  #onClose(): void {
    if (this.#state !== State.Closed || this.#p) this.#fail(closedByUpstream(), true);
    this.#state = State.Closed;
    this.#timers.clear();
    this.owner.closed(this);
  }

  /**
   * The connection is done for: the current request (if any) is retried when that is safe (a reused
   * connection closed under a request without a body before any byte of the answer; `byPeer`:
   * the upstream, not the request's own body, ended it), else it gets the error.
   */
  #fail(err: Error, byPeer: boolean): void {
    const wasConnecting = this.#state === State.Connecting;
    const p = this.#p;
    this.#p = undefined;
    this.destroy();
    if (wasConnecting) return this.owner.connectFailed(this, err);
    if (!p) return;
    if (byPeer && p.retryable && !p.retried && this.#served > 0 && !this.#gotBytes) {
      p.retried = true;
      p.carrier = undefined;
      return this.owner.retry(p);
    }
    p.fail(err);
  }

  #onConnected(): void {
    if (this.#state !== State.Connecting) return;
    this.#timers.disarm();
    this.#state = State.Idle;
    this.owner.connected(this);
  }

  // --- timers ------------------------------------------------------------------------------------

  #onTimer(phase: Phase): void {
    if (phase === Phase.Connect) this.#fail(new UpstreamError("TRUNKGATE_UPSTREAM_CONNECT_TIMEOUT", "upstream connect timed out"), false);
    else if (phase === Phase.Response) {
      // As undici: no response deadline while the request body is still going out unhindered.
      if (this.#body !== null && !this.socket.writableNeedDrain) return this.#timers.arm(Phase.Response);
      this.#fail(new UpstreamError("TRUNKGATE_UPSTREAM_RESPONSE_TIMEOUT", "upstream response head timed out"), false);
    } else if (phase === Phase.BodyIdle) {
      // A pause for downstream backpressure is not the upstream's stall.
      if (this.#paused) this.#timers.arm(Phase.BodyIdle);
      else this.#fail(new UpstreamError("TRUNKGATE_UPSTREAM_BODY_TIMEOUT", "upstream response body stalled"), false);
    } else this.destroy();
  }
}

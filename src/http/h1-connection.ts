// One downstream HTTP/1.1 connection on the lean engine: bytes in, request heads parsed in place
// (h1-head.ts), bodies framed by Content-Length or chunked (h1-chunked.ts) and streamed into the
// exchange's meter, responses written by LeanResponse. Requests are served one at a time in order:
// bytes of a pipelined next request wait (socket paused) until the current response has ended.
// WebSocket upgrades and CONNECT are handed to the same code as on Node's engine. One object and
// a few bound listeners per connection; per request only the request and response objects.
import type { ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import type { TLSSocket } from "node:tls";
import { reportInternalError } from "./boundary.js";
import type { BodyMeter } from "./body-meter.js";
import { handleConnect } from "./connect.js";
import type { ConnectionInfo } from "./connection-info.js";
import { handleRequest, type ProxyShared } from "./exchange.js";
import { CHUNKED_EXT_TOO_LARGE, CHUNKED_MORE, ChunkedDecoder, type ChunkSink } from "./h1-chunked.js";
import { HEAD_BARE_LF, HEAD_INCOMPLETE, headEnd, isHeadError, parseHead, type HeadLimits, type RequestHead } from "./h1-head.js";
import { LeanRequest, LeanResponse, type MessageOwner } from "./h1-message.js";
import { answerMalformed } from "./parser-errors.js";
import { handleUpgrade } from "./websocket.js";

export interface LeanShared {
  s: ProxyShared;
  tunnels: Set<Duplex>;
  connections: Set<H1Connection>;
  limits: HeadLimits;
  headersMs: number;
}

const enum Phase {
  /** Waiting for (or reading) a request head. */
  Head,
  /** Reading the current request's body. */
  Body,
  /** Body read, response not ended: further bytes are a pipelined request and wait. */
  Waiting,
  /** An answer that closes the connection went out: input is read and dropped until the close. */
  Closing,
  /** The socket belongs to a WebSocket tunnel or a CONNECT refusal now. */
  HandedOver,
}

/** Lingering close after a closing answer: the client gets to read it rather than a reset. */
const LINGER_MS = 5_000;

class BodyFramingError extends Error {
  constructor(readonly code: string) {
    super("malformed request body framing");
  }
}

export class H1Connection implements MessageOwner, ChunkSink {
  #phase = Phase.Head;
  /** Unconsumed input: a head still arriving, or a pipelined request waiting its turn. */
  #pending: Buffer | undefined;
  /** Where the LF scan of #pending resumes. */
  #scanFrom = 0;
  #headTimer: NodeJS.Timeout | undefined;
  #headStarted = false;
  #bodyLeft = 0;
  #chunked: ChunkedDecoder | undefined;
  #isChunked = false;
  #sink: BodyMeter | undefined;
  #req: LeanRequest | undefined;
  #res: LeanResponse | undefined;
  /** Inside #process: a response that ends synchronously lets the loop go on by itself. */
  #busy = false;

  readonly #onData = (chunk: Buffer): void => this.#guarded(chunk);
  readonly #onSinkDrain = (): void => void this.socket.resume();
  /** The meter failed (413, 408, upstream gone): the rest of the body is read and dropped. */
  readonly #onSinkError = (): void => void (this.#sink = undefined);
  readonly #onSocketDrain = (): void => void this.#res?.emit("drain");

  constructor(
    private readonly l: LeanShared,
    readonly socket: TLSSocket,
    private readonly info: ConnectionInfo,
  ) {
    l.connections.add(this);
    socket.on("data", this.#onData);
    socket.on("drain", this.#onSocketDrain);
    socket.once("close", () => this.#closed());
  }

  /** Drain: an idle connection closes now, a busy one after its response (Connection: close). */
  drain(): void {
    if (this.#phase === Phase.Head && this.#req === undefined) this.socket.destroy();
  }

  #guarded(chunk: Buffer): void {
    try {
      this.#input(chunk);
    } catch (err) {
      reportInternalError(this.l.s, err, "lean connection");
      this.socket.destroy();
    }
  }

  #input(chunk: Buffer): void {
    if (this.#phase === Phase.Closing || this.#phase === Phase.HandedOver) return;
    let buf = chunk;
    if (this.#pending !== undefined) {
      buf = Buffer.concat([this.#pending, chunk]);
      this.#pending = undefined;
    }
    this.#process(buf, 0);
  }

  #process(buf: Buffer, from: number): void {
    this.#busy = true;
    try {
      this.#loop(buf, from);
    } finally {
      this.#busy = false;
    }
  }

  #loop(buf: Buffer, from: number): void {
    const len = buf.length;
    let pos = from;
    while (pos < len) {
      switch (this.#phase) {
        case Phase.Body:
          pos = this.#feedBody(buf, pos, len);
          break;
        case Phase.Waiting:
          this.#pending = buf.subarray(pos);
          this.socket.pause();
          return;
        case Phase.Closing:
        case Phase.HandedOver:
          return;
        case Phase.Head: {
          if (!this.#headStarted) {
            // Empty lines before a request are allowed (RFC 9112 §2.2) and are not a request yet.
            while (pos + 1 < len && buf[pos] === 13 && buf[pos + 1] === 10) pos++, pos++;
            if (pos >= len) return;
            if (pos + 1 === len && buf[pos] === 13) {
              this.#pending = buf.subarray(pos);
              return;
            }
            this.#startHeadTimer();
          }
          const end = headEnd(buf, pos, pos + this.#scanFrom, len);
          if (end === HEAD_BARE_LF) return this.#malformed(400, "malformed request");
          const limit = this.l.limits.maxHeaderBytes;
          if (end === HEAD_INCOMPLETE) {
            if (len - pos > limit) return this.#malformed(431, "header section too large");
            this.#pending = buf.subarray(pos);
            this.#scanFrom = len - pos;
            return;
          }
          if (end - pos > limit) return this.#malformed(431, "header section too large");
          this.#scanFrom = 0;
          this.#headStarted = false;
          clearTimeout(this.#headTimer);
          const head = parseHead(buf, pos, end, this.l.limits);
          if (isHeadError(head)) return this.#malformed(head.status, head.reason);
          pos = end;
          if (!this.#startRequest(head, buf, pos)) return;
          break;
        }
      }
    }
  }

  /** Returns false when the socket left the loop (handed over or closing). */
  #startRequest(head: RequestHead, buf: Buffer, pos: number): boolean {
    const { s } = this.l;
    if (head.method === "CONNECT") {
      this.#handOver();
      handleConnect(s, { headers: head.requestId === undefined ? {} : { "x-request-id": head.requestId }, httpVersion: `1.${head.versionMinor}` }, this.socket);
      return false;
    }
    if (head.upgrade) {
      this.#handOver();
      const raw = head.rawHeaders;
      let upgrade: string | undefined;
      for (let i = 0; i < raw.length; i += 2) if (raw[i]!.toLowerCase() === "upgrade") upgrade = raw[i + 1];
      const req = {
        headers: { "x-request-id": head.requestId, upgrade },
        httpVersionMajor: head.versionMajor,
        httpVersion: `${head.versionMajor}.${head.versionMinor}`,
        method: head.method,
        url: head.target,
        rawHeaders: raw,
      };
      handleUpgrade(s, this.l.tunnels, req, this.socket, buf.subarray(pos));
      return false;
    }
    const hasBody = head.chunked || head.contentLength > 0;
    if (head.expect !== undefined) {
      if (head.expect !== "100-continue") {
        this.#malformed(417, "expectation not supported");
        return false;
      }
      if (hasBody && head.versionMinor >= 1) this.socket.write("HTTP/1.1 100 Continue\r\n\r\n", "latin1");
    }
    this.#isChunked = head.chunked;
    this.#bodyLeft = head.contentLength > 0 ? head.contentLength : 0;
    if (head.chunked) (this.#chunked ??= new ChunkedDecoder(this.l.limits.maxHeaderBytes)).reset();
    this.#phase = hasBody ? Phase.Body : Phase.Waiting;
    const req = (this.#req = new LeanRequest(this, this.socket, head.method, head.target, head.versionMajor, head.versionMinor, head.rawHeaders, head.requestId, hasBody));
    const res = (this.#res = new LeanResponse(this, this.socket, head.versionMinor, head.keepAlive, head.method === "HEAD"));
    // LeanResponse has the members of ServerResponse that the exchange uses.
    handleRequest(s, req, res as unknown as ServerResponse);
    return this.#reading();
  }

  /** Whether input is still parsed (not closing, not handed over); a response may have ended meanwhile. */
  #reading(): boolean {
    return this.#phase !== Phase.Closing && this.#phase !== Phase.HandedOver;
  }

  #feedBody(buf: Buffer, pos: number, len: number): number {
    if (!this.#isChunked) {
      const n = Math.min(this.#bodyLeft, len - pos);
      this.chunkData(buf, pos, pos + n);
      this.#bodyLeft -= n;
      if (this.#bodyLeft === 0) this.#bodyDone();
      return pos + n;
    }
    const r = this.#chunked!.decode(buf, pos, len, this);
    if (r === CHUNKED_MORE) return len;
    if (r < 0) {
      this.#bodyFailed(r === CHUNKED_EXT_TOO_LARGE ? "TRUNKGATE_CHUNK_EXTENSIONS_TOO_LARGE" : "TRUNKGATE_CHUNKED_MALFORMED");
      return len;
    }
    this.#bodyDone();
    return r;
  }

  /** A slice of the current body (ChunkSink: also called by the chunked decoder). */
  chunkData(buf: Buffer, from: number, to: number): void {
    if (from === to) return;
    const sink = this.#sink;
    if (sink === undefined || sink.destroyed) return; // discarded: the answer did not wait for it
    if (!sink.write(from === 0 && to === buf.length ? buf : buf.subarray(from, to))) {
      this.socket.pause();
      sink.once("drain", this.#onSinkDrain);
    }
  }

  #bodyDone(): void {
    this.#req!.complete = true;
    const sink = this.#sink;
    this.#sink = undefined;
    if (sink !== undefined && !sink.destroyed) sink.end();
    this.#phase = Phase.Waiting;
  }

  /** Broken framing mid-body: the meter fails (the exchange answers 400), nothing more is read. */
  #bodyFailed(code: string): void {
    const sink = this.#sink;
    this.#sink = undefined;
    this.#phase = Phase.Closing;
    this.socket.resume();
    if (sink !== undefined) sink.destroy(new BodyFramingError(code));
  }

  // --- MessageOwner ------------------------------------------------------------------------

  bodyTo(meter: BodyMeter): void {
    this.#sink = meter;
    meter.on("error", this.#onSinkError);
  }

  discardBody(): void {
    this.#sink = undefined;
    this.socket.resume();
  }

  responseEnded(res: LeanResponse): void {
    process.nextTick(emitClose, res);
    if (res !== this.#res) return;
    this.#res = undefined;
    this.#req = undefined;
    // A body still arriving cannot be skipped on HTTP/1.1: the connection closes after the answer.
    if (res.closeAfter || this.#phase === Phase.Body || this.#phase === Phase.Closing || this.l.s.draining) {
      this.#closeAfterAnswer();
      return;
    }
    this.#phase = Phase.Head;
    if (!this.#busy) process.nextTick(continueInput, this);
  }

  /** The next pipelined request, if one waits; then reading goes on. */
  continueWith(): void {
    if (this.#phase !== Phase.Head || this.socket.destroyed) return;
    const pending = this.#pending;
    this.#pending = undefined;
    this.socket.resume();
    if (pending !== undefined && pending.length > 0) {
      try {
        this.#process(pending, 0);
      } catch (err) {
        reportInternalError(this.l.s, err, "lean connection");
        this.socket.destroy();
      }
    }
  }

  // -----------------------------------------------------------------------------------------

  #startHeadTimer(): void {
    this.#headStarted = true;
    if (this.#headTimer === undefined) {
      this.#headTimer = setTimeout(headTimeout, this.l.headersMs, this);
      this.#headTimer.unref();
    } else this.#headTimer.refresh();
  }

  /** The head timer fired: a head still incomplete after headersMs is a 408 (slowloris). */
  headTimedOut(): void {
    if (this.#phase === Phase.Head && this.#headStarted && !this.socket.destroyed) this.#malformed(408, "header timeout");
  }

  #malformed(status: number, reason: string): void {
    this.#phase = Phase.Closing;
    this.#pending = undefined;
    clearTimeout(this.#headTimer);
    this.socket.resume();
    if (!this.socket.writable) return void this.socket.destroy();
    answerMalformed(this.l.s, this.info, this.socket, status, reason);
  }

  #closeAfterAnswer(): void {
    this.#phase = Phase.Closing;
    this.#pending = undefined;
    const socket = this.socket;
    socket.resume();
    socket.end();
    const t = setTimeout(destroySocket, LINGER_MS, socket);
    t.unref();
    socket.once("close", () => clearTimeout(t));
  }

  #handOver(): void {
    this.#phase = Phase.HandedOver;
    clearTimeout(this.#headTimer);
    this.socket.off("data", this.#onData);
    this.socket.off("drain", this.#onSocketDrain);
    this.l.connections.delete(this);
  }

  #closed(): void {
    clearTimeout(this.#headTimer);
    this.l.connections.delete(this);
    const sink = this.#sink;
    this.#sink = undefined;
    if (sink !== undefined && !sink.destroyed) sink.destroy(new BodyFramingError("ECONNRESET"));
    const res = this.#res;
    this.#res = undefined;
    if (res !== undefined) res.emit("close");
  }
}

function emitClose(res: LeanResponse): void {
  res.emit("close");
}

function continueInput(c: H1Connection): void {
  c.continueWith();
}

function headTimeout(c: H1Connection): void {
  c.headTimedOut();
}

function destroySocket(socket: TLSSocket): void {
  socket.destroy();
}

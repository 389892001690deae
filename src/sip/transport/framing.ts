// SIP stream framing (RFC 3261 §18.3, RFC 5626 §4.4.1 keepalives) for TLS/TCP connections.
// Chunks are kept in a list and only concatenated when a whole message is there (a message that
// lies inside one chunk is returned as a zero-copy view). The search for the empty line that ends
// the header section resumes where the previous push stopped, carrying the state of a blank line
// begun at a chunk boundary, so no byte is scanned twice.
//
// Bare-LF line ends (RFC 3261 wants CRLF; some stacks send LF): the framer still finds such a
// message's end (an empty line "\n\n" or "\n\r\n") and its Content-Length, so the stream stays
// in sync; the parser then refuses the message (400) and the answer is built safely. Without
// this, a message written with LF only never completes and its sender waits for ever.

import { bareBlankLine, isContentLengthName, readDecimal } from "./header-bytes.js";

export interface FramingLimits {
  /** Largest message (header section + body) accepted. */
  maxMessageBytes: number;
  /** Most header lines in one message (continuation lines not counted). */
  maxHeaders: number;
  /** Longest single line (start line or header line), CRLF excluded. */
  maxLineBytes: number;
}

export const DEFAULT_FRAMING_LIMITS: Readonly<FramingLimits> = Object.freeze({
  maxMessageBytes: 65536,
  maxHeaders: 256,
  maxLineBytes: 8192,
});

export type FramingErrorCode =
  | "message-too-large" // header section fine, Content-Length known: message skipped (recoverable)
  | "too-many-headers" // recoverable when Content-Length is known
  | "line-too-long" // recoverable when Content-Length is known
  | "header-section-too-large" // no end of headers within maxMessageBytes: fatal
  | "missing-content-length" // a stream message must carry Content-Length: fatal
  | "invalid-content-length" // not a number, negative, or conflicting duplicates: fatal
  | "malformed-keepalive"; // CR not followed by LF between messages: fatal

export interface FramingError {
  readonly code: FramingErrorCode;
  /** true: the stream cannot be framed any more — close the connection. */
  readonly fatal: boolean;
  /** Human-readable detail (sizes and limits only; never message content). */
  readonly detail: string;
  /**
   * The offending message's header section when it was complete (so the caller can answer, e.g.
   * 513 Message Too Large or 400 for a missing Content-Length, from what it carries); undefined
   * when no header section could be delimited.
   */
  readonly headerSection: Buffer | undefined;
}

export type FrameEvent =
  | { readonly type: "message"; readonly message: Buffer }
  | { readonly type: "ping" }
  | { readonly type: "error"; readonly error: FramingError };

const PING: FrameEvent = Object.freeze({ type: "ping" });
const CRLFCRLF = Buffer.from("\r\n\r\n", "latin1");
const NO_EVENTS: FrameEvent[] = [];

export class SipStreamFramer {
  private readonly limits: FramingLimits;
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Bytes of an oversized message still to be dropped as they arrive. */
  private skipRemaining = 0;
  private closed = false;
  // Header-end search state for the message at the front of the buffer.
  private scanChunk = 0; // chunk index where scanning resumes
  private scanOff = 0; // offset in that chunk
  private scanBase = 0; // logical offset of that chunk's first byte
  // How the bytes scanned so far end: 1 = in LF, 2 = in LF CR (a blank line may complete next).
  private tail = 0;
  private messageLength = -1; // total length once the header section has been read

  constructor(limits: Partial<FramingLimits> = {}) {
    this.limits = { ...DEFAULT_FRAMING_LIMITS, ...limits };
  }

  /** Bytes held waiting for the rest of a message. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Whether a message has begun and is not complete yet (bytes buffered that are not a keep-alive
   * in progress, or bytes of a skipped oversized message still to come).
   */
  get midMessage(): boolean {
    if (this.closed) return false;
    if (this.skipRemaining > 0 || this.messageLength >= 0) return true;
    if (this.buffered === 0) return false;
    const b0 = this.byteAt(0);
    return b0 !== 13 && b0 !== 10;
  }

  /** True after a fatal error: every later push returns no events. */
  get isClosed(): boolean {
    return this.closed;
  }

  /** Stop framing: every later push returns no events (the connection is being closed). */
  close(): void {
    this.closed = true;
    this.chunks = [];
    this.buffered = 0;
  }

  /** Feed bytes from the socket; returns the events they complete, in order. */
  push(chunk: Buffer): FrameEvent[] {
    if (this.closed || chunk.length === 0) return NO_EVENTS;
    if (this.skipRemaining > 0) {
      const n = Math.min(this.skipRemaining, chunk.length);
      this.skipRemaining -= n;
      if (n === chunk.length) return NO_EVENTS;
      chunk = chunk.subarray(n);
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    let events: FrameEvent[] | undefined;
    for (;;) {
      const ev = this.next();
      if (ev === undefined) break;
      (events ??= []).push(ev);
      if (this.closed) break;
    }
    return events ?? NO_EVENTS;
  }

  private byteAt(i: number): number {
    for (const c of this.chunks) {
      if (i < c.length) return c[i]!;
      i -= c.length;
    }
    return -1;
  }

  /** One event if the buffer holds one, else undefined. */
  private next(): FrameEvent | undefined {
    if (this.messageLength < 0) {
      if (this.scanBase === 0 && this.scanOff === 0 && this.scanChunk === 0) {
        // Between messages: CRLFCRLF is a keepalive ping, a lone CRLF is ignored (RFC 5626 §4.4.1),
        // and so is a lone LF (the bare-LF spelling of that CRLF).
        for (;;) {
          if (this.buffered === 0) return undefined;
          const b0 = this.byteAt(0);
          if (b0 === 10) {
            this.consume(1);
            continue;
          }
          if (b0 !== 13) break;
          if (this.buffered < 2) return undefined;
          if (this.byteAt(1) !== 10) return this.fatal("malformed-keepalive", "CR not followed by LF between messages");
          if (this.buffered < 3) return undefined;
          if (this.byteAt(2) !== 13) {
            this.consume(2);
            continue;
          }
          if (this.buffered < 4) return undefined;
          if (this.byteAt(3) !== 10) return this.fatal("malformed-keepalive", "CR not followed by LF between messages");
          this.consume(4);
          return PING;
        }
      }
      const headerLength = this.findHeaderEnd();
      if (headerLength < 0) {
        if (this.buffered >= this.limits.maxMessageBytes) {
          return this.fatal("header-section-too-large", `no end of headers within ${this.limits.maxMessageBytes} bytes`);
        }
        return undefined;
      }
      const err = this.readHeaderSection(headerLength);
      if (err !== undefined) return err;
    }
    if (this.buffered < this.messageLength) return undefined;
    const message = this.take(this.messageLength);
    return { type: "message", message };
  }

  /** Resume the search for the empty line; returns the header section length or -1. */
  private findHeaderEnd(): number {
    const chunks = this.chunks;
    while (this.scanChunk < chunks.length) {
      const c = chunks[this.scanChunk]!;
      let pos = this.scanOff;
      // finish a blank line begun at the end of the previous chunk ("\n" + "\n" or "\r\n")
      if (this.tail !== 0 && pos < c.length) {
        const b = c[pos]!;
        if (b === 10) return this.foundAt(pos + 1);
        if (b === 13 && this.tail === 1) {
          if (pos + 1 < c.length) {
            if (c[pos + 1] === 10) return this.foundAt(pos + 2);
          } else {
            this.tail = 2;
            this.nextChunk(c);
            continue;
          }
        }
        this.tail = 0;
      }
      if (pos < c.length) {
        // CRLFCRLF first: the hot path. A bare-LF blank line before it is found by the line walk
        // in readHeaderSection; here only chunks without CRLFCRLF pay the bare-LF searches.
        const hit = c.indexOf(CRLFCRLF, pos);
        if (hit !== -1) return this.foundAt(hit + 4);
        const lf = bareBlankLine(c, pos);
        if (lf !== -1) return this.foundAt(lf);
        const len = c.length;
        const last = c[len - 1];
        this.tail = last === 10 ? 1 : last === 13 && len - 2 >= pos && c[len - 2] === 10 ? 2 : 0;
        // a chunk of one CR after a chunk ending in LF keeps tail 2 through the check above
      }
      this.nextChunk(c);
    }
    // everything scanned: resume at the next chunk pushed
    return -1;
  }

  private nextChunk(c: Buffer): void {
    this.scanBase += c.length;
    this.scanOff = 0;
    this.scanChunk++;
  }

  private foundAt(endInChunk: number): number {
    return this.scanBase + endInChunk;
  }

  /** Header section complete: find Content-Length, enforce limits, set messageLength. */
  private readHeaderSection(headerLength: number): FrameEvent | undefined {
    const first = this.chunks[0]!;
    let head = first.length >= headerLength ? first.subarray(0, headerLength) : this.copyFront(headerLength);
    const limits = this.limits;
    let contentLength = -1;
    let conflict = false;
    let bad = false;
    let headerCount = 0;
    let longest = 0;
    let pos = 0;
    let lineNo = 0;
    let clPending = false; // a Content-Length header with an empty value: value may be folded onto the next line
    for (;;) {
      const lf = head.indexOf(10, pos);
      if (lf === -1) break;
      // the line's content ends before its CR (CRLF) or at the LF (bare LF)
      const eol = lf > pos && head[lf - 1] === 13 ? lf - 1 : lf;
      if (eol === pos) {
        // An empty line: the end of the header section. Before the CRLFCRLF that was found only
        // when a bare LF ended it ("\n\n", "\n\r\n"): the message is shorter than it looked.
        if (lf + 1 < headerLength) {
          headerLength = lf + 1;
          head = head.subarray(0, headerLength);
        }
        break;
      }
      const lineLen = eol - pos;
      if (lineLen > longest) longest = lineLen;
      const c0 = head[pos]!;
      if (lineNo > 0) {
        if (c0 === 32 || c0 === 9) {
          if (clPending) {
            const v = readDecimal(head, pos, eol);
            clPending = false;
            if (v < 0) bad = true;
            else if (contentLength >= 0 && contentLength !== v) conflict = true;
            else contentLength = v;
          }
        } else {
          headerCount++;
          clPending = false;
          const colon = head.indexOf(58, pos);
          if (colon !== -1 && colon < eol && isContentLengthName(head, pos, colon)) {
            let vs = colon + 1;
            while (vs < eol && (head[vs] === 32 || head[vs] === 9)) vs++;
            if (vs >= eol) clPending = true;
            else {
              const v = readDecimal(head, vs, eol);
              if (v < 0) bad = true;
              else if (contentLength >= 0 && contentLength !== v) conflict = true;
              else contentLength = v;
            }
          }
        }
      }
      lineNo++;
      pos = lf + 1;
    }
    if (bad || conflict || clPending) {
      return this.fatal("invalid-content-length", conflict ? "conflicting Content-Length headers" : "unparseable Content-Length", head);
    }
    if (contentLength < 0) return this.fatal("missing-content-length", "stream message without Content-Length", head);
    const total = headerLength + contentLength;
    let code: FramingErrorCode | undefined;
    let detail = "";
    if (headerCount > limits.maxHeaders) {
      code = "too-many-headers";
      detail = `${headerCount} header lines > limit ${limits.maxHeaders}`;
    } else if (longest > limits.maxLineBytes) {
      code = "line-too-long";
      detail = `a ${longest}-byte line > limit ${limits.maxLineBytes}`;
    } else if (total > limits.maxMessageBytes) {
      code = "message-too-large";
      detail = `${total}-byte message > limit ${limits.maxMessageBytes}`;
    }
    if (code !== undefined) {
      const headerSection = Buffer.from(head); // own copy: the chunks are released below
      this.consume(total);
      return { type: "error", error: { code, fatal: false, detail, headerSection } };
    }
    this.messageLength = total;
    return undefined;
  }

  /** `head`: the message's complete header section, copied so the caller can still answer it. */
  private fatal(code: FramingErrorCode, detail: string, head?: Buffer): FrameEvent {
    const headerSection = head === undefined ? undefined : Buffer.from(head);
    this.closed = true;
    this.chunks = [];
    this.buffered = 0;
    return { type: "error", error: { code, fatal: true, detail, headerSection } };
  }

  /** Copy of the first n buffered bytes (n <= buffered), without consuming them. */
  private copyFront(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let pos = 0;
    for (const c of this.chunks) {
      const k = Math.min(c.length, n - pos);
      c.copy(out, pos, 0, k);
      pos += k;
      if (pos === n) break;
    }
    return out;
  }

  /** Remove and return the first n bytes: a view when they lie in one chunk, else one copy. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    const out = first.length >= n ? first.subarray(0, n) : this.copyFront(n);
    this.consume(n);
    return out;
  }

  /** Drop n bytes from the front (more than buffered: the rest is skipped as it arrives). */
  private consume(n: number): void {
    if (n >= this.buffered) {
      this.skipRemaining = n - this.buffered;
      this.chunks = [];
      this.buffered = 0;
    } else {
      this.buffered -= n;
      let drop = 0;
      while (n > 0) {
        const c = this.chunks[drop]!;
        if (c.length <= n) {
          n -= c.length;
          drop++;
        } else {
          this.chunks[drop] = c.subarray(n);
          n = 0;
        }
      }
      if (drop > 0) this.chunks.splice(0, drop);
    }
    this.scanChunk = 0;
    this.scanOff = 0;
    this.scanBase = 0;
    this.tail = 0;
    this.messageLength = -1;
  }
}

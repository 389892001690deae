// SIP stream framing (RFC 3261 §18.3, RFC 5626 §4.4.1 keepalives) for TLS/TCP connections.
// Chunks are kept in a list and only concatenated when a whole message is there (a message that
// lies inside one chunk is returned as a zero-copy view). The search for the CRLFCRLF that ends
// the header section resumes where the previous push stopped, carrying a 4-state match across
// chunk boundaries, so no byte is scanned twice.

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
   * For recoverable errors: the skipped message's header section (so the caller can answer, e.g.
   * 513 Message Too Large, after parsing what it needs). Undefined for fatal errors.
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
  private match = 0; // bytes of CRLFCRLF matched just before the resume point
  private messageLength = -1; // total length once the header section has been read

  constructor(limits: Partial<FramingLimits> = {}) {
    this.limits = { ...DEFAULT_FRAMING_LIMITS, ...limits };
  }

  /** Bytes held waiting for the rest of a message. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** True after a fatal error: every later push returns no events. */
  get isClosed(): boolean {
    return this.closed;
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
        // Between messages: CRLFCRLF is a keepalive ping, a lone CRLF is ignored (RFC 5626 §4.4.1).
        for (;;) {
          if (this.buffered === 0) return undefined;
          const b0 = this.byteAt(0);
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

  /** Resume the CRLFCRLF search; returns the header section length or -1. */
  private findHeaderEnd(): number {
    const chunks = this.chunks;
    while (this.scanChunk < chunks.length) {
      const c = chunks[this.scanChunk]!;
      let pos = this.scanOff;
      // finish a match that straddles the chunk boundary, byte by byte
      while (this.match > 0 && pos < c.length) {
        const b = c[pos]!;
        if (b === CRLFCRLF[this.match]) {
          this.match++;
          pos++;
          if (this.match === 4) return this.foundAt(pos);
        } else {
          this.match = b === 13 ? 1 : 0;
          pos++;
        }
      }
      if (pos < c.length) {
        const hit = c.indexOf(CRLFCRLF, pos);
        if (hit !== -1) return this.foundAt(hit + 4);
        // remember how much of CRLFCRLF the chunk ends with (only bytes at or after pos count)
        const len = c.length;
        let m = 0;
        if (len - 3 >= pos && c[len - 3] === 13 && c[len - 2] === 10 && c[len - 1] === 13) m = 3;
        else if (len - 2 >= pos && c[len - 2] === 13 && c[len - 1] === 10) m = 2;
        else if (len - 1 >= pos && c[len - 1] === 13) m = 1;
        this.match = m;
      }
      this.scanBase += c.length;
      this.scanOff = 0;
      this.scanChunk++;
    }
    // everything scanned: resume at the next chunk pushed
    return -1;
  }

  private foundAt(endInChunk: number): number {
    return this.scanBase + endInChunk;
  }

  /** Header section complete: find Content-Length, enforce limits, set messageLength. */
  private readHeaderSection(headerLength: number): FrameEvent | undefined {
    const first = this.chunks[0]!;
    const head = first.length >= headerLength ? first.subarray(0, headerLength) : this.copyFront(headerLength);
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
      if (lf === -1 || lf === pos + 1) break;
      const lineLen = lf - pos - 1;
      if (lineLen > longest) longest = lineLen;
      const c0 = head[pos]!;
      if (lineNo > 0) {
        if (c0 === 32 || c0 === 9) {
          if (clPending) {
            const v = readDecimal(head, pos, lf - 1);
            clPending = false;
            if (v < 0) bad = true;
            else if (contentLength >= 0 && contentLength !== v) conflict = true;
            else contentLength = v;
          }
        } else {
          headerCount++;
          clPending = false;
          const colon = head.indexOf(58, pos);
          if (colon !== -1 && colon < lf && isContentLengthName(head, pos, colon)) {
            let vs = colon + 1;
            while (vs < lf - 1 && (head[vs] === 32 || head[vs] === 9)) vs++;
            if (vs >= lf - 1) clPending = true;
            else {
              const v = readDecimal(head, vs, lf - 1);
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
      return this.fatal("invalid-content-length", conflict ? "conflicting Content-Length headers" : "unparseable Content-Length");
    }
    if (contentLength < 0) return this.fatal("missing-content-length", "stream message without Content-Length");
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

  private fatal(code: FramingErrorCode, detail: string): FrameEvent {
    this.closed = true;
    this.chunks = [];
    this.buffered = 0;
    return { type: "error", error: { code, fatal: true, detail, headerSection: undefined } };
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
    this.match = 0;
    this.messageLength = -1;
  }
}

/** "content-length" or "l" (any case, WS allowed before the colon). */
function isContentLengthName(b: Buffer, s: number, colon: number): boolean {
  let e = colon;
  while (e > s && (b[e - 1] === 32 || b[e - 1] === 9)) e--;
  const len = e - s;
  if (len === 1) return (b[s]! | 32) === 108;
  if (len !== 14) return false;
  const name = "content-length";
  for (let i = 0; i < 14; i++) if ((b[s + i]! | 32) !== name.charCodeAt(i)) return false;
  return true;
}

/** Decimal in b[s, e) with trailing WS allowed; -1 when not 1..10 digits. */
function readDecimal(b: Buffer, s: number, e: number): number {
  while (e > s && (b[e - 1] === 32 || b[e - 1] === 9)) e--;
  if (e === s || e - s > 10) return -1;
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if (c < 48 || c > 57) return -1;
    n = n * 10 + c - 48;
  }
  return n;
}

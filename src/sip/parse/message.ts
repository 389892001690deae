// parseMessage(): the hot-path entry. Checks the start line and the headers a proxy relies on (every
// Via, From/To, Call-ID, CSeq, ...), makes only what it reads on every message (top Via, tags, ...),
// and leaves the rest as offsets until an accessor asks for it: same verdicts, fewer objects.
import { parseNameAddr } from "./address.js";
import { parseCSeq } from "./cseq.js";
import { canonicalHeaderName, LIST_HEADERS } from "./header-names.js";
import { headerValue, splitHeaders, splitList, type MutableHeaderField, type SplitResult } from "./headers.js";
import { parseStartLine } from "./start-line.js";
import type { CSeq, HeaderField, NameAddr, ParseErrorKind, SipParseError, SipUri, Via } from "./types.js";
import { isValidVia, parseVia } from "./via.js";

/** Content-Length above this is refused outright (the framer enforces the real size limit). */
const MAX_CONTENT_LENGTH = 0x7fffffff;

abstract class SipMessageBase {
  #body: Buffer | undefined;
  #viaList: readonly Via[] | undefined;
  constructor(
    /** The whole message as received. */
    readonly buf: Buffer,
    /** Every header line in order (offsets into buf). */
    readonly headers: readonly HeaderField[],
    /** Offset of the first body byte (just past the empty line). */
    readonly bodyStart: number,
    readonly callId: string,
    readonly cseq: CSeq,
    readonly from: NameAddr,
    readonly to: NameAddr,
    /** The top (first) Via, parsed; the others were checked and are parsed on demand (viaList). */
    readonly topVia: Via,
    /** How many Via values (comma-joined values and repeated headers counted one by one). */
    readonly viaCount: number,
    /** Max-Forwards value, undefined when the header is absent. */
    readonly maxForwards: number | undefined,
    /** Content-Length value (the body length when the header is absent). */
    readonly contentLength: number,
    /** Content-Type value as received (unfolded), undefined when absent. */
    readonly contentType: string | undefined,
  ) {}

  /** Body bytes (a view into buf, Content-Length bytes long), made on first use. */
  get body(): Buffer {
    if (this.#body === undefined) this.#body = this.buf.subarray(this.bodyStart, this.bodyStart + this.contentLength);
    return this.#body;
  }

  /**
   * All Via values in order (comma-joined values and repeated headers flattened), parsed on first
   * use: the hot path needs the top one and the count only. Every one was checked at parse time.
   */
  get viaList(): readonly Via[] {
    if (this.#viaList === undefined) {
      const out: Via[] = [];
      for (const h of this.headers) if (h.name === "via" && !scanVias(this.buf, h, out)) break;
      this.#viaList = out;
    }
    return this.#viaList;
  }

  /** Whether a header with this name (any case, compact form allowed) is present. */
  hasHeader(name: string): boolean {
    const n = canonicalHeaderName(name);
    for (const h of this.headers) if (h.name === n) return true;
    return false;
  }

  /** First header value (folding undone) or undefined. For list headers, the whole first line. */
  getHeader(name: string): string | undefined {
    const n = canonicalHeaderName(name);
    for (const h of this.headers) if (h.name === n) return headerValue(this.buf, h);
    return undefined;
  }

  /**
   * All values of a header, in order. List headers (Via, Route, Record-Route, Contact, Allow,
   * Supported, ...) are split on top-level commas; others return one entry per header line.
   * A malformed list (unbalanced quote or <>, empty element) yields undefined.
   */
  getHeaders(name: string): string[] | undefined {
    const n = canonicalHeaderName(name);
    const list = LIST_HEADERS.has(n);
    const out: string[] = [];
    const spans: number[] = [];
    for (const h of this.headers) {
      if (h.name !== n) continue;
      const v = headerValue(this.buf, h);
      if (!list) {
        out.push(v);
        continue;
      }
      spans.length = 0;
      if (!splitList(v, spans)) return undefined;
      for (let i = 0; i < spans.length; i += 2) out.push(v.slice(spans[i]!, spans[i + 1]!));
    }
    return out;
  }

  /** All Via values (same as viaList; kept for symmetry with routes()). */
  vias(): readonly Via[] {
    return this.viaList;
  }

  /** Route values in order; undefined when one is malformed. Parsed on each call. */
  routes(): NameAddr[] | undefined {
    return this.nameAddrs("route", true);
  }

  /** Record-Route values in order; undefined when one is malformed. */
  recordRoutes(): NameAddr[] | undefined {
    return this.nameAddrs("record-route", true);
  }

  /** Contact values in order (a lone "*" is not a NameAddr: check getHeader("contact")); undefined when malformed. */
  contacts(): NameAddr[] | undefined {
    return this.nameAddrs("contact", false);
  }

  private nameAddrs(name: string, requireAngle: boolean): NameAddr[] | undefined {
    const values = this.getHeaders(name);
    if (values === undefined) return undefined;
    const out: NameAddr[] = [];
    for (const v of values) {
      const na = parseNameAddr(v, 0, v.length, requireAngle);
      if (na === undefined) return undefined;
      out.push(na);
    }
    return out;
  }
}

export class SipRequest extends SipMessageBase {
  readonly kind = "request" as const;
  constructor(
    readonly method: string,
    /** Request-URI text as received. */
    readonly requestUri: string,
    /** Request-URI parsed (sip/sips/tel only; others are refused with 416). */
    readonly uri: SipUri,
    buf: Buffer, headers: readonly HeaderField[], bodyStart: number, callId: string, cseq: CSeq,
    from: NameAddr, to: NameAddr, topVia: Via, viaCount: number, maxForwards: number | undefined,
    contentLength: number, contentType: string | undefined,
  ) {
    super(buf, headers, bodyStart, callId, cseq, from, to, topVia, viaCount, maxForwards, contentLength, contentType);
  }
}

export class SipResponse extends SipMessageBase {
  readonly kind = "response" as const;
  constructor(
    readonly status: number,
    readonly reason: string,
    buf: Buffer, headers: readonly HeaderField[], bodyStart: number, callId: string, cseq: CSeq,
    from: NameAddr, to: NameAddr, topVia: Via, viaCount: number, maxForwards: number | undefined,
    contentLength: number, contentType: string | undefined,
  ) {
    super(buf, headers, bodyStart, callId, cseq, from, to, topVia, viaCount, maxForwards, contentLength, contentType);
  }
}

export type SipMessage = SipRequest | SipResponse;
export type ParseResult = { ok: true; message: SipMessage } | SipParseError;

function fail(kind: ParseErrorKind, reason: string, header?: string): SipParseError {
  const status = kind === "bad-version" ? 505 : kind === "unsupported-uri-scheme" ? 416 : 400;
  return { ok: false, kind, status, reason, header };
}

const DISPLAY: Record<string, string> = {
  via: "Via", to: "To", from: "From", "call-id": "Call-ID", cseq: "CSeq", "max-forwards": "Max-Forwards",
  "content-length": "Content-Length", "content-type": "Content-Type",
};
const dup = (n: string): SipParseError => fail("malformed", `Bad Request - Multiple ${DISPLAY[n]} Headers`, n);
const bad = (n: string): SipParseError => fail("malformed", `Bad Request - Malformed ${DISPLAY[n]} Header`, n);
const missing = (n: string): SipParseError => fail("missing-header", `Bad Request - Missing ${DISPLAY[n]} Header`, n);

/** word = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~" / "(" / ")" / "<" / ">" / ":" / "\" / DQUOTE / "/" / "[" / "]" / "?" / "{" / "}") */
const WORD = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~()<>:\\\"/[]?{}") WORD[c.charCodeAt(0)] = 1;

function isCallId(s: string): boolean {
  // callid = word [ "@" word ]
  const at = s.indexOf("@");
  if (s.length === 0 || at === 0 || at === s.length - 1) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (i === at) continue;
    if (c >= 128 || WORD[c] !== 1) return false;
  }
  return at === -1 || s.indexOf("@", at + 1) === -1;
}

/** 1*DIGIT with at most maxDigits significant digits (leading zeros are valid: RFC 4475 §3.1.1.1). */
function parseSmallInt(s: string, maxDigits: number): number {
  let i0 = 0;
  while (s.length - i0 > 1 && s.charCodeAt(i0) === 48) i0++;
  if (s.length === 0 || s.length - i0 > maxDigits) return -1;
  let n = 0;
  for (let i = i0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + c - 48;
  }
  return n;
}

/** parseSmallInt on a header's bytes (no string made); folded values go through the string. */
function headerSmallInt(buf: Buffer, h: HeaderField, maxDigits: number): number {
  if (h.folded) return parseSmallInt(headerValue(buf, h), maxDigits);
  let vs = h.valueStart;
  while (h.valueEnd - vs > 1 && buf[vs] === 48) vs++;
  const len = h.valueEnd - vs;
  if (len === 0 || len > maxDigits) return -1;
  let n = 0;
  for (let i = vs; i < h.valueEnd; i++) {
    const c = buf[i]!;
    if (c < 48 || c > 57) return -1;
    n = n * 10 + c - 48;
  }
  return n;
}

function isMediaType(s: string): boolean {
  // m-type SLASH m-subtype *(SEMI m-parameter): checked down to the subtype; params loosely.
  const slash = s.indexOf("/");
  if (slash <= 0) return false;
  for (let i = 0; i < slash; i++) if (!isTokenCode(s.charCodeAt(i))) return false;
  let i = slash + 1;
  const ss = i;
  while (i < s.length && isTokenCode(s.charCodeAt(i))) i++;
  if (i === ss) return false;
  while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  return i === s.length || s.charCodeAt(i) === 59;
}
const TOK = new Uint8Array(128);
for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`'~") TOK[c.charCodeAt(0)] = 1;
function isTokenCode(c: number): boolean {
  return c < 128 && TOK[c] === 1;
}

const listSpans: number[] = [];

/** The message being parsed: its top Via (parsed) and how many Via values it has (one parse at a time, sync). */
const viaState = { top: undefined as Via | undefined, count: 0 };

/**
 * Check the Via values of one header line. `out` given: parse them into it; else only check them
 * (no allocation), except the message's first Via, which is parsed into viaState.top, and count
 * them in viaState.count.
 */
function scanVias(buf: Buffer, h: HeaderField, out?: Via[]): boolean {
  const v = headerValue(buf, h);
  if (v.indexOf(",") === -1) return oneVia(v, 0, v.length, out);
  listSpans.length = 0;
  if (!splitList(v, listSpans)) return false;
  for (let i = 0; i < listSpans.length; i += 2) if (!oneVia(v, listSpans[i]!, listSpans[i + 1]!, out)) return false;
  return true;
}

function oneVia(v: string, i: number, end: number, out: Via[] | undefined): boolean {
  if (out !== undefined) {
    const via = parseVia(v, i, end);
    if (via === undefined) return false;
    out.push(via);
    return true;
  }
  viaState.count++;
  if (viaState.top !== undefined) return isValidVia(v, i, end);
  viaState.top = parseVia(v, i, end);
  return viaState.top !== undefined;
}

/**
 * Parse one complete SIP message (start line, headers, body). Never throws: malformed input
 * returns { ok: false, kind, status, reason } with a reason usable in a 400/416/505 status line.
 * The message keeps a reference to `buf` (no copy).
 */
export function parseMessage(buf: Buffer): ParseResult {
  try {
    return parseUnchecked(buf);
  } catch {
    // Defensive: a bug in a header parser must surface as a 400, never as a crash.
    return fail("malformed", "Bad Request");
  }
}

function parseUnchecked(buf: Buffer): ParseResult {
  const lineEnd = buf.indexOf(10);
  if (lineEnd < 1 || buf[lineEnd - 1] !== 13) return fail("malformed", "Bad Request - Malformed Start Line");
  const start = parseStartLine(buf.toString("utf8", 0, lineEnd - 1));
  if (start.kind === "error") return fail(start.code, start.reason);

  const split: SplitResult = { headers: [] as MutableHeaderField[], bodyStart: 0, error: "" };
  splitHeaders(buf, lineEnd + 1, split);
  if (split.bodyStart < 0) return fail("malformed", split.error);
  const headers = split.headers;

  let callId: string | undefined;
  let cseq: CSeq | undefined;
  let from: NameAddr | undefined;
  let to: NameAddr | undefined;
  let maxForwards: number | undefined;
  let contentLength = -1;
  let contentType: string | undefined;
  viaState.top = undefined;
  viaState.count = 0;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i]!;
    switch (h.name) {
      case "via":
        if (!scanVias(buf, h)) return bad("via");
        break;
      case "call-id": {
        if (callId !== undefined) return dup("call-id");
        callId = headerValue(buf, h);
        if (!isCallId(callId)) return bad("call-id");
        break;
      }
      case "cseq": {
        if (cseq !== undefined) return dup("cseq");
        cseq = parseCSeq(headerValue(buf, h));
        if (cseq === undefined) return bad("cseq");
        break;
      }
      case "from":
      case "to": {
        if ((h.name === "from" ? from : to) !== undefined) return dup(h.name);
        const v = headerValue(buf, h);
        const na = parseNameAddr(v, 0, v.length, false);
        if (na === undefined) return bad(h.name);
        if (h.name === "from") from = na;
        else to = na;
        break;
      }
      case "max-forwards": {
        if (maxForwards !== undefined) return dup("max-forwards");
        const n = headerSmallInt(buf, h, 3);
        if (n < 0 || n > 255) return bad("max-forwards");
        maxForwards = n;
        break;
      }
      case "content-length": {
        if (contentLength !== -1) return dup("content-length");
        const n = headerSmallInt(buf, h, 10);
        if (n < 0 || n > MAX_CONTENT_LENGTH) return bad("content-length");
        contentLength = n;
        break;
      }
      case "content-type": {
        if (contentType !== undefined) return dup("content-type");
        contentType = headerValue(buf, h);
        if (!isMediaType(contentType)) return bad("content-type");
        break;
      }
    }
  }
  const topVia = viaState.top;
  viaState.top = undefined; // the scratch must not keep the last message's Via alive
  if (topVia === undefined) return missing("via");
  if (from === undefined) return missing("from");
  if (to === undefined) return missing("to");
  if (callId === undefined) return missing("call-id");
  if (cseq === undefined) return missing("cseq");
  const available = buf.length - split.bodyStart;
  if (contentLength === -1) contentLength = available;
  else if (contentLength > available) {
    return fail("malformed", "Bad Request - Content-Length Larger Than Message", "content-length");
  }
  if (start.kind === "request") {
    if (cseq.method !== start.method) return fail("cseq-mismatch", "Bad Request - CSeq Method Does Not Match", "cseq");
    return {
      ok: true,
      message: new SipRequest(start.method, start.requestUri, start.uri, buf, headers, split.bodyStart, callId,
        cseq, from, to, topVia, viaState.count, maxForwards, contentLength, contentType),
    };
  }
  return {
    ok: true,
    message: new SipResponse(start.status, start.reason, buf, headers, split.bodyStart, callId, cseq, from, to,
      topVia, viaState.count, maxForwards, contentLength, contentType),
  };
}

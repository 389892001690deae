// The lean engine's HTTP/1.1 request head parser (RFC 9112), pure and allocation-light: the head is
// read in place from the socket's Buffer; only the strings the proxy needs (method, target, header
// names and values) are made. It is at least as strict as Node's parser on everything that decides
// framing: CRLF line ends only (a bare LF is a 400), no obs-fold, token header names, no control
// characters in values, one Content-Length of digits only, Transfer-Encoding exactly "chunked",
// never both. test/http/smuggling-cases.ts holds the answers both engines give. The field scanner
// (scanFields) also reads the upstream's response heads (h1-response-head.ts): one set of rules.

export interface HeadLimits {
  /** Request line + header fields + CRLFs, as Node's maxHeaderSize counts them. */
  maxHeaderBytes: number;
  maxHeaders: number;
}

export interface RequestHead {
  method: string;
  target: string;
  /** Any digit: the exchange answers a major other than 1 with 505, as for Node's parser. */
  versionMajor: number;
  /** 0 for HTTP/1.0, 1 for HTTP/1.1 (and any later 1.x). */
  versionMinor: number;
  /** Name, value, name, value… with the client's case (as Node's rawHeaders). */
  rawHeaders: string[];
  /** -1 when absent. */
  contentLength: number;
  chunked: boolean;
  keepAlive: boolean;
  /** Upgrade present and Connection names it: a protocol switch (WebSocket), not a request. */
  upgrade: boolean;
  /** The Expect value, lower case, when present. */
  expect: string | undefined;
  requestId: string | undefined;
}

export interface HeadError {
  error: true;
  status: 400 | 431;
  /** Fixed vocabulary for the access log (never client bytes). */
  reason: string;
}

/** headEnd: the head is not complete yet. */
export const HEAD_INCOMPLETE = -1;
/** headEnd: an LF without its CR (RFC 9112 §2.2: such framing is how requests get smuggled). */
export const HEAD_BARE_LF = -2;

/**
 * Index just past the blank line that ends the head starting at `start`, scanning LFs from `from`
 * (the caller resumes where the previous scan stopped), or HEAD_INCOMPLETE / HEAD_BARE_LF.
 */
export function headEnd(buf: Buffer, start: number, from: number, end: number): number {
  let i = from;
  for (;;) {
    const lf = buf.indexOf(10, i);
    if (lf < 0 || lf >= end) return HEAD_INCOMPLETE;
    if (lf === start || buf[lf - 1] !== 13) return HEAD_BARE_LF;
    if (lf - start >= 3 && buf[lf - 2] === 10 && buf[lf - 3] === 13) return lf + 1;
    i = lf + 1;
  }
}

/** tchar of RFC 9110 §5.6.2, as a 128-entry table. */
const TOKEN = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const alnum = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  TOKEN[c] = alnum || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)) ? 1 : 0;
}

const bad = (reason: string): HeadError => ({ error: true, status: 400, reason });
const MALFORMED: HeadError = bad("malformed request");
const TOO_MANY: HeadError = { error: true, status: 431, reason: "too many header fields" };
const CL_INVALID = bad("invalid content-length");
const CL_DUPLICATE = bad("conflicting content-length");
const TE_INVALID = bad("unsupported transfer-encoding");
const TE_WITH_CL = bad("content-length with transfer-encoding");

/** Whether buf[at, at+name.length) equals `name` (lower case ASCII) ignoring case. */
function nameIs(buf: Buffer, at: number, len: number, name: string): boolean {
  if (len !== name.length) return false;
  for (let i = 0; i < len; i++) if ((buf[at + i]! | 0x20) !== name.charCodeAt(i)) return false;
  return true;
}

/** Parses buf[start, end) where end is headEnd's answer. */
export function parseHead(buf: Buffer, start: number, end: number, limits: HeadLimits): RequestHead | HeadError {
  // Request line: method SP target SP HTTP/x.y CRLF, single spaces.
  let i = start;
  while (i < end && buf[i]! < 128 && TOKEN[buf[i]!] === 1) i++;
  if (i === start || buf[i] !== 32) return MALFORMED;
  const method = buf.toString("latin1", start, i);
  const t0 = ++i;
  while (i < end && buf[i]! > 32 && buf[i]! < 127) i++;
  if (i === t0 || buf[i] !== 32) return MALFORMED;
  const target = buf.toString("latin1", t0, i);
  i++;
  if (
    end - i < 10 ||
    buf[i] !== 72 || buf[i + 1] !== 84 || buf[i + 2] !== 84 || buf[i + 3] !== 80 || buf[i + 4] !== 47 || // HTTP/
    buf[i + 6] !== 46 || buf[i + 8] !== 13 || buf[i + 9] !== 10
  ) {
    return MALFORMED;
  }
  const major = buf[i + 5]! - 48;
  const minor = buf[i + 7]! - 48;
  if (major < 0 || major > 9 || minor < 0 || minor > 9) return MALFORMED;
  i += 10;

  const f = new FieldScan();
  const err = scanFields(buf, i, end, limits, f);
  if (err !== undefined) return err;
  if (f.chunked && f.contentLength >= 0) return TE_WITH_CL;
  // Chunked framing on HTTP/1.0 is refused (Node forwards it; RFC 9112 §6.1 calls it faulty).
  if (f.chunked && minor === 0) return TE_INVALID;
  return {
    method,
    target,
    versionMajor: major,
    versionMinor: minor,
    rawHeaders: f.rawHeaders,
    contentLength: f.contentLength,
    chunked: f.chunked,
    keepAlive: major !== 1 ? false : minor === 0 ? f.connKeepAlive && !f.connClose : !f.connClose,
    upgrade: f.upgradeSeen && f.connUpgrade,
    expect: f.expect,
    requestId: f.requestId,
  };
}

/** What the header section says about framing and the connection (requests and responses alike). */
export class FieldScan {
  /** Name, value, name, value… with the sender's case (as Node's rawHeaders). */
  rawHeaders: string[] = [];
  /** -1 when absent. */
  contentLength = -1;
  chunked = false;
  connClose = false;
  connKeepAlive = false;
  connUpgrade = false;
  upgradeSeen = false;
  expect: string | undefined = undefined;
  requestId: string | undefined = undefined;
  /** The Keep-Alive header's value (a response's idle-timeout hint). */
  keepAliveHint: string | undefined = undefined;
}

/**
 * The header fields of buf[i, end) (end as headEnd answers) into `f`: token names, no obs-fold,
 * no control characters in values, one Content-Length of digits only, Transfer-Encoding exactly
 * "chunked". Returns the error, or undefined.
 */
export function scanFields(buf: Buffer, i: number, end: number, limits: HeadLimits, f: FieldScan): HeadError | undefined {
  const rawHeaders = f.rawHeaders;
  let count = 0;
  let teSeen = false;
  const last = end - 2; // the blank line's CRLF
  while (i < last) {
    // Field name: token characters up to ':' (no space before it, no obs-fold continuation).
    const n0 = i;
    while (buf[i]! < 128 && TOKEN[buf[i]!] === 1) i++;
    if (i === n0 || buf[i] !== 58) return MALFORMED;
    const nameLen = i - n0;
    i++;
    while (buf[i] === 32 || buf[i] === 9) i++;
    const v0 = i;
    // Value: VCHAR, obs-text, SP, HTAB up to CRLF; any other control character is a 400.
    for (;;) {
      const c = buf[i]!;
      if (c === 13) break;
      if ((c < 32 && c !== 9) || c === 127) return MALFORMED;
      i++;
    }
    if (buf[i + 1] !== 10) return MALFORMED;
    let v1 = i;
    while (v1 > v0 && (buf[v1 - 1] === 32 || buf[v1 - 1] === 9)) v1--;
    i += 2;
    if (++count > limits.maxHeaders) return TOO_MANY;
    const name = buf.toString("latin1", n0, n0 + nameLen);
    const value = buf.toString("latin1", v0, v1);
    rawHeaders.push(name, value);

    switch (nameLen) {
      case 14:
        if (nameIs(buf, n0, nameLen, "content-length")) {
          if (f.contentLength >= 0) return CL_DUPLICATE;
          f.contentLength = digits(buf, v0, v1);
          if (f.contentLength < 0) return CL_INVALID;
        }
        break;
      case 17:
        if (nameIs(buf, n0, nameLen, "transfer-encoding")) {
          if (teSeen || value.length !== 7 || value.toLowerCase() !== "chunked") return TE_INVALID;
          teSeen = f.chunked = true;
        }
        break;
      case 10:
        if (nameIs(buf, n0, nameLen, "connection")) connectionTokens(value.toLowerCase(), f);
        else if (nameIs(buf, n0, nameLen, "keep-alive")) f.keepAliveHint = value;
        break;
      case 7:
        if (nameIs(buf, n0, nameLen, "upgrade")) f.upgradeSeen = true;
        break;
      case 6:
        if (nameIs(buf, n0, nameLen, "expect")) f.expect = value.toLowerCase();
        break;
      case 12:
        if (nameIs(buf, n0, nameLen, "x-request-id")) f.requestId = value;
        break;
    }
  }
  return undefined;
}

function connectionTokens(v: string, f: FieldScan): void {
  if (v === "close") f.connClose = true;
  else if (v === "keep-alive") f.connKeepAlive = true;
  else if (v === "upgrade") f.connUpgrade = true;
  else {
    for (const token of v.split(",")) {
      const tk = token.trim();
      if (tk === "close") f.connClose = true;
      else if (tk === "keep-alive") f.connKeepAlive = true;
      else if (tk === "upgrade") f.connUpgrade = true;
    }
  }
}

/** 1*DIGIT as a safe integer, or -1 (signs, spaces, lists, hex and overflow included). */
function digits(buf: Buffer, from: number, to: number): number {
  const len = to - from;
  if (len === 0 || len > 15) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

export function isHeadError(h: RequestHead | HeadError): h is HeadError {
  return (h as HeadError).error === true;
}

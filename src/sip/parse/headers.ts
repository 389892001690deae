// Header-section splitting: one HeaderField (byte offsets) per header line, continuation lines
// (LWS folding, RFC 3261 §7.3.1) merged into the previous header, names canonicalised through the
// lookup table. Values stay as bytes until asked for.
import { canonicalHeaderName, hotHeaderName } from "./header-names.js";
import type { HeaderField } from "./types.js";

export interface MutableHeaderField {
  name: string;
  lineStart: number;
  valueStart: number;
  valueEnd: number;
  lineEnd: number;
  folded: boolean;
}

export interface SplitResult {
  headers: MutableHeaderField[];
  /** Offset of the first body byte (after the empty line), or -1 on error. */
  bodyStart: number;
  /** Error reason when bodyStart === -1. */
  error: string;
}

/**
 * Split headers starting at `pos` (first byte after the start line's CRLF). Lines must end in
 * CRLF; the header section ends with an empty line.
 */
export function splitHeaders(buf: Buffer, pos: number, out: SplitResult): void {
  const len = buf.length;
  const headers = out.headers;
  let prev: MutableHeaderField | undefined;
  for (;;) {
    const lf = buf.indexOf(10, pos);
    if (lf === -1) {
      out.bodyStart = -1;
      out.error = "Bad Request - Unterminated Header Section";
      return;
    }
    if (lf === pos || buf[lf - 1] !== 13) {
      out.bodyStart = -1;
      out.error = "Bad Request - Bare LF in Header Section";
      return;
    }
    if (lf === pos + 1) {
      out.bodyStart = lf + 1;
      return;
    }
    const c0 = buf[pos]!;
    if (c0 === 32 || c0 === 9) {
      if (prev === undefined) {
        out.bodyStart = -1;
        out.error = "Bad Request - Continuation Line Without Header";
        return;
      }
      // folded: extend the previous header's value to this line's last non-WS byte
      let ve = lf - 1;
      while (ve > pos && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
      if (ve > pos) {
        if (prev.valueStart === prev.valueEnd) prev.valueStart = skipWsBytes(buf, pos, ve);
        prev.valueEnd = ve;
        prev.folded = prev.valueStart < pos;
      }
      prev.lineEnd = lf + 1;
      pos = lf + 1;
      continue;
    }
    // name: token chars up to ':' (WS allowed before the colon: HCOLON = *( SP / HTAB ) ":" SWS)
    let ne = pos;
    while (ne < lf && buf[ne] !== 58 && buf[ne] !== 32 && buf[ne] !== 9) ne++;
    let colon = ne;
    while (colon < lf && (buf[colon] === 32 || buf[colon] === 9)) colon++;
    if (ne === pos || colon >= lf || buf[colon] !== 58) {
      out.bodyStart = -1;
      out.error = "Bad Request - Malformed Header Line";
      return;
    }
    const name = hotHeaderName(buf, pos, ne) ?? canonicalHeaderName(buf.toString("latin1", pos, ne));
    if (name === "") {
      out.bodyStart = -1;
      out.error = "Bad Request - Malformed Header Name";
      return;
    }
    const vs = skipWsBytes(buf, colon + 1, lf - 1);
    let ve = lf - 1;
    while (ve > vs && (buf[ve - 1] === 32 || buf[ve - 1] === 9)) ve--;
    prev = { name, lineStart: pos, valueStart: vs, valueEnd: ve, lineEnd: lf + 1, folded: false };
    headers.push(prev);
    pos = lf + 1;
    if (pos >= len) {
      out.bodyStart = -1;
      out.error = "Bad Request - Unterminated Header Section";
      return;
    }
  }
}

function skipWsBytes(buf: Buffer, i: number, end: number): number {
  while (i < end && (buf[i] === 32 || buf[i] === 9)) i++;
  return i;
}

/** A header's value as a string; folded values have each CRLF+WS run replaced by one SP. */
export function headerValue(buf: Buffer, h: HeaderField): string {
  const s = buf.toString("utf8", h.valueStart, h.valueEnd);
  if (!h.folded) return s;
  let out = "";
  let i = 0;
  for (;;) {
    const cr = s.indexOf("\r\n", i);
    if (cr === -1) return out + s.slice(i);
    let e = cr;
    while (e > i && (s.charCodeAt(e - 1) === 32 || s.charCodeAt(e - 1) === 9)) e--;
    out += s.slice(i, e) + " ";
    i = cr + 2;
    while (i < s.length && (s.charCodeAt(i) === 32 || s.charCodeAt(i) === 9)) i++;
  }
}

/**
 * Spans [start, end) of the top-level comma-separated elements of s (commas inside quoted strings
 * and <...> don't split). Pushes pairs into `out`. Returns false on an unterminated quote/angle or
 * an empty element.
 */
export function splitList(s: string, out: number[]): boolean {
  const end = s.length;
  let start = 0;
  let angle = false;
  for (let i = 0; i <= end; i++) {
    const c = i < end ? s.charCodeAt(i) : 44;
    if (c === 34 && !angle) {
      // skip quoted string
      i++;
      while (i < end && s.charCodeAt(i) !== 34) {
        if (s.charCodeAt(i) === 92) i++;
        i++;
      }
      if (i >= end) return false;
    } else if (c === 60) angle = true;
    else if (c === 62) angle = false;
    else if (c === 44 && !angle) {
      let a = start;
      let b = i;
      while (a < b && isWs(s.charCodeAt(a))) a++;
      while (b > a && isWs(s.charCodeAt(b - 1))) b--;
      if (a === b) return false;
      out.push(a, b);
      start = i + 1;
    }
  }
  return !angle;
}

function isWs(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 10;
}

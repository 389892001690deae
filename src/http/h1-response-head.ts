// The lean upstream client's HTTP/1.1 response head parser (RFC 9112 §4, §6.3): the status line
// here, the header fields through h1-head.ts's scanner, so a response is held to the same rules as
// a request (CRLF only, no obs-fold, token names, no control characters, one Content-Length of
// digits, Transfer-Encoding exactly "chunked", never both) and to the same size and count limits.
// Anything else is a bad response: 502 and the connection dropped, never a guess at the framing.
import { FieldScan, type HeadLimits, scanFields } from "./h1-head.js";

/** How the response body is delimited. */
export const enum BodyFraming {
  None,
  Length,
  Chunked,
  /** Up to the upstream's close (RFC 9112 §6.3 item 8). */
  Close,
}

export interface ResponseHead {
  status: number;
  /** The reason phrase (may be empty). */
  statusText: string;
  rawHeaders: string[];
  framing: BodyFraming;
  /** For BodyFraming.Length. */
  contentLength: number;
  /** Whether the connection may carry another request after this response. */
  keepAlive: boolean;
  /** The Keep-Alive header's value, when present. */
  keepAliveHint: string | undefined;
}

/** A fixed reason for the log; the response's bytes never are. */
export type ResponseHeadError = string;

/** Parses buf[start, end) where end is headEnd's answer; `isHead`: the request was HEAD. */
export function parseResponseHead(
  buf: Buffer,
  start: number,
  end: number,
  limits: HeadLimits,
  isHead: boolean,
): ResponseHead | ResponseHeadError {
  // HTTP/1.x SP 3DIGIT [SP reason-phrase] CRLF
  let i = start;
  if (
    end - i < 14 ||
    buf[i] !== 72 || buf[i + 1] !== 84 || buf[i + 2] !== 84 || buf[i + 3] !== 80 || buf[i + 4] !== 47 || // HTTP/
    buf[i + 5] !== 49 || buf[i + 6] !== 46 || buf[i + 8] !== 32
  ) {
    return "malformed status line";
  }
  const minor = buf[i + 7]! - 48;
  if (minor < 0 || minor > 9) return "malformed status line";
  const d0 = buf[i + 9]! - 48;
  const d1 = buf[i + 10]! - 48;
  const d2 = buf[i + 11]! - 48;
  if (d0 < 1 || d0 > 5 || d1 < 0 || d1 > 9 || d2 < 0 || d2 > 9) return "malformed status code";
  const status = d0 * 100 + d1 * 10 + d2;
  i += 12;
  let statusText = "";
  if (buf[i] === 32) {
    const r0 = ++i;
    for (;;) {
      const c = buf[i]!;
      if (c === 13) break;
      if ((c < 32 && c !== 9) || c === 127) return "malformed reason phrase";
      i++;
    }
    statusText = buf.toString("latin1", r0, i);
  }
  if (buf[i] !== 13 || buf[i + 1] !== 10) return "malformed status line";
  i += 2;

  const f = new FieldScan();
  const err = scanFields(buf, i, end, limits, f);
  if (err !== undefined) return err.status === 431 ? "too many header fields" : err.reason.replace("request", "response header");
  if (f.chunked && f.contentLength >= 0) return "content-length with transfer-encoding";
  if (f.chunked && minor === 0) return "transfer-encoding on HTTP/1.0";

  let framing: BodyFraming;
  if (isHead || status < 200 || status === 204 || status === 304) framing = BodyFraming.None;
  else if (f.chunked) framing = BodyFraming.Chunked;
  else if (f.contentLength >= 0) framing = f.contentLength === 0 ? BodyFraming.None : BodyFraming.Length;
  else framing = BodyFraming.Close;
  const keepAlive = framing !== BodyFraming.Close && (minor === 0 ? f.connKeepAlive && !f.connClose : !f.connClose);
  return {
    status,
    statusText,
    rawHeaders: f.rawHeaders,
    framing,
    contentLength: f.contentLength,
    keepAlive,
    keepAliveHint: f.keepAliveHint,
  };
}

/** Keep-Alive: timeout=N (seconds) in milliseconds, or undefined. */
export function keepAliveTimeoutMs(hint: string | undefined): number | undefined {
  if (hint === undefined) return undefined;
  const m = /timeout=(\d+)/.exec(hint);
  return m ? Number(m[1]) * 1000 : undefined;
}

/** Lower-case names, repeated fields as arrays: the shape undici hands the exchange. */
export function headerRecord(raw: readonly string[]): Record<string, string | string[]> {
  // No prototype: a field named __proto__ or constructor is just a field.
  const out: Record<string, string | string[]> = Object.create(null);
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const had = out[name];
    if (had === undefined) out[name] = value;
    else if (Array.isArray(had)) had.push(value);
    else out[name] = [had, value];
  }
  return out;
}

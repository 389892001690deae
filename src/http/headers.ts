// Header rewriting between the client and the upstream, in one pass over the raw headers:
// - hop-by-hop headers (RFC 9110 §7.6.1) and those the Connection header names are dropped;
// - identity headers (Client-Cert, Client-Cert-Chain, X-Trunkgate-Peer) from the client are
//   dropped whatever their case or however often they appear, then set from the TLS handshake;
// - X-Forwarded-For/-Proto/-Host, Forwarded, Host and X-Request-Id are set by trunkgate;
// - HTTP/2 pseudo-headers are dropped and split Cookie fields joined (RFC 9113 §8.2.3).
import type { ConnectionInfo } from "./connection-info.js";

/** Never forwarded in either direction (lower case). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "te",
  "transfer-encoding",
  "upgrade",
  "trailer",
  "proxy-authenticate",
  "proxy-authorization",
  "http2-settings",
]);

export const IDENTITY_HEADERS: ReadonlySet<string> = new Set(["client-cert", "client-cert-chain", "x-trunkgate-peer"]);

/** Request headers trunkgate sets itself; the client's values are read (chains) or dropped. */
const SET_BY_PROXY: ReadonlySet<string> = new Set([
  "host",
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "forwarded",
  "x-request-id",
  // Node answers 100-continue itself; undici refuses to send Expect.
  "expect",
]);

/** Connection may not nominate these away: framing stays intact (cf. CVE-2022-31813). */
const NOT_NOMINATABLE: ReadonlySet<string> = new Set(["content-length", ...SET_BY_PROXY, ...IDENTITY_HEADERS]);

export interface HostRewrite {
  mode: "preserve" | "upstream" | "literal";
  /** For "upstream": host[:port] of the upstream URL; for "literal": the configured value. */
  value: string;
}

export interface ForwardContext {
  conn: ConnectionInfo;
  requestId: string;
  host: HostRewrite;
  appendChain: boolean;
  maxHeaders: number;
  /** HTTP/2 header list size cap (HTTP/1.1's is enforced by Node's parser). */
  maxHeaderBytes: number;
}

export type HeaderResult =
  | { ok: true; headers: string[]; clientHost: string | undefined; contentLength: string | undefined; chunked: boolean; upgrade: string | undefined }
  | { ok: false; status: 400 | 431; reason: string };

/**
 * `raw` is Node's rawHeaders (name, value, name, value, …). For HTTP/2 the :authority value comes
 * in `authority`. Returns the flat header list for undici.
 */
export function upstreamRequestHeaders(raw: readonly string[], isH2: boolean, ctx: ForwardContext): HeaderResult {
  const n = raw.length;
  // First pass: the Connection header's nominations (rarely anything beyond keep-alive/close).
  let nominated: Set<string> | undefined;
  for (let i = 0; i < n; i += 2) {
    if (raw[i]!.length === 10 && raw[i]!.toLowerCase() === "connection") nominated = addNominations(nominated, raw[i + 1]!);
  }

  const out: string[] = [];
  let count = 0;
  let bytes = 0;
  let clientHost: string | undefined;
  let hostCount = 0;
  let xff: string | undefined;
  let forwarded: string | undefined;
  let cookie: string | undefined;
  let contentLength: string | undefined;
  let chunked = false;
  let upgrade: string | undefined;
  for (let i = 0; i < n; i += 2) {
    const rawName = raw[i]!;
    const value = raw[i + 1]!;
    if (isH2) {
      bytes += rawName.length + value.length + 32;
      if (rawName.charCodeAt(0) === 58 /* : */) {
        if (rawName === ":authority") {
          clientHost = value;
          hostCount++;
        }
        continue;
      }
    }
    count++;
    const name = rawName.toLowerCase();
    if (HOP_BY_HOP.has(name)) {
      if (name === "transfer-encoding") chunked = true;
      else if (name === "upgrade") upgrade = value;
      continue;
    }
    if (IDENTITY_HEADERS.has(name)) continue;
    if (SET_BY_PROXY.has(name)) {
      if (name === "host") {
        // HTTP/2: :authority wins; a Host field alongside it must agree (RFC 9113 §8.3.1).
        if (isH2 && clientHost !== undefined) {
          if (value.toLowerCase() !== clientHost.toLowerCase()) return { ok: false, status: 400, reason: "host and :authority differ" };
          continue;
        }
        clientHost = value;
        hostCount++;
      } else if (name === "x-forwarded-for") xff = xff === undefined ? value : `${xff}, ${value}`;
      else if (name === "forwarded") forwarded = forwarded === undefined ? value : `${forwarded}, ${value}`;
      continue;
    }
    if (nominated?.has(name) && !NOT_NOMINATABLE.has(name)) continue;
    if (name === "cookie" && isH2) {
      cookie = cookie === undefined ? value : `${cookie}; ${value}`;
      continue;
    }
    if (name === "content-length") {
      if (contentLength !== undefined && contentLength !== value) return { ok: false, status: 400, reason: "conflicting content-length" };
      if (contentLength !== undefined) continue;
      contentLength = value;
    }
    out.push(name, value);
  }
  if (count > ctx.maxHeaders) return { ok: false, status: 431, reason: "too many header fields" };
  if (isH2 && bytes > ctx.maxHeaderBytes) return { ok: false, status: 431, reason: "header list too large" };
  if (hostCount > 1) return { ok: false, status: 400, reason: "more than one host" };
  if (clientHost === undefined || !isValidHost(clientHost)) return { ok: false, status: 400, reason: "missing or invalid host" };
  if (cookie !== undefined) out.push("cookie", cookie);

  const { conn, host } = ctx;
  out.push("host", host.mode === "preserve" ? clientHost : host.value);
  const addr = conn.remoteAddress;
  out.push("x-forwarded-for", ctx.appendChain && xff !== undefined ? `${xff}, ${addr}` : addr);
  out.push("x-forwarded-proto", "https");
  out.push("x-forwarded-host", clientHost);
  const element = `for=${forwardedNode(addr)};host="${clientHost}";proto=https`;
  out.push("forwarded", ctx.appendChain && forwarded !== undefined ? `${forwarded}, ${element}` : element);
  out.push("x-request-id", ctx.requestId);
  out.push("client-cert", conn.clientCert);
  if (conn.clientCertChain !== undefined) out.push("client-cert-chain", conn.clientCertChain);
  out.push("x-trunkgate-peer", conn.peer.name);
  return { ok: true, headers: out, clientHost, contentLength, chunked, upgrade };
}

function addNominations(set: Set<string> | undefined, value: string): Set<string> | undefined {
  const v = value.toLowerCase();
  if (v === "keep-alive" || v === "close") return set;
  for (const token of v.split(",")) {
    const t = token.trim();
    if (t.length > 0 && t !== "close" && t !== "keep-alive") (set ??= new Set()).add(t);
  }
  return set;
}

/** RFC 7239 §6: an IPv6 node is bracketed and quoted. */
function forwardedNode(addr: string): string {
  return addr.includes(":") ? `"[${addr}]"` : addr;
}

/**
 * host[:port] with a reg-name or IP literal: letters, digits, '.', '-', '_', ':' and brackets.
 * Anything else (quotes, spaces, '@', '/') is a 400, and the value is then safe inside the quoted
 * Forwarded host parameter and the access log.
 */
export function isValidHost(h: string): boolean {
  const n = h.length;
  if (n === 0 || n > 255) return false;
  for (let i = 0; i < n; i++) {
    const c = h.charCodeAt(i);
    const ok =
      (c >= 48 && c <= 58) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 45 || c === 46 || c === 95 || c === 91 || c === 93;
    if (!ok) return false;
  }
  return true;
}

/**
 * The upstream's response headers (undici: lower-case names, string or string[] values) minus
 * hop-by-hop ones and those its Connection header names. HTTP/2 forbids connection-specific
 * fields outright, so this is also what keeps an HTTP/2 response valid.
 */
export function downstreamResponseHeaders(
  headers: Record<string, string | string[] | undefined>,
  requestId: string,
  closeConnection: boolean,
): Record<string, string | string[]> {
  const conn = headers.connection;
  let nominated: Set<string> | undefined;
  if (conn !== undefined) for (const v of Array.isArray(conn) ? conn : [conn]) nominated = addNominations(nominated, v);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined || HOP_BY_HOP.has(name)) continue;
    if (nominated?.has(name) && name !== "content-length") continue;
    out[name] = v;
  }
  out["x-request-id"] = requestId;
  if (closeConnection) out.connection = "close";
  return out;
}

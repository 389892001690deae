// trunkgate's own answers: a few bytes of JSON naming the status and the request id (also in
// X-Request-Id), never an upstream's or Node's default page. And the mapping of upstream failures
// to 502/504 and to the metric's error kinds.
import { STATUS_CODES } from "node:http";
import type { UpstreamErrorKind } from "./metrics.js";

export function errorBody(status: number, requestId: string): string {
  return `{"status":${status},"error":${JSON.stringify(STATUS_CODES[status] ?? "Error")},"requestId":"${requestId}"}\n`;
}

/**
 * The 405 answer to CONNECT names what the proxy does forward (every other method; CONNECT
 * tunnels are not offered, RFC 9110 §9.3.6).
 */
export const ALLOW_HEADER: Readonly<Record<string, string>> = { allow: "GET, HEAD, POST, PUT, DELETE, PATCH, OPTIONS" };

/** Raw HTTP/1.1 error for a socket without a ServerResponse (parser errors, failed upgrades, CONNECT). */
export function rawErrorResponse(status: number, requestId: string, extra?: Readonly<Record<string, string>>): string {
  const body = errorBody(status, requestId);
  let more = "";
  if (extra) for (const name in extra) more += `${name}: ${extra[name]}\r\n`;
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Error"}\r\n` +
    "content-type: application/json\r\n" +
    `content-length: ${Buffer.byteLength(body)}\r\n` +
    `x-request-id: ${requestId}\r\n` +
    more +
    "connection: close\r\n\r\n" +
    body
  );
}

const TLS_CODE_PREFIXES = ["ERR_SSL_", "ERR_TLS_", "CERT_", "UNABLE_TO_", "DEPTH_ZERO", "SELF_SIGNED", "HOSTNAME_MISMATCH"];

export interface UpstreamFailure {
  kind: UpstreamErrorKind;
  status: 502 | 504;
  code: string;
}

/** undici's and the lean client's (upstream-types.ts) codes alike. */
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
  "ETIMEDOUT",
  "TRUNKGATE_UPSTREAM_CONNECT_TIMEOUT",
  "TRUNKGATE_UPSTREAM_RESPONSE_TIMEOUT",
  "TRUNKGATE_UPSTREAM_BODY_TIMEOUT",
]);
const RESET_CODES: ReadonlySet<string> = new Set(["ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CLOSED", "ECONNABORTED", "TRUNKGATE_UPSTREAM_CLOSED"]);

export function classifyUpstreamError(err: unknown): UpstreamFailure {
  const e = err as { code?: string; cause?: { code?: string } };
  // undici wraps some socket errors; the cause carries the system code.
  const code = e?.code ?? "";
  const causeCode = e?.cause?.code ?? "";
  const c = code === "UND_ERR_SOCKET" && causeCode ? causeCode : code || causeCode;
  if (TIMEOUT_CODES.has(c)) {
    return { kind: "timeout", status: 504, code: c };
  }
  if (TLS_CODE_PREFIXES.some((p) => c.startsWith(p)) || c === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return { kind: "tls", status: 502, code: c };
  }
  if (c === "ECONNREFUSED" || c === "EHOSTUNREACH" || c === "ENETUNREACH" || c === "ENOTFOUND" || c === "EAI_AGAIN" || c === "EADDRNOTAVAIL") {
    return { kind: "connect", status: 502, code: c };
  }
  if (RESET_CODES.has(c)) {
    return { kind: "reset", status: 502, code: c };
  }
  return { kind: "other", status: 502, code: c || "unknown" };
}

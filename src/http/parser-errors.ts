// Errors an HTTP/1.1 parser (Node's, or the lean engine's) reports before there is a request object: header section too
// large (431), headers not complete within http.timeouts.headersMs (408, slowloris), malformed
// (400). Answered like every other error (JSON, request id) and logged, then the connection closes.
// The HTTP/2 server also routes TLS handshake failures here; those have no connection identity
// and are only destroyed (the listener counts and logs them).
import type { Duplex } from "node:stream";
import { logAccess } from "./access-log.js";
import { connectionInfoOf, type ConnectionInfo } from "./connection-info.js";
import { rawErrorResponse } from "./errors.js";
import type { ProxyShared } from "./exchange.js";
import { statusClass } from "./metrics.js";
import { requestIdFor } from "./request-id.js";

const LINGER_MS = 2_000;

const STATUS_BY_CODE: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, "header section too large"],
  ERR_HTTP_REQUEST_TIMEOUT: [408, "header timeout"],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, "chunk extensions too large"],
};

const QUIET_CODES = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "ERR_STREAM_DESTROYED"]);

export function handleClientError(s: ProxyShared, err: Error & { code?: string }, socket: Duplex): void {
  const conn = connectionInfoOf(socket as never);
  const code = err.code ?? "";
  if (!conn || QUIET_CODES.has(code) || socket.destroyed) {
    socket.destroy();
    return;
  }
  const inProgress = (socket as unknown as { _httpMessage?: { _headerSent?: boolean } })._httpMessage;
  if (!socket.writable || inProgress?._headerSent) {
    socket.destroy();
    return;
  }
  const [status, reason] = STATUS_BY_CODE[code] ?? [400, "malformed request"];
  answerMalformed(s, conn, socket, status, reason);
}

/**
 * The answer to a request that never became one (either engine's parser refused it): the JSON
 * error, then a close after a short linger, one count and one access-log line.
 */
export function answerMalformed(s: ProxyShared, conn: ConnectionInfo, socket: Duplex, status: number, reason: string): void {
  if (status === 408) s.metrics.clientTimeouts.labels("headers").inc();
  const requestId = requestIdFor(undefined);
  socket.end(rawErrorResponse(status, requestId));
  const t = setTimeout(() => socket.destroy(), LINGER_MS);
  t.unref();
  socket.once("close", () => clearTimeout(t));
  s.metrics.requests.labels("OTHER", statusClass(status)).inc();
  logAccess(s.logger, {
    requestId,
    method: "OTHER",
    path: "",
    status,
    httpVersion: "1.1",
    bytesIn: 0,
    bytesOut: 0,
    durationMs: 0,
    upstreamMs: undefined,
    peer: conn.peer.name,
    tlsVersion: conn.tlsVersion,
    cipher: conn.cipher,
    error: reason,
  });
}

// CONNECT on HTTP/1.1: Node's parser hands it to the server's 'connect' event with the raw socket
// (it never becomes a request), and without a listener Node closes the connection without a word.
// trunkgate does not offer tunnels: 405 with Allow, as the HTTP/2 path answers, then close.
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { logAccess } from "./access-log.js";
import { connectionInfoOf } from "./connection-info.js";
import { ALLOW_HEADER, rawErrorResponse } from "./errors.js";
import type { ProxyShared } from "./exchange.js";
import { requestIdFor } from "./request-id.js";

/** Whatever the client still sends is read and dropped this long, so it sees the answer. */
const LINGER_MS = 2_000;

export function handleConnect(s: ProxyShared, req: Pick<IncomingMessage, "headers" | "httpVersion">, socket: Duplex): void {
  const conn = connectionInfoOf(socket as never);
  const requestId = requestIdFor(req.headers["x-request-id"]);
  if (socket.writable) socket.end(rawErrorResponse(405, requestId, ALLOW_HEADER));
  socket.resume();
  const t = setTimeout(() => socket.destroy(), LINGER_MS);
  t.unref();
  socket.once("close", () => clearTimeout(t));
  s.metrics.record("CONNECT", 405, 0);
  logAccess(s.logger, {
    requestId,
    method: "CONNECT",
    path: "", // authority-form: a host and port, not a path
    status: 405,
    httpVersion: req.httpVersion,
    bytesIn: 0,
    bytesOut: 0,
    durationMs: 0,
    upstreamMs: undefined,
    peer: conn?.peer.name,
    tlsVersion: conn?.tlsVersion,
    cipher: conn?.cipher,
    error: "connect not supported",
  });
}

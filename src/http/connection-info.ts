// What the proxy knows about a downstream connection, computed once per connection (not per
// request) and attached to the TLS socket: the authenticated peer, the RFC 9440 header values for
// its certificate, TLS version and cipher for the access log.
import type { X509Certificate } from "node:crypto";
import type { ServerHttp2Session } from "node:http2";
import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { PeerConfig } from "../config/schema/index.js";

export interface ConnectionInfo {
  peer: PeerConfig;
  tlsVersion: string;
  cipher: string;
  remoteAddress: string;
  /** RFC 9440 Client-Cert: a structured-field byte sequence, `:base64(DER):`. */
  clientCert: string;
  /** RFC 9440 Client-Cert-Chain: the intermediates the client sent, or undefined when none. */
  clientCertChain: string | undefined;
  /** Requests and tunnels in flight on this connection (HTTP/1.1 drain closes idle ones at once). */
  inFlight: number;
  /** performance.now() when a request last started or ended here (the idle bound's clock). */
  lastProgress: number;
  /** The HTTP/2 session on this connection, once there is one. */
  session: ServerHttp2Session | undefined;
}

const kInfo = Symbol("trunkgate.http.connection");

export function attachConnectionInfo(socket: TLSSocket, peer: PeerConfig, certificate: X509Certificate): ConnectionInfo {
  const info: ConnectionInfo = {
    peer,
    tlsVersion: socket.getProtocol() ?? "unknown",
    cipher: socket.getCipher()?.standardName ?? "unknown",
    remoteAddress: stripMappedPrefix(socket.remoteAddress ?? ""),
    clientCert: `:${certificate.raw.toString("base64")}:`,
    clientCertChain: chainOf(certificate),
    inFlight: 0,
    lastProgress: performance.now(),
    session: undefined,
  };
  (socket as unknown as Record<symbol, ConnectionInfo>)[kInfo] = info;
  return info;
}

/**
 * The connection info of a request's socket. For HTTP/2 `req.socket` is Node's proxy of the
 * session socket; a property read through it reaches the real TLS socket.
 */
export function connectionInfoOf(socket: Socket | undefined): ConnectionInfo | undefined {
  if (!socket) return undefined;
  try {
    return (socket as unknown as Record<symbol, ConnectionInfo | undefined>)[kInfo];
  } catch {
    return undefined; // the HTTP/2 proxy throws once the session is gone
  }
}

/** A dual-stack listener reports IPv4 clients as ::ffff:a.b.c.d; forwarding headers want a.b.c.d. */
function stripMappedPrefix(addr: string): string {
  return addr.startsWith("::ffff:") && addr.includes(".") ? addr.slice(7) : addr;
}

/**
 * The certificates the client sent after its leaf (Node links them as issuerCertificate from the
 * peer's chain; it is not completed from our trust store). A self-signed root the client
 * included is left out: the upstream has its own roots. Empty chain: no header.
 */
function chainOf(leaf: X509Certificate): string | undefined {
  let out: string | undefined;
  let cur = leaf.issuerCertificate;
  for (let depth = 0; cur && depth < 10; depth++) {
    if (cur.subject === cur.issuer && cur.checkIssued(cur)) break;
    const item = `:${cur.raw.toString("base64")}:`;
    out = out === undefined ? item : `${out}, ${item}`;
    cur = cur.issuerCertificate;
  }
  return out;
}

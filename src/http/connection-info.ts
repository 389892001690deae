// What the proxy knows about a downstream connection, computed once per connection (not per
// request) and attached to the TLS socket: the authenticated peer, the RFC 9440 header values for
// its certificate, TLS version and cipher for the access log.
import type { X509Certificate } from "node:crypto";
import type { Socket } from "node:net";
import type { PeerCertificate, TLSSocket } from "node:tls";
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
  /** Requests in flight on this connection (HTTP/1.1 drain closes idle ones at once). */
  inFlight: number;
}

const kInfo = Symbol("trunkgate.http.connection");

export function attachConnectionInfo(socket: TLSSocket, peer: PeerConfig, certificate: X509Certificate): ConnectionInfo {
  const info: ConnectionInfo = {
    peer,
    tlsVersion: socket.getProtocol() ?? "unknown",
    cipher: socket.getCipher()?.standardName ?? "unknown",
    remoteAddress: stripMappedPrefix(socket.remoteAddress ?? ""),
    clientCert: `:${certificate.raw.toString("base64")}:`,
    clientCertChain: chainOf(socket),
    inFlight: 0,
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
 * OpenSSL's verified chain, leaf first, as Node exposes it. Node completes it with the trust
 * anchor from our store; the anchor is left out (the client did not send it, and the upstream
 * knows its own roots), as is the leaf (that is Client-Cert).
 */
function chainOf(socket: TLSSocket): string | undefined {
  { let c: any = socket.getPeerCertificate(true); for (let i = 0; i < 4 && c; i++) { console.log("DBG", i, c.subject?.CN, c.fingerprint256?.slice(0, 8)); c = c.issuerCertificate; } }
  let cert: PeerCertificate | undefined;
  try {
    cert = socket.getPeerCertificate(true);
  } catch {
    return undefined;
  }
  const parts: string[] = [];
  const seen = new Set<string>();
  let cur = (cert as { issuerCertificate?: PeerCertificate } | undefined)?.issuerCertificate;
  let prev = cert;
  while (cur && cur !== prev && cur.raw && !seen.has(cur.fingerprint256)) {
    seen.add(cur.fingerprint256);
    const next = (cur as { issuerCertificate?: PeerCertificate }).issuerCertificate;
    const selfSigned = !next || next === cur || next.fingerprint256 === cur.fingerprint256;
    if (selfSigned) break;
    parts.push(`:${cur.raw.toString("base64")}:`);
    prev = cur;
    cur = next;
  }
  return parts.length > 0 ? parts.join(", ") : undefined;
}

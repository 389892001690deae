// What the proxy knows about a downstream connection, computed once per connection (not per
// request) and attached to the TLS socket: the authenticated peer, the RFC 9440 header values for
// its certificate, TLS version and cipher for the access log.
import type { X509Certificate } from "node:crypto";
import type { ServerHttp2Session } from "node:http2";
import type { Socket } from "node:net";
import { TLSSocket } from "node:tls";
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
const kFirstPeerCertificate = Symbol("trunkgate.tls.firstPeerCertificate");

/**
 * Makes the chain the client sent readable after the handshake, on every Node version.
 *
 * Node's native TLSWrap.getPeerX509Certificate() (what socket.getPeerX509Certificate() calls)
 * links the certificates the client sent after its leaf as issuerCertificate, taking them OUT of
 * OpenSSL's peer-chain stack as it goes: only its first caller sees them. On Node 20 the first
 * caller was our listener. Node 24.21 (and 26.8+) calls it itself when a server handshake ends,
 * to check that a certificate was sent (onServerSocketSecure; nodejs/node#65579), and drops the
 * answer: every later call gets the leaf alone, and getPeerCertificate(true) then finds no
 * intermediate either (it completes the chain only from our trust store). So the first answer of
 * each connection's handle is kept and given to every caller; an empty answer (no handshake yet)
 * is not kept. Installed once, before any listener accepts (this module is loaded by the server
 * that creates the listener). Nothing changes where Node fixes the native call: the first answer
 * then equals every later one.
 */
function keepFirstPeerCertificate(): void {
  const probe = new TLSSocket(null as unknown as Socket);
  const proto = Object.getPrototypeOf((probe as unknown as { _handle: object })._handle) as Record<string | symbol, unknown>;
  probe.destroy();
  const native = proto.getPeerX509Certificate;
  if (typeof native !== "function" || native.name === "firstPeerCertificate") return; // installed already
  proto.getPeerX509Certificate = function firstPeerCertificate(this: Record<symbol, unknown>) {
    return (this[kFirstPeerCertificate] ??= (native as (this: object) => unknown).call(this));
  };
}
keepFirstPeerCertificate();

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
 * The certificates the client sent after its leaf, in its order (Node links them as
 * issuerCertificate from the peer's chain, see keepFirstPeerCertificate; it is not completed from
 * our trust store). A self-signed root the client included is left out: the upstream has its own
 * roots. Empty chain: no header.
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

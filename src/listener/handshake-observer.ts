// What a refused client presented. With rejectUnauthorized, Node destroys a socket whose client
// certificate failed verification (untrusted, expired, revoked) inside its own 'secure' handler,
// and 'tlsClientError' only comes after, with the native handle gone: the certificate, and so the
// subject, issuer and peer a refusal log and metric should name, is lost. The server's 'keylog'
// event is the one public hook that hands over each TLSSocket during its handshake; from there a
// listener prepended to the socket's 'secure' event runs before Node's and can still read the
// certificate. ('secure' is Node's internal event between handshake and verdict: if a future Node
// stops emitting it, refusals are still counted and logged, without the certificate.)
import type { X509Certificate } from "node:crypto";
import type { Server, TLSSocket } from "node:tls";

const kObserved = Symbol("trunkgate.handshakeObserved");
const kPresented = Symbol("trunkgate.presentedCertificate");

type Observed = TLSSocket & { [kObserved]?: true; [kPresented]?: X509Certificate };

/** The client certificate a socket presented, captured before any verdict (undefined: none, or not seen). */
export function presentedCertificate(socket: TLSSocket | undefined): X509Certificate | undefined {
  return (socket as Observed | undefined)?.[kPresented];
}

/**
 * Calls onHandshakeDone(socket) for every handshake that completed at the TLS level, before Node's
 * verification verdict destroys a refused socket, after capturing the client certificate (see
 * presentedCertificate). onKeylogLine sees each NSS key log line (TLS 1.3 secrets: tls13-alert.ts).
 */
export function observeHandshakes(
  server: Server,
  onHandshakeDone: (socket: TLSSocket) => void,
  onKeylogLine?: (line: Buffer, socket: TLSSocket) => void,
): void {
  server.on("keylog", (line: Buffer, socket: TLSSocket) => {
    onKeylogLine?.(line, socket);
    const s = socket as Observed;
    if (s[kObserved]) return;
    s[kObserved] = true;
    s.prependOnceListener("secure", () => {
      const cert = s.getPeerX509Certificate();
      if (cert !== undefined) s[kPresented] = cert;
      onHandshakeDone(s);
    });
  });
}

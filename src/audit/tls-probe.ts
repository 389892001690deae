// One TLS connection attempt toward the audited endpoint with a chosen version range, suite list
// and key-exchange groups. Every attempt is bounded by a timeout and always closes its socket
// unless the caller asks to keep it (to run SIP over it). Errors are data here, not exceptions:
// a refused handshake is exactly what many checks are looking for.
import { X509Certificate } from "node:crypto";
import { connect, type ConnectionOptions, type DetailedPeerCertificate, type TLSSocket } from "node:tls";

export interface ClientIdentity {
  cert: string;
  key: string;
  passphrase?: string;
}

export interface ProbeTarget {
  host: string;
  port: number;
  /** SNI and the name the server certificate must carry; undefined for an IP target without one. */
  serverName: string | undefined;
  /** Trusted roots (PEM): the bundled ones plus trust.extraRoots, as trunkgate uses them. */
  ca: readonly string[];
  timeoutMs: number;
}

export interface ProbeOptions {
  minVersion?: ConnectionOptions["minVersion"];
  maxVersion?: ConnectionOptions["maxVersion"];
  ciphers?: string;
  ecdhCurve?: string;
  secureOptions?: number;
  /** Present this client certificate; none when undefined. */
  identity?: ClientIdentity;
  /** Keep the socket open on success (the caller closes it). */
  keepOpen?: boolean;
}

export interface ProbeResult {
  ok: boolean;
  protocol?: string;
  /** OpenSSL's name (as the policy lists TLS 1.2 ciphers) and the IANA name. */
  cipher?: string;
  standardName?: string;
  /** Negotiated key-exchange group, e.g. X25519, prime256v1, secp384r1, or DH-2048. */
  group?: string;
  /** The chain as Node built it from what the server sent (leaf first). */
  chain: X509Certificate[];
  authorized: boolean;
  authorizationError?: string;
  /** The TLS alert or error that ended the attempt. */
  error?: string;
  socket?: TLSSocket;
}

/** `ERR_SSL_TLSV1_ALERT_UNKNOWN_CA` → `unknown_ca`; other errors keep their code or message. */
export function describeTlsError(err: NodeJS.ErrnoException): string {
  const m = /^ERR_SSL_(?:SSLV3|TLSV1|TLSV13)_ALERT_(.+)$/.exec(err.code ?? "");
  if (m) return `alert ${m[1]!.toLowerCase()}`;
  if (err.code === "ECONNRESET") return "connection reset";
  if (err.code === "ECONNREFUSED") return "connection refused";
  return err.code ?? err.message;
}

function peerChain(s: TLSSocket): X509Certificate[] {
  const out: X509Certificate[] = [];
  let c: DetailedPeerCertificate | undefined = s.getPeerCertificate(true) as DetailedPeerCertificate;
  const seen = new Set<string>();
  while (c && c.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}

export function probeTls(t: ProbeTarget, o: ProbeOptions = {}): Promise<ProbeResult> {
  return new Promise((resolve) => {
    let done = false;
    const socket = connect({
      host: t.host,
      port: t.port,
      ...(t.serverName !== undefined ? { servername: t.serverName } : {}),
      ca: [...t.ca],
      rejectUnauthorized: false,
      ...(o.minVersion ? { minVersion: o.minVersion } : {}),
      ...(o.maxVersion ? { maxVersion: o.maxVersion } : {}),
      ...(o.ciphers !== undefined ? { ciphers: o.ciphers } : {}),
      ...(o.ecdhCurve !== undefined ? { ecdhCurve: o.ecdhCurve } : {}),
      ...(o.secureOptions !== undefined ? { secureOptions: o.secureOptions } : {}),
      ...(o.identity ? { cert: o.identity.cert, key: o.identity.key, ...(o.identity.passphrase ? { passphrase: o.identity.passphrase } : {}) } : {}),
    });
    const finish = (r: ProbeResult) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (!r.socket) socket.destroy();
      resolve(r);
    };
    const timer = setTimeout(() => finish({ ok: false, chain: [], authorized: false, error: "timeout" }), t.timeoutMs);
    socket.once("error", (err: NodeJS.ErrnoException) => finish({ ok: false, chain: [], authorized: false, error: describeTlsError(err) }));
    socket.once("secureConnect", () => {
      const cipher = socket.getCipher();
      const eph = socket.getEphemeralKeyInfo() as { type?: string; name?: string; size?: number } | null;
      const group = eph?.name ?? (eph?.type === "DH" ? `DH-${eph.size}` : undefined);
      const authErr = socket.authorizationError as unknown as Error | string | null;
      finish({
        ok: true,
        protocol: socket.getProtocol() ?? undefined,
        cipher: cipher.name,
        standardName: cipher.standardName,
        ...(group !== undefined ? { group } : {}),
        chain: peerChain(socket),
        authorized: socket.authorized,
        ...(authErr ? { authorizationError: typeof authErr === "string" ? authErr : String((authErr as { code?: string }).code ?? authErr.message) } : {}),
        ...(o.keepOpen ? { socket } : {}),
      });
    });
  });
}

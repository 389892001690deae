// The downstream side of every protocol: a TLS server that requires a client certificate, verifies
// it against the trust store (OpenSSL: chain, validity, CRLs), then checks what OpenSSL does not:
// the clientAuth EKU and that the certificate belongs to a configured peer. Only then does the
// protocol (SIP, HTTP, provisioning) see the connection. Every refusal is counted by reason.
import type { X509Certificate } from "node:crypto";
import type { AddressInfo, Socket } from "node:net";
import { createServer, type Server, type TLSSocket, type TlsOptions } from "node:tls";
import type { PeerConfig } from "../config/schema/index.js";
import { errorSummary } from "../observability/error-summary.js";
import { internalErrors } from "../observability/internal-errors.js";
import type { Logger } from "../observability/logger.js";
import {
  CONNECTION_REFUSAL_REASONS,
  HANDSHAKE_FAILURE_REASONS,
  type ConnectionRefusalReason,
  type EdgeMetrics,
  type HandshakeFailureReason,
} from "../observability/metrics.js";
import { EKU_CLIENT_AUTH } from "../tls/certificate-names.js";
import type { TlsContextProvider } from "../tls/context-provider.js";
import type { PeerIdentity } from "../tls/peer-identity.js";
import { classifyHandshakeError } from "./handshake-failure.js";
import { observeHandshakes, presentedCertificate } from "./handshake-observer.js";
import { dropAlertSecret, keepAlertSecret, pendingVerifyError, sendRefusalAlert } from "./refusal-alerts.js";

/** The `peer` label of a refusal that names no configured peer (no certificate, or nobody's). */
const UNKNOWN_PEER = "unknown";

export interface DownstreamConnection {
  socket: TLSSocket;
  peer: PeerConfig;
  certificate: X509Certificate;
}

export interface MtlsListenerOptions {
  /** Metrics label and log field: "sip", "http", "provisioning". */
  name: string;
  host: string;
  port: number;
  tls: TlsContextProvider;
  identity: PeerIdentity;
  metrics: EdgeMetrics;
  logger: Logger;
  handshakeTimeoutMs: number;
  requireClientAuthEku: boolean;
  /** Cap on open connections on this listener (beyond it new TCP connections are refused). */
  maxConnections?: number;
  /** Cap per peer on this listener. */
  perPeerLimit?: (peer: PeerConfig) => number;
  /** Build a protocol-specific TLS server (e.g. http2.createSecureServer); default tls.createServer. */
  createServer?: (options: TlsOptions) => Server;
  /** ALPN protocols offered (e.g. ["h2", "http/1.1"]). */
  alpnProtocols?: string[];
  onConnection(conn: DownstreamConnection): void;
}

const kAcceptedAt = Symbol("trunkgate.acceptedAt");
/** The TCP peer, kept from accept: a socket Node destroyed in the handshake no longer knows it. */
const kRemote = Symbol("trunkgate.remote");

type AcceptedRaw = { [kAcceptedAt]?: number; [kRemote]?: { address?: string | undefined; port?: number | undefined } };

/** The accepted TCP socket under a server-side TLSSocket (Node keeps it as `_parent`). */
function rawOf(socket: TLSSocket | undefined): AcceptedRaw {
  return ((socket as unknown as { _parent?: AcceptedRaw } | undefined)?._parent ?? {}) as AcceptedRaw;
}
const kPeer = Symbol("trunkgate.peer");

/** The peer a downstream socket was authenticated as (set before the protocol sees the socket). */
export function peerOf(socket: Socket): PeerConfig | undefined {
  return (socket as unknown as { [kPeer]?: PeerConfig })[kPeer];
}

type CounterChild = { inc(n?: number): void };

/** A labelled counter child looked up once per label set: .labels() hashes its values on every call. */
function cachedChild(cache: Map<string, CounterChild>, counter: { labels(...values: string[]): CounterChild }, ...values: string[]): CounterChild {
  const key = values.join("|");
  let c = cache.get(key);
  if (c === undefined) {
    c = counter.labels(...values);
    cache.set(key, c);
  }
  return c;
}

export class MtlsListener {
  readonly server: Server;
  #sockets = new Set<TLSSocket>();
  #perPeer = new Map<string, number>();
  #accepting = true;
  /** Counter children by `reason|peer`: at most reasons × (configured peers + unknown). */
  readonly #failures = new Map<string, CounterChild>();
  readonly #handshakes = new Map<string, CounterChild>();
  readonly #refusals = new Map<string, CounterChild>();
  #active!: { inc(): void; dec(): void; set(v: number): void };
  #duration!: { observe(v: number): void };
  readonly #internalErrors: { inc(): void };

  constructor(private opts: MtlsListenerOptions) {
    const options: TlsOptions = {
      ...opts.tls.serverOptions(),
      requestCert: true,
      // OpenSSL refuses a client without a certificate inside the handshake (TLS alert
      // "certificate required"); one whose chain fails verification is destroyed by Node right
      // after it, and 'tlsClientError' then carries the socket with its authorizationError,
      // which is how the refusal reason (expired, revoked, untrusted…) reaches the metrics.
      rejectUnauthorized: true,
      handshakeTimeout: opts.handshakeTimeoutMs,
      ...(opts.alpnProtocols ? { ALPNProtocols: opts.alpnProtocols } : {}),
    };
    this.server = opts.createServer ? opts.createServer(options) : createServer(options);
    if (opts.maxConnections) this.server.maxConnections = opts.maxConnections;
    // Labelled children are looked up once: .labels() hashes its values on every call.
    // Zero series for the unknown peer (rates and alerts need them); per configured peer, a series
    // appears with its first count.
    for (const r of HANDSHAKE_FAILURE_REASONS) this.#failureCounter(r, UNKNOWN_PEER).inc(0);
    for (const r of CONNECTION_REFUSAL_REASONS) this.#refusalCounter(r, UNKNOWN_PEER).inc(0);
    // Node drops a TCP connection beyond server.maxConnections at accept, before any TLS.
    this.server.on("drop", () => this.#refusalCounter("max_connections", UNKNOWN_PEER).inc());
    this.#active = opts.metrics.activeConnections.labels(opts.name);
    this.#active.set(0);
    this.#duration = opts.metrics.handshakeDuration.labels(opts.name);
    this.#internalErrors = internalErrors(opts.metrics.registry).labels("listener");

    this.server.on("connection", (raw: Socket) => {
      const r = raw as unknown as AcceptedRaw;
      r[kAcceptedAt] = performance.now();
      r[kRemote] = { address: raw.remoteAddress, port: raw.remotePort };
    });
    // Must run before a protocol server's own secureConnection handler (http2 registers one).
    this.server.prependListener("secureConnection", (socket: TLSSocket) => this.#guarded(socket, "secure connection", () => this.#onSecure(socket)));
    this.server.on("tlsClientError", (err: Error, socket: TLSSocket) => this.#guarded(socket, "handshake failure", () => this.#onClientError(err, socket)));
    // Refused clients get a TLS alert saying why (refusal-alerts.ts), sent in the handshake-done
    // callback: for a failed verification here, before Node destroys the socket; for the checks
    // below (EKU, peer), in #refuse.
    observeHandshakes(
      this.server,
      (socket) => this.#guarded(socket, "handshake verdict", () => this.#alertFailedVerification(socket)),
      keepAlertSecret,
    );
    opts.tls.on("reload", () => this.server.setSecureContext(opts.tls.serverOptions()));
  }

  /**
   * The error boundary of one connection's listener events: an exception costs that connection
   * (destroyed; a registered one is released by its 'close'), is logged and counted, and never
   * reaches the process, which serves every other connection of every protocol.
   */
  #guarded(socket: TLSSocket | undefined, where: string, handle: () => void): void {
    try {
      handle();
    } catch (err) {
      this.#internalErrors.inc();
      this.opts.logger.error({ listener: this.opts.name, where, ...errorSummary(err) }, "listener internal error: connection closed");
      socket?.destroy();
    }
  }

  /**
   * Every failed handshake ends here, and its socket is destroyed here. Node does not do it for a
   * handshake timeout (a TCP connection that never starts TLS): without this, such connections
   * stayed open for ever, held a slot of maxConnections and their native TLS state.
   */
  #onClientError(err: Error, socket: TLSSocket | undefined): void {
    try {
      const verify = socket?.authorizationError;
      if (verify) {
        const code = String(verify);
        const e = Object.assign(new Error(code), { code });
        this.#fail(classifyHandshakeError(e), socket, e);
      } else this.#fail(classifyHandshakeError(err), socket, err);
    } finally {
      socket?.destroy();
    }
  }

  #alertFailedVerification(socket: TLSSocket): void {
    const code = pendingVerifyError(socket);
    if (code !== undefined) sendRefusalAlert(socket, classifyHandshakeError(Object.assign(new Error(code), { code })));
  }

  #onSecure(socket: TLSSocket): void {
    // Belt and braces with SSL_OP_NO_RENEGOTIATION: Node-level refusal of a renegotiation attempt.
    socket.disableRenegotiation();
    socket.on("error", () => undefined); // protocol handlers add their own; never an uncaught error
    // The observer's copy when it took one: asking the handle again yields a certificate whose
    // issuerCertificate chain is gone (Node 20), and Client-Cert-Chain needs that chain.
    const cert = presentedCertificate(socket) ?? socket.getPeerX509Certificate();
    if (!cert) return this.#refuse(socket, "no_certificate");
    if (!socket.authorized) {
      // Unreachable with rejectUnauthorized (Node destroys such sockets first); kept so that no
      // unverified socket can ever reach a protocol.
      const code = String(socket.authorizationError ?? "");
      return this.#refuse(socket, classifyHandshakeError(Object.assign(new Error(code), { code })), cert, code);
    }
    if (this.opts.requireClientAuthEku && !(cert.keyUsage ?? []).includes(EKU_CLIENT_AUTH)) {
      return this.#refuse(socket, "bad_purpose", cert);
    }
    const peer = this.opts.identity.match(cert);
    if (!peer) return this.#refuse(socket, "peer_not_allowed", cert);
    dropAlertSecret(socket);
    if (!this.#accepting) {
      this.#refusalCounter("draining", peer.name).inc();
      return void socket.destroy();
    }
    const limit = this.opts.perPeerLimit?.(peer);
    const count = this.#perPeer.get(peer.name) ?? 0;
    if (limit !== undefined && count >= limit) {
      // The newest connection is refused; the peer's established ones are bounded by the
      // protocol's progress timers (HTTP: headersMs, keepAliveMs), so a slot held without
      // progress frees itself.
      this.#refusalCounter("per_peer_limit", peer.name).inc();
      this.opts.logger.warn({ listener: this.opts.name, peer: peer.name, limit }, "per-peer connection limit reached");
      return void socket.destroy();
    }
    this.#perPeer.set(peer.name, count + 1);
    (socket as unknown as Record<symbol, PeerConfig>)[kPeer] = peer;

    const started = rawOf(socket)[kAcceptedAt];
    if (started !== undefined) this.#duration.observe((performance.now() - started) / 1000);
    this.#handshakeCounter(socket.getProtocol() ?? "unknown", socket.getCipher().standardName, peer.name).inc();
    this.#active.inc();
    this.#sockets.add(socket);
    socket.once("close", () => {
      this.#sockets.delete(socket);
      this.#active.dec();
      const n = (this.#perPeer.get(peer.name) ?? 1) - 1;
      if (n <= 0) this.#perPeer.delete(peer.name);
      else this.#perPeer.set(peer.name, n);
    });
    this.opts.onConnection({ socket, peer, certificate: cert });
  }

  /** One counter child per (protocol, cipher, peer): at most 2 × 10 × configured peers. */
  #handshakeCounter(protocol: string, cipher: string, peer: string): CounterChild {
    return cachedChild(this.#handshakes, this.opts.metrics.handshakes, this.opts.name, protocol, cipher, peer);
  }

  #failureCounter(reason: HandshakeFailureReason, peer: string): CounterChild {
    return cachedChild(this.#failures, this.opts.metrics.handshakeFailures, this.opts.name, reason, peer);
  }

  #refusalCounter(reason: ConnectionRefusalReason, peer: string): CounterChild {
    return cachedChild(this.#refusals, this.opts.metrics.connectionRefusals, this.opts.name, reason, peer);
  }

  #refuse(socket: TLSSocket, reason: HandshakeFailureReason, cert?: X509Certificate, code?: string): void {
    sendRefusalAlert(socket, reason);
    this.#fail(reason, socket, code ? Object.assign(new Error(code), { code }) : undefined, cert);
    socket.destroy();
  }

  /**
   * Counts and logs one refusal. The certificate is the one verified (bad_purpose,
   * peer_not_allowed) or, for a chain that failed verification, the one presented (captured by
   * handshake-observer.ts): its names then claim a peer without proving it, which is still what
   * tells an operator whose renewal broke. The log names the remote address, subject and issuer
   * (no customer data); the metric only a configured peer's name.
   */
  #fail(reason: HandshakeFailureReason, socket: TLSSocket | undefined, err?: Error, verified?: X509Certificate): void {
    const cert = verified ?? presentedCertificate(socket);
    const peer = cert !== undefined && reason !== "peer_not_allowed" ? this.opts.identity.match(cert)?.name : undefined;
    this.#failureCounter(reason, peer ?? UNKNOWN_PEER).inc();
    this.opts.logger.info(
      {
        listener: this.opts.name,
        reason,
        remote: socket?.remoteAddress ?? rawOf(socket)[kRemote]?.address,
        remotePort: socket?.remotePort ?? rawOf(socket)[kRemote]?.port,
        ...(peer !== undefined ? { peer } : {}),
        ...(cert
          ? {
              subject: cert.subject.replace(/\n/g, ", "),
              issuer: cert.issuer.replace(/\n/g, ", "),
              validTo: cert.validTo,
              fingerprint256: cert.fingerprint256,
            }
          : {}),
        ...(err ? { code: (err as { code?: string }).code, error: err.message } : {}),
      },
      "TLS connection refused",
    );
  }

  listen(): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.once("error", onError);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off("error", onError);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  get connections(): number {
    return this.#sockets.size;
  }

  get sockets(): ReadonlySet<TLSSocket> {
    return this.#sockets;
  }

  /**
   * Stop accepting new connections; established ones stay until the protocol drains them.
   * (server.close's callback waits for every connection, so it is not awaited here.)
   */
  stopAccepting(): void {
    this.#accepting = false;
    if (this.server.listening) this.server.close();
  }

  destroyAll(): void {
    for (const s of this.#sockets) s.destroy();
  }
}

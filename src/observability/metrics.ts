// prom-client registry and the metrics of the TLS edge. Each capability (sip/, http/, store/)
// registers its own metrics on the same registry in its own metrics.ts. Labels are from small fixed
// sets or configured names (`peer`: a configured peer's name or "unknown"): never a peer address,
// certificate subject, Call-ID or number.
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { internalErrors } from "./internal-errors.js";
import { collectProcessMetrics } from "./process-metrics.js";

export const HANDSHAKE_FAILURE_REASONS = [
  "no_certificate",
  "untrusted",
  "expired",
  "revoked",
  "bad_purpose",
  "peer_not_allowed",
  "protocol_version",
  "no_shared_cipher",
  "timeout",
  "other",
] as const;
export type HandshakeFailureReason = (typeof HANDSHAKE_FAILURE_REASONS)[number];

/** Why a listener refused a connection that got through TCP (handshake failures are counted apart). */
export const CONNECTION_REFUSAL_REASONS = ["max_connections", "per_peer_limit", "draining"] as const;
export type ConnectionRefusalReason = (typeof CONNECTION_REFUSAL_REASONS)[number];

export interface EdgeMetrics {
  registry: Registry;
  handshakes: Counter<"listener" | "protocol" | "cipher" | "peer">;
  handshakeFailures: Counter<"listener" | "reason" | "peer">;
  activeConnections: Gauge<"listener">;
  connectionRefusals: Counter<"listener" | "reason" | "peer">;
  handshakeDuration: Histogram<"listener">;
  certificateNotAfter: Gauge<"role" | "subject" | "key_type">;
  trustedRootNotAfter: Gauge<"subject">;
  reloads: Counter<"result">;
  buildInfo: Gauge<"version" | "node">;
}

export function createMetrics(version: string, registry: Registry = new Registry()): EdgeMetrics {
  collectProcessMetrics(registry);
  // Registered up front so the series exists (at 0) before the first error, for rates and alerts.
  internalErrors(registry);
  const m: EdgeMetrics = {
    registry,
    handshakes: new Counter({
      name: "trunkgate_tls_handshakes_total",
      help: "Completed mutual-TLS handshakes with an allowed peer",
      labelNames: ["listener", "protocol", "cipher", "peer"],
      registers: [registry],
    }),
    handshakeFailures: new Counter({
      name: "trunkgate_tls_handshake_failures_total",
      help: "Refused or failed TLS handshakes by reason and the configured peer the client certificate names (unknown: no certificate, or one naming no configured peer)",
      labelNames: ["listener", "reason", "peer"],
      registers: [registry],
    }),
    activeConnections: new Gauge({
      name: "trunkgate_active_connections",
      help: "Open downstream connections",
      labelNames: ["listener"],
      registers: [registry],
    }),
    connectionRefusals: new Counter({
      name: "trunkgate_connections_refused_total",
      help: "Connections refused by a listener's caps (max_connections: the listener's total, before TLS, so peer unknown; per_peer_limit: the peer's maxConnections) or while draining",
      labelNames: ["listener", "reason", "peer"],
      registers: [registry],
    }),
    handshakeDuration: new Histogram({
      name: "trunkgate_tls_handshake_duration_seconds",
      help: "Time from TCP accept to completed handshake",
      labelNames: ["listener"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    certificateNotAfter: new Gauge({
      name: "trunkgate_certificate_not_after_timestamp_seconds",
      help: "Expiry of each certificate trunkgate presents (role: server or client; key_type: ecdsa, rsa, ed25519…)",
      labelNames: ["role", "subject", "key_type"],
      registers: [registry],
    }),
    trustedRootNotAfter: new Gauge({
      name: "trunkgate_trusted_root_not_after_timestamp_seconds",
      help: "Expiry of each trusted root (an expired root is still listed, and reported at startup)",
      labelNames: ["subject"],
      registers: [registry],
    }),
    reloads: new Counter({
      name: "trunkgate_tls_reloads_total",
      help: "Certificate/trust reload attempts by result (success, error)",
      labelNames: ["result"],
      registers: [registry],
    }),
    buildInfo: new Gauge({
      name: "trunkgate_build_info",
      help: "Build information",
      labelNames: ["version", "node"],
      registers: [registry],
    }),
  };
  m.buildInfo.labels(version, process.version).set(1);
  return m;
}

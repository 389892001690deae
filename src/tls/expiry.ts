// Expiry of what trunkgate presents and trusts, as metrics and startup warnings. The bundled
// Baltimore CyberTrust Root expired on 2025-05-12: the spec lists it, so it stays, and is reported.
import type { X509Certificate } from "node:crypto";
import type { Logger } from "../observability/logger.js";
import type { EdgeMetrics } from "../observability/metrics.js";
import type { TlsMaterial } from "./material.js";

function oneLine(subject: string): string {
  return subject.replace(/\n/g, ", ");
}

/**
 * The key_type label: an ECDSA and an RSA certificate usually share their subject (served side by
 * side, chosen per client), and without it their expiries collapsed into one series.
 */
export function keyTypeLabel(cert: X509Certificate): string {
  const t = cert.publicKey.asymmetricKeyType ?? "unknown";
  if (t === "ec") return "ecdsa";
  if (t === "rsa-pss") return "rsa";
  return t;
}

export function reportExpiry(material: TlsMaterial, metrics: EdgeMetrics, logger: Logger, now = Date.now()): void {
  metrics.certificateNotAfter.reset();
  metrics.trustedRootNotAfter.reset();
  const leaves = [...material.server.map((s) => ["server", s.leaf] as const), ["client", material.client.leaf] as const];
  for (const [role, leaf] of leaves) {
    const notAfter = Date.parse(leaf.validTo);
    metrics.certificateNotAfter.labels(role, oneLine(leaf.subject), keyTypeLabel(leaf)).set(notAfter / 1000);
    const days = Math.floor((notAfter - now) / 86_400_000);
    if (days < 0) logger.error({ role, subject: oneLine(leaf.subject), validTo: leaf.validTo }, "certificate has EXPIRED");
    else if (days < 30) logger.warn({ role, subject: oneLine(leaf.subject), daysLeft: days }, "certificate expires soon");
  }
  for (const { cert, source } of material.trust.roots) {
    const notAfter = Date.parse(cert.validTo);
    metrics.trustedRootNotAfter.labels(oneLine(cert.subject)).set(notAfter / 1000);
    if (notAfter < now) {
      logger.warn(
        { root: oneLine(cert.subject), source, validTo: cert.validTo },
        "trusted root has expired: client certificates chaining only to it are refused (kept because the spec lists it)",
      );
    }
  }
}

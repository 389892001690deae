// Does a certificate chain to one of the trusted roots, using the other certificates of the same file
// as intermediates? A diagnostic for `trunkgate certs inspect`, not the TLS stack's verifier (that
// is OpenSSL, in the handshake): it says *why* a chain fails, which a handshake error rarely does.
import type { X509Certificate } from "node:crypto";

export type ChainStatus =
  /** path: one-line subjects from the certificate itself up to and including the root. */
  | { trusted: true; root: string; path: string[] }
  | { trusted: false; reason: string };

const MAX_DEPTH = 8;

export function oneLineName(name: string): string {
  return name.split("\n").join(", ");
}

function day(d: Date): string {
  return d.toISOString().slice(0, 10);
}

/** Why the certificate is not usable at `now`, or undefined when it is. */
function validityProblem(cert: X509Certificate, now: Date): string | undefined {
  const from = new Date(cert.validFrom);
  const to = new Date(cert.validTo);
  if (now.getTime() > to.getTime()) return `expired link: ${oneLineName(cert.subject)} expired on ${day(to)}`;
  if (now.getTime() < from.getTime()) return `expired link: ${oneLineName(cert.subject)} is not valid before ${day(from)}`;
  return undefined;
}

/**
 * Subject = issuer and signed by its own key. Not checkIssued(itself): OpenSSL's issuer check also
 * wants keyCertSign, which a self-signed *leaf* does not have.
 */
export function isSelfSigned(cert: X509Certificate): boolean {
  return cert.subject === cert.issuer && cert.verify(cert.publicKey);
}

export function chainStatus(
  cert: X509Certificate,
  intermediates: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  now: Date,
): ChainStatus {
  const rootPrints = new Set(roots.map((r) => r.fingerprint256));
  // Roots first: when a root also appears in the file, the trusted copy ends the walk.
  const candidates = [...roots, ...intermediates.filter((c) => !rootPrints.has(c.fingerprint256))];

  const walk = (cur: X509Certificate, seen: Set<string>, depth: number): ChainStatus => {
    const invalid = validityProblem(cur, now);
    if (invalid) return { trusted: false, reason: invalid };
    if (rootPrints.has(cur.fingerprint256)) {
      return { trusted: true, root: oneLineName(cur.subject), path: [oneLineName(cur.subject)] };
    }
    if (depth >= MAX_DEPTH) return { trusted: false, reason: `chain longer than ${MAX_DEPTH} certificates` };
    const issuers = candidates.filter((c) => !seen.has(c.fingerprint256) && cur.checkIssued(c));
    if (issuers.length === 0) {
      if (isSelfSigned(cur)) return { trusted: false, reason: `self-signed and not a trusted root: ${oneLineName(cur.subject)}` };
      return { trusted: false, reason: `unknown issuer: ${oneLineName(cur.issuer)}` };
    }
    let firstFailure: string | undefined;
    for (const issuer of issuers) {
      if (!cur.verify(issuer.publicKey)) {
        firstFailure ??= `bad signature: ${oneLineName(cur.subject)} is not signed by the key of ${oneLineName(issuer.subject)}`;
        continue;
      }
      // Only a trust anchor may lack CA:TRUE (old v1 roots); an intermediate must be a CA.
      if (!rootPrints.has(issuer.fingerprint256) && !issuer.ca) {
        firstFailure ??= `issuer is not a CA: ${oneLineName(issuer.subject)}`;
        continue;
      }
      const up = walk(issuer, new Set(seen).add(issuer.fingerprint256), depth + 1);
      if (up.trusted) return { trusted: true, root: up.root, path: [oneLineName(cur.subject), ...up.path] };
      firstFailure ??= up.reason;
    }
    return { trusted: false, reason: firstFailure ?? `unknown issuer: ${oneLineName(cur.issuer)}` };
  };
  return walk(cert, new Set([cert.fingerprint256]), 1);
}

// Checks of the carrier's server certificate chain, pure (no I/O): trusted root, days left, key,
// EKU, names, and which configured peer it belongs to. Peer matching is trunkgate's own
// (src/tls/peer-identity.ts): the carrier usually presents the same certificate as a client.
import { isIP } from "node:net";
import type { X509Certificate } from "node:crypto";
import type { PeerConfig } from "../config/schema/index.js";
import { certificateNames, parseSubjectAltName } from "../tls/certificate-names.js";
import { createPeerIdentity } from "../tls/peer-identity.js";
import { finding, type Finding } from "./findings.js";

const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const DAY_MS = 86_400_000;

export interface CertificateInput {
  /** Leaf first, as the handshake built it. */
  chain: readonly X509Certificate[];
  authorized: boolean;
  authorizationError: string | undefined;
  trustedRoots: readonly X509Certificate[];
  /** The name trunkgate checks the certificate against: peers[].sip.targets[].serverName, else the host. */
  host: string;
  serverName: string | undefined;
  port: number;
  peers: readonly PeerConfig[];
  /** --peer: the entry this endpoint must match. */
  expectedPeer: string | undefined;
  now: Date;
}

export function oneLine(dn: string): string {
  return dn.replace(/\n/g, ", ");
}

function commonName(dn: string): string {
  return /(?:^|\n)CN=([^\n]*)/.exec(dn)?.[1] ?? oneLine(dn);
}

export function certificateFindings(c: CertificateInput): Finding[] {
  const f: Finding[] = [];
  const leaf = c.chain[0];
  if (!leaf) return [finding("certificate", "cert.present", "fail", "the server sent no certificate")];
  f.push(trustFinding(c));
  f.push(expiryFinding(c.chain, c.trustedRoots, c.now));
  f.push(keyFinding(leaf));
  f.push(...ekuFindings(leaf));
  f.push(...nameFindings(leaf, c));
  f.push(peerFinding(leaf, c));
  return f;
}

function trustFinding(c: CertificateInput): Finding {
  const last = c.chain[c.chain.length - 1]!;
  const root = c.trustedRoots.find((r) => r.fingerprint256 === last.fingerprint256) ?? c.trustedRoots.find((r) => last.checkIssued(r));
  if (c.authorized) {
    return finding("certificate", "cert.chain", "pass", `complete chain to a trusted root${root ? ` (${commonName(root.subject)})` : ""}`);
  }
  const fix = "send the whole chain (leaf and intermediates) to DigiCert Global Root G2, or add the carrier's root to tls.trust.extraRoots";
  switch (c.authorizationError) {
    case "CERT_HAS_EXPIRED":
      return finding("certificate", "cert.chain", "fail", "a certificate in the chain has expired", "renew it");
    case "CERT_NOT_YET_VALID":
      return finding("certificate", "cert.chain", "fail", "a certificate in the chain is not valid yet", "check its notBefore and the server's clock");
    case "DEPTH_ZERO_SELF_SIGNED_CERT":
      return finding("certificate", "cert.chain", "fail", `self-signed certificate (${commonName(last.subject)})`, fix);
    case "SELF_SIGNED_CERT_IN_CHAIN":
      return finding("certificate", "cert.chain", "fail", `chains to an untrusted root: ${oneLine(last.subject)}`, fix);
    case "UNABLE_TO_GET_ISSUER_CERT_LOCALLY":
    case "UNABLE_TO_GET_ISSUER_CERT":
      return finding("certificate", "cert.chain", "fail",
        `no trusted root for issuer ${oneLine(last.issuer)}: the chain is incomplete or its root is not trusted`, fix);
    case "CERT_REVOKED":
      return finding("certificate", "cert.chain", "fail", "the certificate is revoked (a configured CRL lists it)", "issue a new certificate");
    default:
      return finding("certificate", "cert.chain", "fail", `the chain does not verify (${c.authorizationError ?? "unknown reason"})`, fix);
  }
}

function expiryFinding(chain: readonly X509Certificate[], roots: readonly X509Certificate[], now: Date): Finding {
  // The first certificate to expire decides (a trusted root counts too: Baltimore expired in 2025).
  let first = chain[0]!;
  for (const c of chain) if (Date.parse(c.validTo) < Date.parse(first.validTo)) first = c;
  const days = Math.floor((Date.parse(first.validTo) - now.getTime()) / DAY_MS);
  const which = first === chain[0] ? "the certificate" : `${commonName(first.subject)} in its chain`;
  const isRoot = roots.some((r) => r.fingerprint256 === first.fingerprint256);
  if (days < 0) return finding("certificate", "cert.days_left", "fail", `${which} expired ${-days} days ago (${first.validTo})`, isRoot ? "chain to a root that is still valid (DigiCert Global Root G2)" : "renew it");
  const msg = `${days} days left: ${which} expires ${first.validTo}`;
  if (days < 7) return finding("certificate", "cert.days_left", "fail", msg, "renew it now");
  if (days < 30) return finding("certificate", "cert.days_left", "warn", msg, "renew it within the next weeks");
  return finding("certificate", "cert.days_left", "pass", msg);
}

function keyFinding(leaf: X509Certificate): Finding {
  const type = leaf.publicKey.asymmetricKeyType;
  const d = leaf.publicKey.asymmetricKeyDetails ?? {};
  if (type === "ec") {
    const curve = d.namedCurve ?? "unknown curve";
    const ok = curve === "prime256v1" || curve === "secp384r1" || curve === "secp521r1";
    return ok ? finding("certificate", "cert.key", "pass", `ECDSA key on ${curve}`)
      : finding("certificate", "cert.key", "fail", `ECDSA key on ${curve}`, "use P-256 or P-384");
  }
  if (type === "rsa" || type === "rsa-pss") {
    const bits = d.modulusLength ?? 0;
    return bits >= 2048 ? finding("certificate", "cert.key", "pass", `RSA-${bits} key`)
      : finding("certificate", "cert.key", "fail", `RSA-${bits} key`, "use at least RSA-2048 (or ECDSA P-256)");
  }
  return finding("certificate", "cert.key", "warn", `${type ?? "unknown"} key`, "use ECDSA P-256/P-384 or RSA ≥ 2048");
}

function ekuFindings(leaf: X509Certificate): Finding[] {
  const eku = leaf.keyUsage as string[] | undefined;
  if (eku === undefined || eku.length === 0) {
    return [finding("certificate", "cert.eku", "warn", "no extended key usage", "add serverAuth (and clientAuth if it also authenticates to trunkgate with it)")];
  }
  const f = [eku.includes(SERVER_AUTH)
    ? finding("certificate", "cert.eku", "pass", "extended key usage serverAuth")
    : finding("certificate", "cert.eku", "fail", "no serverAuth extended key usage", "add serverAuth")];
  if (!eku.includes(CLIENT_AUTH)) {
    f.push(finding("certificate", "cert.eku.client", "info", "no clientAuth: trunkgate refuses it as a client certificate (tls.requireClientAuthEku)"));
  }
  return f;
}

function nameFindings(leaf: X509Certificate, c: CertificateInput): Finding[] {
  const sans = parseSubjectAltName(leaf.subjectAltName);
  if (sans.length === 0) {
    return [finding("certificate", "cert.san", "fail", "no subjectAltName (RFC 5922 identifies SIP servers by it)", "add the host names as DNS SANs")];
  }
  const f = [finding("certificate", "cert.san", "pass", `names: ${sans.map((s) => `${s.type}:${s.value}`).join(", ")}`)];
  const name = c.serverName ?? c.host;
  const matches = isIP(name) !== 0 && c.serverName === undefined ? leaf.checkIP(name) !== undefined : leaf.checkHost(name) !== undefined;
  f.push(matches
    ? finding("certificate", "cert.name", "pass", `valid for ${name}`)
    : finding("certificate", "cert.name", "fail", `not valid for ${name}: trunkgate's connection toward it would be refused`,
      `add ${name} to the certificate's SANs, or set the peer's sip.targets[].serverName to a name it carries`));
  return f;
}

function peerFinding(leaf: X509Certificate, c: CertificateInput): Finding {
  const peer = createPeerIdentity(c.peers).match(leaf);
  if (peer && (c.expectedPeer === undefined || peer.name === c.expectedPeer)) {
    return finding("certificate", "cert.peer", "pass", `belongs to configured peer ${peer.name}`);
  }
  const n = certificateNames(leaf);
  const name = c.expectedPeer ?? (n.dnsNames[0] ?? n.commonName ?? "carrier").replace(/[^A-Za-z0-9_.-]/g, "-");
  const match = n.dnsNames.length > 0 ? `dnsNames: [${n.dnsNames.join(", ")}]`
    : n.uris.length > 0 ? `uris: [${n.uris.join(", ")}]`
    : `commonNames: [${n.commonName ?? ""}]`;
  const yaml = [
    "peers:",
    `  - name: ${name}`,
    `    match: { ${match} }`,
    `    sip: { targets: [{ host: ${c.host}, port: ${c.port}${c.serverName ? `, serverName: ${c.serverName}` : ""} }] }`,
  ];
  if (c.expectedPeer !== undefined) {
    return finding("certificate", "cert.peer", "fail",
      peer ? `belongs to peer ${peer.name}, not ${c.expectedPeer}` : `does not match peer ${c.expectedPeer}'s match rules`,
      "change the peer's match (entry below) if this certificate is also the one it connects with", yaml);
  }
  return finding("certificate", "cert.peer", "info", "matches no configured peer; if it connects with this certificate, add:", undefined, yaml);
}

// `trunkgate certs inspect`: what an operator needs to know about a certificate file before wiring
// it into trunkgate — who, until when, for which names and purposes, which key, the pins to paste
// into a peer's config, and whether it chains to a root trunkgate trusts (and if not, why).
import { createHash, type X509Certificate } from "node:crypto";
import { chainStatus, isSelfSigned, oneLineName, type ChainStatus } from "./chain.js";
import { readCertificates, type CertificateFormat } from "./read-certificates.js";

export type { ChainStatus } from "./chain.js";

export interface SubjectAltNamesReport {
  dns: string[];
  ip: string[];
  uri: string[];
  email: string[];
  /** Anything else (othername, DirName, Registered ID), as Node prints it. */
  other: string[];
}

export interface CertReport {
  /** 1-based position in the file. */
  index: number;
  count: number;
  format: CertificateFormat;
  subject: string;
  issuer: string;
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
  /** Whole days until notAfter; negative once expired. */
  daysLeft: number;
  expired: boolean;
  notYetValid: boolean;
  isCa: boolean;
  selfSigned: boolean;
  sans: SubjectAltNamesReport;
  key: { type: string; bits?: number; curve?: string };
  /** Extended key usage names; null when the extension is absent (no EKU restriction). */
  eku: string[] | null;
  /** Colon-separated upper-case hex, as `openssl x509 -fingerprint -sha256` prints it. */
  sha256Fingerprint: string;
  /** base64(SHA-256(DER SubjectPublicKeyInfo)), the HPKP / pin-sha256 form. */
  spkiPin: string;
  chain: ChainStatus;
}

export interface InspectOptions {
  trustedRoots: X509Certificate[];
  /** PKCS#12 only; default empty. */
  passphrase?: string;
  now?: Date;
}

const DAY_MS = 86_400_000;

const EKU_NAMES: Record<string, string> = {
  "1.3.6.1.5.5.7.3.1": "serverAuth",
  "1.3.6.1.5.5.7.3.2": "clientAuth",
  "1.3.6.1.5.5.7.3.3": "codeSigning",
  "1.3.6.1.5.5.7.3.4": "emailProtection",
  "1.3.6.1.5.5.7.3.8": "timeStamping",
  "1.3.6.1.5.5.7.3.9": "OCSPSigning",
  "1.3.6.1.5.5.7.3.17": "ipsecIKE",
  "1.3.6.1.5.5.7.3.20": "sipDomain",
  "2.5.29.37.0": "anyExtendedKeyUsage",
};

const CURVE_NAMES: Record<string, string> = { prime256v1: "P-256", secp384r1: "P-384", secp521r1: "P-521" };
const CURVE_BITS: Record<string, number> = { prime256v1: 256, secp384r1: 384, secp521r1: 521 };

/** @throws CertificateInputError when the input is not PEM / DER / PKCS#12 or the passphrase is wrong. */
export function inspectCertificates(input: Buffer, opts: InspectOptions): CertReport[] {
  const { format, certificates } = readCertificates(input, { passphrase: opts.passphrase });
  const now = opts.now ?? new Date();
  return certificates.map((cert, i) =>
    describe(cert, {
      index: i + 1,
      count: certificates.length,
      format,
      now,
      intermediates: certificates.filter((_, j) => j !== i),
      roots: opts.trustedRoots,
    }),
  );
}

function describe(
  cert: X509Certificate,
  ctx: { index: number; count: number; format: CertificateFormat; now: Date; intermediates: X509Certificate[]; roots: X509Certificate[] },
): CertReport {
  const notBefore = new Date(cert.validFrom);
  const notAfter = new Date(cert.validTo);
  const now = ctx.now.getTime();
  const spki = cert.publicKey.export({ type: "spki", format: "der" });
  return {
    index: ctx.index,
    count: ctx.count,
    format: ctx.format,
    subject: oneLineName(cert.subject),
    issuer: oneLineName(cert.issuer),
    serialNumber: cert.serialNumber,
    notBefore,
    notAfter,
    daysLeft: Math.floor((notAfter.getTime() - now) / DAY_MS),
    expired: now > notAfter.getTime(),
    notYetValid: now < notBefore.getTime(),
    isCa: cert.ca,
    selfSigned: isSelfSigned(cert),
    sans: parseSubjectAltName(cert.subjectAltName),
    key: describeKey(cert),
    eku: cert.keyUsage ? cert.keyUsage.map((oid) => EKU_NAMES[oid] ?? oid) : null,
    sha256Fingerprint: cert.fingerprint256,
    spkiPin: createHash("sha256").update(spki).digest("base64"),
    chain: chainStatus(cert, ctx.intermediates, ctx.roots, ctx.now),
  };
}

function describeKey(cert: X509Certificate): CertReport["key"] {
  const key = cert.publicKey;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case "rsa":
    case "rsa-pss":
      return { type: key.asymmetricKeyType === "rsa" ? "RSA" : "RSA-PSS", bits: details.modulusLength };
    case "ec": {
      const curve = details.namedCurve ?? "unknown curve";
      return { type: "EC", curve: CURVE_NAMES[curve] ?? curve, bits: CURVE_BITS[curve] };
    }
    case "ed25519":
      return { type: "Ed25519", bits: 256 };
    case "ed448":
      return { type: "Ed448", bits: 456 };
    default:
      return { type: key.asymmetricKeyType ?? "unknown" };
  }
}

/**
 * Node renders the SAN extension as `DNS:a, IP Address:1.2.3.4, URI:sip:x`; a value that contains a
 * separator or a quote is written as a JSON string (since Node 17.3.1), so values are read with that
 * in mind rather than split on ", ".
 */
export function parseSubjectAltName(text: string | undefined): SubjectAltNamesReport {
  const out: SubjectAltNamesReport = { dns: [], ip: [], uri: [], email: [], other: [] };
  if (!text) return out;
  let pos = 0;
  while (pos < text.length) {
    const colon = text.indexOf(":", pos);
    if (colon < 0) break;
    const kind = text.slice(pos, colon);
    let value: string;
    let next: number;
    if (text[colon + 1] === '"') {
      let end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      value = JSON.parse(text.slice(colon + 1, end + 1)) as string;
      next = text.indexOf(", ", end);
    } else {
      next = text.indexOf(", ", colon);
      value = text.slice(colon + 1, next < 0 ? text.length : next);
    }
    switch (kind) {
      case "DNS":
        out.dns.push(value);
        break;
      case "IP Address":
        out.ip.push(value.includes(":") ? compressIpv6(value) : value);
        break;
      case "URI":
        out.uri.push(value);
        break;
      case "email":
        out.email.push(value);
        break;
      default:
        out.other.push(`${kind}:${value}`);
    }
    if (next < 0) break;
    pos = next + 2;
  }
  return out;
}

/** 0:0:0:0:0:0:0:1 → ::1 (RFC 5952: longest run of two or more zero groups, first one on a tie). */
export function compressIpv6(addr: string): string {
  const groups = addr.split(":");
  if (groups.length !== 8 || groups.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return addr;
  const parts = groups.map((g) => parseInt(g, 16).toString(16));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (parts[i] !== "0") {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && parts[j] === "0") j++;
    if (j - i > bestLen) [bestStart, bestLen] = [i, j - i];
    i = j;
  }
  if (bestStart < 0) return parts.join(":");
  return `${parts.slice(0, bestStart).join(":")}::${parts.slice(bestStart + bestLen).join(":")}`;
}

function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function validityLine(r: CertReport): string {
  const span = `${isoSeconds(r.notBefore)} → ${isoSeconds(r.notAfter)}`;
  if (r.expired) return `${span}  EXPIRED ${-r.daysLeft} days ago`;
  if (r.notYetValid) return `${span}  NOT YET VALID`;
  return `${span}  (${r.daysLeft} days left)`;
}

function sanLine(s: SubjectAltNamesReport): string {
  const all = [
    ...s.dns.map((v) => `DNS:${v}`),
    ...s.ip.map((v) => `IP:${v}`),
    ...s.uri.map((v) => `URI:${v}`),
    ...s.email.map((v) => `email:${v}`),
    ...s.other,
  ];
  return all.length > 0 ? all.join(", ") : "(none)";
}

function keyLine(k: CertReport["key"]): string {
  if (k.curve) return `${k.type} ${k.curve}${k.bits ? ` (${k.bits} bits)` : ""}`;
  return k.bits ? `${k.type} ${k.bits} bits` : k.type;
}

function chainLine(c: ChainStatus): string {
  if (!c.trusted) return `NOT TRUSTED: ${c.reason}`;
  const via = c.path.slice(1, -1);
  return `trusted, root ${c.root}${via.length > 0 ? ` (via ${via.join(" → ")})` : ""}`;
}

/** The human-readable report: one block per certificate. */
export function formatCertReports(reports: readonly CertReport[]): string {
  return reports
    .map((r) =>
      [
        `Certificate ${r.index} of ${r.count} (${r.format})`,
        `  Subject:     ${r.subject || "(empty)"}`,
        `  Issuer:      ${r.issuer || "(empty)"}${r.selfSigned ? "  [self-signed]" : ""}`,
        `  Serial:      ${r.serialNumber}`,
        `  Validity:    ${validityLine(r)}`,
        `  SANs:        ${sanLine(r.sans)}`,
        `  Key:         ${keyLine(r.key)}`,
        `  EKU:         ${r.eku === null ? "(no extension: any purpose)" : r.eku.join(", ")}`,
        `  CA:          ${r.isCa ? "yes" : "no"}`,
        `  SHA-256:     ${r.sha256Fingerprint}`,
        `  SPKI pin:    ${r.spkiPin}`,
        `  Chain:       ${chainLine(r.chain)}`,
      ].join("\n"),
    )
    .join("\n\n")
    .concat("\n");
}

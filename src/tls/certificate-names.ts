// Names and keys of a peer certificate, as RFC 5922 §7.1 uses them for identity: the
// subjectAltName dNSName and URI entries; the subject CN only when there is no SAN of those kinds.
import { createHash, type X509Certificate } from "node:crypto";

export interface CertificateNames {
  dnsNames: string[];
  uris: string[];
  commonName: string | undefined;
}

/**
 * Node renders subjectAltName as `DNS:a, URI:sip:b, IP Address:1.2.3.4`; an entry holding a comma or
 * quote is JSON-quoted (`DNS:"a,b"`), so split on ", " only outside quotes.
 */
export function parseSubjectAltName(san: string | undefined): { type: string; value: string }[] {
  if (!san) return [];
  const out: { type: string; value: string }[] = [];
  let i = 0;
  while (i < san.length) {
    const colon = san.indexOf(":", i);
    if (colon < 0) break;
    const type = san.slice(i, colon).trim();
    let value: string;
    let next: number;
    if (san[colon + 1] === '"') {
      let j = colon + 2;
      while (j < san.length && !(san[j] === '"' && san[j - 1] !== "\\")) j++;
      try {
        value = JSON.parse(san.slice(colon + 1, j + 1)) as string;
      } catch {
        value = san.slice(colon + 2, j);
      }
      next = san.indexOf(", ", j);
    } else {
      next = san.indexOf(", ", colon);
      value = san.slice(colon + 1, next < 0 ? san.length : next);
    }
    out.push({ type, value });
    if (next < 0) break;
    i = next + 2;
  }
  return out;
}

export function commonNameOf(subject: string): string | undefined {
  for (const line of subject.split("\n")) if (line.startsWith("CN=")) return line.slice(3);
  return undefined;
}

export function certificateNames(cert: X509Certificate): CertificateNames {
  const dnsNames: string[] = [];
  const uris: string[] = [];
  for (const e of parseSubjectAltName(cert.subjectAltName)) {
    if (e.type === "DNS") dnsNames.push(e.value.toLowerCase());
    else if (e.type === "URI") uris.push(e.value);
  }
  return { dnsNames, uris, commonName: commonNameOf(cert.subject) };
}

/** base64 SHA-256 of the DER SubjectPublicKeyInfo: the pin `certs inspect` prints. */
export function spkiSha256(cert: X509Certificate): string {
  const der = cert.publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("base64");
}

export const EKU_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
export const EKU_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

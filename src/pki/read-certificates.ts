// Turns the bytes of a certificate file into Node X509Certificate objects, whatever the container:
// PEM (one or more CERTIFICATE blocks), a single DER certificate, or PKCS#12 (.p12/.pfx).
import { X509Certificate } from "node:crypto";
import forge from "node-forge";
import { splitPem } from "../tls/pem.js";

export type CertificateFormat = "PEM" | "DER" | "PKCS#12";

export interface ReadCertificates {
  format: CertificateFormat;
  certificates: X509Certificate[];
}

/** The input is not a certificate file we understand, or a PKCS#12 passphrase is wrong. */
export class CertificateInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CertificateInputError";
  }
}

export function readCertificates(input: Buffer, opts: { passphrase?: string } = {}): ReadCertificates {
  if (input.length === 0) throw new CertificateInputError("empty input");
  if (input.includes("-----BEGIN ")) return { format: "PEM", certificates: fromPem(input.toString("latin1")) };
  let derError: unknown;
  try {
    return { format: "DER", certificates: [new X509Certificate(input)] };
  } catch (err) {
    derError = err;
  }
  const p12 = fromPkcs12(input, opts.passphrase ?? "");
  if (p12) return { format: "PKCS#12", certificates: p12 };
  throw new CertificateInputError(`neither PEM, a DER certificate nor PKCS#12 (${(derError as Error).message})`);
}

function fromPem(text: string): X509Certificate[] {
  const blocks = splitPem(text, "CERTIFICATE");
  if (blocks.length === 0) {
    const labels = [...new Set(Array.from(text.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----/g), (m) => m[1]))];
    throw new CertificateInputError(`PEM holds no CERTIFICATE block (found: ${labels.join(", ") || "nothing usable"})`);
  }
  return blocks.map((pem, i) => {
    try {
      return new X509Certificate(pem);
    } catch (err) {
      throw new CertificateInputError(`PEM certificate #${i + 1} is not a valid certificate (${(err as Error).message})`);
    }
  });
}

/**
 * Why two libraries: node-forge is the only PKCS#12 parser we have (Node exposes none that hands
 * out the certificates), but forge's X.509 code understands RSA keys only. So forge opens the
 * container (MAC check, decryption) and Node's crypto reads every certificate: forge leaves a
 * certificate it cannot parse (ECDSA, Ed25519) as raw ASN.1 in `bag.asn1`, which we DER-encode; an
 * RSA one it parsed into `bag.cert`, which we turn back into DER (forge keeps the original
 * TBSCertificate, so the bytes and the fingerprint are unchanged).
 *
 * Returns undefined when the bytes are not PKCS#12 at all, so the caller can report the format.
 */
function fromPkcs12(input: Buffer, passphrase: string): X509Certificate[] | undefined {
  let asn1: forge.asn1.Asn1;
  try {
    asn1 = forge.asn1.fromDer(forge.util.createBuffer(input.toString("binary")));
  } catch {
    return undefined;
  }
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(asn1, false, passphrase);
  } catch (err) {
    const msg = (err as Error).message;
    if (/password|MAC could not be verified|decrypt/i.test(msg)) {
      throw new CertificateInputError("PKCS#12: wrong passphrase (MAC check or decryption failed)");
    }
    // Valid DER that is not a PFX (e.g. a private key or a CSR) lands here too.
    throw new CertificateInputError(`not a certificate file: not a DER certificate, and not PKCS#12 (${msg})`);
  }
  const bags = p12.getBags({ bagType: forge.pki.oids.certBag! })[forge.pki.oids.certBag!] ?? [];
  const certs: X509Certificate[] = [];
  for (const [i, bag] of bags.entries()) {
    const certAsn1 = bag.cert ? forge.pki.certificateToAsn1(bag.cert) : bag.asn1;
    if (!certAsn1) throw new CertificateInputError(`PKCS#12 certificate bag #${i + 1} is empty`);
    const der = Buffer.from(forge.asn1.toDer(certAsn1).getBytes(), "binary");
    try {
      certs.push(new X509Certificate(der));
    } catch (err) {
      throw new CertificateInputError(`PKCS#12 certificate #${i + 1} is not a valid certificate (${(err as Error).message})`);
    }
  }
  if (certs.length === 0) throw new CertificateInputError("PKCS#12 holds no certificate");
  return certs;
}

// The trust store: bundled roots (DigiCert Global Root G2, Baltimore CyberTrust Root) plus the
// operator's extra roots, and CRLs. Loaded from files on every (re)load so a rotated root or a new
// CRL takes effect on hot reload.
import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { BUNDLED_ROOTS, bundledRootPath } from "../paths.js";
import type { TlsConfig } from "../config/schema/index.js";
import { TlsMaterialError, splitPem } from "./pem.js";

export interface TrustStore {
  /** PEM of every trusted root, for SecureContext `ca`. */
  caPems: string[];
  roots: { source: string; cert: X509Certificate }[];
  crlPems: string[];
  /** The files this store was built from (watched for hot reload). */
  files: string[];
}

export function loadTrustStore(trust: TlsConfig["trust"]): TrustStore {
  const store: TrustStore = { caPems: [], roots: [], crlPems: [], files: [] };
  const add = (file: string, key: string) => {
    const pems = splitPem(readOrThrow(file, key), "CERTIFICATE");
    if (pems.length === 0) throw new TlsMaterialError(key, `${file} holds no PEM certificate`);
    for (const pem of pems) {
      let cert: X509Certificate;
      try {
        cert = new X509Certificate(pem);
      } catch (err) {
        throw new TlsMaterialError(key, `${file}: not a valid certificate (${(err as Error).message})`);
      }
      if (!cert.ca) throw new TlsMaterialError(key, `${file}: ${cert.subject.replace(/\n/g, ", ")} is not a CA certificate`);
      store.caPems.push(pem);
      store.roots.push({ source: file, cert });
    }
    store.files.push(file);
  };
  if (trust.bundledRoots) for (const r of BUNDLED_ROOTS) add(bundledRootPath(r.file), "tls.trust.bundledRoots");
  trust.extraRoots.forEach((f, i) => {
    add(f, `tls.trust.extraRoots.${i}`);
  });
  trust.crls.forEach((f, i) => {
    const key = `tls.trust.crls.${i}`;
    const crls = splitPem(readOrThrow(f, key), "X509 CRL");
    if (crls.length === 0) throw new TlsMaterialError(key, `${f} holds no PEM X509 CRL`);
    store.crlPems.push(...crls);
    store.files.push(f);
  });
  return store;
}

export function readOrThrow(file: string, key: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (err) {
    throw new TlsMaterialError(key, `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

// Reads every TLS file the config names and checks it can be used: each key matches its
// certificate, certificates parse. Errors name the config key (`tls.certificates.0.key: …`).
import { X509Certificate, createPrivateKey } from "node:crypto";
import { createSecureContext } from "node:tls";
import type { TlsConfig } from "../config/schema/index.js";
import { TlsMaterialError, splitPem } from "./pem.js";
import { loadTrustStore, readOrThrow, type TrustStore } from "./trust-store.js";

export interface KeyPairMaterial {
  cert: string;
  key: string;
  passphrase?: string;
  leaf: X509Certificate;
}

export interface TlsMaterial {
  server: KeyPairMaterial[];
  client: KeyPairMaterial;
  trust: TrustStore;
  /** Every file read, watched for hot reload. */
  files: string[];
}

/** One certificate + key pair; exported for `config check`, which checks each pair on its own. */
export function loadKeyPair(kp: TlsConfig["clientCertificate"], key: string): KeyPairMaterial {
  const cert = readOrThrow(kp.cert, `${key}.cert`);
  const pems = splitPem(cert, "CERTIFICATE");
  if (pems.length === 0) throw new TlsMaterialError(`${key}.cert`, `${kp.cert} holds no PEM certificate`);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(pems[0]!);
  } catch (err) {
    throw new TlsMaterialError(`${key}.cert`, `${kp.cert}: ${(err as Error).message}`);
  }
  const keyPem = readOrThrow(kp.key, `${key}.key`);
  const passphrase = kp.passphraseFile ? readOrThrow(kp.passphraseFile, `${key}.passphraseFile`).trim() : undefined;
  try {
    const priv = createPrivateKey({ key: keyPem, ...(passphrase !== undefined ? { passphrase } : {}) });
    if (!leaf.checkPrivateKey(priv)) {
      throw new TlsMaterialError(`${key}.key`, `${kp.key} does not match the certificate in ${kp.cert}`);
    }
  } catch (err) {
    if (err instanceof TlsMaterialError) throw err;
    throw new TlsMaterialError(`${key}.key`, `${kp.key}: unusable private key (${(err as Error).message})`);
  }
  return { cert, key: keyPem, ...(passphrase !== undefined ? { passphrase } : {}), leaf };
}

export function loadTlsMaterial(cfg: TlsConfig): TlsMaterial {
  const server = cfg.certificates.map((kp, i) => loadKeyPair(kp, `tls.certificates.${i}`));
  const client = loadKeyPair(cfg.clientCertificate, "tls.clientCertificate");
  const trust = loadTrustStore(cfg.trust);
  const files = [
    ...cfg.certificates.flatMap((kp) => [kp.cert, kp.key, ...(kp.passphraseFile ? [kp.passphraseFile] : [])]),
    cfg.clientCertificate.cert,
    cfg.clientCertificate.key,
    ...trust.files,
  ];
  // OpenSSL is the final judge (e.g. two certificates of the same key type): build once to check.
  try {
    createSecureContext({
      cert: server.map((s) => s.cert),
      key: server.map((s) => (s.passphrase ? { pem: s.key, passphrase: s.passphrase } : s.key)),
      ca: trust.caPems,
      ...(trust.crlPems.length ? { crl: trust.crlPems } : {}),
    });
  } catch (err) {
    throw new TlsMaterialError("tls.certificates", (err as Error).message);
  }
  return { server, client, trust, files };
}

// The file checks `start` makes before it opens a socket, run without starting anything, so that
// `config check` reports every problem at once: the TLS material (each pair, root and CRL on its
// own, then OpenSSL's view of the whole), the development PKI plan, the JWKS file, the store's key
// file or TRUNKGATE_STORE_KEY, and the log hash key. Warnings are what `start` would log.
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { Config } from "../config/schema/index.js";
import { missingDevPkiFile, planDevPki } from "../pki/dev-pki-plan.js";
import { parseJwks } from "../provisioning/auth/jwks-file.js";
import { keyringFromEnv, loadKeyring, STORE_KEY_ENV } from "../store/crypto/key-file.js";
import { loadKeyPair, loadTlsMaterial } from "../tls/material.js";
import { TlsMaterialError } from "../tls/pem.js";
import { loadTrustStore } from "../tls/trust-store.js";

export interface PreflightResult {
  problems: string[];
  warnings: string[];
  notes: string[];
}

export function preflight(cfg: Config, env: NodeJS.ProcessEnv = process.env): PreflightResult {
  const r: PreflightResult = { problems: [], warnings: [], notes: [] };
  checkTls(cfg, r);
  checkProvisioning(cfg, r);
  checkStoreKey(cfg, env, r);
  if (cfg.logging.hashKeyFile !== undefined) {
    attempt(r, "logging.hashKeyFile", () => void readFileSync(cfg.logging.hashKeyFile!));
  }
  if (cfg.peers.length === 0) r.warnings.push("peers: none configured: every client certificate will be refused");
  return r;
}

function checkTls(cfg: Config, r: PreflightResult): void {
  const plan = planDevPki(cfg.tls);
  if (plan.action === "generate") {
    r.notes.push(`tls.devPki: ${plan.dir} holds no development PKI; start will generate one (for development only)`);
    // The pairs will exist once generated; roots and CRLs outside the directory are still checked.
  } else if (plan.action === "missing") {
    for (const m of plan.missing) r.problems.push(`${m.key}: ${missingDevPkiFile(plan, m.file)}`);
  }
  const pending = new Set(plan.action === "generate" ? ["*"] : plan.action === "missing" ? plan.missing.map((m) => m.key) : []);
  const pairOk = (key: string) => {
    if (pending.has("*") || pending.has(`${key}.cert`) || pending.has(`${key}.key`)) return true; // reported above or generated
    return attempt(r, key, () => void loadKeyPair(key === "tls.clientCertificate" ? cfg.tls.clientCertificate : cfg.tls.certificates[Number(key.split(".")[2])]!, key));
  };
  let ok = cfg.tls.certificates.map((_, i) => pairOk(`tls.certificates.${i}`)).every(Boolean);
  ok = pairOk("tls.clientCertificate") && ok;
  // Each trust file alone, so every bad one is named (the store loader stops at the first).
  const trust = cfg.tls.trust;
  const generatedCa = (f: string) => plan.action === "generate" && resolve(f).startsWith(plan.dir);
  if (trust.bundledRoots) ok = attempt(r, "tls.trust.bundledRoots", () => void loadTrustStore({ bundledRoots: true, extraRoots: [], crls: [] })) && ok;
  trust.extraRoots.forEach((f, i) => {
    if (generatedCa(f)) return;
    ok = attempt(r, `tls.trust.extraRoots.${i}`, () => void loadTrustStore({ bundledRoots: false, extraRoots: [f], crls: [] }), "tls.trust.extraRoots.0") && ok;
  });
  trust.crls.forEach((f, i) => {
    ok = attempt(r, `tls.trust.crls.${i}`, () => void loadTrustStore({ bundledRoots: false, extraRoots: [], crls: [f] }), "tls.trust.crls.0") && ok;
  });
  // Everything readable: OpenSSL's verdict on the combination (e.g. two certificates of one key type).
  if (ok && plan.action === "none") attempt(r, "tls", () => void loadTlsMaterial(cfg.tls));
}

function checkProvisioning(cfg: Config, r: PreflightResult): void {
  const p = cfg.provisioning;
  const configured = p.auth.jwksFile !== undefined || p.auth.jwksUrl !== undefined || p.auth.issuer !== undefined;
  if (!p.enabled) {
    if (configured) r.warnings.push("provisioning: provisioning.auth is configured but provisioning.enabled is not true: the API will not start");
    return;
  }
  if (p.auth.jwksFile !== undefined) {
    const file = p.auth.jwksFile;
    attempt(r, "provisioning.auth.jwksFile", () => {
      let text: string;
      try {
        text = readFileSync(file, "utf8");
      } catch (err) {
        throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
      parseJwks(text);
    });
  } else {
    r.notes.push(`provisioning.auth.jwksUrl: not fetched by config check (start fetches it and only warns when unreachable)`);
  }
}

function checkStoreKey(cfg: Config, env: NodeJS.ProcessEnv, r: PreflightResult): void {
  const fromEnv = env[STORE_KEY_ENV];
  if (fromEnv !== undefined && fromEnv !== "") {
    attempt(r, STORE_KEY_ENV, () => void keyringFromEnv(fromEnv), STORE_KEY_ENV);
    return;
  }
  const file = isAbsolute(cfg.store.encryptionKeyFile) ? cfg.store.encryptionKeyFile : resolve(cfg.store.encryptionKeyFile);
  if (!existsSync(file)) {
    if (cfg.store.createKeyFileIfMissing) r.notes.push(`store.encryptionKeyFile: ${file} does not exist yet; start creates it (back it up)`);
    else r.problems.push(`store.encryptionKeyFile: ${file} does not exist (and store.createKeyFileIfMissing is false)`);
    return;
  }
  // The same rules start applies: a key file other users may read is a problem, not a warning.
  attempt(r, "store.encryptionKeyFile", () => void loadKeyring(file, {}, { allowGroupReadable: cfg.store.allowGroupReadableKeyFile }), "store.encryptionKeyFile");
}

/**
 * Runs one check; a failure becomes a problem under `key`. Errors that already name a key are
 * renamed when the check ran on a one-entry copy (`from`: the key they were checked under).
 */
function attempt(r: PreflightResult, key: string, check: () => void, from?: string): boolean {
  try {
    check();
    return true;
  } catch (err) {
    let msg = (err as Error).message;
    if (err instanceof TlsMaterialError) msg = msg.slice(err.key.length + 2);
    else if (from !== undefined && msg.startsWith(`${from}: `)) msg = msg.slice(from.length + 2);
    const prefix = err instanceof TlsMaterialError && from === undefined ? err.key : key;
    r.problems.push(`${prefix}: ${msg}`);
    return false;
  }
}

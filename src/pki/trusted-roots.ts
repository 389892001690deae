// The roots `certs inspect` checks chains against: the bundled public roots shipped in certs/ and,
// when a configuration loads, its tls.trust settings (bundledRoots switch, extraRoots files).
import type { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import type { TlsConfig } from "../config/schema/index.js";
import { BUNDLED_ROOTS, bundledRootPath } from "../paths.js";
import { readCertificates } from "./read-certificates.js";

export interface TrustedRoots {
  roots: X509Certificate[];
  /** Where each group of roots came from, for the report header. */
  sources: string[];
  /** Root files that could not be used, each naming the file and the config key. */
  problems: string[];
}

export function bundledRootFiles(): string[] {
  return BUNDLED_ROOTS.map((r) => bundledRootPath(r.file));
}

/** Every certificate in a root file (PEM bundle or DER). Throws with the file named. */
export function readRootFile(file: string): X509Certificate[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return readCertificates(bytes).certificates;
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

/**
 * Bundled roots plus the configured extra roots; a missing or broken extra root file is reported in
 * `problems` and skipped, so one bad file does not hide what the others say.
 */
export function loadTrustedRoots(trust?: Pick<TlsConfig["trust"], "bundledRoots" | "extraRoots">): TrustedRoots {
  const out: TrustedRoots = { roots: [], sources: [], problems: [] };
  const add = (file: string, key: string) => {
    try {
      out.roots.push(...readRootFile(file));
      out.sources.push(file);
    } catch (err) {
      out.problems.push(`${key}: ${(err as Error).message}`);
    }
  };
  if (trust?.bundledRoots ?? true) for (const file of bundledRootFiles()) add(file, "bundled root");
  trust?.extraRoots.forEach((file, i) => {
    add(file, `tls.trust.extraRoots.${i}`);
  });
  return out;
}

// What tls.devPki.autoGenerate should do with the configured files, decided before anything is
// written. Generating replaces the CA and every certificate (trunks trusting the old CA stop
// connecting), so it happens only when the directory holds no development PKI at all; a configured
// file missing next to an existing PKI is almost always a typo in the path, reported as such.
import { existsSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import type { TlsConfig } from "../config/schema/index.js";
import { DEV_PKI_FILES } from "./dev-pki.js";

export type DevPkiPlan =
  /** Not asked for, no configured file lives in the directory, or every one exists. */
  | { action: "none" }
  /** The directory holds none of the dev PKI's files: make one. */
  | { action: "generate"; dir: string }
  /** The directory holds a PKI, but configured files in it are missing: name them, write nothing. */
  | { action: "missing"; dir: string; present: string[]; missing: { key: string; file: string }[] };

export function planDevPki(tls: TlsConfig): DevPkiPlan {
  if (!tls.devPki.autoGenerate) return { action: "none" };
  const dir = resolve(tls.devPki.dir);
  const configured = [
    ...tls.certificates.flatMap((c, i) => [
      { key: `tls.certificates.${i}.cert`, file: c.cert },
      { key: `tls.certificates.${i}.key`, file: c.key },
    ]),
    { key: "tls.clientCertificate.cert", file: tls.clientCertificate.cert },
    { key: "tls.clientCertificate.key", file: tls.clientCertificate.key },
  ].filter((f) => resolve(f.file).startsWith(dir + sep));
  const missing = configured.filter((f) => !existsSync(f.file));
  if (missing.length === 0) return { action: "none" };
  const present = DEV_PKI_FILES.filter((f) => existsSync(join(dir, f)));
  if (present.length === 0) return { action: "generate", dir };
  return { action: "missing", dir, present: [...present], missing };
}

/** The error message for one missing file of a plan with action "missing". */
export function missingDevPkiFile(plan: Extract<DevPkiPlan, { action: "missing" }>, file: string): string {
  return (
    `${file} does not exist, and ${plan.dir} already holds a development PKI (${plan.present.join(", ")}), ` +
    `so nothing was regenerated: correct the path, or make a new PKI with "trunkgate certs init --out ${plan.dir} --force"`
  );
}

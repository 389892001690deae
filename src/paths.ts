// Where the package lives, so bundled files (certs/, config/) are found whether trunkgate runs from
// src/ (tap, ts) or dist/src/ (built), or from a container's /app.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "package.json"))) return (cached = dir);
    const up = dirname(dir);
    if (up === dir) return (cached = process.cwd());
    dir = up;
  }
}

export const BUNDLED_ROOTS = [
  { name: "DigiCert Global Root G2", file: "certs/digicert-global-root-g2.pem" },
  { name: "Baltimore CyberTrust Root", file: "certs/baltimore-cybertrust-root.pem" },
] as const;

export function bundledRootPath(file: string): string {
  return resolve(packageRoot(), file);
}

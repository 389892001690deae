// The development PKI (`trunkgate certs init`): a private root CA plus the certificates the default
// configuration points at (certs/dev/…): two server certificates (ECDSA and RSA, so both TLS 1.2
// cipher families can be exercised), a downstream trunk client certificate and trunkgate's own
// client identity toward upstreams. Everything is generated in memory first and written only when
// complete, so a failure never leaves a half-made PKI behind.
import { type FileHandle, lstat, mkdir, open, unlink } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import { addDays, issueCertificate, sansForHosts, type Issued } from "./issue.js";

export const DEFAULT_DEV_HOSTS = ["localhost", "127.0.0.1", "::1"] as const;

/** Every file the dev PKI consists of, in the order written. */
export const DEV_PKI_FILES = [
  "ca.pem",
  "ca.key",
  "server-ecdsa.pem",
  "server-ecdsa.key",
  "server-rsa.pem",
  "server-rsa.key",
  "client.pem",
  "client.key",
  "upstream-client.pem",
  "upstream-client.key",
] as const;

export class PkiExistsError extends Error {
  constructor(readonly file: string) {
    super(`${file} already exists (use --force to overwrite)`);
    this.name = "PkiExistsError";
  }
}

/** A host that cannot become a SAN (empty, spaces, …). */
export class PkiInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PkiInputError";
  }
}

// Letters, digits, hyphens and dots, optionally one leading "*." wildcard label.
const DNS_NAME = /^(\*\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

function checkHosts(hosts: readonly string[]): void {
  if (hosts.length === 0) throw new PkiInputError("hosts: at least one host name or IP address is required");
  for (const h of hosts) {
    if (isIP(h) === 0 && !DNS_NAME.test(h)) throw new PkiInputError(`hosts: "${h}" is neither a DNS name nor an IP address`);
  }
}

export interface DevPkiOptions {
  outDir: string;
  hosts?: string[];
  force?: boolean;
}

export async function generateDevPki(opts: DevPkiOptions): Promise<{ files: string[] }> {
  const hosts = opts.hosts ?? [...DEFAULT_DEV_HOSTS];
  checkHosts(hosts);
  const paths = DEV_PKI_FILES.map((f) => join(opts.outDir, f));
  if (!opts.force) for (const p of paths) if (await exists(p)) throw new PkiExistsError(p);

  const now = new Date();
  const notBefore = addDays(now, -1 / 288); // 5 minutes back: tolerate small clock skew
  const leaf = { notBefore, notAfter: addDays(notBefore, 825) };
  const ca = await issueCertificate({
    commonName: "trunkgate development root CA",
    organization: "trunkgate (development only)",
    ca: {},
    notBefore,
    notAfter: tenYearsAfter(notBefore),
  });
  const server = { issuer: ca, commonName: hosts[0]!, sans: sansForHosts(hosts), eku: ["serverAuth" as const], ...leaf };
  const [serverEcdsa, serverRsa, client, upstreamClient] = await Promise.all([
    issueCertificate({ ...server, keyKind: "ecdsa" }),
    issueCertificate({ ...server, keyKind: "rsa" }),
    issueCertificate({ issuer: ca, commonName: "dev-trunk", sans: { dns: ["dev-trunk.local"] }, eku: ["clientAuth"], ...leaf }),
    // serverAuth as well: test upstreams may present this same identity as their server certificate.
    issueCertificate({
      issuer: ca,
      commonName: "trunkgate",
      sans: { dns: ["trunkgate.local"] },
      eku: ["clientAuth", "serverAuth"],
      ...leaf,
    }),
  ]);

  const contents = new Map<string, string>();
  const put = (base: string, issued: Issued) => {
    contents.set(`${base}.pem`, issued.certPem);
    contents.set(`${base}.key`, issued.keyPem);
  };
  put("ca", ca);
  put("server-ecdsa", serverEcdsa);
  put("server-rsa", serverRsa);
  put("client", client);
  put("upstream-client", upstreamClient);

  await mkdir(opts.outDir, { recursive: true, mode: 0o700 });
  for (const [i, name] of DEV_PKI_FILES.entries()) {
    await writeNew(paths[i]!, contents.get(name)!, name.endsWith(".key") ? 0o600 : 0o644, opts.force === true);
  }
  return { files: paths };
}

function tenYearsAfter(d: Date): Date {
  const out = new Date(d);
  out.setUTCFullYear(out.getUTCFullYear() + 10);
  return out;
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

/**
 * Creates the file with its mode from the first byte on (O_EXCL). An existing file is unlinked first
 * when forced rather than overwritten in place, where it would keep its old, possibly wider, mode.
 */
async function writeNew(path: string, data: string, mode: number, force: boolean): Promise<void> {
  if (force) await unlink(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT") throw err;
  });
  let fh: FileHandle;
  try {
    fh = await open(path, "wx", mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new PkiExistsError(path);
    throw err;
  }
  try {
    await fh.writeFile(data);
    await fh.chmod(mode); // exactly this mode, whatever the process umask
  } finally {
    await fh.close();
  }
}

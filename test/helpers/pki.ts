/**
 * Test PKI, generated at run time (no key is ever committed).
 *
 *   const pki = await makeTestPki();          // fresh dir under os.tmpdir(), ~0.3 s
 *   t.teardown(() => pki.cleanup());
 *   tls.createServer({ cert: pki.serverEcdsa.cert, key: pki.serverEcdsa.key, ca: pki.ca.cert, … });
 *
 * Every entry carries both file paths (certPath/keyPath, for config files) and the PEM text
 * (cert/key, for SecureContext options), plus its serial number (hex).
 *
 * Authorities: `ca` (the trusted root), `intermediate` (CA under `ca`, pathLength 0) and `foreignCa`
 * (a root nobody trusts).
 * Servers (EKU serverAuth, SANs localhost, 127.0.0.1, ::1): `serverEcdsa`, `serverRsa`.
 * `upstreamClient`: trunkgate's identity toward upstreams, CN trunkgate, SAN DNS trunkgate.local,
 * EKU clientAuth + serverAuth (test upstreams may serve it too).
 *
 * Downstream client certificates. All carry the identity CN dev-trunk / SAN DNS dev-trunk.local /
 * EKU clientAuth / issued by `ca`, except for the one property their name says is different, so a
 * test failing on them fails for that one reason:
 *   client          valid, ECDSA                 clientRsa       valid, RSA-2048
 *   clientUri       SAN is only URI sip:trunk.example.com
 *   clientCnOnly    no SAN at all
 *   selfSigned      self-signed                  foreign         issued by foreignCa
 *   expired         notAfter yesterday           notYetValid     notBefore tomorrow
 *   serverAuthOnly  EKU serverAuth only          revoked         listed in `crl`
 *   unknownPeer     valid chain, but CN stranger / SAN DNS stranger.local
 *   viaIntermediate issued by `intermediate`; `chain`/`chainPath` = leaf + intermediate PEM
 * CRLs signed by `ca`: `crl` (lists `revoked`), `emptyCrl` (lists nothing).
 *
 * `pki.issue({ name, … })` (or `issueTestCert(pki, …)`) issues one more certificate on demand, by
 * default a server certificate for localhost like serverEcdsa; files are replaced atomically
 * (write + rename), so file watchers in hot-reload tests never see a half-written file.
 */
import { mkdir, mkdtemp, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addDays, createCrl, issueCertificate, type EkuName, type Issued, type KeyKind } from "../../src/pki/issue.js";

export interface CertFiles {
  certPath: string;
  keyPath: string;
  cert: string;
  key: string;
  /** Lower-case hex. */
  serialNumber: string;
}

export interface ChainFiles extends CertFiles {
  /** Leaf followed by the intermediate, as a client or server sends it. */
  chainPath: string;
  chain: string;
}

export interface CrlFile {
  path: string;
  pem: string;
}

export interface TestIssueOptions {
  /** File base name in pki.dir: <name>.pem / <name>.key. Reusing a name replaces the files. */
  name: string;
  /** Default "localhost". */
  commonName?: string;
  dns?: string[];
  ip?: string[];
  uri?: string[];
  /** Default ["serverAuth"]; [] for a certificate without the extension. */
  eku?: EkuName[];
  keyKind?: KeyKind;
  issuer?: "ca" | "intermediate" | "foreignCa";
  notBefore?: Date;
  notAfter?: Date;
}

export interface TestPki {
  dir: string;
  ca: CertFiles;
  intermediate: CertFiles;
  foreignCa: CertFiles;
  serverEcdsa: CertFiles;
  serverRsa: CertFiles;
  upstreamClient: CertFiles;
  client: CertFiles;
  clientRsa: CertFiles;
  clientUri: CertFiles;
  clientCnOnly: CertFiles;
  selfSigned: CertFiles;
  foreign: CertFiles;
  expired: CertFiles;
  notYetValid: CertFiles;
  serverAuthOnly: CertFiles;
  revoked: CertFiles;
  unknownPeer: CertFiles;
  viaIntermediate: ChainFiles;
  crl: CrlFile;
  emptyCrl: CrlFile;
  issue(opts: TestIssueOptions): Promise<CertFiles>;
  /** Removes pki.dir (also when it was passed in). */
  cleanup(): Promise<void>;
}

const SERVER_HOSTS = { dns: ["localhost"], ip: ["127.0.0.1", "::1"] };
const TRUNK = { commonName: "dev-trunk", sans: { dns: ["dev-trunk.local"] }, eku: ["clientAuth" as const] };

/** Atomic replace: a watcher sees the old file or the new one, never a truncated one. */
async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, data, { mode });
  await rename(tmp, path);
}

async function save(dir: string, name: string, issued: Issued): Promise<CertFiles> {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}.key`);
  await Promise.all([writeAtomic(certPath, issued.certPem, 0o644), writeAtomic(keyPath, issued.keyPem, 0o600)]);
  return { certPath, keyPath, cert: issued.certPem, key: issued.keyPem, serialNumber: issued.serialNumber };
}

async function saveCrl(dir: string, name: string, pem: string): Promise<CrlFile> {
  const path = join(dir, `${name}.crl.pem`);
  await writeAtomic(path, pem, 0o644);
  return { path, pem };
}

interface Authorities {
  ca: Issued;
  intermediate: Issued;
  foreignCa: Issued;
}

const authorities = new WeakMap<TestPki, Authorities>();

export async function issueTestCert(pki: TestPki, opts: TestIssueOptions): Promise<CertFiles> {
  const auth = authorities.get(pki);
  if (!auth) throw new Error("issueTestCert: not a TestPki made by makeTestPki()");
  const custom = opts.dns !== undefined || opts.ip !== undefined || opts.uri !== undefined;
  const issued = await issueCertificate({
    issuer: auth[opts.issuer ?? "ca"],
    commonName: opts.commonName ?? "localhost",
    keyKind: opts.keyKind ?? "ecdsa",
    sans: custom ? { dns: opts.dns, ip: opts.ip, uri: opts.uri } : SERVER_HOSTS,
    eku: opts.eku ?? ["serverAuth"],
    notBefore: opts.notBefore,
    notAfter: opts.notAfter,
  });
  return save(pki.dir, opts.name, issued);
}

export async function makeTestPki(dir?: string): Promise<TestPki> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), "trunkgate-pki-")));
  if (dir) await mkdir(dir, { recursive: true, mode: 0o700 });

  const now = new Date();
  const [ca, foreignCa] = await Promise.all([
    issueCertificate({ commonName: "trunkgate test root CA", organization: "trunkgate tests", ca: {} }),
    issueCertificate({ commonName: "foreign test root CA", organization: "somebody else", ca: {} }),
  ]);
  const intermediate = await issueCertificate({
    issuer: ca,
    commonName: "trunkgate test intermediate CA",
    organization: "trunkgate tests",
    ca: { pathLength: 0 },
  });

  const server = { issuer: ca, commonName: "localhost", sans: SERVER_HOSTS, eku: ["serverAuth" as const] };
  const trunk = { issuer: ca, ...TRUNK };
  const leaves = {
    serverEcdsa: issueCertificate({ ...server, keyKind: "ecdsa" }),
    serverRsa: issueCertificate({ ...server, keyKind: "rsa" }),
    upstreamClient: issueCertificate({
      issuer: ca,
      commonName: "trunkgate",
      sans: { dns: ["trunkgate.local"] },
      eku: ["clientAuth", "serverAuth"],
    }),
    client: issueCertificate(trunk),
    clientRsa: issueCertificate({ ...trunk, keyKind: "rsa" }),
    clientUri: issueCertificate({ ...trunk, sans: { uri: ["sip:trunk.example.com"] } }),
    clientCnOnly: issueCertificate({ ...trunk, sans: undefined }),
    selfSigned: issueCertificate({ ...TRUNK }),
    foreign: issueCertificate({ ...trunk, issuer: foreignCa }),
    expired: issueCertificate({ ...trunk, notBefore: addDays(now, -60), notAfter: addDays(now, -1) }),
    notYetValid: issueCertificate({ ...trunk, notBefore: addDays(now, 1), notAfter: addDays(now, 60) }),
    serverAuthOnly: issueCertificate({ ...trunk, eku: ["serverAuth"] }),
    revoked: issueCertificate(trunk),
    unknownPeer: issueCertificate({ ...trunk, commonName: "stranger", sans: { dns: ["stranger.local"] } }),
    viaIntermediate: issueCertificate({ ...trunk, issuer: intermediate }),
  };
  const names = Object.keys(leaves) as (keyof typeof leaves)[];
  const issued = Object.fromEntries(
    (await Promise.all(names.map((n) => leaves[n]))).map((v, i) => [names[i]!, v]),
  ) as Record<keyof typeof leaves, Issued>;

  const [crlPem, emptyCrlPem] = await Promise.all([
    createCrl({ issuer: ca, revoked: [{ serialNumber: issued.revoked.serialNumber }] }),
    createCrl({ issuer: ca, revoked: [] }),
  ]);

  const files = Object.fromEntries(
    await Promise.all(names.map(async (n) => [n, await save(root, n, issued[n])] as const)),
  ) as Record<keyof typeof leaves, CertFiles>;
  const chain = issued.viaIntermediate.certPem + intermediate.certPem;
  const chainPath = join(root, "viaIntermediate-chain.pem");
  await writeAtomic(chainPath, chain, 0o644);

  const pki: TestPki = {
    dir: root,
    ca: await save(root, "ca", ca),
    intermediate: await save(root, "intermediate", intermediate),
    foreignCa: await save(root, "foreignCa", foreignCa),
    ...files,
    viaIntermediate: { ...files.viaIntermediate, chainPath, chain },
    crl: await saveCrl(root, "ca", crlPem),
    emptyCrl: await saveCrl(root, "ca-empty", emptyCrlPem),
    issue: (opts) => issueTestCert(pki, opts),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
  authorities.set(pki, { ca, intermediate, foreignCa });
  return pki;
}

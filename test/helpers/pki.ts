/**
 * Test PKI, generated at run time (no key is ever committed).
 *
 *   const pki = await makeTestPki();          // fresh dir under os.tmpdir(); material generated once per suite run
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
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addDays, createCrl, issueCertificate, type EkuName, type Issued, type KeyKind } from "../../src/pki/issue.js";
import { subtle, x509 } from "../../src/pki/x509.js";

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

async function save(dir: string, name: string, issued: Pick<Issued, "certPem" | "keyPem" | "serialNumber">): Promise<CertFiles> {
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

/** Everything makeTestPki() writes, as PEM: what a run shares between its test processes. */
interface Material {
  /** Certificates and keys by entry name (authorities and leaves). */
  entries: Record<string, { certPem: string; keyPem: string; serialNumber: string }>;
  crl: string;
  emptyCrl: string;
}

const AUTHORITIES = ["ca", "intermediate", "foreignCa"] as const;

async function generateMaterial(): Promise<Material> {
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
  const issued = await Promise.all(names.map((n) => leaves[n]));
  const entries: Material["entries"] = {};
  for (const [name, i] of [["ca", ca], ["intermediate", intermediate], ["foreignCa", foreignCa], ...names.map((n, k) => [n, issued[k]!] as const)] as const) {
    entries[name] = { certPem: i.certPem, keyPem: i.keyPem, serialNumber: i.serialNumber };
  }
  const [crl, emptyCrl] = await Promise.all([
    createCrl({ issuer: ca, revoked: [{ serialNumber: entries.revoked!.serialNumber }] }),
    createCrl({ issuer: ca, revoked: [] }),
  ]);
  return { entries, crl, emptyCrl };
}

/**
 * The run's material. Generating it costs about a CPU-second (two RSA keys, twenty signatures) and
 * some forty test files make a PKI, so within one run of the suite (test/run-suite.mjs sets
 * TRUNKGATE_TEST_RUN_DIR to a directory of its own) the first process generates it and the others
 * read it. Each makeTestPki() still writes its own copy of the files into its own directory: tests
 * that replace or add files never see each other's. Outside a suite run (one file under tap), or
 * when the shared file cannot be read, it is generated here as before.
 */
async function runMaterial(): Promise<Material> {
  const runDir = process.env.TRUNKGATE_TEST_RUN_DIR;
  if (!runDir) return generateMaterial();
  const file = join(runDir, "test-pki.json");
  try {
    return JSON.parse(await readFile(file, "utf8")) as Material;
  } catch {
    // not there yet (or unreadable): generate, then share. Two processes racing here both
    // generate; each one's rename is atomic, so a reader sees one complete file or none.
  }
  const material = await generateMaterial();
  await writeAtomic(file, JSON.stringify(material), 0o600).catch(() => {});
  return material;
}

/** An authority as issueCertificate() wants it (to sign with), from its PEM. */
async function authorityFromPem(e: Material["entries"][string]): Promise<Issued> {
  const cert = new x509.X509Certificate(e.certPem);
  const privateKey = await subtle.importKey("pkcs8", x509.PemConverter.decode(e.keyPem)[0]!, { name: "ECDSA", namedCurve: "P-256" }, true, ["sign"]);
  const publicKey = await cert.publicKey.export();
  return { cert, keys: { privateKey, publicKey }, keyKind: "ecdsa", certPem: e.certPem, keyPem: e.keyPem, serialNumber: e.serialNumber };
}

export async function makeTestPki(dir?: string): Promise<TestPki> {
  const root = dir ?? (await mkdtemp(join(tmpdir(), "trunkgate-pki-")));
  if (dir) await mkdir(dir, { recursive: true, mode: 0o700 });

  const material = await runMaterial();
  const files = Object.fromEntries(
    await Promise.all(Object.entries(material.entries).map(async ([n, e]) => [n, await save(root, n, e)] as const)),
  ) as Record<string, CertFiles>;
  const chain = material.entries.viaIntermediate!.certPem + material.entries.intermediate!.certPem;
  const chainPath = join(root, "viaIntermediate-chain.pem");
  await writeAtomic(chainPath, chain, 0o644);

  const pki = {
    dir: root,
    ...files,
    viaIntermediate: { ...files.viaIntermediate!, chainPath, chain },
    crl: await saveCrl(root, "ca", material.crl),
    emptyCrl: await saveCrl(root, "ca-empty", material.emptyCrl),
    issue: (opts: TestIssueOptions) => issueTestCert(pki, opts),
    cleanup: () => rm(root, { recursive: true, force: true }),
  } as TestPki;
  const [ca, intermediate, foreignCa] = await Promise.all(AUTHORITIES.map((n) => authorityFromPem(material.entries[n]!)));
  authorities.set(pki, { ca: ca!, intermediate: intermediate!, foreignCa: foreignCa! });
  return pki;
}

/**
 * The `tls` config section most tests run with: the ECDSA server certificate, the upstream client
 * certificate, trust in the test CA only, no file watcher.
 */
export function testTlsSection(pki: TestPki): Record<string, unknown> {
  return {
    certificates: [{ cert: pki.serverEcdsa.certPath, key: pki.serverEcdsa.keyPath }],
    clientCertificate: { cert: pki.upstreamClient.certPath, key: pki.upstreamClient.keyPath },
    trust: { bundledRoots: false, extraRoots: [pki.ca.certPath] },
    watch: false,
  };
}

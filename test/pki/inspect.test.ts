import { X509Certificate } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import t from "tap";
import {
  compressIpv6,
  formatCertReports,
  inspectCertificates,
  parseSubjectAltName,
  type CertReport,
} from "../../src/pki/inspect.js";
import { addDays, issueCertificate } from "../../src/pki/issue.js";
import { CertificateInputError } from "../../src/pki/read-certificates.js";
import { makeTestPki, type CertFiles } from "../helpers/pki.js";
import { openssl, opensslBinary } from "./openssl.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());

const ca = new X509Certificate(pki.ca.cert);
const roots = [ca];
const one = (pem: string, trustedRoots = roots): CertReport => {
  const reports = inspectCertificates(Buffer.from(pem), { trustedRoots });
  if (reports.length !== 1) throw new Error(`expected one certificate, got ${reports.length}`);
  return reports[0]!;
};

async function opensslFingerprint(certPath: string): Promise<string> {
  const r = await openssl(["x509", "-in", certPath, "-noout", "-fingerprint", "-sha256"]);
  return r.stdout.trim().replace(/^sha256 Fingerprint=/i, "");
}

/** The documented pipeline: openssl x509 -pubkey | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64 */
async function opensslSpkiPin(certPath: string): Promise<string> {
  const pub = (await openssl(["x509", "-in", certPath, "-noout", "-pubkey"])).stdout;
  const der = await opensslBinary(["pkey", "-pubin", "-outform", "der"], pub);
  const digest = await opensslBinary(["dgst", "-sha256", "-binary"], der);
  return (await opensslBinary(["base64", "-A"], digest)).toString().trim();
}

t.test("ECDSA server certificate: every field", async (t) => {
  const r = one(pki.serverEcdsa.cert);
  t.equal(r.format, "PEM");
  t.equal(r.subject, "CN=localhost");
  t.equal(r.issuer, "O=trunkgate tests, CN=trunkgate test root CA");
  t.same(r.sans, { dns: ["localhost"], ip: ["127.0.0.1", "::1"], uri: [], email: [], other: [] });
  t.same(r.key, { type: "EC", curve: "P-256", bits: 256 });
  t.same(r.eku, ["serverAuth"]);
  t.equal(r.isCa, false);
  t.equal(r.expired, false);
  t.equal(r.notYetValid, false);
  t.ok(r.daysLeft === 824 || r.daysLeft === 825, `daysLeft ${r.daysLeft}`);
  t.equal(r.serialNumber.toLowerCase(), pki.serverEcdsa.serialNumber);
  t.equal(r.sha256Fingerprint, await opensslFingerprint(pki.serverEcdsa.certPath));
  t.match(r.sha256Fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  t.equal(r.spkiPin, await opensslSpkiPin(pki.serverEcdsa.certPath), "SPKI pin = openssl pipeline");
  t.same(r.chain, { trusted: true, root: "O=trunkgate tests, CN=trunkgate test root CA", path: ["CN=localhost", "O=trunkgate tests, CN=trunkgate test root CA"] });

  const text = formatCertReports([r]);
  t.match(text, "Certificate 1 of 1 (PEM)");
  t.match(text, /Subject: +CN=localhost\n/);
  t.match(text, /SANs: +DNS:localhost, IP:127\.0\.0\.1, IP:::1\n/);
  t.match(text, /Key: +EC P-256 \(256 bits\)\n/);
  t.match(text, /EKU: +serverAuth\n/);
  t.match(text, `SHA-256:     ${r.sha256Fingerprint}\n`);
  t.match(text, `SPKI pin:    ${r.spkiPin}\n`);
  t.match(text, /Chain: +trusted, root O=trunkgate tests, CN=trunkgate test root CA\n/);
  t.match(text, /days left\)/);
});

t.test("RSA certificate: key size, pin, fingerprint", async (t) => {
  const r = one(pki.serverRsa.cert);
  t.same(r.key, { type: "RSA", bits: 2048 });
  t.equal(r.spkiPin, await opensslSpkiPin(pki.serverRsa.certPath));
  t.equal(r.sha256Fingerprint, await opensslFingerprint(pki.serverRsa.certPath));
  t.match(formatCertReports([r]), /Key: +RSA 2048 bits\n/);
});

t.test("EKU, SAN variants and CA flag", async (t) => {
  t.same(one(pki.upstreamClient.cert).eku, ["clientAuth", "serverAuth"]);
  t.same(one(pki.clientUri.cert).sans.uri, ["sip:trunk.example.com"]);
  t.same(one(pki.clientCnOnly.cert).sans, { dns: [], ip: [], uri: [], email: [], other: [] });
  t.match(formatCertReports([one(pki.clientCnOnly.cert)]), /SANs: +\(none\)\n/);
  const root = one(pki.ca.cert);
  t.equal(root.isCa, true);
  t.equal(root.selfSigned, true);
  t.equal(one(pki.selfSigned.cert).selfSigned, true, "a self-signed leaf too");
  t.equal(one(pki.client.cert).selfSigned, false);
  t.equal(root.eku, null, "no EKU extension");
  t.match(formatCertReports([root]), /EKU: +\(no extension: any purpose\)/);
  t.same(root.chain, { trusted: true, root: root.subject, path: [root.subject] }, "a trusted root is its own chain");
});

t.test("validity flags", async (t) => {
  const expired = one(pki.expired.cert);
  t.equal(expired.expired, true);
  t.equal(expired.notYetValid, false);
  t.ok(expired.daysLeft < 0);
  t.match(formatCertReports([expired]), /EXPIRED \d+ days ago/);
  t.match(expired.chain, { trusted: false, reason: /^expired link: CN=dev-trunk expired on \d{4}-\d\d-\d\d$/ });

  const early = one(pki.notYetValid.cert);
  t.equal(early.notYetValid, true);
  t.equal(early.expired, false);
  t.match(formatCertReports([early]), /NOT YET VALID/);
  t.match(early.chain, { trusted: false, reason: /^expired link: CN=dev-trunk is not valid before / });

  // `now` is honoured: judged 1000 days from now, a fresh 825-day certificate is expired.
  const later = inspectCertificates(Buffer.from(pki.client.cert), { trustedRoots: roots, now: new Date(Date.now() + 1000 * 86_400_000) })[0]!;
  t.equal(later.expired, true);
});

t.test("chain status: trusted, untrusted and why", async (t) => {
  t.match(one(pki.foreign.cert).chain, { trusted: false, reason: "unknown issuer: O=somebody else, CN=foreign test root CA" });
  t.match(one(pki.selfSigned.cert).chain, { trusted: false, reason: /^self-signed and not a trusted root: CN=dev-trunk/ });
  t.match(one(pki.client.cert, []).chain, { trusted: false, reason: /^unknown issuer: / }, "no roots, no trust");
  t.match(one(pki.foreign.cert, [new X509Certificate(pki.foreignCa.cert)]).chain, { trusted: true, root: /foreign test root CA/ });
  t.match(formatCertReports([one(pki.foreign.cert)]), /Chain: +NOT TRUSTED: unknown issuer: O=somebody else, CN=foreign test root CA\n/);

  // A certificate whose signature does not match its issuer's key: flip a bit inside the signature.
  const der = Buffer.from(new X509Certificate(pki.client.cert).raw);
  der[der.length - 3]! ^= 0x01;
  const tampered = inspectCertificates(der, { trustedRoots: roots })[0]!;
  t.match(tampered.chain, { trusted: false, reason: /^bad signature: CN=dev-trunk is not signed by the key of O=trunkgate tests, CN=trunkgate test root CA$/ });

  // An expired link in the middle: a valid leaf under an intermediate that has expired.
  const root2 = await issueCertificate({ commonName: "root two", ca: {} });
  const oldInt = await issueCertificate({
    issuer: root2,
    commonName: "old intermediate",
    ca: { pathLength: 0 },
    notBefore: addDays(new Date(), -400),
    notAfter: addDays(new Date(), -2),
  });
  const leaf = await issueCertificate({ issuer: oldInt, commonName: "leaf", eku: ["clientAuth"] });
  const [viaOld] = inspectCertificates(Buffer.from(leaf.certPem + oldInt.certPem), {
    trustedRoots: [new X509Certificate(root2.certPem)],
  });
  t.equal(viaOld!.expired, false, "the leaf itself is fine");
  t.match(viaOld!.chain, { trusted: false, reason: /^expired link: CN=old intermediate expired on / });
});

t.test("a PEM chain: the other certificates of the file are intermediates", async (t) => {
  const reports = inspectCertificates(Buffer.from(pki.viaIntermediate.chain), { trustedRoots: roots });
  t.equal(reports.length, 2);
  t.same(reports.map((r) => [r.index, r.count]), [[1, 2], [2, 2]]);
  t.same(reports[0]!.chain, {
    trusted: true,
    root: "O=trunkgate tests, CN=trunkgate test root CA",
    path: ["CN=dev-trunk", "O=trunkgate tests, CN=trunkgate test intermediate CA", "O=trunkgate tests, CN=trunkgate test root CA"],
  });
  t.match(reports[1]!.chain, { trusted: true });
  t.match(formatCertReports(reports), /Chain: +trusted, root O=trunkgate tests, CN=trunkgate test root CA \(via O=trunkgate tests, CN=trunkgate test intermediate CA\)/);
  t.match(formatCertReports(reports), "Certificate 2 of 2 (PEM)");

  const leafAlone = one(pki.viaIntermediate.cert);
  t.match(leafAlone.chain, { trusted: false, reason: "unknown issuer: O=trunkgate tests, CN=trunkgate test intermediate CA" });
});

t.test("DER input", async (t) => {
  const der = Buffer.from(new X509Certificate(pki.serverEcdsa.cert).raw);
  const [r] = inspectCertificates(der, { trustedRoots: roots });
  t.equal(r!.format, "DER");
  t.equal(r!.subject, "CN=localhost");
  t.match(r!.chain, { trusted: true });
});

t.test("PKCS#12 from openssl, EC and RSA, with and without a passphrase", async (t) => {
  const make = async (entry: CertFiles, name: string, pass: string) => {
    const out = join(pki.dir, `${name}.p12`);
    const r = await openssl(["pkcs12", "-export", "-in", entry.certPath, "-inkey", entry.keyPath, "-certfile", pki.ca.certPath, "-passout", `pass:${pass}`, "-out", out]);
    if (r.code !== 0) throw new Error(`openssl pkcs12 failed: ${r.stderr}`);
    return readFile(out);
  };
  for (const [name, entry, key] of [
    ["ec", pki.serverEcdsa, { type: "EC", curve: "P-256", bits: 256 }],
    ["rsa", pki.serverRsa, { type: "RSA", bits: 2048 }],
  ] as const) {
    const p12 = await make(entry, name, "s3cret pass");
    const reports = inspectCertificates(p12, { trustedRoots: roots, passphrase: "s3cret pass" });
    t.equal(reports.length, 2, `${name}: leaf and CA`);
    const leaf = reports.find((r) => r.subject === "CN=localhost");
    t.ok(leaf, `${name}: leaf found`);
    t.equal(leaf!.format, "PKCS#12");
    t.same(leaf!.key, key);
    t.equal(leaf!.sha256Fingerprint, await opensslFingerprint(entry.certPath), `${name}: same bytes as the original`);
    t.equal(leaf!.spkiPin, await opensslSpkiPin(entry.certPath));
    t.same(leaf!.eku, ["serverAuth"]);
    t.same(leaf!.sans.ip, ["127.0.0.1", "::1"]);
    t.match(leaf!.chain, { trusted: true });
    t.match(formatCertReports(reports), /\(PKCS#12\)/);

    t.throws(() => inspectCertificates(p12, { trustedRoots: roots, passphrase: "wrong" }), {
      name: "CertificateInputError",
      message: /wrong passphrase/,
    });
    t.throws(() => inspectCertificates(p12, { trustedRoots: roots }), { message: /wrong passphrase/ }, "default empty passphrase");
  }
  const open = await make(pki.client, "empty-pass", "");
  const [r] = inspectCertificates(open, { trustedRoots: roots });
  t.equal(r!.format, "PKCS#12", "empty passphrase is the default");
});

t.test("bad input is a clear CertificateInputError", async (t) => {
  t.throws(() => inspectCertificates(Buffer.alloc(0), { trustedRoots: roots }), CertificateInputError);
  t.throws(() => inspectCertificates(Buffer.from(pki.client.key), { trustedRoots: roots }), {
    message: "PEM holds no CERTIFICATE block (found: PRIVATE KEY)",
  });
  t.throws(() => inspectCertificates(Buffer.from("hello, not a certificate"), { trustedRoots: roots }), CertificateInputError);
  const broken = pki.client.cert.replace(/\n[A-Za-z0-9+/]{20}/, "\nAAAAAAAAAAAAAAAAAAAA");
  t.throws(() => inspectCertificates(Buffer.from(broken), { trustedRoots: roots }), { message: /PEM certificate #1 is not a valid certificate/ });
  const keyDer = await opensslBinary(["pkey", "-outform", "der"], pki.client.key);
  t.throws(() => inspectCertificates(keyDer, { trustedRoots: roots }), CertificateInputError, "DER key: not a certificate");
  await writeFile(join(pki.dir, "junk.bin"), Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]));
  const junk = await readFile(join(pki.dir, "junk.bin"));
  t.throws(() => inspectCertificates(junk, { trustedRoots: roots }), CertificateInputError);
});

t.test("SAN text parsing copes with Node's quoting; IPv6 is compressed", async (t) => {
  t.same(parseSubjectAltName('DNS:"a, b", URI:sip:x@y, email:ops@example.com, IP Address:10.0.0.1, DirName:"CN=x"'), {
    dns: ["a, b"],
    ip: ["10.0.0.1"],
    uri: ["sip:x@y"],
    email: ["ops@example.com"],
    other: ["DirName:CN=x"],
  });
  t.same(parseSubjectAltName(undefined).dns, []);
  t.equal(compressIpv6("0:0:0:0:0:0:0:1"), "::1");
  t.equal(compressIpv6("2001:DB8:0:0:0:0:0:5"), "2001:db8::5");
  t.equal(compressIpv6("2001:db8:0:1:0:0:0:0"), "2001:db8:0:1::");
  t.equal(compressIpv6("1:0:0:2:0:0:0:3"), "1:0:0:2::3", "longest run wins");
  t.equal(compressIpv6("1:2:3:4:5:6:0:8"), "1:2:3:4:5:6:0:8", "a single zero group stays");
  t.equal(compressIpv6("0:0:0:0:0:0:0:0"), "::");
});

// The two public roots shipped in certs/: the right certificates, found from the package root, and
// reported honestly (Baltimore CyberTrust Root expired on 2025-05-12).
import { existsSync, readFileSync } from "node:fs";
import t from "tap";
import { inspectCertificates } from "../../src/pki/inspect.js";
import { bundledRootFiles, loadTrustedRoots } from "../../src/pki/trusted-roots.js";
import { openssl } from "./openssl.js";

const DIGICERT_G2 = "CB:3C:CB:B7:60:31:E5:E0:13:8F:8D:D3:9A:23:F9:DE:47:FF:C3:5E:43:C1:14:4C:EA:27:D4:6A:5A:B1:CB:5F";
const BALTIMORE = "16:AF:57:A9:F6:76:B0:AB:12:60:95:AA:5E:BA:DE:F2:2A:B3:11:19:D6:44:AC:95:CD:4B:93:DB:F3:F2:6A:EB";

const [digicertFile, baltimoreFile] = bundledRootFiles();

t.test("bundled root files resolve from the package root", async (t) => {
  t.match(digicertFile, /\/certs\/digicert-global-root-g2\.pem$/);
  t.match(baltimoreFile, /\/certs\/baltimore-cybertrust-root\.pem$/);
  t.ok(existsSync(digicertFile!) && existsSync(baltimoreFile!));
});

t.test("they are the expected certificates (SHA-256 fingerprints, also per openssl)", async (t) => {
  const { roots, problems } = loadTrustedRoots();
  t.same(problems, []);
  t.same(roots.map((r) => r.fingerprint256), [DIGICERT_G2, BALTIMORE]);
  for (const [file, fp] of [[digicertFile!, DIGICERT_G2], [baltimoreFile!, BALTIMORE]] as const) {
    const r = await openssl(["x509", "-in", file, "-noout", "-fingerprint", "-sha256"]);
    t.equal(r.stdout.trim().replace(/^sha256 Fingerprint=/i, ""), fp, file);
  }
});

t.test("inspect shows DigiCert G2 valid and trusted, Baltimore expired since 2025-05-12", async (t) => {
  const { roots } = loadTrustedRoots();
  const [g2] = inspectCertificates(readFileSync(digicertFile!), { trustedRoots: roots });
  t.equal(g2!.sha256Fingerprint, DIGICERT_G2);
  t.equal(g2!.subject, "C=US, O=DigiCert Inc, OU=www.digicert.com, CN=DigiCert Global Root G2");
  t.equal(g2!.expired, false);
  t.same(g2!.key, { type: "RSA", bits: 2048 });
  t.match(g2!.chain, { trusted: true, root: /DigiCert Global Root G2/ });

  const [balt] = inspectCertificates(readFileSync(baltimoreFile!), { trustedRoots: roots });
  t.equal(balt!.sha256Fingerprint, BALTIMORE);
  t.equal(balt!.notAfter.toISOString(), "2025-05-12T23:59:00.000Z");
  t.equal(balt!.expired, true);
  t.match(balt!.chain, { trusted: false, reason: "expired link: C=IE, O=Baltimore, OU=CyberTrust, CN=Baltimore CyberTrust Root expired on 2025-05-12" });

  // Before its expiry it was a perfectly good trusted root: the flag follows the clock, not the name.
  const [then] = inspectCertificates(readFileSync(baltimoreFile!), { trustedRoots: roots, now: new Date("2024-06-01T00:00:00Z") });
  t.equal(then!.expired, false);
  t.match(then!.chain, { trusted: true });
});

t.test("configured trust: bundledRoots switch and extra roots; a missing file is reported and skipped", async (t) => {
  const none = loadTrustedRoots({ bundledRoots: false, extraRoots: [] });
  t.same(none.roots, []);
  const extra = loadTrustedRoots({ bundledRoots: true, extraRoots: [digicertFile!, "/nonexistent/ca.pem"] });
  t.equal(extra.roots.length, 3);
  t.same(extra.problems, ["tls.trust.extraRoots.1: cannot read /nonexistent/ca.pem: ENOENT"]);
});

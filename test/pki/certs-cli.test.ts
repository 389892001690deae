// `trunkgate certs init|inspect` through certsCommand(): exit codes, messages, and the trust roots
// it takes from a configuration file.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { certsCommand } from "../../src/cli/certs.js";
import { openssl } from "./openssl.js";

async function run(...argv: string[]) {
  let out = "";
  let err = "";
  const code = await certsCommand(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

const work = await mkdtemp(join(tmpdir(), "trunkgate-certs-cli-"));
t.teardown(() => rm(work, { recursive: true, force: true }));
const dev = join(work, "dev");

t.test("init writes the dev PKI, then refuses to overwrite it unless --force", async (t) => {
  const first = await run("init", "--out", dev, "--hosts", "localhost, 127.0.0.1");
  t.equal(first.code, 0, first.err);
  t.match(first.out, `${join(dev, "ca.pem")}\n`);
  t.match(first.out, `${join(dev, "server-rsa.key")}  (private key, mode 0600)\n`);
  t.equal(first.out.split("\n").filter((l) => l.startsWith("  ")).length, 10, "lists all ten files");

  const again = await run("init", "--out", dev);
  t.equal(again.code, 1);
  t.match(again.err, `${join(dev, "ca.pem")} already exists`);
  t.match(again.err, "--force");
  t.equal(again.out, "");

  const forced = await run("init", "--out", dev, "--force", "--hosts", "localhost,127.0.0.1,::1");
  t.equal(forced.code, 0, forced.err);
});

t.test("usage errors exit 2 with the usage text", async (t) => {
  for (const argv of [
    [],
    ["frobnicate"],
    ["init"],
    ["init", "--out"],
    ["init", "--out", join(work, "u"), "--hosts", " , "],
    ["init", "--out", join(work, "u"), "--hosts", "bad host"],
    ["init", "--out", join(work, "u"), "--colour"],
    ["init", "--out", join(work, "u"), "extra"],
    ["inspect"],
    ["inspect", "x.pem", "--nope"],
  ]) {
    const r = await run(...argv);
    t.equal(r.code, 2, `certs ${argv.join(" ")}`);
    t.match(r.err + r.out, "usage:", `certs ${argv.join(" ")} prints usage`);
  }
  const bad = await run("init", "--out", join(work, "u"), "--hosts", "bad host");
  t.match(bad.err, '"bad host" is neither a DNS name nor an IP address');
  t.equal((await run("--help")).code, 0);
});

t.test("inspect trusts the dev CA named in the configuration's tls.trust.extraRoots", async (t) => {
  const cfg = join(work, "trunkgate.yaml");
  await writeFile(cfg, `tls:\n  trust:\n    extraRoots: [${JSON.stringify(join(dev, "ca.pem"))}]\n`);
  const r = await run("inspect", join(dev, "server-ecdsa.pem"), "--config", cfg);
  t.equal(r.code, 0, r.err);
  t.equal(r.err, "");
  t.match(r.out, /trusted roots: 3 certificate\(s\) from .*digicert-global-root-g2\.pem, .*baltimore-cybertrust-root\.pem, .*dev\/ca\.pem\n/);
  t.match(r.out, `== ${join(dev, "server-ecdsa.pem")} ==`);
  t.match(r.out, /SANs: +DNS:localhost, IP:127\.0\.0\.1, IP:::1\n/);
  t.match(r.out, /Chain: +trusted, root O=trunkgate \(development only\), CN=trunkgate development root CA\n/);
});

t.test("a configuration that does not load: bundled roots only, and it says so", async (t) => {
  const broken = join(work, "broken.yaml");
  await writeFile(broken, "tls:\n  nonsense: 1\n");
  const r = await run("inspect", join(dev, "client.pem"), "--config", broken);
  t.equal(r.code, 0);
  t.match(r.err, "configuration not used, checking against the bundled roots only");
  t.match(r.err, "tls.nonsense: unknown key");
  t.match(r.out, "trusted roots: 2 certificate(s)");
  t.match(r.out, /Chain: +NOT TRUSTED: unknown issuer: O=trunkgate \(development only\)/);

  const missing = await run("inspect", join(dev, "client.pem"), "--config", join(work, "nope.yaml"));
  t.equal(missing.code, 0);
  t.match(missing.err, "cannot read");
});

t.test("unreadable or unparseable files: exit 1 naming the file, the others still reported", async (t) => {
  const junk = join(work, "junk.pem");
  await writeFile(junk, "not a certificate at all");
  const missing = join(work, "missing.pem");
  const r = await run("inspect", missing, join(dev, "client.pem"), junk, "--config", join(work, "trunkgate.yaml"));
  t.equal(r.code, 1);
  t.match(r.err, `cannot read ${missing}: ENOENT`);
  t.match(r.err, `${junk}: neither PEM, a DER certificate nor PKCS#12`);
  t.match(r.out, "Subject:     CN=dev-trunk");

  const keyOnly = await run("inspect", join(dev, "client.key"), "--config", join(work, "trunkgate.yaml"));
  t.equal(keyOnly.code, 1);
  t.match(keyOnly.err, `${join(dev, "client.key")}: PEM holds no CERTIFICATE block (found: PRIVATE KEY)`);
});

t.test("inspect a PKCS#12 file with --passphrase-file", async (t) => {
  const p12 = join(work, "client.p12");
  const made = await openssl(["pkcs12", "-export", "-in", join(dev, "client.pem"), "-inkey", join(dev, "client.key"), "-passout", "pass:hunter2", "-out", p12]);
  t.equal(made.code, 0, made.stderr);
  const passFile = join(work, "pass.txt");
  await writeFile(passFile, "hunter2\n");
  const cfg = ["--config", join(work, "trunkgate.yaml")];

  const ok = await run("inspect", p12, "--passphrase-file", passFile, ...cfg);
  t.equal(ok.code, 0, ok.err);
  t.match(ok.out, "Certificate 1 of 1 (PKCS#12)");
  t.match(ok.out, /Key: +EC P-256/);
  t.match(ok.out, /Chain: +trusted/);

  const noPass = await run("inspect", p12, ...cfg);
  t.equal(noPass.code, 1);
  t.match(noPass.err, `${p12}: PKCS#12: wrong passphrase`);

  const noFile = await run("inspect", p12, "--passphrase-file", join(work, "nope.txt"), ...cfg);
  t.equal(noFile.code, 1);
  t.match(noFile.err, `cannot read passphrase file ${join(work, "nope.txt")}`);
});

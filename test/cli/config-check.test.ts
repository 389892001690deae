// `trunkgate config check` makes every check `start` makes before opening a socket, and lists every
// problem at once (not only the first), each naming its key — or the environment variable that set it.
import t from "tap";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { exportJWK, generateKeyPair } from "jose";
import { configCheckCommand } from "../../src/cli/config-check.js";
import { createKeyFile } from "../../src/store/crypto/key-file.js";
import { makeTestPki, type TestPki } from "../helpers/pki.js";
import { runIn } from "../helpers/capture-io.js";

let pki: TestPki;
t.before(async () => {
  pki = await makeTestPki();
});
t.teardown(() => pki?.cleanup());

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML/JSON of any shape
function base(): Record<string, any> {
  return {
    tls: {
      certificates: [{ cert: pki.serverEcdsa.certPath, key: pki.serverEcdsa.keyPath }],
      clientCertificate: { cert: pki.upstreamClient.certPath, key: pki.upstreamClient.keyPath },
      trust: { extraRoots: [pki.ca.certPath] },
    },
    peers: [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] } }],
    store: { url: `sqlite:${join(pki.dir, "store.db")}`, encryptionKeyFile: join(pki.dir, "absent.key") },
  };
}

function write(name: string, cfg: unknown): string {
  const p = join(pki.dir, name);
  writeFileSync(p, stringify(cfg));
  return p;
}

const check = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  runIn(async (io) => {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      return await configCheckCommand(args, io);
    } finally {
      for (const k of Object.keys(env)) if (saved[k] === undefined) delete process.env[k];
    }
  });

t.test("a valid configuration: exit 0 with a summary and notes", async (t) => {
  const r = await check(["--config", write("ok.yaml", base())]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /: valid/);
  t.match(r.stdout, /note: store\.encryptionKeyFile: .*absent\.key does not exist yet; start creates it/);
});

t.test("every file problem is listed, each under its key", async (t) => {
  const cfg = base();
  cfg.tls.certificates = [
    { cert: join(pki.dir, "missing.pem"), key: pki.serverEcdsa.keyPath },
    { cert: pki.serverRsa.certPath, key: pki.serverRsa.keyPath },
  ];
  cfg.tls.clientCertificate = { cert: pki.upstreamClient.certPath, key: pki.client.keyPath };
  cfg.tls.trust.extraRoots = [pki.ca.certPath, pki.client.certPath];
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const jwks = join(pki.dir, "private-jwks.json");
  writeFileSync(jwks, JSON.stringify({ keys: [await exportJWK(privateKey)] }));
  cfg.provisioning = { enabled: true, auth: { jwksFile: jwks, issuer: "https://idp.test/", audience: "a" } };
  cfg.logging = { hashKeyFile: join(pki.dir, "no-hash.key") };
  const keyFile = join(pki.dir, "open.key");
  createKeyFile(keyFile);
  chmodSync(keyFile, 0o644);
  cfg.store.encryptionKeyFile = keyFile;
  const r = await check(["--config", write("bad-files.yaml", cfg)]);
  t.equal(r.code, 2);
  t.match(r.stderr, /invalid \(6 problem\(s\)\)/);
  t.match(r.stderr, /tls\.certificates\.0\.cert: cannot read .*missing\.pem: ENOENT/);
  t.match(r.stderr, /tls\.clientCertificate\.key: .* does not match the certificate/);
  t.match(r.stderr, /tls\.trust\.extraRoots\.1: .* is not a CA certificate/);
  t.match(r.stderr, /provisioning\.auth\.jwksFile: keys\[0\]: contains private or symmetric key material/);
  t.match(r.stderr, /logging\.hashKeyFile: ENOENT|logging\.hashKeyFile: .*no such file/);
  // A key file other users may read refuses to start, so config check calls it a problem.
  t.match(r.stderr, /store\.encryptionKeyFile: .* has mode 644: other users could read the store's keys/);
  t.notMatch(r.stderr, /tls\.certificates\.1/, "the good pair is not reported");
});

t.test("schema problems: every one listed; an environment override's names the variable", async (t) => {
  const cfg = base();
  cfg.peers = [{ name: "a", match: { dnsNames: ["sbc.*.example", "*.*.x"], uris: ["carrier.example"] } }];
  const r = await check(["--config", write("bad-schema.yaml", cfg)], { TRUNKGATE__SIP__LISTEN__PORT: "abc" });
  t.equal(r.code, 2);
  t.match(r.stderr, /sip\.listen\.port \(from TRUNKGATE__SIP__LISTEN__PORT\): /);
  t.match(r.stderr, /peers\.0\.match\.dnsNames\.0: "sbc\.\*\.example"/);
  t.match(r.stderr, /peers\.0\.match\.dnsNames\.1: "\*\.\*\.x"/);
  t.match(r.stderr, /peers\.0\.match\.uris\.0: not a URI/);
  t.notMatch(r.stderr, /bad-schema\.yaml: .*sip\.listen\.port/, "the variable, not the file, is blamed");
});

t.test("provisioning configured but not enabled: a warning, still valid", async (t) => {
  const cfg = base();
  cfg.provisioning = { auth: { jwksFile: "/nowhere.json", issuer: "https://idp.test/", audience: "a" } };
  const r = await check(["--config", write("prov-off.yaml", cfg)]);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stderr, /warning: provisioning: provisioning\.auth is configured but provisioning\.enabled is not true: the API will not start/);
});

t.test("dev PKI: a mistyped path next to an existing PKI is a problem; an empty directory a note", async (t) => {
  const cfg = base();
  cfg.tls.devPki = { autoGenerate: true, dir: pki.dir };
  cfg.tls.certificates = [{ cert: join(pki.dir, "server-ecdsa.pm"), key: pki.serverEcdsa.keyPath }];
  // The test PKI directory holds ca.pem, like a dev PKI.
  const r = await check(["--config", write("typo.yaml", cfg)]);
  t.equal(r.code, 2);
  t.match(r.stderr, /tls\.certificates\.0\.cert: .*server-ecdsa\.pm does not exist, and .* already holds a development PKI/);
  const empty = base();
  empty.tls.devPki = { autoGenerate: true, dir: join(pki.dir, "fresh") };
  empty.tls.certificates = [{ cert: join(pki.dir, "fresh", "server-ecdsa.pem"), key: join(pki.dir, "fresh", "server-ecdsa.key") }];
  const r2 = await check(["--config", write("fresh.yaml", empty)]);
  t.equal(r2.code, 0, r2.stderr);
  t.match(r2.stdout, /note: tls\.devPki: .*fresh holds no development PKI; start will generate one/);
});

t.test("TRUNKGATE_STORE_KEY that does not parse is named", async (t) => {
  const r = await check(["--config", write("env-key.yaml", base())], { TRUNKGATE_STORE_KEY: "not base64!" });
  t.equal(r.code, 2);
  t.match(r.stderr, /TRUNKGATE_STORE_KEY: not base64/);
});

// The key file through the product: `trunkgate start` refuses a key file other users may read
// (a documented override accepts a group-readable one), and a missing key file for a store that
// already holds data is an error naming the file — never a fresh key that would orphan every row.
import t from "tap";
import { chmodSync, existsSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { tempDir } from "./backends.js";
import { runCli } from "../helpers/cli.js";
import { makeTestPki, type TestPki } from "../helpers/pki.js";
import { keysCommand } from "../../src/cli/keys.js";
import { numbersCommand } from "../../src/cli/numbers.js";

let pki: TestPki;
t.before(async () => {
  pki = await makeTestPki();
});
t.teardown(() => pki?.cleanup());

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) } };
}

function writeConfig(dir: string, store: Record<string, unknown>): string {
  const p = join(dir, "trunkgate.yaml");
  writeFileSync(
    p,
    stringify({
      tls: {
        certificates: [{ cert: pki.serverEcdsa.certPath, key: pki.serverEcdsa.keyPath }],
        clientCertificate: { cert: pki.upstreamClient.certPath, key: pki.upstreamClient.keyPath },
        trust: { bundledRoots: false, extraRoots: [pki.ca.certPath] },
      },
      peers: [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] } }],
      // `numbers import` accepts only services that name a configured upstream.
      sip: { listen: { host: "127.0.0.1", port: 0 }, upstreams: [{ name: "svc", targets: [{ host: "127.0.0.1", port: 5070, transport: "tcp" }], healthCheck: { enabled: false } }] },
      http: { enabled: false },
      admin: { listen: { host: "127.0.0.1", port: 0 } },
      store,
    }),
  );
  return p;
}

t.test("a key file readable by others refuses to start; group-readable only with the override", async (t) => {
  const dir = tempDir(t);
  const keyFile = join(dir, "keys", "store.key");
  const store = { url: `sqlite:${join(dir, "store.db")}`, encryptionKeyFile: keyFile };
  const config = writeConfig(dir, store);
  t.equal(await keysCommand(["init", "--out", keyFile], io().io), 0);
  chmodSync(keyFile, 0o644);
  const r = await runCli(["start", "--config", config], { timeoutMs: 60_000 });
  t.equal(r.code, 1, r.stdout);
  t.match(r.stderr, `store.encryptionKeyFile: ${keyFile} has mode 644: other users could read the store's keys`);

  chmodSync(keyFile, 0o640);
  const refused = io();
  t.equal(await keysCommand(["status", "--config", config], refused.io), 1, "group-readable without the override");
  t.match(refused.err.join("\n"), /mode 640.*store\.allowGroupReadableKeyFile: true/);
  const allowed = io();
  t.equal(await keysCommand(["status", "--config", writeConfig(dir, { ...store, allowGroupReadableKeyFile: true })], allowed.io), 0, allowed.err.join("\n"));
  t.match(allowed.out.join("\n"), /^k1\t0 value\(s\)\t\(active\)$/m);
});

t.test("a missing key file for a store that holds data is an error naming the file, never a new key", async (t) => {
  const dir = tempDir(t);
  const keyFile = join(dir, "keys", "store.key");
  const config = writeConfig(dir, { url: `sqlite:${join(dir, "store.db")}`, encryptionKeyFile: keyFile });
  const csv = join(dir, "n.csv");
  writeFileSync(csv, "number,service\n+41446681800,svc\n");
  const imported = io();
  t.equal(await numbersCommand(["import", csv, "--config", config], imported.io), 0, imported.err.join("\n"));
  t.ok(existsSync(keyFile), "first run on an empty store created the key file");
  renameSync(keyFile, `${keyFile}.lost`);

  const r = await runCli(["start", "--config", config], { timeoutMs: 60_000 });
  t.equal(r.code, 1, r.stdout);
  t.match(r.stderr, `store.encryptionKeyFile: ${keyFile} does not exist, but the store already holds data encrypted with another key file`);
  t.notOk(existsSync(keyFile), "no fresh key file was created");
  const exported = io();
  t.equal(await numbersCommand(["export", "--config", config], exported.io), 1);
  t.match(exported.err.join("\n"), /does not exist, but the store already holds data/);
  t.notOk(existsSync(keyFile), "nor by the CLI");

  renameSync(`${keyFile}.lost`, keyFile);
  const back = io();
  t.equal(await numbersCommand(["export", "--config", config], back.io), 0, back.err.join("\n"));
  t.same(back.out, ["number,service,customHeader,account", "+41446681800,svc,,"], "the restored key file reads the data");
});

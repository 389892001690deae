// `trunkgate start` as a process: fails fast and clearly on bad input, drains and exits 0 on SIGTERM.
import t from "tap";
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { join } from "node:path";
import { stringify } from "yaml";
import { makeTestPki, type TestPki } from "../helpers/pki.js";
import { appEnv, collect, MAIN, runCli, waitForLine } from "../helpers/cli.js";

let pki: TestPki;
t.before(async () => {
  pki = await makeTestPki();
});
t.teardown(() => pki?.cleanup());

function config(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tls: {
      certificates: [{ cert: pki.serverEcdsa.certPath, key: pki.serverEcdsa.keyPath }],
      clientCertificate: { cert: pki.upstreamClient.certPath, key: pki.upstreamClient.keyPath },
      trust: { extraRoots: [pki.ca.certPath] },
    },
    peers: [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] } }],
    sip: { listen: { host: "127.0.0.1", port: 0 } },
    http: { enabled: false },
    admin: { listen: { host: "127.0.0.1", port: 0 } },
    store: { url: `sqlite:${join(pki.dir, "store.db")}`, encryptionKeyFile: join(pki.dir, "store.key") },
    ...extra,
  };
}

async function writeConfig(name: string, cfg: Record<string, unknown>): Promise<string> {
  const p = join(pki.dir, name);
  await writeFile(p, stringify(cfg));
  return p;
}

t.test("an invalid config exits 2 and names every bad key", async (t) => {
  const p = await writeConfig("bad.yaml", { ...config(), sip: { listen: { port: "x" }, bogus: 1 } });
  const r = await runCli(["start", "--config", p]);
  t.equal(r.code, 2);
  t.match(r.stderr, /sip\.listen\.port: /);
  t.match(r.stderr, /sip\.bogus: unknown key/);
});

t.test("a key that does not match its certificate fails fast naming the key", async (t) => {
  const cfg = config();
  (cfg.tls as { certificates: unknown[] }).certificates = [{ cert: pki.serverEcdsa.certPath, key: pki.client.keyPath }];
  const r = await runCli(["start", "--config", await writeConfig("mismatch.yaml", cfg)]);
  t.equal(r.code, 1);
  t.match(r.stderr, /tls\.certificates\.0\.key: .* does not match the certificate/);
});

t.test("an unreadable certificate fails fast naming the key", async (t) => {
  const cfg = config();
  (cfg.tls as { certificates: unknown[] }).certificates = [{ cert: "/nonexistent.pem", key: pki.serverEcdsa.keyPath }];
  const r = await runCli(["start", "--config", await writeConfig("missing.yaml", cfg)]);
  t.equal(r.code, 1);
  t.match(r.stderr, /tls\.certificates\.0\.cert: cannot read \/nonexistent\.pem: ENOENT/);
});

t.test("a port in use fails fast naming the listener", async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const r = await runCli(["start", "--config", await writeConfig("inuse.yaml", config({ sip: { listen: { host: "127.0.0.1", port } } }))]);
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`sip\\.listen: port ${port} on 127\\.0\\.0\\.1 is already in use`));
});

t.test("config check: valid exits 0 with a summary; invalid exits 2", async (t) => {
  const ok = await runCli(["config", "check", "--config", await writeConfig("ok.yaml", config())]);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /valid/);
  t.match(ok.stdout, /peers: dev-trunk/);
  const bad = await runCli(["config", "check", "--config", await writeConfig("bad2.yaml", { peers: [{ name: "x" }] })]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /peers\.0\.match: /);
});

t.test("SIGTERM drains and exits 0; SIGHUP reloads", async (t) => {
  const p = await writeConfig("run.yaml", config());
  const child = spawn(process.execPath, [MAIN, "start", "--config", p], { stdio: "pipe", env: appEnv() });
  const done = collect(child, 20_000);
  await waitForLine(child, (l) => l.includes('"trunkgate started"'));
  child.kill("SIGHUP");
  await waitForLine(child, (l) => l.includes("TLS material reloaded"));
  child.kill("SIGTERM");
  const r = await done;
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /"msg":"stopped"/);
});

t.test("unknown commands print usage and exit 2", async (t) => {
  const r = await runCli(["frobnicate"]);
  t.equal(r.code, 2);
  t.match(r.stderr, /usage: trunkgate/);
});

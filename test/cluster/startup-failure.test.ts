// A cluster that cannot start says why once and exits non-zero: it never forks for an invalid
// config, and a worker that fails to start (port in use) stops everything instead of restarting.
import t from "tap";
import { createServer } from "node:net";
import { makeTestPki, type TestPki } from "../helpers/pki.js";
import { clusterConfig, startCli, writeConfig } from "./harness.js";

let pki: TestPki;
t.before(async () => {
  pki = await makeTestPki();
});
t.teardown(() => pki?.cleanup());

t.test("an invalid config exits 2 naming the key, before any worker is forked", async (t) => {
  const cfg = clusterConfig(pki, { sip: { listen: { host: "127.0.0.1", port: "x" } } });
  const cli = startCli(await writeConfig(pki, "bad.yaml", cfg));
  const r = await cli.exit();
  t.equal(r.code, 2);
  t.match(cli.stderr, /sip\.listen\.port: /);
  t.equal(cli.lines.filter((l) => l.msg === "worker started").length, 0, "no worker was forked");
});

t.test("an invalid lifecycle.workers exits 2 naming the key", async (t) => {
  const cfg = clusterConfig(pki, { lifecycle: { workers: 0 } });
  const cli = startCli(await writeConfig(pki, "bad-workers.yaml", cfg));
  const r = await cli.exit();
  t.equal(r.code, 2);
  t.match(cli.stderr, /lifecycle\.workers: an integer from 1 to 256, or "auto"/);
});

t.test("a port in use: the workers' error is reported once, exit 1, no restart loop", async (t) => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
  t.teardown(() => blocker.close());
  const port = (blocker.address() as { port: number }).port;
  const cfg = clusterConfig(pki, { sip: { listen: { host: "127.0.0.1", port } } });
  const cli = startCli(await writeConfig(pki, "inuse.yaml", cfg));
  const r = await cli.exit();
  t.equal(r.code, 1);
  const reported = cli.stderr.split("\n").filter((l) => l.includes(`sip.listen: port ${port} on 127.0.0.1 is already in use`));
  t.equal(reported.length, 1, `reported once: ${cli.stderr}`);
  t.equal(cli.lines.filter((l) => l.msg === "worker exited unexpectedly; replacing it").length, 0, "nothing was restarted");
  t.equal(cli.lines.filter((l) => l.role === "primary" && l.msg === "trunkgate started").length, 0);
});

t.test("TRUNKGATE__LIFECYCLE__WORKERS=1 overrides the file: a single process, no primary", async (t) => {
  const cfg = clusterConfig(pki);
  const cli = startCli(await writeConfig(pki, "single.yaml", cfg), { TRUNKGATE__LIFECYCLE__WORKERS: "1" });
  const started = await cli.waitFor((l) => l.msg === "trunkgate started", "started");
  t.equal(started.worker, undefined, "no worker field in single-process mode");
  t.equal(started.role, undefined);
  t.match(String(started.admin), /^127\.0\.0\.1:\d+$/, "the single process serves the admin endpoint itself");
  cli.child.kill("SIGTERM");
  t.equal((await cli.exit()).code, 0);
});

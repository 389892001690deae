// Key rotation and prune while instances run (real `trunkgate start` processes, real SQLite and
// PostgreSQL). Before: running instances never re-read their keys — the call-record worker kept
// writing under a key `keys prune` had removed, GET answered 500 (unknown key id "k1") and the next
// start failed. Now instances follow the key file, record the keys they write with in the store,
// and prune refuses a key a live instance still uses, naming it.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { eachBackend } from "./backends.js";
import { liveSetup, startLive, writeLiveConfig } from "./live-instance.js";
import { collect, MAIN, runCli, waitForLine } from "../helpers/cli.js";
import { testPki } from "../sip/e2e/harness.js";
import { openDriver } from "../../src/store/db/open.js";
import { migrate } from "../../src/store/migrations.js";
import { InstanceRegistry, liveInstances } from "../../src/store/instances.js";

const N1 = "+41446681801";
const N2 = "+41446681802";
const N3 = "+41446681803";

function keyIds(keyFile: string): string[] {
  return Object.keys((JSON.parse(readFileSync(keyFile, "utf8")) as { keys: Record<string, string> }).keys);
}

eachBackend("rotate, then prune while instances run: refused while one uses the old key, then done; nothing unreadable", async (t, env) => {
  const setup = await liveSetup(await testPki(), env.dir, env.url);
  // B follows its key file; A has its keys from TRUNKGATE_STORE_KEY (the same keyring, as of now),
  // which cannot change under a running process: A keeps writing under k1 until it is restarted.
  const cfgB = await writeLiveConfig(setup, "b.yaml", { keyFileCheckMs: 200, instanceHeartbeatMs: 500 });
  const b = await startLive(setup, cfgB);
  t.teardown(() => b.cli.child.kill("SIGKILL"));
  const a = await startLive(setup, cfgB, { TRUNKGATE_STORE_KEY: readFileSync(setup.keyFile).toString("base64") });
  t.teardown(() => a.cli.child.kill("SIGKILL"));

  t.equal((await b.api("PUT", `/api/v1/numbers/${N1}`, { service: "svc-a" })).status, 201);
  await b.call();
  await b.waitMetric("trunkgate_store_call_records_written_total", 1);

  const rotated = await runCli(["keys", "rotate", "--config", cfgB], { timeoutMs: 60_000 });
  t.equal(rotated.code, 0, rotated.stderr);
  t.match(rotated.stdout, /added key k2 \(now active\)/);
  t.match(rotated.stdout, /still in use: k1: running instance .* pid \d+/, "rotate reports who still uses k1");

  // B picks the new key up without a restart, in its main thread and in its call-record worker.
  await b.cli.waitFor((l) => l.msg === "store instance keys recorded" && JSON.stringify(l.keyIds) === '["k2"]', "B records k2 only", 30_000);
  // A still writes under k1.
  t.equal((await a.api("PUT", `/api/v1/numbers/${N3}`, { service: "svc-a" })).status, 201);

  const refused = await runCli(["keys", "prune", "--config", cfgB], { timeoutMs: 60_000 });
  t.equal(refused.code, 1, `${refused.stdout}\n${refused.stderr}`);
  t.match(refused.stderr, new RegExp(`not removed: k1: in use by running instance \\S+ pid ${a.cli.child.pid} `), "names the instance");
  t.notMatch(refused.stderr, new RegExp(`pid ${b.cli.child.pid} `), "B is not named: it moved on");
  t.same(keyIds(setup.keyFile).sort(), ["k1", "k2"], "k1 kept");
  t.match(refused.stdout, /re-encrypted 1 row\(s\) in numbers written under an old key/, "A's k1 write is moved to k2 (A may write more)");

  t.equal((await b.api("PUT", `/api/v1/numbers/${N2}`, { service: "svc-a" })).status, 201);
  await b.call();
  await b.waitMetric("trunkgate_store_call_records_written_total", 2);

  t.equal((await a.stop()).code, 0, "A stops cleanly (and leaves store_instances)");
  const pruned = await runCli(["keys", "prune", "--config", cfgB], { timeoutMs: 60_000 });
  t.equal(pruned.code, 0, `${pruned.stdout}\n${pruned.stderr}`);
  t.match(pruned.stdout, /removed unused key\(s\): k1/);
  t.same(keyIds(setup.keyFile), ["k2"]);

  // B keeps serving after the prune: every row readable, call records still written.
  for (const n of [N1, N2, N3]) t.equal((await b.api("GET", `/api/v1/numbers/${n}`)).status, 200, `GET ${n} after the prune`);
  await b.call();
  await b.waitMetric("trunkgate_store_call_records_written_total", 3);
  t.equal(await b.metric("trunkgate_store_call_record_write_errors_total"), 0, "no call-record write failed");

  // And it starts again.
  t.equal((await b.stop()).code, 0);
  const again = await startLive(setup, cfgB);
  t.teardown(() => again.stop());
  for (const n of [N1, N2, N3]) t.equal((await again.api("GET", `/api/v1/numbers/${n}`)).status, 200, `GET ${n} after a restart`);
  const status = await runCli(["keys", "status", "--config", cfgB], { timeoutMs: 60_000 });
  t.equal(status.code, 0, status.stderr);
  t.match(status.stdout, /^k2\t\d+ value\(s\)\t\(active\)$/m);
  t.notMatch(status.stdout, /k1|MISSING/, "no value under a removed key");
  t.match(status.stdout, new RegExp(`instance \\S+ pid ${again.cli.child.pid} \\(id \\S+\\) writes with k2`));
});

eachBackend("SIGKILL during a rotation loses nothing; rotate and prune again finish it", async (t, env) => {
  const setup = await liveSetup(await testPki(), env.dir, env.url);
  const config = await writeLiveConfig(setup, "cli.yaml");
  const csv = join(env.dir, "numbers.csv");
  const numbers = Array.from({ length: 400 }, (_, i) => `+4144${String(i).padStart(7, "0")}`);
  writeFileSync(csv, `number,service\n${numbers.map((n) => `${n},svc-a`).join("\n")}\n`);
  const imported = await runCli(["numbers", "import", csv, "--config", config], { timeoutMs: 60_000 });
  t.equal(imported.code, 0, imported.stderr);

  // One row per transaction: the kill lands while rows are being re-encrypted (or just after).
  const child = spawn(process.execPath, [MAIN, "keys", "rotate", "--config", config, "--batch-size", "1"], { stdio: "pipe" });
  const done = collect(child, 60_000);
  await waitForLine(child, (l) => l.includes("added key k2"), 60_000);
  child.kill("SIGKILL");
  t.equal((await done).signal, "SIGKILL");
  t.same(keyIds(setup.keyFile).sort(), ["k1", "k2"], "the new key was written before any row used it");

  const exported = await runCli(["numbers", "export", "--config", config], { timeoutMs: 60_000 });
  t.equal(exported.code, 0, exported.stderr);
  t.same(exported.stdout.trim().split("\n").slice(1).map((l) => l.split(",")[0]).sort(), numbers, "every number readable after the kill");

  const again = await runCli(["keys", "rotate", "--config", config, "--prune"], { timeoutMs: 60_000 });
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, /removed unused key\(s\): k1, k2/);
  const after = await runCli(["numbers", "export", "--config", config], { timeoutMs: 60_000 });
  t.equal(after.stdout, exported.stdout, "same numbers under the new key alone");
});

eachBackend("an instance that died without closing stops blocking a prune after 3 heartbeats", async (t, env) => {
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  await migrate(db);
  const dead = new InstanceRegistry(db, 1000);
  await dead.heartbeat(["k1"], 10_000);
  t.same((await liveInstances(db, 12_999)).map((i) => [i.id, i.keyIds]), [[dead.id, ["k1"]]], "live within 3 heartbeats");
  t.same(await liveInstances(db, 13_001), [], "ignored (and removed) after");
  const alive = new InstanceRegistry(db, 1000);
  await alive.heartbeat(["k2", "k1", "k2"], 20_000);
  t.same((await liveInstances(db, 20_500))[0]?.keyIds, ["k1", "k2"]);
  await alive.remove();
  t.same(await liveInstances(db, 20_500), [], "a clean stop removes the row");
});

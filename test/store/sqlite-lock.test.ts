// SQLite keeps a POSIX lock on the database file for as long as a connection is open; closing ANY
// descriptor of that file in the process releases every POSIX lock the process holds on it. The
// call-record worker's connection used to pre-create the file with closeSync(openSync(path)) — on a
// live file — so the main connection lost its lock; an external sqlite3 reader then believed it was
// the last connection, checkpointed and deleted the WAL, and whatever was committed after that lived
// only in an unlinked WAL file that a kill -9 took with it.
import t from "tap";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./backends.js";
import { liveSetup, startLive, writeLiveConfig } from "./live-instance.js";
import { testPki } from "../sip/e2e/harness.js";
import { Keyring } from "../../src/store/crypto/keyring.js";
import { openStore } from "../../src/store/store.js";
import { CallRecordWorkerWriter } from "../../src/store/call-record-worker-writer.js";

/**
 * This process's POSIX locks on the file (lines of /proc/locks naming its inode and our pid),
 * without the line's ordinal: that is its place in the machine-wide list, which moves whenever
 * another process on the machine takes or drops a lock.
 */
function locksOf(file: string): string[] {
  const { ino } = statSync(file);
  return readFileSync("/proc/locks", "utf8")
    .split("\n")
    .filter((l) => l.includes(`:${ino} `) && l.split(/\s+/).includes(String(process.pid)))
    .map((l) => l.replace(/^\d+:\s*/, ""));
}

t.test("the call-record worker opening its connection leaves the main connection's lock in place", async (t) => {
  const dir = tempDir(t);
  const file = join(dir, "store.db");
  const url = `sqlite:${file}`;
  const store = await openStore({ url, keyring: Keyring.generate(), baseDir: dir });
  t.teardown(() => store.close());
  await store.numbers.upsert({ number: "+41446681800", service: "svc" });
  const before = locksOf(file);
  t.ok(before.length > 0, `SQLite holds a lock on the open database file: ${before.join(" | ")}`);

  const writer = new CallRecordWorkerWriter({ url, baseDir: dir, keyring: store.keyring, flushIntervalMs: 50 });
  t.teardown(() => writer.close());
  writer.record({ callId: "c1", startedAt: new Date(), hangupSide: "none", peer: "p", callingNumber: "+41446681801", calledNumber: "+41446681800" });
  await writer.flush();
  t.equal(writer.written + writer.dropped, 1, "the worker opened its connection and answered for the batch");
  t.same(locksOf(file), before, "the main connection's locks survive the worker's open");
});

t.test("a PUT answered 2xx survives an external sqlite3 reader and kill -9", async (t) => {
  const sqlite3 = spawnSync("sqlite3", ["-version"], { encoding: "utf8" });
  if (sqlite3.status !== 0) throw new Error("the sqlite3 CLI is needed (apt-get install sqlite3)");
  const pki = await testPki();
  const dir = tempDir(t);
  const file = join(dir, "store.db");
  const setup = await liveSetup(pki, dir, `sqlite:${file}`);
  const config = await writeLiveConfig(setup, "live.yaml");
  const first = await startLive(setup, config);
  t.teardown(() => first.cli.child.kill("SIGKILL"));

  // A call record makes the worker open its own connection (lazily, on its first batch).
  t.ok((await first.call()) >= 400, "the INVITE fails at the refused upstream");
  await first.waitMetric("trunkgate_store_call_records_written_total", 1);

  // An operator looks at the live file; on closing, sqlite3 deletes the WAL if it can lock the file.
  const look = spawnSync("sqlite3", [file, "SELECT count(*) FROM numbers;"], { encoding: "utf8", timeout: 30_000 });
  t.equal(look.status, 0, look.stderr);

  const put = await first.api("PUT", "/api/v1/numbers/+41446681800", { service: "svc-a", customHeader: "tenant=a" });
  t.equal(put.status, 201, JSON.stringify(put.json));
  await first.kill9();

  const second = await startLive(setup, config);
  t.teardown(() => second.stop());
  const got = await second.api("GET", "/api/v1/numbers/+41446681800");
  t.equal(got.status, 200, "the number answered 201 before kill -9 is still there");
  t.match(got.json, { number: "+41446681800", service: "svc-a", customHeader: "tenant=a" });
});

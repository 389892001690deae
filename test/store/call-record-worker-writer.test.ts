// The off-thread call-record writer against both backends: what record() queued ends up in the
// store and in the statistics, flush() waits for the worker, close() writes everything, a worker
// killed mid-way (terminate) or dying between its commit and its acknowledgement loses and
// duplicates nothing, and the queue is bounded while the store is down.
//
// The worker threads run the compiled worker from dist/ (built by `npm test`'s pretest), the one
// that ships. Left to its default, the worker URL resolves next to the writer, which under tap is
// src/ — and each of the ~20 worker threads this file starts would compile the store's TypeScript
// again through tap's loader (workers inherit its --import): 15-25 s a worker on a busy 2-core
// machine, more than tap's whole per-file budget.
import { pathToFileURL } from "node:url";
import { repoPath } from "../helpers/paths.js";
import pg from "pg";
import { writeFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { Registry } from "prom-client";
import { eachBackend, type BackendEnv } from "./backends.js";
import { CallRecordWorkerWriter } from "../../src/store/call-record-worker-writer.js";
import type { CallRecordInput } from "../../src/store/call-records.js";
import { until, within } from "../helpers/time.js";

const workerUrl = pathToFileURL(repoPath("dist/src/store/call-record-worker.js"));

const DAY = "2025-01-01";
const rec = (i: number): CallRecordInput => ({
  callId: `call-${i}`,
  startedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i % 3600)),
  answeredAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i % 3600) + 1000),
  endedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i % 3600) + 61_000),
  hangupSide: "caller",
  finalStatus: 200,
  service: "svc",
  peer: "peer-a",
  callingNumber: `+4930${String(i).padStart(6, "0")}`,
  calledNumber: "+4989111222",
});

function writer(t: Tap, env: BackendEnv, opts: Partial<ConstructorParameters<typeof CallRecordWorkerWriter>[0]> = {}): CallRecordWorkerWriter {
  const w = new CallRecordWorkerWriter({ url: env.url, baseDir: env.dir, keyring: env.keyring, flushIntervalMs: 60_000, workerUrl, ...opts });
  t.teardown(() => w.close());
  return w;
}
type Tap = Parameters<Parameters<typeof eachBackend>[1]>[0];


async function callsOn(env: BackendEnv, day = DAY): Promise<number> {
  const store = await env.open();
  const rows = await store.statistics.dailyStatistics({ from: day, to: day });
  return rows.reduce((n, r) => n + r.calls, 0);
}

eachBackend("worker writer: records and statistics written off-thread; flush waits; close writes the rest", async (t, env) => {
  const store = await env.open();
  const registry = new Registry();
  const w = writer(t, env, { batchSize: 100, registry });
  for (let i = 0; i < 250; i++) t.equal(w.record(rec(i)), true);
  t.equal(w.queued, 250);
  t.equal(await store.callRecords.count(), 0, "record() never writes synchronously");
  await within(w.flush(), 60_000, "flush");
  t.equal(w.queued, 0, "flush resolved only once the worker acknowledged everything");
  t.equal(w.written, 250);
  t.equal(await store.callRecords.count(), 250, "flush() resolved after the rows were committed");
  t.equal(await callsOn(env), 250, "statistics updated with the records");
  const found = await store.callRecords.findByCallId("call-7");
  t.equal(found.length, 1);
  t.equal(found[0]!.callingNumber, "+4930000007", "encrypted with the main thread's keyring");
  t.equal(found[0]!.peer, "peer-a");
  t.equal(found[0]!.durationMs, 60_000);

  for (let i = 250; i < 300; i++) w.record(rec(i));
  await within(w.close(), 60_000, "close");
  t.equal(await store.callRecords.count(), 300, "close() wrote what was still queued");
  t.equal(w.written, 300);
  t.equal(w.dropped, 0);
  t.match(await registry.getSingleMetricAsString("trunkgate_store_call_records_written_total"), / 300$/m);
  t.match(await registry.getSingleMetricAsString("trunkgate_store_call_record_queue_depth"), / 0$/m);
  t.equal(w.record(rec(999)), false, "closed writer refuses");
  t.equal(w.dropped, 1);
});

eachBackend("worker writer: a batch reaching batchSize is written without flush()", async (t, env) => {
  const store = await env.open();
  const w = writer(t, env, { batchSize: 20 });
  for (let i = 0; i < 20; i++) w.record(rec(i));
  t.equal(w.queued, 20, "posted, not yet acknowledged");
  // No flush() and no timer (flushIntervalMs is a minute): the rows arrive because the full batch
  // was posted on its own. Waiting on the rows, not on a tick, keeps this true on a busy machine.
  await until(async () => (await store.callRecords.count()) === 20, "the batch written without flush()", 60_000);
  await within(w.flush(), 60_000, "flush");
  t.equal(w.queued, 0);
  t.equal(await store.callRecords.count(), 20);
});

eachBackend("worker writer: a terminated worker is restarted and loses nothing", async (t, env) => {
  const store = await env.open();
  // The worker dies within a second of starting: restarted after restartPauseMs (5 s by default).
  const w = writer(t, env, { batchSize: 50, restartPauseMs: 50 });
  for (let i = 0; i < 200; i++) w.record(rec(i));
  const flushed = w.flush(); // four batches posted
  await w.terminateWorkerForTest(); // dies with them unanswered (some possibly committed)
  for (let i = 200; i < 300; i++) w.record(rec(i));
  await within(flushed, 60_000, "flush across the restart");
  await within(w.flush(), 60_000, "second flush");
  t.equal(w.queued, 0);
  t.equal(await store.callRecords.count(), 300, "every record stored once");
  t.equal(await callsOn(env), 300, "and counted once");
  t.equal(w.written + w.dropped, 300);
});

eachBackend("worker writer: a batch committed but not acknowledged is not stored twice", async (t, env) => {
  const store = await env.open();
  // The first worker exits right after committing its second batch, before answering for it.
  const w = writer(t, env, { batchSize: 40, exitAfterBatches: 2, restartPauseMs: 50 });
  for (let i = 0; i < 120; i++) w.record(rec(i));
  await within(w.flush(), 60_000, "flush across the restart");
  t.equal(w.queued, 0);
  t.equal(await store.callRecords.count(), 120, "the re-posted batch skipped its committed rows");
  t.equal(await callsOn(env), 120, "statistics counted each record once");
  t.equal(w.written, 80, "the re-posted batch wrote nothing new");
});

eachBackend("worker writer: invalid records are dropped one by one", async (t, env) => {
  const store = await env.open();
  const w = writer(t, env, { batchSize: 10 });
  w.record(rec(1));
  w.record({ ...rec(2), finalStatus: 42 });
  w.record({ ...rec(3), startedAt: new Date(NaN) });
  w.record(rec(4));
  await within(w.close(), 60_000, "close");
  t.equal(await store.callRecords.count(), 2);
  t.equal(w.written, 2);
  t.equal(w.dropped, 2);
});

/** A store URL that fails until makeAvailable(): a blocked SQLite directory / a database not yet created. */
async function unavailableStore(env: BackendEnv): Promise<{ url: string; makeAvailable(): Promise<void> }> {
  if (env.dialect === "sqlite") {
    const blocker = join(env.dir, "blocked");
    writeFileSync(blocker, "a file where the database directory should be");
    return { url: `sqlite:${join(blocker, "store.db")}`, makeAvailable: async () => rmSync(blocker) };
  }
  const u = new URL(env.url);
  const name = `late_${u.pathname.slice(1)}`;
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    async makeAvailable() {
      const c = new pg.Client({ connectionString: env.url });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
    },
  };
}

eachBackend("worker writer: store down keeps records up to the bound, counts drops, recovers", async (t, env) => {
  const down = await unavailableStore(env);
  const registry = new Registry();
  const w = new CallRecordWorkerWriter({ url: down.url, baseDir: env.dir, keyring: env.keyring, batchSize: 10, maxQueued: 50, flushIntervalMs: 60_000, registry, workerUrl });
  t.teardown(() => w.close());
  for (let i = 0; i < 60; i++) w.record(rec(i));
  t.equal(w.dropped, 10, "records beyond maxQueued dropped at once");
  await within(w.flush(), 60_000, "flush with the store down");
  t.equal(w.queued, 50, "kept up to the bound");
  t.equal(w.written, 0);
  t.match(await registry.getSingleMetricAsString("trunkgate_store_call_records_dropped_total"), /reason="queue_full"} 10/);
  t.match(await registry.getSingleMetricAsString("trunkgate_store_call_record_write_errors_total"), / [1-9]\d*$/m);
  t.match(await registry.getSingleMetricAsString("trunkgate_store_call_record_queue_depth"), / 50$/m);
  t.equal(w.record(rec(100)), false, "still full");

  await down.makeAvailable();
  await within(w.flush(), 60_000, "flush after recovery");
  t.equal(w.queued, 0);
  t.equal(w.written, 50);
  const store = await env.open({ url: down.url });
  t.equal(await store.callRecords.count(), 50, "every kept record written after recovery");
});

eachBackend("worker writer: close() with the store still down counts what is lost", async (t, env) => {
  const down = await unavailableStore(env);
  const registry = new Registry();
  const w = new CallRecordWorkerWriter({ url: down.url, baseDir: env.dir, keyring: env.keyring, batchSize: 10, maxQueued: 50, flushIntervalMs: 60_000, registry, workerUrl });
  for (let i = 0; i < 30; i++) w.record(rec(i));
  await within(w.close(), 60_000, "close");
  t.equal(w.dropped, 30);
  t.match(await registry.getSingleMetricAsString("trunkgate_store_call_records_dropped_total"), /reason="close"} 30/);
});

// Issue 9 item 10, the journal and its recovery against both backends: an answered call is kept in
// call_journal (encrypted) from the batch after its answer until the batch with its record; the
// entries a dead instance leaves are turned into records with hangup side "unknown", ended at the
// owner's last heartbeat, counted in the statistics — once, even with two instances recovering at
// the same time — and never those of a live instance. Before: no journal, no record for calls up
// when the process died.
import t from "tap";
import { eachBackend, type BackendEnv } from "./backends.js";
import { storeSchema } from "../../src/config/schema/store.js";
import { CallRecordWriter } from "../../src/store/call-record-writer.js";
import { CallRecordWorkerWriter } from "../../src/store/call-record-worker-writer.js";
import type { AnsweredCall, CallRecordInput } from "../../src/store/call-records.js";
import { InstanceRegistry, liveInstances } from "../../src/store/instances.js";
import { openDriver } from "../../src/store/db/open.js";
import type { Store } from "../../src/store/store.js";
import { within } from "../helpers/time.js";
import { pathToFileURL } from "node:url";
import { repoPath } from "../helpers/paths.js";

const workerUrl = pathToFileURL(repoPath("dist/src/store/call-record-worker.js"));
const DAY = "2025-03-01";
const T0 = Date.UTC(2025, 2, 1, 10, 0, 0);
const CALLING = "+4989111222";

const answered = (i: number): AnsweredCall => ({
  journal: true,
  callId: `up-${i}`,
  startedAt: new Date(T0 + i * 1000),
  answeredAt: new Date(T0 + i * 1000 + 500),
  finalStatus: 200,
  service: "svc",
  peer: "peer-a",
  callingNumber: CALLING,
  calledNumber: `+4930${String(i).padStart(6, "0")}`,
});

const ended = (a: AnsweredCall, endMs: number): CallRecordInput => ({
  callId: a.callId,
  startedAt: a.startedAt,
  answeredAt: a.answeredAt,
  endedAt: new Date(endMs),
  finalStatus: a.finalStatus,
  hangupSide: "caller",
  service: a.service ?? null,
  peer: a.peer ?? null,
  callingNumber: a.callingNumber ?? null,
  calledNumber: a.calledNumber ?? null,
});

async function journal(store: Store, env: BackendEnv): Promise<Record<string, unknown>[]> {
  void store;
  const db = openDriver(env.url, env.dir);
  try {
    return await db.all("SELECT * FROM call_journal ORDER BY id");
  } finally {
    await db.close();
  }
}

async function callsOn(store: Store): Promise<{ calls: number; answered: number }> {
  const rows = await store.statistics.dailyStatistics({ from: DAY, to: DAY });
  return { calls: rows.reduce((n, r) => n + r.calls, 0), answered: rows.reduce((n, r) => n + (r.answered ?? 0), 0) };
}

/** A store_instances row for `owner` (a heartbeat at `lastSeen`, expiring 3 heartbeats later). */
async function instanceRow(store: Store, lastSeen: number, heartbeatMs = 1000): Promise<InstanceRegistry> {
  const r = store.instanceRegistry(heartbeatMs);
  await r.heartbeat(["k1"], lastSeen);
  return r;
}

t.test("the flush interval defaults to at most 100 ms (what a kill -9 can lose)", async (t) => {
  const cfg = storeSchema.parse({});
  t.ok(cfg.callRecordWriter.flushIntervalMs <= 100, `default ${cfg.callRecordWriter.flushIntervalMs} ms`);
});

eachBackend("journal: written with the batch after the answer, deleted by the call's record, encrypted", async (t, env) => {
  const store = await env.open();
  const calls = [answered(1), answered(2)];
  t.equal(await store.callRecords.insertMany(calls, { journalOwner: "A" }), 0, "journal entries are not records");
  const rows = await journal(store, env);
  t.equal(rows.length, 2);
  const raw = JSON.stringify(rows);
  t.notOk(raw.includes("4989111222") || raw.includes("4930000001") || raw.includes("peer-a") || raw.includes("up-1"), "no number, peer or Call-ID in clear");
  t.equal(rows[0]!.owner, "A");

  // The record of call 1, in a batch written twice (a re-posted batch): one record, entry gone.
  const batch = [ended(calls[0]!, T0 + 60_000)];
  t.equal(await store.callRecords.insertMany(batch, { batchId: "b1", journalOwner: "A" }), 1);
  t.equal(await store.callRecords.insertMany(batch, { batchId: "b1", journalOwner: "A" }), 0);
  t.same((await journal(store, env)).map((r) => r.call_id_hash), [store.callRecords.hashCallId("up-2")], "only the call still up is journaled");
  // Another owner's record of the same Call-ID does not touch A's entries.
  await store.callRecords.insertMany([ended(calls[1]!, T0 + 60_000)], { journalOwner: "B" });
  t.equal((await journal(store, env)).length, 1);
  await t.rejects(store.callRecords.insertMany([answered(3)]), /journalOwner/, "an entry needs its owner");
  await t.rejects(store.callRecords.insertMany([{ ...answered(4), finalStatus: 486 }], { journalOwner: "A" }), /finalStatus/);
});

eachBackend("recovery: a dead instance's calls become records ended at its last heartbeat, counted once", async (t, env) => {
  const store = await env.open({ statisticsMinGroupSize: 1 });
  const lastSeen = T0 + 120_000;
  const dead = await instanceRow(store, lastSeen);
  const late: AnsweredCall = { ...answered(9), answeredAt: new Date(lastSeen + 400), startedAt: new Date(lastSeen + 100) };
  await store.callRecords.insertMany([answered(1), answered(2), late], { journalOwner: dead.id });
  const self = await instanceRow(store, Date.now(), 60_000);

  t.same(await store.recoverOrphanedCalls({ self: self.id, now: lastSeen + 2000 }), [], "within its 3 heartbeats the owner counts as alive");
  t.equal((await journal(store, env)).length, 3);

  const now = lastSeen + 3001;
  const got = await store.recoverOrphanedCalls({ self: self.id, now });
  t.match(got, [{ owner: dead.id, calls: 3, endedAt: lastSeen, end: "last_heartbeat" }]);
  t.equal((await journal(store, env)).length, 0, "journal emptied");
  const r1 = (await store.callRecords.findByCallId("up-1"))[0]!;
  t.match(r1, { hangupSide: "unknown", finalStatus: 200, service: "svc", peer: "peer-a", callingNumber: CALLING, calledNumber: "+4930000001" });
  t.equal(r1.startedAt.getTime(), T0 + 1000);
  t.equal(r1.answeredAt!.getTime(), T0 + 1500);
  t.equal(r1.endedAt!.getTime(), lastSeen, "ended at the owner's last heartbeat");
  const r9 = (await store.callRecords.findByCallId("up-9"))[0]!;
  t.equal(r9.durationMs, 0, "answered after the last heartbeat: ended at its answer");
  t.same(await callsOn(store), { calls: 3, answered: 3 }, "the statistics count them");
  t.same(await store.recoverOrphanedCalls({ self: self.id, now, full: true }), [], "a second pass finds nothing");
  t.equal(await store.callRecords.count(), 3);
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  t.same((await db.all<{ id: string }>("SELECT id FROM store_instances")).map((r) => r.id), [self.id], "the dead instance's row is removed");
});

eachBackend("recovery: never a live instance's or its own entries; a dead pid here is gone at once", async (t, env) => {
  const store = await env.open();
  const now = Date.now();
  const other = await instanceRow(store, now, 60_000);
  const self = await instanceRow(store, now, 60_000);
  await store.callRecords.insertMany([answered(1)], { journalOwner: other.id });
  await store.callRecords.insertMany([answered(2)], { journalOwner: self.id });
  t.same(await store.recoverOrphanedCalls({ self: self.id, full: true, now }), [], "other is alive (its pid runs), self is self");
  // The same rows, seen from an instance whose kernel says other's pid no longer runs (kill -9 of
  // a process on this machine): recovered without waiting for the row to expire.
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  await db.run("UPDATE store_instances SET pid = ? WHERE id = ?", [process.pid + 1, other.id]);
  const got = await store.recoverOrphanedCalls({ self: self.id, now, pidAlive: () => false });
  t.match(got, [{ owner: other.id, calls: 1, end: "last_heartbeat", endedAt: now }]);
  t.same((await journal(store, env)).map((r) => r.owner), [self.id], "own entry kept");
  // A row of another pid namespace or machine (scope differs) is judged by its heartbeat only.
  const far = await instanceRow(store, now, 60_000);
  await store.callRecords.insertMany([answered(3)], { journalOwner: far.id });
  await db.run("UPDATE store_instances SET pid = ?, scope = ? WHERE id = ?", [process.pid + 1, "another-boot/pid:[1]", far.id]);
  t.same(await store.recoverOrphanedCalls({ self: self.id, now, pidAlive: () => false }), [], "not recovered while its heartbeat is fresh");
});

eachBackend("recovery: an owner without a row ends its calls at the recovery (start-up pass only)", async (t, env) => {
  const store = await env.open();
  await store.callRecords.insertMany([answered(1)], { journalOwner: "vanished" });
  const self = await instanceRow(store, Date.now(), 60_000);
  t.same(await store.recoverOrphanedCalls({ self: self.id, now: T0 + 600_000 }), [], "the periodic pass looks at rows only");
  t.match(await store.recoverOrphanedCalls({ self: self.id, now: T0 + 600_000, full: true }), [{ owner: "vanished", calls: 1, end: "recovery_time", endedAt: T0 + 600_000 }]);
  t.equal((await store.callRecords.findByCallId("up-1"))[0]!.endedAt!.getTime(), T0 + 600_000);
});

eachBackend("recovery: two instances recovering the same dead one record each call once", async (t, env) => {
  const a = await env.open();
  const b = await env.open();
  const dead = await instanceRow(a, T0);
  await a.callRecords.insertMany(Array.from({ length: 30 }, (_, i) => answered(i)), { journalOwner: dead.id });
  const [ra, rb] = await Promise.all([a.recoverOrphanedCalls({ self: "a", batchSize: 7 }), b.recoverOrphanedCalls({ self: "b", batchSize: 7 })]);
  t.equal([...ra, ...rb].reduce((n, r) => n + r.calls, 0), 30, "30 calls recovered between them");
  t.equal(await a.callRecords.count(), 30);
  t.same(await callsOn(a), { calls: 30, answered: 30 });
});

eachBackend("a clean stop with calls still journaled keeps its row (expired) for their end; prune ignores it", async (t, env) => {
  const store = await env.open();
  const reg = await instanceRow(store, Date.now(), 60_000);
  await store.callRecords.insertMany([answered(1)], { journalOwner: reg.id });
  await reg.remove();
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  t.same(await liveInstances(db), [], "not live");
  t.equal((await db.all("SELECT id FROM store_instances")).length, 1, "but kept: it owns a journal entry");
  const got = await store.recoverOrphanedCalls({ self: "next" });
  t.match(got, [{ owner: reg.id, calls: 1, end: "last_heartbeat" }]);
  t.equal((await db.all("SELECT id FROM store_instances")).length, 0, "removed once its calls are recorded");
  const clean = await instanceRow(store, Date.now(), 60_000);
  await clean.remove();
  t.equal((await db.all("SELECT id FROM store_instances")).length, 0, "an instance without journal entries leaves no row");
});

eachBackend("both writers carry journal entries in their batches (inline and worker thread)", async (t, env) => {
  const store = await env.open();
  const inline = new CallRecordWriter(store.callRecords, { journalOwner: "inline", flushIntervalMs: 60_000 });
  t.teardown(() => inline.close());
  const worker = new CallRecordWorkerWriter({ url: env.url, baseDir: env.dir, keyring: env.keyring, journalOwner: "worker", workerUrl, flushIntervalMs: 60_000 });
  t.teardown(() => worker.close());
  for (const [w, base] of [[inline, 0], [worker, 10]] as const) {
    t.ok(w.answered(answered(base + 1)));
    t.ok(w.answered(answered(base + 2)));
    await within(w.flush(), 60_000, "flush");
    t.equal(w.written, 0);
  }
  t.same((await journal(store, env)).map((r) => r.owner).sort(), ["inline", "inline", "worker", "worker"]);
  inline.record(ended(answered(1), T0 + 60_000));
  worker.record(ended(answered(11), T0 + 60_000));
  await within(Promise.all([inline.flush(), worker.flush()]), 60_000, "flush");
  t.same((await journal(store, env)).map((r) => r.call_id_hash).sort(), [store.callRecords.hashCallId("up-2"), store.callRecords.hashCallId("up-12")].sort());
  t.equal(inline.written + worker.written, 2);
  t.equal(inline.dropped + worker.dropped, 0);
});

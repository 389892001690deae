import { Registry } from "prom-client";
import { eachBackend } from "./backends.js";
import { CallRecordWriter } from "../../src/store/call-records.js";
import type { CallRecordInput } from "../../src/store/call-records.js";
import type { Store } from "../../src/store/store.js";
import { within } from "../helpers/time.js";

const rec = (i: number): CallRecordInput => ({
  callId: `call-${i}`,
  startedAt: new Date(Date.UTC(2025, 0, 1, 0, 0, i)),
  hangupSide: "none",
  finalStatus: 408,
  service: "svc",
  callingNumber: `+4930${String(i).padStart(6, "0")}`,
});

eachBackend("writer batches off the hot path and close() writes everything queued", async (t, env) => {
  const store = await env.open();
  const registry = new Registry();
  let batches = 0;
  const sink = { insertMany: (r: readonly CallRecordInput[]) => (batches++, store.callRecords.insertMany(r)) };
  const w = new CallRecordWriter(sink, { batchSize: 100, flushIntervalMs: 60_000, registry });
  for (let i = 0; i < 250; i++) t.equal(w.record(rec(i)), true);
  t.equal(batches, 0, "record() never writes synchronously");
  t.equal(w.queued, 250);
  await w.close();
  t.equal(await store.callRecords.count(), 250);
  t.equal(w.written, 250);
  t.ok(batches >= 3 && batches <= 4, `written in batches (${batches})`);
  const found = await store.callRecords.findByCallId("call-7");
  t.equal(found.length, 1);
  t.equal(found[0]!.callingNumber, "+4930000007");
  t.equal(found[0]!.finalStatus, 408);
  t.match(await registry.getSingleMetricAsString("trunkgate_store_call_records_written_total"), / 250$/m);
  t.equal(w.record(rec(999)), false, "closed writer refuses");
});

eachBackend("writer keeps records while the store is down, drops beyond the bound, recovers", async (t, env) => {
  const down = await env.open();
  await down.close(); // a store that fails every write, like an unreachable database
  const up = await env.open();
  let current: Store = down;
  const registry = new Registry();
  const w = new CallRecordWriter({ insertMany: (r) => current.callRecords.insertMany(r) }, { batchSize: 10, maxQueued: 50, flushIntervalMs: 60_000, registry });
  t.teardown(() => w.close());
  for (let i = 0; i < 60; i++) w.record(rec(i));
  await w.flush();
  t.equal(w.queued, 50, "kept up to the bound");
  t.equal(w.dropped, 10);
  t.match(await registry.getSingleMetricAsString("trunkgate_store_call_records_dropped_total"), /reason="queue_full"} 10/);
  t.match(await registry.getSingleMetricAsString("trunkgate_store_call_record_write_errors_total"), / [1-9]\d*$/m);
  current = up;
  await w.flush();
  t.equal(w.queued, 0);
  t.equal(await up.callRecords.count(), 50, "every kept record written after recovery");
});

eachBackend("writer drops only the invalid record of a batch", async (t, env) => {
  const store = await env.open();
  const w = new CallRecordWriter(store.callRecords, { batchSize: 5, flushIntervalMs: 60_000 });
  w.record(rec(1));
  w.record({ ...rec(2), finalStatus: 42 });
  w.record(rec(3));
  await w.close();
  t.equal(await store.callRecords.count(), 2);
  t.equal(w.dropped, 1);
});

eachBackend("writer flushes on its timer", async (t, env) => {
  const store = await env.open();
  let resolveWritten!: () => void;
  const written = new Promise<void>((r) => (resolveWritten = r));
  const w = new CallRecordWriter({ insertMany: async (r) => { const n = await store.callRecords.insertMany(r); resolveWritten(); return n; } }, { batchSize: 1000, flushIntervalMs: 20 });
  t.teardown(() => w.close());
  w.record(rec(1));
  await within(written, 5000, "timed flush");
  t.equal(await store.callRecords.count(), 1);
});

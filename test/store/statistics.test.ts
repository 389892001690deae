// Daily statistics under concurrency and across the schema change of migration 2: two replicas
// (two Store instances on one database) writing call records at the same time must be counted
// exactly, and a day row written by the JSON-histogram schema keeps its distribution.
import { eachBackend } from "./backends.js";
import { openDriver } from "../../src/store/db/open.js";
import { migrate, MIGRATIONS } from "../../src/store/migrations.js";
import type { CallRecordInput } from "../../src/store/call-records.js";
import { purgeExpiredCallRecords } from "../../src/store/retention.js";

const DAY = "2025-03-04";

function records(replica: string, batch: number, n: number): CallRecordInput[] {
  const out: CallRecordInput[] = [];
  for (let i = 0; i < n; i++) {
    const started = new Date(Date.parse(`${DAY}T10:00:00Z`) + i * 1000);
    const answered = i % 3 !== 0;
    out.push({
      callId: `${replica}-${batch}-${i}`,
      startedAt: started,
      answeredAt: answered ? new Date(started.getTime() + 1000) : null,
      endedAt: new Date(started.getTime() + 1000 + (i % 7) * 10_000),
      finalStatus: answered ? 200 : 486,
      hangupSide: answered ? "caller" : "none",
      // Every batch hits the same few day rows: the worst case for lost increments.
      service: i % 2 === 0 ? "svc-a" : "svc-b",
      peer: "trunk-1",
      calledNumber: "+15551230000",
    });
  }
  return out;
}

eachBackend("statistics: two replicas writing at once count every record exactly once", async (t, env) => {
  const a = await env.open();
  const b = await env.open();
  const batches = 20;
  const perBatch = 100; // 2 replicas × 20 batches × 100 = 4,000 records
  const write = async (store: typeof a, replica: string) => {
    for (let i = 0; i < batches; i++) await store.callRecords.insertMany(records(replica, i, perBatch));
  };
  // Several writers per replica, as the worker and the main thread (purge, inline writer) do.
  await Promise.all([write(a, "a1"), write(a, "a2"), write(b, "b1"), write(b, "b2")]);
  const total = 4 * batches * perBatch;
  t.equal(await a.callRecords.count(), total);
  for (const reader of [a, b]) {
    const rows = await reader.statistics.dailyStatistics({ from: DAY, to: DAY });
    t.equal(rows.length, 2, "one row per service");
    t.equal(rows.reduce((n, r) => n + r.calls, 0), total, "statistics count every record");
    const answered = rows.reduce((n, r) => n + (r.answered ?? 0), 0);
    const expectedAnswered = 4 * batches * records("x", 0, perBatch).filter((r) => r.answeredAt).length;
    t.equal(answered, expectedAnswered, "answered counted exactly");
    t.equal(rows.reduce((n, r) => n + (r.statusClasses?.["2xx"] ?? 0) + (r.statusClasses?.["4xx"] ?? 0), 0), total, "status classes add up");
  }
});

eachBackend("statistics: a day row written before migration 2 keeps its counts and distribution", async (t, env) => {
  const db = openDriver(env.url, env.dir);
  await migrate(db, MIGRATIONS.filter((m) => m.version === 1));
  await db.run(
    `INSERT INTO daily_statistics (id, day, service, peer_index, peer_enc, calls, answered, duration_sum_ms, duration_histogram,
       status_1xx, status_2xx, status_3xx, status_4xx, status_5xx, status_6xx, status_none)
     VALUES ('2025-01-02||svc', '2025-01-02', 'svc', '', NULL, 20, 20, 400000, '{"10000":10,"30000":9,"120000":1}', 0, 20, 0, 0, 0, 0, 0)`,
  );
  await db.close();
  const store = await env.open();
  const [row] = await store.statistics.dailyStatistics({ from: "2025-01-02", to: "2025-01-02" });
  t.match(row, { calls: 20, answered: 20, meanDurationMs: 20_000, p95DurationMs: 30_000 });
  // New calls add to the converted histogram: one more 2-minute call moves p95 to the top bucket.
  await store.callRecords.insertMany([
    { callId: "late", startedAt: new Date("2025-01-02T23:00:00Z"), answeredAt: new Date("2025-01-02T23:00:00Z"), endedAt: new Date("2025-01-02T23:02:00Z"), finalStatus: 200, hangupSide: "caller", service: "svc" },
  ]);
  const [after] = await store.statistics.dailyStatistics({ from: "2025-01-02", to: "2025-01-02" });
  t.match(after, { calls: 21, answered: 21, p95DurationMs: 120_000 });
});

function call(day: string, i: number, service: string, peer: string, durationS: number | null): CallRecordInput {
  const started = new Date(Date.parse(`${day}T08:00:00Z`) + i * 60_000);
  const answered = durationS === null ? null : new Date(started.getTime() + 1000);
  return {
    callId: `${day}-${service}-${peer}-${i}`,
    startedAt: started,
    answeredAt: answered,
    endedAt: answered ? new Date(answered.getTime() + durationS! * 1000) : new Date(started.getTime() + 3000),
    finalStatus: answered ? 200 : 486,
    hangupSide: answered ? "caller" : "none",
    service,
    peer,
    calledNumber: "+15551230000",
  };
}

eachBackend("statistics: no row describes fewer than minGroupSize calls, at read time and after retention", async (t, env) => {
  const store = await env.open(); // default minGroupSize 5
  t.equal(store.statistics.minGroupSize, 5);
  const day = "2025-05-06";
  const lonely = 11_573; // one call of 3 h 12 min 53 s: its exact bucket must not survive
  await store.callRecords.insertMany([
    ...Array.from({ length: 6 }, (_, i) => call(day, i, "svc-a", "big-trunk", 60)), // kept as is
    call(day, 10, "svc-a", "solo-trunk", lonely), // 1 call: merged
    ...[1, 2, 3, 4, 5].map((i) => call(day, 20 + i, "svc-b", `small-${i}`, 30)), // 5 × 1 call: (svc-b, all peers) = 5
    call(day, 30, "svc-c", "pair-trunk", 90),
    call(day, 31, "svc-c", "pair-trunk", null), // svc-c: 2 calls, with svc-a's 1: 3 < 5, suppressed
  ]);
  const check = (rows: Awaited<ReturnType<typeof store.statistics.dailyStatistics>>, when: string) => {
    t.equal(rows.reduce((n, r) => n + r.calls, 0), 14, `${when}: every call still counted`);
    t.match(rows, [
      { service: "svc-a", peer: "big-trunk", merged: false, calls: 6, answered: 6 },
      { service: "svc-b", peer: null, merged: true, calls: 5, answered: 5, meanDurationMs: 30_000 },
      { service: null, peer: null, merged: true, calls: 3, answered: null, meanDurationMs: null, p95DurationMs: null, statusClasses: null },
    ], when);
    t.equal(rows.length, 3, when);
    for (const r of rows) if (r.calls < 5) t.equal(r.meanDurationMs ?? r.p95DurationMs ?? r.answered ?? r.statusClasses, null, `${when}: a row under 5 calls says only how many`);
  };
  check(await store.statistics.dailyStatistics({ from: day, to: day }), "before the purge");

  // The purge removes the day's records: the merge is written back, the fine rows are gone for good.
  await purgeExpiredCallRecords(store, { retentionDays: 30, now: () => new Date("2025-06-10T00:00:00Z") });
  t.equal(await store.callRecords.count(), 0);
  check(await store.statistics.dailyStatistics({ from: day, to: day }), "after the purge");
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  const small = await db.all<{ calls: number; answered: number; duration_sum_ms: number }>(
    "SELECT calls, answered, duration_sum_ms FROM daily_statistics WHERE calls < 5",
  );
  t.same(small.map((r) => [Number(r.calls), Number(r.answered), Number(r.duration_sum_ms)]), [[3, 0, 0]], "stored: only the suppressed remainder is under 5 calls");
  const buckets = await db.all<{ bucket_ms: number }>("SELECT bucket_ms FROM daily_statistics_durations");
  t.notOk(buckets.some((b) => Number(b.bucket_ms) >= 3_600_000), "the lonely call's duration is not stored anywhere");
  const again = await store.statistics.coarsenFinalDays("2025-06-01");
  t.equal(again, 0, "nothing left to merge: idempotent");
});

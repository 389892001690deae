import t from "tap";
import { Registry } from "prom-client";
import { eachBackend } from "./backends.js";
import { auditRetentionCutoff, purgeExpiredCallRecords, retentionCutoff, startRetentionScheduler } from "../../src/store/retention.js";
import type { CallRecordInput } from "../../src/store/call-records.js";

const DAY = 86_400_000;

function call(start: string, opts: Partial<CallRecordInput> & { durationS?: number } = {}): CallRecordInput {
  const started = new Date(start);
  const answered = opts.durationS !== undefined ? new Date(started.getTime() + 3000) : null;
  return {
    callId: `${start}-${Math.random()}`,
    startedAt: started,
    answeredAt: answered,
    endedAt: answered ? new Date(answered.getTime() + opts.durationS! * 1000) : new Date(started.getTime() + 5000),
    finalStatus: answered ? 200 : 486,
    hangupSide: answered ? "caller" : "none",
    service: "svc",
    peer: "peer-a",
    callingNumber: "+41446681800",
    calledNumber: "+15551230000",
    ...opts,
  };
}

eachBackend("retention: nothing older than the limit survives; statistics are current from the write and remain", async (t, env) => {
  let now = new Date("2025-03-31T12:00:00Z");
  const store = await env.open({ now: () => now, statisticsMinGroupSize: 1 }); // exact rows: merging is tested in statistics.test.ts
  const registry = new Registry();
  const opts = { retentionDays: 30, now: () => now, registry };
  // Feb 28: 20 answered calls of 1..20 s, 10 before noon and 10 after; 5 unanswered (486), 1 timeout.
  const feb28 = Array.from({ length: 20 }, (_, i) => call(`2025-02-28T${String(i < 10 ? 8 : 14).padStart(2, "0")}:${String(i).padStart(2, "0")}:00Z`, { durationS: i + 1 }));
  const failed = Array.from({ length: 5 }, (_, i) => call(`2025-02-28T09:0${i}:00Z`));
  const timeout = call("2025-02-28T09:30:00Z", { finalStatus: null, answeredAt: null, hangupSide: "none" });
  const recent = [call("2025-03-10T10:00:00Z", { durationS: 30 }), call("2025-03-31T11:00:00Z", { durationS: 5 })];
  const otherPeer = call("2025-02-27T23:59:59Z", { durationS: 100, peer: "peer-b", service: "svc2", finalStatus: 603 });
  await store.callRecords.insertMany([...feb28.slice(0, 10), ...failed]);
  await store.callRecords.insertMany([...feb28.slice(10), timeout, ...recent, otherPeer]);
  // Statistics count a call as soon as its record is written (two batches merge into one day row).
  const before = await store.statistics.dailyStatistics({ from: "2025-02-28", to: "2025-02-28" });
  t.same([before.length, before[0]!.calls, before[0]!.answered], [1, 26, 20]);

  const assertNothingOld = async () => {
    const oldest = await store.callRecords.oldestStartedAt();
    t.ok(oldest === null || oldest >= now.getTime() - 30 * DAY, `nothing older than 30 days at ${now.toISOString()}`);
  };

  // First run at Mar 30 12:00 → cutoff Feb 28 12:00: only Feb 27 and the Feb 28 morning calls go.
  now = new Date("2025-03-30T12:00:00Z");
  const r1 = await purgeExpiredCallRecords(store, opts);
  t.equal(r1.cutoff.toISOString(), "2025-02-28T12:00:00.000Z");
  t.equal(r1.purged, 1 + 10 + 5 + 1, "the Feb 27 call and Feb 28 morning calls");
  await assertNothingOld();
  let stats = await store.statistics.dailyStatistics({ from: "2025-02-28", to: "2025-02-28" });
  t.equal(stats.length, 1);
  t.equal(stats[0]!.calls, 26, "a purge changes no statistics");
  t.equal(stats[0]!.answered, 20);

  now = new Date("2025-03-31T12:00:00Z");
  const r2 = await purgeExpiredCallRecords(store, opts);
  t.equal(r2.purged, 10, "the afternoon calls of Feb 28");
  await assertNothingOld();
  const r3 = await purgeExpiredCallRecords(store, opts);
  t.equal(r3.purged, 0, "re-running purges nothing");

  stats = await store.statistics.dailyStatistics({ from: new Date("2025-02-01T00:00:00Z"), to: "2025-02-28" });
  t.equal(stats.length, 2, "two (day, service, peer) rows");
  const feb = stats.find((s) => s.day === "2025-02-28")!;
  t.same(feb, {
    day: "2025-02-28",
    service: "svc",
    peer: "peer-a",
    merged: false,
    calls: 26,
    answered: 20,
    asr: 20 / 26,
    meanDurationMs: 10_500,
    p95DurationMs: 19_000,
    statusClasses: { "1xx": 0, "2xx": 20, "3xx": 0, "4xx": 5, "5xx": 0, "6xx": 0, none: 1 },
  }, "merged across two write batches and two purge runs without double counting; p95 of 1..20 s is 19 s");
  const feb27 = stats.find((s) => s.day === "2025-02-27")!;
  t.same([feb27.service, feb27.peer, feb27.calls, feb27.answered, feb27.p95DurationMs, feb27.statusClasses?.["6xx"]], ["svc2", "peer-b", 1, 1, 100_000, 1]);
  t.equal(await store.callRecords.count(), 2, "recent records untouched");
  const metric = await registry.getSingleMetricAsString("trunkgate_store_call_records_purged_total");
  t.match(metric, /trunkgate_store_call_records_purged_total 27/);

  // Much later: everything goes, statistics stay.
  now = new Date("2025-06-01T00:00:00Z");
  await purgeExpiredCallRecords(store, opts);
  t.equal(await store.callRecords.count(), 0);
  t.equal((await store.statistics.dailyStatistics({ from: "2025-01-01", to: "2025-12-31" })).length, 4);
});

eachBackend("retention scheduler purges at start with one interval of look-ahead", async (t, env) => {
  const now = new Date("2025-05-01T00:00:00Z");
  const store = await env.open();
  const limit = now.getTime() - 30 * DAY;
  await store.callRecords.insertMany([
    call(new Date(limit + 30 * 60_000).toISOString()), // passes the limit in 30 min: within the 1 h interval
    call(new Date(limit + 2 * 3600_000).toISOString()),
  ]);
  const sched = startRetentionScheduler(store, { retentionDays: 30, now: () => now, intervalMs: 3600_000 });
  t.teardown(() => sched.stop());
  const r = await sched.runNow(); // joins the start-up run (or runs it)
  t.equal(r.cutoff.getTime(), limit + 3600_000);
  t.equal(await store.callRecords.count(), 1);
});

t.test("retention limit above 30 days is refused", async (t) => {
  t.throws(() => retentionCutoff(new Date(), 31), /callRecordRetentionDays/);
  t.throws(() => retentionCutoff(new Date(), 0), RangeError);
  t.throws(() => auditRetentionCutoff(new Date(), 3651), /auditRetentionDays/);
  t.throws(() => auditRetentionCutoff(new Date(), 0), RangeError);
});

eachBackend("retention: audit entries go after store.auditRetentionDays, by the same purge and scheduler", async (t, env) => {
  let now = new Date("2025-01-01T00:00:00Z");
  const store = await env.open({ now: () => now });
  const actor = { subject: "alice", peer: null, via: "test" };
  await store.numbers.upsert({ number: "+41446681800", service: "svc" }, actor); // 2025-01-01
  now = new Date("2025-03-01T00:00:00Z");
  await store.numbers.upsert({ number: "+41446681800", service: "svc2" }, actor); // 2025-03-01
  await store.audit.recordAlone({ kind: "keys", op: "rotate", actor, before: { active: "k1" }, after: { active: "k2" } });
  const ops = async () => (await store.audit.list()).items.map((e) => `${e.kind}:${e.op}@${e.at.toISOString().slice(0, 10)}`);
  t.same(await ops(), ["keys:rotate@2025-03-01", "number:update@2025-03-01", "number:create@2025-01-01"]);

  // 30 days of call records, 60 days of audit: on Mar 15 the Jan 1 entry (73 days old) goes.
  now = new Date("2025-03-15T00:00:00Z");
  const registry = new Registry();
  t.equal((await purgeExpiredCallRecords(store, { retentionDays: 30, now: () => now })).auditPurged, 0, "not purged without auditRetentionDays");
  const r = await purgeExpiredCallRecords(store, { retentionDays: 30, auditRetentionDays: 60, now: () => now, registry });
  t.equal(r.auditPurged, 1);
  t.same(await ops(), ["keys:rotate@2025-03-01", "number:update@2025-03-01"]);
  t.match(await registry.getSingleMetricAsString("trunkgate_store_audit_entries_purged_total"), /trunkgate_store_audit_entries_purged_total 1/);
  t.same(await store.numbers.get("+41446681800"), { number: "+41446681800", service: "svc2", customHeader: null }, "the numbers themselves stay");

  // The scheduler (what a running instance uses) purges with one interval of look-ahead too.
  now = new Date("2025-04-30T00:30:00Z"); // the Mar 1 entries pass 60 days at May 1 00:00: within the hour
  const sched = startRetentionScheduler(store, { retentionDays: 30, auditRetentionDays: 60, now: () => now, intervalMs: 3600_000 });
  t.teardown(() => sched.stop());
  t.equal((await sched.runNow()).auditPurged, 2);
  t.same(await ops(), []);
  t.throws(() => startRetentionScheduler(store, { retentionDays: 30, auditRetentionDays: 0, intervalMs: 1000 }), /auditRetentionDays/, "validated at start");
});

// GET /api/v1/statistics/daily: call records written through the store, rolled up by the retention
// purge under a controlled clock, then read back as aggregates — and never as call records.
import t from "tap";
import { makeTestPki } from "../helpers/pki.js";
import { ROLES } from "../../src/provisioning/roles.js";
import { purgeExpiredCallRecords } from "../../src/store/retention.js";
import type { CallRecordInput } from "../../src/store/call-records.js";
import { startHarness } from "./harness.js";

const pki = await makeTestPki();
t.teardown(() => pki.cleanup());
// Exact per-service rows (1 and 4 calls): the minimum group size is tested in test/store/statistics.test.ts.
const h = await startHarness(t, { pki, statisticsMinGroupSize: 1, provisioning: { rateLimit: { requestsPerMinute: 10_000 } } });
const reader = await h.token({ roles: [ROLES.read] });

function call(start: string, o: { answeredS?: number; status?: number | null; service?: string } = {}): CallRecordInput {
  const started = new Date(start);
  const answered = o.answeredS !== undefined ? new Date(started.getTime() + 2000) : null;
  return {
    callId: `${start}-${Math.random()}`,
    startedAt: started,
    answeredAt: answered,
    endedAt: answered ? new Date(answered.getTime() + o.answeredS! * 1000) : new Date(started.getTime() + 4000),
    finalStatus: o.status === undefined ? (answered ? 200 : 486) : o.status,
    hangupSide: answered ? "caller" : "none",
    service: o.service ?? "svc-a",
    peer: "dev-trunk",
    callingNumber: "+41446681800",
    calledNumber: "+15551230000",
  };
}

t.test("aggregates per day and service, the same before and after the purge; no call record fields", async (t) => {
  await h.store.callRecords.insertMany([
    call("2025-01-10T08:00:00Z", { answeredS: 10 }),
    call("2025-01-10T09:00:00Z", { answeredS: 30 }),
    call("2025-01-10T10:00:00Z"),
    call("2025-01-10T11:00:00Z", { status: null }),
    call("2025-01-11T12:00:00Z", { answeredS: 60, service: "svc-b" }),
    call("2025-01-12T12:00:00Z", { answeredS: 5 }),
  ]);
  const early = await h.request("GET", "/api/v1/statistics/daily?from=2025-01-10&to=2025-01-11", { token: reader });
  t.equal(early.json.days.length, 2, "statistics count calls as soon as their records are written");

  const r = await purgeExpiredCallRecords(h.store, { retentionDays: 30, now: () => new Date("2025-03-01T00:00:00Z") });
  t.equal(r.purged, 6);
  const s = await h.request("GET", "/api/v1/statistics/daily?from=2025-01-10&to=2025-01-11", { token: reader });
  t.equal(s.status, 200);
  t.same(s.json, early.json, "the purge removed records, not statistics");
  t.equal(s.json.days.length, 2, "the 12th is outside the range");
  const [d10, d11] = s.json.days;
  t.match(d10, {
    day: "2025-01-10",
    service: "svc-a",
    peer: "dev-trunk",
    calls: 4,
    answered: 2,
    asr: 0.5,
    meanDurationMs: 20_000,
    p95DurationMs: 30_000,
    statusClasses: { "2xx": 2, "4xx": 1, none: 1, "1xx": 0, "3xx": 0, "5xx": 0, "6xx": 0 },
  });
  t.match(d11, { day: "2025-01-11", service: "svc-b", calls: 1, answered: 1, asr: 1, meanDurationMs: 60_000 });
  const text = s.body.toString();
  t.notMatch(text, /41446681800|15551230000|callId|calling|called/, "aggregates only: no numbers, no call ids");
  const one = await h.request("GET", "/api/v1/statistics/daily?from=2025-01-12&to=2025-01-12", { token: reader });
  t.equal(one.json.days.length, 1, "from = to is one day");
});

t.test("from/to are checked and named", async (t) => {
  for (const [q, field] of [
    ["", "from"],
    ["from=2025-01-10", "to"],
    ["to=2025-01-10", "from"],
    ["from=2025-1-10&to=2025-01-11", "from"],
    ["from=2025-02-30&to=2025-03-01", "from"],
    ["from=2025-01-10&to=2025-01-09", "to"],
    ["from=2024-01-01&to=2025-01-02", "to"],
    ["from=2025-01-10&to=2025-01-11&peer=x", "peer"],
  ] as const) {
    const r = await h.request("GET", `/api/v1/statistics/daily?${q}`, { token: reader });
    t.equal(r.status, 400, `${q || "(none)"} → 400`);
    t.equal(r.json.field, field, `${q}: ${r.json.message}`);
  }
  t.equal((await h.request("GET", "/api/v1/statistics/daily?from=2024-01-01&to=2024-12-31", { token: reader })).status, 200, "366 days (leap year) allowed");
});

// Deleted means gone from disk: after the retention purge, none of the purged ciphertexts may be
// found in the raw bytes of the SQLite database file or its WAL (free pages and old WAL frames
// used to keep them, readable with the live key). On PostgreSQL the purged table is vacuumed.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { eachBackend } from "./backends.js";
import { openDriver } from "../../src/store/db/open.js";
import { purgeExpiredCallRecords } from "../../src/store/retention.js";
import type { CallRecordInput } from "../../src/store/call-records.js";

function oldCalls(n: number): CallRecordInput[] {
  return Array.from({ length: n }, (_, i) => {
    const started = new Date(Date.UTC(2025, 0, 2, 8, 0, i));
    return {
      callId: `purge-me-${i}`,
      startedAt: started,
      answeredAt: new Date(started.getTime() + 1000),
      endedAt: new Date(started.getTime() + 61_000),
      finalStatus: 200,
      hangupSide: "caller" as const,
      service: "svc",
      peer: "trunk-1",
      callingNumber: `+4930${1_000_000 + i}`,
      calledNumber: `+1555${2_000_000 + i}`,
    };
  });
}

eachBackend("retention: purged call records leave no ciphertext in the database files", async (t, env) => {
  const store = await env.open();
  await store.callRecords.insertMany(oldCalls(300));
  const reader = openDriver(env.url, env.dir);
  const rows = await reader.all<{ fields_enc: string }>("SELECT fields_enc FROM call_records");
  await reader.close();
  t.equal(rows.length, 300);
  // The ciphertext+tag part of `v1.<key>.<iv>.<ct>`: unique per value.
  const needles = rows.map((r) => Buffer.from(r.fields_enc.split(".")[3]!, "latin1"));
  const files = () => (env.dialect === "sqlite" ? [join(env.dir, "store.db"), join(env.dir, "store.db-wal")].filter((f) => existsSync(f)) : []);
  const found = () => {
    let n = 0;
    for (const f of files()) {
      const raw = readFileSync(f);
      for (const needle of needles) if (raw.includes(needle)) n++;
    }
    return n;
  };
  if (env.dialect === "sqlite") t.ok(found() > 0, "the ciphertexts are on disk before the purge (the search works)");

  const r = await purgeExpiredCallRecords(store, { retentionDays: 30, now: () => new Date("2025-03-01T00:00:00Z") });
  t.equal(r.purged, 300);
  if (env.dialect === "sqlite") {
    t.equal(found(), 0, "no purged ciphertext in the database file or its WAL");
    return;
  }
  const pg = openDriver(env.url, env.dir);
  t.teardown(() => pg.close());
  // The vacuum is recorded by the statistics system, which may report it a moment later.
  const deadline = Date.now() + 20_000;
  let vacuumed = false;
  while (!vacuumed && Date.now() < deadline) {
    const [s] = await pg.all<{ n: number }>("SELECT COALESCE(vacuum_count, 0) AS n FROM pg_stat_user_tables WHERE relname = 'call_records'");
    vacuumed = Number(s?.n ?? 0) > 0;
    if (!vacuumed) await pg.all("SELECT pg_stat_clear_snapshot()"); // re-read fresh statistics, no sleep
  }
  t.ok(vacuumed, "call_records vacuumed after the purge");
});

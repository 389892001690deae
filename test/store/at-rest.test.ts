// Customer data must not appear in clear anywhere in the stored bytes.
import { existsSync, readFileSync } from "node:fs";
import pg from "pg";
import { eachBackend } from "./backends.js";
import { sqlitePathOf } from "../../src/store/db/open.js";

const NUMBER = "+41446681800";
const CALLED = "+15551230987";
const HEADER = "X-Tenant-Secret-7f3a9c";
const PEER = "carrier-zeta.example.net";
const CALL_ID = "a84b4c76e66710@pc33.atlanta.example.com";

function needles(): Buffer[] {
  const out: Buffer[] = [];
  for (const s of [NUMBER, NUMBER.slice(1), CALLED, CALLED.slice(1), HEADER, PEER, CALL_ID]) {
    out.push(Buffer.from(s, "utf8"), Buffer.from(s, "utf16le"), Buffer.from(s, "utf16le").swap16()); // UTF-8, UTF-16LE, UTF-16BE
  }
  return out;
}

eachBackend("no number, header value, peer or Call-ID is stored in clear", async (t, env) => {
  const store = await env.open();
  await store.numbers.upsert({ number: "+41 44 668 18 00", service: "svc-visible", customHeader: HEADER });
  await store.callRecords.insertMany([
    {
      callId: CALL_ID,
      startedAt: new Date("2025-01-01T10:00:00Z"),
      answeredAt: new Date("2025-01-01T10:00:05Z"),
      endedAt: new Date("2025-01-01T10:01:05Z"),
      finalStatus: 200,
      hangupSide: "caller",
      service: "svc-visible",
      peer: PEER,
      callingNumber: NUMBER,
      calledNumber: CALLED,
    },
  ]);
  // Roll the record up so the statistics table holds the peer too.
  await store.callRecords.purgeStartedBefore(new Date("2025-01-02T00:00:00Z"));
  await store.callRecords.insertMany([{ callId: CALL_ID, startedAt: new Date(), hangupSide: "none", peer: PEER, callingNumber: NUMBER, calledNumber: CALLED }]);
  t.equal((await store.numbers.get(NUMBER))?.customHeader, HEADER, "still readable through the store");
  t.equal((await store.callRecords.findByCallId(CALL_ID))[0]?.calledNumber, CALLED);

  if (env.dialect === "sqlite") {
    const path = sqlitePathOf(env.url)!;
    const files = [path, `${path}-wal`].filter((f) => existsSync(f));
    t.ok(files.includes(`${path}-wal`), "WAL file exists while open (searched too)");
    const bytes = Buffer.concat(files.map((f) => readFileSync(f)));
    t.ok(bytes.includes(Buffer.from("svc-visible")), "control: the search finds a value that is stored in clear");
    for (const n of needles()) t.notOk(bytes.includes(n), `raw files do not contain ${JSON.stringify(n.toString("latin1").slice(0, 6))}… (${n.length} bytes)`);
    await store.close();
    const after = readFileSync(path);
    for (const n of needles()) t.notOk(after.includes(n), "nor does the checkpointed file after close");
  } else {
    const c = new pg.Client({ connectionString: env.url });
    await c.connect();
    t.teardown(() => c.end());
    const tables = (await c.query("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).rows.map((r: { tablename: string }) => r.tablename);
    t.ok(tables.includes("numbers") && tables.includes("call_records") && tables.includes("daily_statistics"));
    const control = await c.query("SELECT count(*)::int AS n FROM numbers t WHERE t::text LIKE '%svc-visible%'");
    t.equal(control.rows[0].n, 1, "control: the search finds a value stored in clear");
    for (const table of tables) {
      for (const s of [NUMBER, NUMBER.slice(1), CALLED.slice(1), HEADER, PEER, CALL_ID]) {
        const r = await c.query(`SELECT count(*)::int AS n FROM ${table} t WHERE t::text LIKE '%' || $1 || '%'`, [s]);
        t.equal(r.rows[0].n, 0, `${table} rows do not contain ${s.slice(0, 4)}…`);
      }
    }
  }
});

// Issue 12 item 4: a call's peer and numbers are sealed in one AES-GCM value per row (fields_enc,
// migration 8) instead of one per column. Rows written before it (three per-field values) stay
// readable next to new ones, through lookup, key rotation, prune, journal recovery and the
// retention purge; a sealed value moved to another row, or an envelope version this build does
// not know, is refused like any tampered value. Before: three values per record and per entry.
import { eachBackend, type BackendEnv } from "./backends.js";
import { openDriver } from "../../src/store/db/open.js";
import { purposeOf } from "../../src/store/context.js";
import { DecryptError } from "../../src/store/crypto/keyring.js";
import { purgeExpiredCallRecords } from "../../src/store/retention.js";
import type { Store } from "../../src/store/store.js";

const T0 = Date.UTC(2025, 0, 2, 8, 0, 0);
const PEER = "peer-x";
const CALLING = "+31200000001";
const called = (i: number) => `+3120${String(i).padStart(7, "0")}`;

/** Writes rows as a build before migration 8 did: one value per encrypted column. */
async function writeLegacyRows(store: Store, env: BackendEnv, n: number): Promise<void> {
  const enc = (v: string, table: string, column: string, id: string) => store.keyring.encrypt(v, purposeOf(table, column, id));
  const db = openDriver(env.url, env.dir);
  try {
    for (let i = 0; i < n; i++) {
      const id = `legacy-${i}`;
      await db.run(
        `INSERT INTO call_records (id, call_id_hash, started_at, answered_at, ended_at, duration_ms, final_status, hangup_side, service, peer_enc, calling_enc, called_enc)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [id, store.callRecords.hashCallId(`old-${i}`), T0 + i, T0 + i + 1000, T0 + i + 61_000, 60_000, 200, "caller", "svc", enc(PEER, "call_records", "peer_enc", id), enc(CALLING, "call_records", "calling_enc", id), enc(called(i), "call_records", "called_enc", id)],
      );
    }
    const hash = store.callRecords.hashCallId("old-up");
    const jid = `gone.${hash}`;
    await db.run(
      `INSERT INTO call_journal (id, owner, call_id_hash, started_at, answered_at, final_status, service, peer_enc, calling_enc, called_enc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [jid, "gone", hash, T0, T0 + 500, 200, "svc", enc(PEER, "call_journal", "peer_enc", jid), enc(CALLING, "call_journal", "calling_enc", jid), enc(called(99), "call_journal", "called_enc", jid)],
    );
  } finally {
    await db.close();
  }
}

function newCalls(n: number) {
  return Array.from({ length: n }, (_, i) => ({
    callId: `new-${i}`,
    startedAt: new Date(T0 + 10_000 + i),
    answeredAt: new Date(T0 + 11_000 + i),
    endedAt: new Date(T0 + 71_000 + i),
    finalStatus: 200,
    hangupSide: "callee" as const,
    service: "svc",
    peer: PEER,
    callingNumber: CALLING,
    calledNumber: called(i),
  }));
}

eachBackend("sealed call fields: one value per record and journal entry; rows of the per-field layout stay readable through rotation, prune, recovery and purge", async (t, env) => {
  const store = await env.open();
  await writeLegacyRows(store, env, 3);
  await store.callRecords.insertMany(newCalls(4));
  await store.callRecords.insertMany([{ journal: true, callId: "new-up", startedAt: new Date(T0), answeredAt: new Date(T0 + 1), finalStatus: 200, peer: PEER, callingNumber: CALLING, calledNumber: null }], { journalOwner: "gone" });
  // 3 legacy records × 3 + legacy entry × 3 + 4 new records × 1 + new entry × 1 + the statistics row's peer.
  t.same(await store.keyUsage(), { k1: 9 + 3 + 4 + 1 + 1 }, "a new record or journal entry is one stored value");

  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  const fresh = await db.all<Record<string, string | null>>("SELECT peer_enc, calling_enc, called_enc, fields_enc FROM call_records WHERE id NOT LIKE 'legacy-%'");
  t.equal(fresh.length, 4);
  for (const r of fresh) t.match(r, { peer_enc: null, calling_enc: null, called_enc: null, fields_enc: /^v1\.k1\./ }, "new rows fill only fields_enc");
  t.notMatch(JSON.stringify(fresh), /\+3120|peer-x/, "nothing in clear");

  t.match((await store.callRecords.findByCallId("old-1"))[0], { peer: PEER, callingNumber: CALLING, calledNumber: called(1), durationMs: 60_000 }, "legacy row read");
  t.match((await store.callRecords.findByCallId("new-2"))[0], { peer: PEER, callingNumber: CALLING, calledNumber: called(2), hangupSide: "callee" }, "sealed row read");

  // Rotation re-encrypts both layouts; the old key can then go.
  const next = store.keyring.withNewActiveKey();
  store.useKeyring(next);
  t.same((await store.reencrypt({ batchSize: 2 })).rewritten, { numbers: 0, accounts: 0, call_records: 7, daily_statistics: 1, call_journal: 2, audit_trail: 0 });
  t.same(await store.keyUsage(), { k2: 18 }, "no value uses k1");
  const withoutOld = await env.open({ keyring: next.without(["k1"]) });
  t.match((await withoutOld.callRecords.findByCallId("old-0"))[0], { peer: PEER, calledNumber: called(0) }, "legacy row under the new key alone");
  t.match((await withoutOld.callRecords.findByCallId("new-3"))[0], { peer: PEER, calledNumber: called(3) }, "sealed row under the new key alone");

  // Both journal layouts recover into records.
  t.match(await withoutOld.recoverOrphanedCalls({ self: "me", full: true }), [{ owner: "gone", calls: 2 }]);
  t.match((await withoutOld.callRecords.findByCallId("old-up"))[0], { peer: PEER, callingNumber: CALLING, calledNumber: called(99), hangupSide: "unknown" });
  t.match((await withoutOld.callRecords.findByCallId("new-up"))[0], { peer: PEER, callingNumber: CALLING, calledNumber: null, hangupSide: "unknown" });

  // The purge removes both layouts.
  const r = await purgeExpiredCallRecords(withoutOld, { retentionDays: 30, now: () => new Date("2025-03-01T00:00:00Z") });
  t.equal(r.purged, 9);
  t.equal(await withoutOld.callRecords.count(), 0);
});

eachBackend("sealed call fields: moved to another row, or an unknown envelope version, the value is refused", async (t, env) => {
  const store = await env.open();
  await store.callRecords.insertMany(newCalls(2));
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  const rows = await db.all<{ id: string; fields_enc: string }>("SELECT id, fields_enc FROM call_records ORDER BY started_at");
  await db.run("UPDATE call_records SET fields_enc = ? WHERE id = ?", [rows[0]!.fields_enc, rows[1]!.id]);
  await t.rejects(store.callRecords.findByCallId("new-1"), DecryptError, "an envelope copied from another row fails authentication");

  const v2 = store.keyring.encrypt(JSON.stringify([2, PEER, CALLING, null]), purposeOf("call_records", "fields_enc", rows[0]!.id));
  await db.run("UPDATE call_records SET fields_enc = ? WHERE id = ?", [v2, rows[0]!.id]);
  await t.rejects(store.callRecords.findByCallId("new-0"), { name: "DecryptError", message: /not a version 1 call-fields envelope/, keyId: "k1" });
});

eachBackend("migration 8: no index on call_records.call_id_hash (a random page per record at commit); the purge's started_at index stays", async (t, env) => {
  await env.open();
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  const sql =
    env.dialect === "sqlite"
      ? "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'call_records'"
      : "SELECT indexname AS name FROM pg_indexes WHERE tablename = 'call_records'";
  const names = (await db.all<{ name: string }>(sql)).map((r) => r.name);
  t.notOk(names.includes("call_records_call_id_hash"), `indexes: ${names.join(", ")}`);
  t.ok(names.includes("call_records_started_at"));
});

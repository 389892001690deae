// The audit trail at the store: every number change through NumberRepository (change, batch
// upsert, batch delete, delete) writes one entry per number in its own transaction, with the
// actor, the number only as its blind index and before/after encrypted; an entry and its change
// commit together or not at all (a database trigger makes one half fail); filters and newest-first
// cursor pagination. On SQLite and PostgreSQL.
import { openDriver } from "../../src/store/db/open.js";
import type { SqlDriver } from "../../src/store/db/driver.js";
import type { AuditActor, AuditEntry } from "../../src/store/audit-trail.js";
import type { Store } from "../../src/store/store.js";
import type { Test } from "tap";
import { eachBackend, type BackendEnv } from "./backends.js";

const ALICE: AuditActor = { subject: "alice", peer: "carrier-a", via: "test" };
const BOB: AuditActor = { subject: "bob", peer: null, via: "test" };
const N1 = "+41446681800";
const N2 = "+41446681801";
const N3 = "+41446681802";

async function walk(store: Store, filter: Parameters<Store["audit"]["list"]>[0] = {}, limit = 2): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  let cursor: string | null = filter.cursor ?? null;
  do {
    const page = await store.audit.list({ ...filter, cursor, limit });
    out.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

function rawDriver(t: Test, env: BackendEnv): SqlDriver {
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  return db;
}

eachBackend("audit trail: every number change is recorded once, with its actor, blind index and encrypted before/after", async (t, env) => {
  let now = new Date("2025-06-01T10:00:00Z");
  const store = await env.open({ now: () => now });
  const tick = () => (now = new Date(now.getTime() + 60_000));
  const idx = (n: string) => store.numbers.indexOf(n);

  const created = await store.numbers.upsertManyReport([{ number: N1, service: "svc-a", customHeader: "tenant=secret-1" }, { number: N2, service: "svc-b" }], ALICE);
  t.same(created.map((c) => c.created), [true, true]);
  tick();
  await store.numbers.change(N1, () => ({ put: { number: N1, service: "svc-b", customHeader: "tenant=secret-2" }, result: null }), BOB);
  tick();
  await store.numbers.change(N1, () => ({ keep: true, result: null }), BOB); // no change: no entry
  await store.numbers.change(N1, () => ({ remove: true, result: null }), ALICE);
  tick();
  t.same(await store.numbers.deleteMany([N2, N3], BOB), [true, false], "N3 was never provisioned: no entry for it");
  tick();
  await store.numbers.upsertMany([{ number: N2, service: "svc-a" }, { number: N3, service: "svc-a" }], ALICE);
  tick();
  await store.numbers.upsertMany([{ number: N3, service: "svc-b", customHeader: "x=1" }]); // no actor given: still recorded
  tick();
  t.equal(await store.numbers.delete(N3, BOB), true);

  const all = await walk(store, {}, 100);
  const summary = all.map((e) => [e.op, e.target, e.subject]);
  t.same(
    summary,
    [
      ["delete", idx(N3), "bob"],
      ["update", idx(N3), null],
      // one batch: its entries in blind-index order, newest batch first
      ...[N2, N3].map((n) => ["create", idx(n), "alice"]).sort((a, b) => (a[1]! < b[1]! ? 1 : -1)),
      ["delete", idx(N2), "bob"],
      ["delete", idx(N1), "alice"],
      ["update", idx(N1), "bob"],
      ...[N1, N2].map((n) => ["create", idx(n), "alice"]).sort((a, b) => (a[1]! < b[1]! ? 1 : -1)),
    ],
    "newest first, one entry per number changed",
  );
  const n1 = all.filter((e) => e.target === idx(N1));
  t.same(
    n1.map((e) => [e.op, e.before, e.after, e.peer, e.at.toISOString()]),
    [
      ["delete", { service: "svc-b", customHeader: "tenant=secret-2", account: null }, null, "carrier-a", "2025-06-01T10:02:00.000Z"],
      ["update", { service: "svc-a", customHeader: "tenant=secret-1", account: null }, { service: "svc-b", customHeader: "tenant=secret-2", account: null }, null, "2025-06-01T10:01:00.000Z"],
      ["create", null, { service: "svc-a", customHeader: "tenant=secret-1", account: null }, "carrier-a", "2025-06-01T10:00:00.000Z"],
    ],
  );
  t.same(all.filter((e) => e.target === idx(N3))[0]!.via, "test");
  t.same(all.filter((e) => e.target === idx(N3))[1]!.via, "store", "unattributed changes say so");

  // At rest: no number, header value or service in clear; only the blind index.
  const raw = await rawDriver(t, env).all<Record<string, unknown>>("SELECT * FROM audit_trail");
  t.equal(raw.length, all.length);
  const text = JSON.stringify(raw);
  for (const secret of ["4144668180", "tenant=", "secret", "svc-a", "svc-b"]) t.notOk(text.includes(secret), `"${secret}" not stored in clear`);
  for (const r of raw) if (r.before_enc) t.match(r.before_enc, /^v1\.k1\./, "encrypted under the store's data key");

  // Filters and pagination.
  t.same((await walk(store, { target: idx(N1) })).map((e) => e.op), ["delete", "update", "create"], "by number (blind index)");
  t.same((await walk(store, { subject: "bob" })).map((e) => [e.op, e.target]), [["delete", idx(N3)], ["delete", idx(N2)], ["update", idx(N1)]], "by subject");
  t.same((await walk(store, { from: new Date("2025-06-01T10:01:00Z"), to: new Date("2025-06-01T10:03:00Z") })).map((e) => e.op), ["delete", "update"], "from inclusive, to exclusive");
  const paged = await walk(store, {}, 3);
  t.same(paged.map((e) => e.id), all.map((e) => e.id), "pages of 3 visit every entry once, in order");
  const first = await store.audit.list({ limit: 3 });
  tick();
  await store.numbers.upsert({ number: N1, service: "svc-a" }, ALICE);
  const rest = await walk(store, { cursor: first.nextCursor }, 3);
  t.same([...first.items, ...rest].map((e) => e.id), all.map((e) => e.id), "an entry recorded during a walk does not shift its pages");
  await t.rejects(store.audit.list({ cursor: "garbage" }), { name: "AuditCursorError" });
});

eachBackend("audit trail: a change and its entry commit together or not at all", async (t, env) => {
  const store = await env.open();
  const db = rawDriver(t, env);
  await store.numbers.upsertMany([{ number: N1, service: "svc-a" }], ALICE);
  const entries = async () => (await store.audit.list({ limit: 1000 })).items.length;
  const fail = async (name: string, table: string, when: "INSERT" | "UPDATE") => {
    if (env.dialect === "sqlite") {
      await db.run(`CREATE TRIGGER ${name} BEFORE ${when} ON ${table} BEGIN SELECT RAISE(ABORT, 'refused by test'); END`);
    } else {
      await db.run("CREATE OR REPLACE FUNCTION refuse_by_test() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$");
      await db.run(`CREATE TRIGGER ${name} BEFORE ${when} ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse_by_test()`);
    }
    return () => db.run(env.dialect === "sqlite" ? `DROP TRIGGER ${name}` : `DROP TRIGGER ${name} ON ${table}`);
  };
  const attempts: [string, () => Promise<unknown>][] = [
    ["batch upsert", () => store.numbers.upsertManyReport([{ number: N1, service: "svc-b" }, { number: N2, service: "svc-b" }], ALICE)],
    ["change", () => store.numbers.change(N1, () => ({ put: { number: N1, service: "svc-b" }, result: null }), ALICE)],
    ["remove", () => store.numbers.change(N1, () => ({ remove: true, result: null }), ALICE)],
    ["batch delete", () => store.numbers.deleteMany([N1], ALICE)],
  ];

  // The entry cannot be written: the change does not happen.
  const dropAuditTrigger = await fail("refuse_audit", "audit_trail", "INSERT");
  for (const [what, attempt] of attempts) await t.rejects(attempt(), /refused by test/, `${what}: refused with its entry`);
  await dropAuditTrigger();
  t.same(await store.numbers.get(N1), { number: N1, service: "svc-a", customHeader: null }, "N1 unchanged");
  t.equal(await store.numbers.get(N2), null, "N2 not created");
  t.equal(await entries(), 1, "only the first upsert's entry");

  // The change fails after its entry was written (the version bump is the transaction's last
  // statement): the entry rolls back with it.
  const dropCounterTrigger = await fail("refuse_counter", "store_counters", "UPDATE");
  for (const [what, attempt] of attempts) await t.rejects(attempt(), /refused by test/, `${what}: fails late`);
  await dropCounterTrigger();
  t.equal(await entries(), 1, "no entry for a change that rolled back");
  t.same(await store.numbers.get(N1), { number: N1, service: "svc-a", customHeader: null });

  await store.numbers.deleteMany([N1], ALICE);
  t.equal(await entries(), 2, "works again once the triggers are gone");
});

// Accounts in the store, on SQLite and PostgreSQL: numbers inherit an account's default service and
// custom header (resolved when read, so a change of the defaults reaches every number at once and
// every routing cache, across replicas), refusals that would leave a number without a service or
// an account, cascade delete in one transaction, listing by account and by (effective) service, and
// the account's customer data encrypted at rest.
import { EventEmitter } from "node:events";
import { eachBackend } from "./backends.js";
import { NumberCache } from "../../src/store/number-cache.js";
import { PgNumberChangeFeed } from "../../src/store/number-change-feed.js";
import { openDriver } from "../../src/store/db/open.js";
import { migrate, MIGRATIONS } from "../../src/store/migrations.js";
import type { AccountInput } from "../../src/store/accounts.js";
import type { Store } from "../../src/store/store.js";
import { within } from "../helpers/time.js";

function putAccount(store: Store, a: AccountInput) {
  return store.accounts.change(a.id, () => ({ put: a, result: null }));
}

eachBackend("accounts: numbers inherit the defaults, follow their change, and override them", async (t, env) => {
  const store = await env.open();
  const cache = new NumberCache(store.numbers);
  await cache.start();
  t.teardown(() => cache.stop());
  await putAccount(store, { id: "acme", name: "ACME GmbH", service: "svc-a", customHeader: "tenant=acme" });
  await store.numbers.upsertMany([
    { number: "+4930100", account: "acme" },
    { number: "+4930101", account: "acme", service: "svc-b" },
    { number: "+4930102", account: "acme", customHeader: "own=1" },
    { number: "+4930103", service: "svc-b" },
  ]);
  t.same(await store.numbers.get("+4930100"), { number: "+4930100", service: null, customHeader: null, account: "acme", effective: { service: "svc-a", customHeader: "tenant=acme" } });
  t.same(await store.numbers.get("+4930103"), { number: "+4930103", service: "svc-b", customHeader: null }, "a number without an account: as before accounts");
  t.same(cache.lookup("+4930100"), { service: "svc-a", customHeader: "tenant=acme" }, "the cache holds the resolved route");
  t.same(cache.lookup("+4930101"), { service: "svc-b", customHeader: "tenant=acme" }, "own service, inherited header");
  t.same(cache.lookup("+4930102"), { service: "svc-a", customHeader: "own=1" }, "own header, inherited service");

  const tagBefore = (await store.numbers.getStored("+4930100"))!.etag;
  const v0 = await store.numbers.version();
  await putAccount(store, { id: "acme", name: "ACME GmbH", service: "svc-b", customHeader: "tenant=acme-2" });
  t.equal(await store.numbers.version(), v0 + 1, "a change of the defaults moves the numbers version");
  t.same(cache.lookup("+4930100"), { service: "svc-b", customHeader: "tenant=acme-2" }, "this replica's cache follows before the write resolved");
  t.same(cache.lookup("+4930102"), { service: "svc-b", customHeader: "own=1" });
  t.not((await store.numbers.getStored("+4930100"))!.etag, tagBefore, "the inheriting number's ETag changed with its representation");
  await putAccount(store, { id: "acme", name: "ACME Group", service: "svc-b", customHeader: "tenant=acme-2" });
  t.equal(await store.numbers.version(), v0 + 1, "a name change does not reload the routing tables");

  // Moving a number out of its account: it needs its own service then.
  await t.rejects(store.numbers.change("+4930100", (cur) => ({ put: { ...cur!.entry, account: null }, result: 0 })), { name: "NumberInputError", field: "service" });
  const moved = await store.numbers.change("+4930100", () => ({ put: { number: "+4930100", service: "svc-a" }, result: 0 }));
  t.same(moved.after?.entry, { number: "+4930100", service: "svc-a", customHeader: null });
  t.same(cache.lookup("+4930100"), { service: "svc-a", customHeader: null });
});

eachBackend("accounts: refusals leave nothing half done; cascade deletes the numbers with the account", async (t, env) => {
  const store = await env.open();
  await t.rejects(store.numbers.upsert({ number: "+4930200", account: "nobody" }), { name: "NumberInputError", field: "account" }, "an unknown account");
  await putAccount(store, { id: "bare" });
  await t.rejects(store.numbers.upsert({ number: "+4930200", account: "bare" }), { name: "NumberInputError", field: "service" }, "no own service, no default");
  await t.rejects(
    store.numbers.upsertMany([{ number: "+4930201", service: "svc-a" }, { number: "+4930202", account: "nobody", service: "svc-a" }]),
    { name: "NumberInputError", field: "account", index: 1 },
    "a batch names the entry",
  );
  t.equal(await store.numbers.count(), 0, "nothing of the refused batch was written");
  await t.rejects(putAccount(store, { id: "bad id" }), { name: "AccountInputError", field: "id" });
  await t.rejects(putAccount(store, { id: "x", customHeader: "a\r\nb" }), { name: "AccountInputError", field: "customHeader" });

  await putAccount(store, { id: "acme", service: "svc-a" });
  await store.numbers.upsertMany([
    { number: "+4930210", account: "acme" },
    { number: "+4930211", account: "acme" },
    { number: "+4930212", account: "acme", service: "svc-b" },
    { number: "+4930213", service: "svc-b" },
  ]);
  await t.rejects(putAccount(store, { id: "acme" }), { name: "AccountInUseError", field: "service", numbers: 2 }, "two numbers inherit the default service");
  t.equal((await store.accounts.get("acme"))?.service, "svc-a", "unchanged");
  await t.rejects(store.accounts.change("acme", () => ({ remove: true, cascade: false, result: 0 })), { name: "AccountInUseError", field: "account", numbers: 3 });
  t.equal(await store.numbers.count(), 4);
  const v0 = await store.numbers.version();
  const gone = await store.accounts.change("acme", () => ({ remove: true, cascade: true, result: 0 }));
  t.equal(gone.numbersDeleted, 3);
  t.equal(await store.accounts.get("acme"), null);
  t.same((await store.numbers.list()).items.map((e) => e.number), ["+4930213"], "only the number outside the account is left");
  t.equal(await store.numbers.version(), v0 + 1);
  const empty = await store.accounts.change("bare", () => ({ remove: true, cascade: false, result: 0 }));
  t.equal(empty.after, null, "an account without numbers goes without cascade");
});

eachBackend("accounts: listing numbers by account, by effective service, both; accounts in id order", async (t, env) => {
  const store = await env.open();
  await putAccount(store, { id: "a1", service: "svc-a" });
  await putAccount(store, { id: "a2", service: "svc-b" });
  const entries = Array.from({ length: 12 }, (_, i) => ({
    number: `+493030${String(i).padStart(2, "0")}`,
    ...(i % 3 === 0 ? { service: "svc-a" } : { account: i % 3 === 1 ? "a1" : "a2", ...(i % 4 === 0 ? { service: "svc-c" } : {}) }),
  }));
  await store.numbers.upsertMany(entries);
  async function walk(filter: { account?: string; service?: string }): Promise<string[]> {
    const out: string[] = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof store.numbers.list>> = await store.numbers.list({ ...filter, limit: 2, cursor });
      out.push(...page.items.map((e) => e.number));
      cursor = page.nextCursor;
    } while (cursor);
    return out.sort();
  }
  const expected = (pred: (i: number) => boolean) => entries.filter((_, i) => pred(i)).map((e) => e.number).sort();
  const effective = (i: number) => (i % 3 === 0 ? "svc-a" : i % 4 === 0 ? "svc-c" : i % 3 === 1 ? "svc-a" : "svc-b");
  t.same(await walk({ account: "a1" }), expected((i) => i % 3 === 1));
  t.same(await walk({ service: "svc-a" }), expected((i) => effective(i) === "svc-a"), "own or inherited svc-a");
  t.same(await walk({ account: "a2", service: "svc-b" }), expected((i) => i % 3 === 2 && effective(i) === "svc-b"));
  t.same(await walk({ account: "none" }), []);

  for (const id of ["b", "c", "d"]) await putAccount(store, { id });
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof store.accounts.list>> = await store.accounts.list({ limit: 2, cursor });
    ids.push(...page.items.map((a) => a.id));
    cursor = page.nextCursor;
  } while (cursor);
  t.same(ids, ["a1", "a2", "b", "c", "d"]);
  await t.rejects(store.accounts.list({ cursor: "bm9wZQ" }), { name: "CursorError" });
});

eachBackend("accounts: name and default header are stored encrypted", async (t, env) => {
  const store = await env.open();
  await putAccount(store, { id: "secretive", name: "Jane Customer", service: "svc-a", customHeader: "tenant=jane" });
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  const rows = await db.all<Record<string, unknown>>("SELECT * FROM accounts");
  t.equal(rows.length, 1);
  const raw = JSON.stringify(rows);
  t.notMatch(raw, /Jane|tenant=jane/, "no value in clear");
  t.match(String(rows[0]!.custom_header_enc), /^v1\./);
});

eachBackend("accounts: a change of the defaults reaches another replica's routing cache", async (t, env) => {
  const a = await env.open();
  const b = await env.open();
  await putAccount(a, { id: "acme", service: "svc-a", customHeader: "h1" });
  await a.numbers.upsert({ number: "+4930400", account: "acme" });
  const reloads = new EventEmitter();
  // No polling: on PostgreSQL the notification brings the change, on SQLite an explicit refresh.
  const cacheB = new NumberCache(b.numbers, { onReload: () => reloads.emit("reload"), ...(env.dialect === "postgres" ? { changeFeed: new PgNumberChangeFeed(env.url) } : {}) });
  await cacheB.start();
  t.teardown(() => cacheB.stop());
  t.same(cacheB.lookup("+4930400"), { service: "svc-a", customHeader: "h1" });
  await a.accounts.change("acme", (cur) => ({ put: { ...cur!.entry, service: "svc-b" }, result: 0 }));
  if (env.dialect === "postgres") {
    const applied = new Promise<void>((resolve) => {
      const check = () => {
        if (cacheB.lookup("+4930400")?.service !== "svc-b") return;
        reloads.off("reload", check);
        resolve();
      };
      reloads.on("reload", check);
      check();
    });
    await within(applied, 15_000, "the other replica's cache following the account change");
  } else {
    t.equal(await cacheB.refreshIfChanged(), true, "the version moved");
  }
  t.same(cacheB.lookup("+4930400"), { service: "svc-b", customHeader: "h1" });
});

eachBackend("accounts: migration 7 keeps the numbers of an existing store (SQLite rebuilds the table) and the audit trail, also after 8", async (t, env) => {
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  const numbersShape = async () =>
    env.dialect === "sqlite"
      ? (await db.all<{ name: string; notnull: number }>("PRAGMA table_info(numbers)")).map((c) => `${c.name}${c.notnull ? " not null" : ""}`).sort()
      : (await db.all<{ name: string; nullable: string }>("SELECT column_name AS name, is_nullable AS nullable FROM information_schema.columns WHERE table_name = 'numbers'"))
          .map((c) => `${c.name}${c.nullable === "NO" ? " not null" : ""}`)
          .sort();
  const indexesOf = async (table: string) =>
    (env.dialect === "sqlite"
      ? await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name NOT LIKE 'sqlite_autoindex_%'", [table])
      : await db.all<{ name: string }>("SELECT indexname AS name FROM pg_indexes WHERE tablename = ? AND indexname NOT LIKE '%_pkey'", [table])
    )
      .map((r) => r.name)
      .sort();
  // A store at version 5 (numbers_service index) with a number.
  await migrate(db, MIGRATIONS.filter((m) => m.version <= 5));
  await db.run("INSERT INTO numbers (number_index, number_enc, service, custom_header_enc, created_at, updated_at) VALUES ('idx-1', 'enc-1', 'svc-a', 'hdr-1', 1, 2)");
  await t.rejects(db.run("INSERT INTO numbers (number_index, number_enc, service, created_at, updated_at) VALUES ('idx-2', 'enc-2', NULL, 1, 2)"), "before: service NOT NULL");
  const shapeAt5 = await numbersShape();
  t.same(await indexesOf("numbers"), ["numbers_service"]);
  // Upgraded by a trunkgate without accounts (6: the audit trail, which records a change; 8), then
  // by this one: 7 applies after 8 (they touch different tables).
  t.same(await migrate(db, MIGRATIONS.filter((m) => m.version !== 7)), [6, 8]);
  const auditRow = ["000001700000000.000000.aa.000000", 1700000000000, "number", "create", "alice", "peer-a", "test", "idx-1", null, "after-1"];
  await db.run("INSERT INTO audit_trail (id, at, kind, op, subject, peer, via, target, before_enc, after_enc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", auditRow);
  const auditIndexes = await indexesOf("audit_trail");
  t.same(auditIndexes, ["audit_trail_subject", "audit_trail_target"]);
  t.same(await migrate(db), [7]);

  t.same(
    await db.all("SELECT number_index, number_enc, service, custom_header_enc, created_at, updated_at, account_id FROM numbers"),
    [{ number_index: "idx-1", number_enc: "enc-1", service: "svc-a", custom_header_enc: "hdr-1", created_at: 1, updated_at: 2, account_id: null }].map((r) =>
      env.dialect === "postgres" ? { ...r, created_at: "1", updated_at: "2" } : r,
    ),
    "the row as it was",
  );
  t.same(
    await numbersShape(),
    [...shapeAt5.map((c) => (c === "service not null" ? "service" : c)), "account_id"].sort(),
    "every column of version 5 kept (only service loses NOT NULL), account_id added",
  );
  await db.run("INSERT INTO numbers (number_index, number_enc, service, created_at, updated_at, account_id) VALUES ('idx-2', 'enc-2', NULL, 1, 2, 'acme')");
  t.same(await indexesOf("numbers"), ["numbers_account", "numbers_service"], "both listing indexes");
  t.same(await indexesOf("audit_trail"), auditIndexes, "the audit trail's indexes untouched");
  const [kept] = await db.all<Record<string, unknown>>("SELECT id, at, kind, op, subject, peer, via, target, before_enc, after_enc FROM audit_trail");
  t.same(kept && Object.values(kept).map((v) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v)), auditRow, "the audit entry untouched");
});

eachBackend("accounts: racing deletes and number writes never leave a number of a missing account", async (t, env) => {
  const a = await env.open();
  const b = await env.open();
  for (let round = 0; round < 6; round++) {
    const id = `race-${round}`;
    await putAccount(a, { id, service: "svc-a" });
    const writers = Array.from({ length: 4 }, (_, i) => b.numbers.upsert({ number: `+49305${round}0${i}`, account: id }).then(() => "written", (e: Error) => e.name));
    const deleter = a.accounts.change(id, () => ({ remove: true, cascade: false, result: 0 })).then(() => "deleted", (e: Error) => e.name);
    const outcomes = await Promise.all([...writers, deleter]);
    const orphans = await a.numbers.list({ account: id });
    const exists = (await a.accounts.get(id)) !== null;
    t.ok(exists || orphans.items.length === 0, `round ${round}: ${outcomes.join(",")}: no number of a deleted account`);
    t.ok(outcomes.slice(0, 4).every((o) => o === "written" || o === "NumberInputError"), "a writer either wrote or was told the account is unknown");
    t.ok(outcomes[4] === "deleted" || outcomes[4] === "AccountInUseError");
  }
});

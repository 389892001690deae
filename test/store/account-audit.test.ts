// The audit trail of accounts, at the store, on SQLite and PostgreSQL: every account change
// (create, update, delete) is one entry with its actor, the account id as target and its fields
// encrypted; a cascade delete records one entry per number it deleted (numbers' changes are never
// skipped) plus the account's; refused changes (in use, no change) record nothing; the entries and
// the change commit together or not at all.
import { openDriver } from "../../src/store/db/open.js";
import type { AuditActor } from "../../src/store/audit-trail.js";
import type { AccountInput } from "../../src/store/accounts.js";
import type { Store } from "../../src/store/store.js";
import { eachBackend } from "./backends.js";

const ALICE: AuditActor = { subject: "alice", peer: "carrier-a", via: "test" };
const BOB: AuditActor = { subject: "bob", peer: null, via: "test" };
const N1 = "+4930800001";
const N2 = "+4930800002";
const N3 = "+4930800003";

function putAccount(store: Store, a: AccountInput, actor?: AuditActor) {
  return store.accounts.change(a.id, () => ({ put: a, result: null }), actor);
}

function removeAccount(store: Store, id: string, cascade: boolean, actor?: AuditActor) {
  return store.accounts.change(id, () => ({ remove: true, cascade, result: null }), actor);
}

async function entries(store: Store) {
  return (await store.audit.list({ limit: 1000 })).items;
}

eachBackend("account audit: changes and cascades recorded with actor, target and encrypted fields", async (t, env) => {
  const store = await env.open();
  const idx = (n: string) => store.numbers.indexOf(n);
  await putAccount(store, { id: "acme", name: "ACME secret GmbH", service: "svc-a", customHeader: "tenant=acme-secret" }, ALICE);
  await putAccount(store, { id: "acme", name: "ACME secret GmbH", service: "svc-b", customHeader: "tenant=acme-secret" }, BOB);
  await store.accounts.change("acme", () => ({ keep: true, result: null }), BOB); // no change: no entry
  t.same((await removeAccount(store, "nobody", true, BOB)).numbersDeleted, 0, "deleting nothing records nothing");
  await store.numbers.upsertMany([{ number: N1, account: "acme" }, { number: N2, account: "acme", service: "svc-a", customHeader: "own=1" }, { number: N3, service: "svc-a" }], ALICE);
  t.equal((await entries(store)).length, 5, "2 account entries, 3 number entries");

  await t.rejects(removeAccount(store, "acme", false, BOB), { name: "AccountInUseError" });
  await t.rejects(putAccount(store, { id: "acme", service: null }, BOB), { name: "AccountInUseError" }, "N1 inherits the default service");
  t.equal((await entries(store)).length, 5, "refused changes record nothing");

  t.equal((await removeAccount(store, "acme", true, ALICE)).numbersDeleted, 2);
  const all = await entries(store);
  t.same(
    all.slice(0, 3).map((e) => [e.kind, e.op, e.subject, e.peer, e.via]),
    [
      ["account", "delete", "alice", "carrier-a", "test"],
      ["number", "delete", "alice", "carrier-a", "test"],
      ["number", "delete", "alice", "carrier-a", "test"],
    ],
    "the cascade: the account's entry above one per number it deleted",
  );
  const cascaded = new Map(all.slice(1, 3).map((e) => [e.target, e.before]));
  t.same(cascaded.get(idx(N1)), { service: null, customHeader: null, account: "acme" }, "N1's own fields (it inherited the rest)");
  t.same(cascaded.get(idx(N2)), { service: "svc-a", customHeader: "own=1", account: "acme" });
  t.same(
    all.filter((e) => e.kind === "account").map((e) => [e.op, e.target, e.subject, e.before, e.after]),
    [
      ["delete", "acme", "alice", { name: "ACME secret GmbH", service: "svc-b", customHeader: "tenant=acme-secret" }, null],
      ["update", "acme", "bob", { name: "ACME secret GmbH", service: "svc-a", customHeader: "tenant=acme-secret" }, { name: "ACME secret GmbH", service: "svc-b", customHeader: "tenant=acme-secret" }],
      ["create", "acme", "alice", null, { name: "ACME secret GmbH", service: "svc-a", customHeader: "tenant=acme-secret" }],
    ],
  );
  t.same((await store.audit.list({ target: idx(N1) })).items.map((e) => e.op), ["delete", "create"], "a cascaded number found by its blind index");
  t.same(await store.numbers.get(N3), { number: N3, service: "svc-a", customHeader: null }, "a number of no account untouched");

  // At rest: the account's name and header only encrypted.
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  const text = JSON.stringify(await db.all("SELECT * FROM audit_trail"));
  for (const secret of ["ACME", "secret", "own=1", "4930800"]) t.notOk(text.includes(secret), `"${secret}" not stored in clear`);
});

eachBackend("account audit: a cascade and its entries commit together or not at all", async (t, env) => {
  const store = await env.open();
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  await putAccount(store, { id: "acme", service: "svc-a" }, ALICE);
  await store.numbers.upsertMany([{ number: N1, account: "acme" }, { number: N2, account: "acme" }], ALICE);
  // A number's entry of the cascade cannot be written: nothing of the cascade happens.
  if (env.dialect === "sqlite") {
    await db.run("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_trail WHEN NEW.kind = 'number' BEGIN SELECT RAISE(ABORT, 'refused by test'); END");
  } else {
    await db.run("CREATE OR REPLACE FUNCTION refuse_by_test() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by test'; END $$");
    await db.run("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_trail FOR EACH ROW WHEN (NEW.kind = 'number') EXECUTE FUNCTION refuse_by_test()");
  }
  await t.rejects(removeAccount(store, "acme", true, BOB), /refused by test/);
  await db.run(env.dialect === "sqlite" ? "DROP TRIGGER refuse_audit" : "DROP TRIGGER refuse_audit ON audit_trail");
  t.equal((await store.accounts.get("acme"))?.id, "acme", "the account is still there");
  t.equal((await store.numbers.list({ account: "acme" })).items.length, 2, "and its numbers");
  t.equal((await entries(store)).length, 3, "no entry of the refused cascade");
  t.equal((await removeAccount(store, "acme", true, BOB)).numbersDeleted, 2);
  t.equal((await entries(store)).length, 6, "works once the trigger is gone");
});

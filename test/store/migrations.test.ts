import { eachBackend } from "./backends.js";
import { openDriver } from "../../src/store/db/open.js";
import { migrate, MIGRATIONS, MigrationError, type Migration } from "../../src/store/migrations.js";
import { Keyring, KeyringError } from "../../src/store/crypto/keyring.js";
import { openStore } from "../../src/store/store.js";

eachBackend("migrations: applied once, idempotent, concurrent starts agree", async (t, env) => {
  const a = openDriver(env.url, env.dir);
  const b = openDriver(env.url, env.dir);
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
  t.same([...ra, ...rb].sort(), MIGRATIONS.map((m) => m.version), "each migration applied by exactly one of two concurrent starts");
  t.same(await migrate(a), [], "nothing to do the second time");
  const rows = await a.all<{ version: number }>("SELECT version FROM schema_migrations ORDER BY version");
  t.same(rows.map((r) => Number(r.version)), MIGRATIONS.map((m) => m.version));
});

eachBackend("migrations: a failing migration leaves nothing behind; a newer schema is refused", async (t, env) => {
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  const broken: Migration[] = [...MIGRATIONS, { version: 99, name: "broken", up: ["CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL"] }];
  await t.rejects(migrate(db, broken));
  const applied = await db.all<{ version: number }>("SELECT version FROM schema_migrations");
  t.notOk(applied.some((r) => Number(r.version) === 99));
  await t.rejects(db.all("SELECT * FROM half_done"), "first statement rolled back with the migration");
  const next = Math.max(...MIGRATIONS.map((m) => m.version)) + 1;
  const perDialect: Migration[] = [
    ...MIGRATIONS,
    { version: next, name: "dialect", up: { sqlite: ["CREATE TABLE d_sqlite (x INTEGER)"], postgres: ["CREATE TABLE d_pg (x BIGSERIAL)"] } },
  ];
  t.same(await migrate(db, perDialect), [next]);
  await db.all(`SELECT * FROM ${env.dialect === "sqlite" ? "d_sqlite" : "d_pg"}`);
  await t.rejects(migrate(db, MIGRATIONS), MigrationError, "a schema newer than the build knows is refused");
});

eachBackend("store refuses a key file whose index key differs from the database's", async (t, env) => {
  const s = await openStore({ url: env.url, keyring: env.keyring, baseDir: env.dir });
  await s.numbers.upsert({ number: "+15551234567", service: "x" });
  await s.close();
  await t.rejects(openStore({ url: env.url, keyring: Keyring.generate(), baseDir: env.dir }), KeyringError);
  await t.rejects(openStore({ url: env.url, keyring: Keyring.generate(), baseDir: env.dir }), /another index key/);
  const again = await openStore({ url: env.url, keyring: env.keyring.withNewActiveKey(), baseDir: env.dir });
  t.equal(await again.numbers.count(), 1, "a rotated keyring (same index key) is accepted");
  await again.close();
});

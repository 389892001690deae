import { Registry } from "prom-client";
import { eachBackend } from "./backends.js";
import { NumberCache } from "../../src/store/number-cache.js";
import { openDriver } from "../../src/store/db/open.js";
import { EventEmitter } from "node:events";
import { PgNumberChangeFeed } from "../../src/store/number-change-feed.js";
import { purposeOf } from "../../src/store/context.js";
import { within } from "../helpers/time.js";

eachBackend("number cache: O(1) lookups, reloads only when the version moves, across replicas", async (t, env) => {
  const writer = await env.open();
  const replica = await env.open();
  await writer.numbers.upsertMany([
    { number: "+41446681800", service: "a", customHeader: "h1" },
    { number: "+15551234567", service: "b" },
  ]);
  const registry = new Registry();
  const cache = new NumberCache(replica.numbers, { registry });
  await cache.start();
  t.same(cache.lookup("+41446681800"), { service: "a", customHeader: "h1" });
  t.same(cache.lookup("+15551234567"), { service: "b", customHeader: null });
  t.equal(cache.lookup("+4144668180"), undefined);
  t.equal(cache.size, 2);
  t.match(await registry.getSingleMetricAsString("trunkgate_store_numbers_provisioned"), / 2$/m);
  t.equal(await cache.refreshIfChanged(), false, "no change, no reload");
  await writer.numbers.upsert({ number: "+15551234567", service: "c", customHeader: "h2" });
  await writer.numbers.delete("+41446681800");
  t.equal(await cache.refreshIfChanged(), true);
  t.same(cache.lookup("+15551234567"), { service: "c", customHeader: "h2" });
  t.equal(cache.lookup("+41446681800"), undefined);
});

eachBackend("number cache polls on its interval", async (t, env) => {
  const store = await env.open();
  let onReload!: () => void;
  const cache = new NumberCache(store.numbers, { refreshIntervalMs: 20, pageSize: 2 });
  await cache.start();
  t.teardown(() => cache.stop());
  const reloaded = new Promise<void>((r) => (onReload = r));
  const watch = setInterval(() => cache.size === 3 && onReload(), 5);
  t.teardown(() => clearInterval(watch));
  await store.numbers.upsertMany([1, 2, 3].map((i) => ({ number: `+4420700000${i}`, service: "uk" })));
  await within(reloaded, 5000, "cache reload");
  t.same(cache.lookup("+4420700000" + "3"), { service: "uk", customHeader: null }, "loaded across pages");
});

eachBackend("number cache: rows stored before the rules were enforced everywhere are not routed", async (t, env) => {
  const store = await env.open();
  await store.numbers.upsert({ number: "+41446681800", service: "teams", customHeader: "tenant=ok" });
  // Written the way an old `numbers import` did: bypassing every check.
  const db = openDriver(env.url, env.dir);
  t.teardown(() => db.close());
  const bad: [string, string, string | null][] = [
    ["+41446681801", "no-such-service; DROP TABLE numbers;--", null],
    ["+41446681802", "teams", "a\u0085b"],
    ["+41446681803", "teams", "x".repeat(500)],
  ];
  for (const [number, service, header] of bad) {
    const idx = store.numbers.indexOf(number);
    await db.run(
      "INSERT INTO numbers (number_index, number_enc, service, custom_header_enc, created_at, updated_at) VALUES (?, ?, ?, ?, 0, 0)",
      [idx, store.keyring.encrypt(number, purposeOf("numbers", "number_enc", idx)), service, header === null ? null : store.keyring.encrypt(header, purposeOf("numbers", "custom_header_enc", idx))],
    );
  }
  await db.run("UPDATE store_counters SET value = value + 1 WHERE name = 'numbers_version'");
  const cache = new NumberCache(store.numbers);
  await cache.start();
  t.same(cache.lookup("+41446681800"), { service: "teams", customHeader: "tenant=ok" });
  for (const [number] of bad) t.equal(cache.lookup(number), undefined, "a bad stored row is not routed");
  await t.rejects(store.numbers.upsert({ number: "+41446681804", service: "teams", customHeader: "a\u0085b" }), /customHeader: character at position 2/, "nor can the store be given one");
});

/** Resolves when `cache` has loaded a table for which `check` holds; rejects after a generous bound. */
function reloadedWith(_cache: NumberCache, reloads: EventEmitter, check: () => boolean, what: string): Promise<void> {
  if (check()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reloads.off("reload", onReload);
      reject(new Error(`${what}: not applied within 15 s (no notification?)`));
    }, 15_000);
    const onReload = () => {
      if (!check()) return;
      clearTimeout(timer);
      reloads.off("reload", onReload);
      resolve();
    };
    reloads.on("reload", onReload);
  });
}

eachBackend("number cache: the writing replica applies its own change before the write resolves; others are pushed it", async (t, env) => {
  const a = await env.open();
  const b = await env.open();
  await a.numbers.upsert({ number: "+41446681800", service: "teams" });
  // No polling at all: only the write hook and (PostgreSQL) LISTEN/NOTIFY may bring changes.
  const reloadsB = new EventEmitter();
  const cacheA = new NumberCache(a.numbers, env.dialect === "postgres" ? { changeFeed: new PgNumberChangeFeed(env.url) } : {});
  const cacheB = new NumberCache(b.numbers, {
    onReload: () => reloadsB.emit("reload"),
    ...(env.dialect === "postgres" ? { changeFeed: new PgNumberChangeFeed(env.url) } : {}),
  });
  await cacheA.start();
  await cacheB.start();
  t.teardown(async () => {
    await cacheA.stop();
    await cacheB.stop();
  });
  t.same(cacheB.lookup("+41446681800"), { service: "teams", customHeader: null });

  t.ok(await a.numbers.delete("+41446681800"));
  t.equal(cacheA.lookup("+41446681800"), undefined, "A answers the delete with its own cache already applied");
  await a.numbers.upsertMany([{ number: "+15551234567", service: "webex" }]);
  t.same(cacheA.lookup("+15551234567"), { service: "webex", customHeader: null }, "and an upsert");

  if (env.dialect === "postgres") {
    await reloadedWith(cacheB, reloadsB, () => cacheB.lookup("+41446681800") === undefined && cacheB.lookup("+15551234567") !== undefined, "B");
    t.pass("B applied A's changes on the notification, without polling");
    // And the other way round, B writing while A listens.
    await b.numbers.upsert({ number: "+15551234567", service: "teams" });
    t.same(cacheB.lookup("+15551234567"), { service: "teams", customHeader: null });
  }
});

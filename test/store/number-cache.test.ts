import t from "tap";
import { Registry } from "prom-client";
import { eachBackend } from "./backends.js";
import { NumberCache } from "../../src/store/number-cache.js";
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

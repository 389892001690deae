// Routing-table cost of accounts, against compiled trees (dist/ after `npm run build`; another tree,
// e.g. the main branch, compiled with `npx tsc -p tsconfig.json --outDir DIR`, via --base):
//
//   node bench/number-cache-reload.mjs [--dist DIR] [--base DIR] [--numbers 20000] [--rounds 5]
//
// For each tree a temp SQLite store with --numbers numbers (base: no accounts; this tree: once
// without accounts, once with every number in one of 20 accounts, inheriting service and header).
// Per round, alternated: one full NumberCache reload (CPU-µs per number, process.cpuUsage), then
// 1e6 lookups (CPU-ns per lookup) — the per-call cost, which accounts must not change.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: o } = parseArgs({
  options: {
    dist: { type: "string", default: join(root, "dist") },
    base: { type: "string" },
    numbers: { type: "string", default: "20000" },
    rounds: { type: "string", default: "5" },
  },
});
const count = Number(o.numbers);
const rounds = Number(o.rounds);
const cpuUs = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
const stats = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return `min ${s[0].toFixed(2)}, median ${s[Math.floor(s.length / 2)].toFixed(2)}`;
};

async function setup(label, dir, withAccounts) {
  const mod = (p) => import(pathToFileURL(join(resolve(dir), "src/store", p)).href);
  const { openStore } = await mod("store.js");
  const { Keyring } = await mod("crypto/keyring.js");
  const { NumberCache } = await mod("number-cache.js");
  const tmp = mkdtempSync(join(tmpdir(), "tg-cache-bench-"));
  const store = await openStore({ url: `sqlite:${join(tmp, "s.db")}`, keyring: Keyring.generate(), baseDir: tmp });
  const numbers = [];
  for (let i = 0; i < count; i++) {
    const number = `+4930${String(1_000_000 + i)}`;
    numbers.push(number);
  }
  if (withAccounts) {
    for (let a = 0; a < 20; a++) {
      const id = `acct-${a}`;
      await store.accounts.change(id, () => ({ put: { id, service: "svc-a", customHeader: `tenant=${a}` }, result: 0 }));
    }
  }
  for (let i = 0; i < count; i += 1000) {
    await store.numbers.upsertMany(numbers.slice(i, i + 1000).map((number, k) => (withAccounts ? { number, account: `acct-${(i + k) % 20}` } : { number, service: "svc-a", customHeader: `tenant=${k % 20}` })));
  }
  const cache = new NumberCache(store.numbers);
  return { label, store, cache, numbers, tmp, reload: [], lookup: [] };
}

const variants = [];
if (o.base) variants.push(await setup("base tree, no accounts", o.base, false));
variants.push(await setup("this tree, no accounts", o.dist, false));
variants.push(await setup("this tree, 20 accounts", o.dist, true));

let sink = 0;
for (let r = 0; r < rounds; r++) {
  for (const v of variants) {
    // A reload only happens when the version moved: force one by forgetting the loaded version.
    v.cache.loadedVersion = -1;
    const t0 = cpuUs();
    await v.cache.refreshIfChanged();
    v.reload.push((cpuUs() - t0) / count);
    if (v.cache.size !== count) throw new Error(`${v.label}: ${v.cache.size} routes`);
    const n = v.numbers;
    const l0 = cpuUs();
    for (let i = 0; i < 1_000_000; i++) sink += v.cache.lookup(n[i % count]).service.length;
    v.lookup.push(((cpuUs() - l0) * 1000) / 1_000_000);
  }
}
for (const v of variants) {
  console.log(`${v.label}: reload CPU-µs/number ${stats(v.reload)}; lookup CPU-ns ${stats(v.lookup)}`);
  await v.store.close();
  rmSync(v.tmp, { recursive: true, force: true });
}
if (sink === 0) console.log("");

// What the audit trail costs a number write, against a compiled tree (dist/ after `npm run build`):
//
//   node bench/audit-write.mjs [--dist DIR] [--rounds 7]
//
// A/B in one process, alternated per round on two temp SQLite stores: A records the audit entry
// (as shipped), B has AuditTrail.record replaced by a no-op (the write without its entry). Per
// round: 200 single-number changes (NumberRepository.change, the PUT path: read, decide, upsert,
// entry, version bump, COMMIT) and one batch upsert of 1000 numbers (upsertManyReport, the
// numbers:batch / CLI import path, half of them updates). CPU-µs (process.cpuUsage) per change;
// min and median over the rounds.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: o } = parseArgs({ options: { dist: { type: "string", default: join(root, "dist") }, rounds: { type: "string", default: "7" } } });
const dist = resolve(o.dist);
const rounds = Number(o.rounds);
const { openStore } = await import(pathToFileURL(join(dist, "src/store/store.js")).href);
const { Keyring } = await import(pathToFileURL(join(dist, "src/store/crypto/keyring.js")).href);

const dir = mkdtempSync(join(tmpdir(), "trunkgate-audit-bench-"));
const actor = { subject: "bench", peer: "peer-a", via: "PUT /api/v1/numbers/{e164}" };
const stores = {};
for (const name of ["A", "B"]) {
  stores[name] = await openStore({ url: `sqlite:${join(dir, `${name}.db`)}`, keyring: Keyring.generate(), baseDir: dir });
}
stores.B.audit.record = async () => {};

const cpu = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
const results = { A: { single: [], batch: [] }, B: { single: [], batch: [] } };

for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 ? ["B", "A"] : ["A", "B"]) {
    const s = stores[name];
    let t0 = cpu();
    for (let i = 0; i < 200; i++) {
      const number = `+4930${String(r * 1000 + i).padStart(7, "0")}`;
      await s.numbers.change(number, () => ({ put: { number, service: "svc-a", customHeader: `tenant=${i}` }, result: null }), actor);
    }
    results[name].single.push((cpu() - t0) / 200);
    // Half updates (the first 500 exist from the previous round's batch), half creates.
    const batch = Array.from({ length: 1000 }, (_, i) => ({ number: `+4931${String(r * 500 + i).padStart(7, "0")}`, service: "svc-b", customHeader: i % 2 ? `x=${r}` : null }));
    t0 = cpu();
    await s.numbers.upsertManyReport(batch, actor);
    results[name].batch.push((cpu() - t0) / 1000);
  }
}
for (const s of Object.values(stores)) await s.close();
rmSync(dir, { recursive: true, force: true });

const fmt = (a) => `min ${Math.min(...a).toFixed(1)}  median ${median(a).toFixed(1)}`;
console.log(`CPU-µs per number, ${rounds} rounds (A: with the audit entry, B: without)`);
for (const k of ["single", "batch"]) console.log(`${k.padEnd(7)} A ${fmt(results.A[k])}   B ${fmt(results.B[k])}`);

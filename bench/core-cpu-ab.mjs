// A/B of the SIP core's CPU per call between two checkouts, in one process, rounds alternated
// (before, after, then after, before, ...), so that the machine's load hits both alike. Each tree's
// own in-memory core harness (test/sip/proxy/core-harness.ts: real parser, editor, transactions,
// fake flows that parse what the core sends) runs the call of test/sip/bench/core-cpu.ts: INVITE,
// 100, 180, 200, ACK, BYE, 200. CPU time of this process (process.cpuUsage), min and median per tree.
//
//   (cd <before> && npm run build:test) && (cd <after> && npm run build:test)
//   npx node bench/core-cpu-ab.mjs <before-checkout> <after-checkout> [calls per round] [rounds]
//
// This checkout and both others need their compiled tests (dist/test, npm run build:test); the harness's API (makeCore, answer, up,
// fromTrunk, fromUpstream, trunk.take) must exist in both, as it does since issue 10.
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [beforeRoot, afterRoot] = process.argv.slice(2, 4);
if (beforeRoot === undefined || afterRoot === undefined) {
  console.error("usage: node bench/core-cpu-ab.mjs <before-checkout> <after-checkout> [calls] [rounds]");
  process.exit(2);
}
const calls = Number(process.argv[4] ?? 1000);
const rounds = Number(process.argv[5] ?? 30);

/** One call through the core of the checkout at `root`, as a function. */
// The call itself (test/sip/bench/call-driver.ts) comes from this checkout's compiled tests; each
// tree brings its own harness, parser and message builders.
const { callDriver } = await import(pathToFileURL(resolve(import.meta.dirname, "../dist/test/sip/bench/call-driver.js")).href);

async function load(root) {
  const base = pathToFileURL(resolve(root, "dist/test/sip")).href;
  const { makeCore, answer } = await import(`${base}/proxy/core-harness.js`);
  const { sipRequest } = await import(`${base}/e2e/harness.js`);
  const h = makeCore({ srtp: false, targets: 2 });
  const call = callDriver(h, sipRequest, answer);
  let n = 0;
  return function oneCall() {
    call();
    // Accepted-state records and timers expire between rounds, as in core-cpu.ts.
    if (++n % calls === 0) h.platform.advance(64 * 500 + 1);
  };
}

const trees = { before: await load(beforeRoot), after: await load(afterRoot) };
for (const oneCall of Object.values(trees)) for (let i = 0; i < 2000; i++) oneCall(); // warm-up (JIT)
const perCall = { before: [], after: [] };
for (let r = 0; r < rounds; r++) {
  for (const name of r % 2 === 0 ? ["before", "after"] : ["after", "before"]) {
    const oneCall = trees[name];
    const c0 = process.cpuUsage();
    for (let i = 0; i < calls; i++) oneCall();
    const c = process.cpuUsage(c0);
    perCall[name].push((c.user + c.system) / calls);
  }
}
for (const name of ["before", "after"]) {
  const sorted = [...perCall[name]].sort((a, b) => a - b);
  const rows = perCall[name].map((x) => x.toFixed(0)).join(" ");
  console.log(`${name}: min ${sorted[0].toFixed(1)} median ${sorted[Math.floor(sorted.length / 2)].toFixed(1)} CPU-µs/call (${calls} calls x ${rounds} rounds: ${rows})`);
}

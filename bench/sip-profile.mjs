// Summarises a V8 .cpuprofile (node --cpu-prof; e.g. from bench/sip-load.mjs --cpu-prof DIR):
// self time by function, and inclusive ("total") time of the functions that matter, as % of the
// profile's non-idle samples.
//   node bench/sip-profile.mjs FILE.cpuprofile [--top 40] [--match substring]
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values: o, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: "string", default: "40" }, match: { type: "string" } } });
const prof = JSON.parse(readFileSync(positionals[0], "utf8"));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const hits = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const dt = prof.timeDeltas[i] ?? 0;
  hits.set(prof.samples[i], (hits.get(prof.samples[i]) ?? 0) + dt);
}
const label = (n) => {
  const f = n.callFrame;
  const file = f.url.replace(/^.*\/(dist|tg-[^/]+|node_modules)\//, "$1/").replace(/^file:\/\//, "");
  return `${f.functionName || "(anon)"} ${file}:${f.lineNumber + 1}`;
};
let total = 0;
let idle = 0;
const self = new Map();
const incl = new Map();
for (const [id, t] of hits) {
  const n = byId.get(id);
  total += t;
  const name = n.callFrame.functionName;
  if (name === "(idle)" || name === "(program)") {
    if (name === "(idle)") idle += t;
  }
  const l = label(n);
  self.set(l, (self.get(l) ?? 0) + t);
  // inclusive: each distinct label on the stack once
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const lc = label(byId.get(cur));
    if (seen.has(lc)) continue;
    seen.add(lc);
    incl.set(lc, (incl.get(lc) ?? 0) + t);
  }
}
const busy = total - idle;
const pct = (t) => ((100 * t) / busy).toFixed(1).padStart(5);
console.log(`profile ${(total / 1e6).toFixed(1)} s, busy (non-idle) ${(busy / 1e6).toFixed(1)} s`);
const top = Number(o.top);
const filt = ([l]) => !l.startsWith("(idle)") && (o.match === undefined || l.includes(o.match));
console.log("\n-- self --");
for (const [l, t] of [...self].filter(filt).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}%  ${l}`);
console.log("\n-- inclusive --");
for (const [l, t] of [...incl].filter(filt).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(t)}%  ${l}`);

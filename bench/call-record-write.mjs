// Call-record write cost, against a compiled tree (dist/ after `npm run build`, or any
// `npx tsc -p tsconfig.json --outDir DIR` with node_modules symlinked and package.json copied):
//
//   node bench/call-record-write.mjs [--dist DIR] [--rate 2000] [--seconds 5] [--reps 3]
//
// 1. insertMany: CPU-µs per record (encryption of peer and both numbers: one sealed value since
//    migration 8; Call-ID blind index, INSERT, statistics roll-up, COMMIT) on a temp SQLite file,
//    batches of 200, 100 batches per rep;
//    then per answered call: its journal entry in one batch and its record in a later one (what the
//    SIP proxy writes for an answered call: the entry's INSERT, the record's INSERT and the entry's
//    DELETE).
// 2. The writer as the SIP proxy uses it: answered calls fed at --rate calls/s (in 10 ms slices,
//    like calls ending; each call = answered() then record(), --records-only: record() alone) for
//    --seconds, then close(); per mode (inline = CallRecordWriter in this thread, worker =
//    CallRecordWorkerWriter, when the tree has it) the main thread's CPU-µs per call
//    (process.threadCpuUsage(), µs resolution; /proc/self/task/<pid>/stat at 10 ms on an older
//    Node; minus the same loop feeding a sink that does nothing), the whole process's CPU-µs per
//    call (all threads), and the event loop's delay p99/max while writing (monitorEventLoopDelay).
//    The worker mode's process figure includes the worker's start (module loading, a cold JIT),
//    which a 3-5 s run does not amortise.
// 3. The worker mode's main-thread share alone, which is what the SIP event loop pays: 200 answered
//    calls handed over (answered() + record() each, the records built beforehand), then flush()
//    awaited (the post and the acknowledgement), 100 times; this thread's CPU (threadCpuUsage)
//    per call, minus the same loop with a sink that does nothing. Needs Node >= 23.9.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: o } = parseArgs({
  options: {
    dist: { type: "string", default: join(root, "dist") },
    rate: { type: "string", default: "2000" },
    seconds: { type: "string", default: "5" },
    reps: { type: "string", default: "3" },
    "records-only": { type: "boolean", default: false },
  },
});
const dist = resolve(o.dist);
const rate = Number(o.rate);
const seconds = Number(o.seconds);
const reps = Number(o.reps);
const mod = (p) => import(pathToFileURL(join(dist, "src/store", p)).href);
const { openStore } = await mod("store.js");
const { Keyring } = await mod("crypto/keyring.js");
const { CallRecordWriter } = await mod("call-record-writer.js");
const WorkerWriter = await mod("call-record-worker-writer.js").then((m) => m.CallRecordWorkerWriter, () => undefined);

const CLK_TCK = 100; // Linux USER_HZ
function mainThreadCpuUs() {
  if (typeof process.threadCpuUsage === "function") {
    const c = process.threadCpuUsage();
    return c.user + c.system;
  }
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
}
const processCpuUs = () => {
  const c = process.cpuUsage();
  return c.user + c.system;
};
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
/** "min M median N" of per-rep figures. */
const minMedian = (a) => `min ${Math.min(...a).toFixed(1)} median ${median(a).toFixed(1)}`;

let seq = 0;
/** What the SIP call recorder hands the writer when an INVITE is answered (the journal entry). */
function answeredCall(r) {
  return { journal: true, callId: r.callId, service: r.service, peer: r.peer, callingNumber: r.callingNumber, calledNumber: r.calledNumber, startedAt: r.startedAt, answeredAt: r.answeredAt, finalStatus: 200 };
}
/** What the SIP call recorder hands the writer for an answered call. */
function record() {
  const n = seq++;
  const now = Date.now();
  return {
    callId: `a84b4c76e66710-${n}@pc33.atlanta.example.com`,
    service: "svc-b",
    peer: "peer-a.example.net",
    callingNumber: "+4989111222",
    calledNumber: `+49301234${String(n % 10000).padStart(4, "0")}`,
    startedAt: new Date(now - 65_000),
    answeredAt: new Date(now - 60_000),
    endedAt: new Date(now),
    finalStatus: 200,
    hangupSide: "caller",
  };
}

const dir = mkdtempSync(join(tmpdir(), "tg-crw-"));
const url = `sqlite:${join(dir, "store.db")}`;
const keyring = Keyring.generate();
const store = await openStore({ url, keyring, baseDir: dir });
console.log(`tree ${dist}; node ${process.version}`);

// 1. insertMany
const perRecord = [];
for (let rep = 0; rep < reps + 1; rep++) {
  const batches = Array.from({ length: 100 }, () => Array.from({ length: 200 }, record));
  const c0 = processCpuUs();
  for (const b of batches) await store.callRecords.insertMany(b);
  if (rep > 0) perRecord.push((processCpuUs() - c0) / 20_000); // rep 0 warms up
}
console.log(`insertMany (SQLite, 200/batch): ${minMedian(perRecord)} CPU-µs/record (reps ${perRecord.map((x) => x.toFixed(1)).join(", ")})`);
const perCall = [];
for (let rep = 0; rep < reps + 1; rep++) {
  const records = Array.from({ length: 100 }, () => Array.from({ length: 200 }, record));
  const entries = records.map((b) => b.map(answeredCall));
  const c0 = processCpuUs();
  for (let i = 0; i < records.length; i++) {
    await store.callRecords.insertMany(entries[i], { journalOwner: "bench" });
    await store.callRecords.insertMany(records[i], { journalOwner: "bench" });
  }
  if (rep > 0) perCall.push((processCpuUs() - c0) / 20_000);
}
console.log(`insertMany per answered call (journal entry + record, 200/batch): ${minMedian(perCall)} CPU-µs/call (reps ${perCall.map((x) => x.toFixed(1)).join(", ")})`);

// 2. writer modes at a fixed rate
async function feed(sink) {
  const perSlice = Math.max(1, Math.round(rate / 100));
  const slices = seconds * 100;
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const m0 = mainThreadCpuUs();
  const p0 = processCpuUs();
  const t0 = performance.now();
  for (let s = 0; s < slices; s++) {
    for (let i = 0; i < perSlice; i++) {
      const r = record();
      if (!o["records-only"]) sink.answered(answeredCall(r));
      sink.record(r);
    }
    const due = t0 + (s + 1) * 10;
    await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
  }
  await sink.close();
  delay.disable();
  return { n: perSlice * slices, main: mainThreadCpuUs() - m0, proc: processCpuUs() - p0, p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 };
}
const noop = { record() {}, answered() {}, async close() {} };
const modes = [
  ["inline", () => new CallRecordWriter(store.callRecords, {})],
  ...(WorkerWriter ? [["worker", () => new WorkerWriter({ url, baseDir: dir, keyring })]] : []),
];
if (!WorkerWriter) console.log("(this tree has no CallRecordWorkerWriter: inline only)");
console.log(`writer at ${rate} ${o["records-only"] ? "records" : "answered calls (journal entry + record)"}/s for ${seconds} s, ${reps} reps each, interleaved:`);
const results = Object.fromEntries([["baseline", []], ...modes.map(([m]) => [m, []])]);
for (let rep = 0; rep < reps; rep++) {
  results.baseline.push(await feed(noop));
  for (const [m, make] of modes) results[m].push(await feed(make()));
}
const base = median(results.baseline.map((r) => r.main / r.n));
console.log(`  baseline loop (no sink): main thread ${base.toFixed(1)} CPU-µs/call`);
for (const [m] of modes) {
  const rs = results[m];
  const main = rs.map((r) => r.main / r.n - base);
  const proc = rs.map((r) => r.proc / r.n - base);
  console.log(
    `  ${m.padEnd(6)}: main thread ${minMedian(main)} CPU-µs/call (${main.map((x) => x.toFixed(1)).join(", ")}); ` +
      `process ${minMedian(proc)} (${proc.map((x) => x.toFixed(1)).join(", ")}); ` +
      `event-loop delay p99 ${median(rs.map((r) => r.p99)).toFixed(1)} ms, max ${median(rs.map((r) => r.max)).toFixed(1)} ms`,
  );
}
if (WorkerWriter && typeof process.threadCpuUsage === "function") {
  const threadUs = () => {
    const c = process.threadCpuUsage();
    return c.user + c.system;
  };
  const handOver = async (sink) => {
    const batches = Array.from({ length: 100 }, () => Array.from({ length: 200 }, record).map((r) => [answeredCall(r), r]));
    const c0 = threadUs();
    for (const b of batches) {
      for (const [a, r] of b) {
        sink.answered(a);
        sink.record(r);
      }
      await sink.flush();
    }
    return (threadUs() - c0) / 20_000;
  };
  const none = { record() {}, answered() {}, async flush() {}, async close() {} };
  const w = new WorkerWriter({ url, baseDir: dir, keyring });
  await handOver(w); // warm-up: the worker's start, JIT
  const main = [];
  for (let rep = 0; rep < reps + 2; rep++) {
    const empty = await handOver(none);
    main.push((await handOver(w)) - empty);
  }
  await w.close();
  console.log(`worker mode, main thread only (hand-over + post + acknowledgement): ${minMedian(main)} CPU-µs/call (${main.map((x) => x.toFixed(2)).join(", ")})`);
}
const written = await store.callRecords.count();
await store.close();
rmSync(dir, { recursive: true, force: true });
console.log(`(${written} records in the store at the end)`);

// Heap retained per call through the proxy core alone, in process: N full calls (INVITE, 100, 180,
// 200, ACK, BYE, 200) driven through the in-memory core harness and held in the state they are
// left in (RFC 6026 Accepted-state records, dialogs ended, timers pending: the manual clock does
// not move), then heapUsed after a full GC, against the same before the calls, per call.
// Not a test (tap ignores it):
//   node --expose-gc dist/test/sip/bench/core-heap.js [calls]     (after npm run build:test)
import { sipRequest } from "../e2e/harness.js";
import { answer, makeCore } from "../proxy/core-harness.js";
import { callDriver } from "./call-driver.js";

if (process.env.TAP === "1") process.exit(0);

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");
const calls = Number(process.argv[2] ?? 5000);
const h = makeCore({ srtp: false, targets: 2 });

const oneCall = callDriver(h, sipRequest, answer, 0);

for (let i = 0; i < 2000; i++) oneCall(); // warm-up (JIT), then let everything expire
h.platform.advance(64 * 500 + 1);
gc();
gc();
const before = process.memoryUsage().heapUsed;
for (let i = 0; i < calls; i++) oneCall();
gc();
gc();
const after = process.memoryUsage().heapUsed;
console.log(`core heap retained per call: ${Math.round((after - before) / calls)} B (${calls} calls held, timers pending)`);

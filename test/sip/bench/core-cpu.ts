// CPU per call through the proxy core alone, in process (no sockets, no TLS, no SIPp): a full call
// (INVITE, 100, 180, 200, ACK, BYE, 200) driven through the in-memory core harness, timed with
// process.cpuUsage. The harness parses what the core sends and builds the far side's messages as
// text, so the figure is an upper bound of the core's own cost; it moves with the core and stays
// usable on a loaded machine, where the SIPp bench (npm run bench) cannot keep its rate.
// Not a test (tap ignores it):
//   node --import=./node_modules/@tapjs/typescript/dist/esm/import.mjs test/sip/bench/core-cpu.ts [calls] [rounds]
import { sipRequest } from "../e2e/harness.js";
import { answer, makeCore } from "../proxy/core-harness.js";
import { callDriver } from "./call-driver.js";

// tap, given this folder, would run it as a test file: nothing to do then.
if (process.env.TAP === "1") process.exit(0);

const calls = Number(process.argv[2] ?? 5000);
const rounds = Number(process.argv[3] ?? 5);
const h = makeCore({ srtp: false, targets: 2 });
const oneCall = callDriver(h, sipRequest, answer);

for (let i = 0; i < 2000; i++) oneCall(); // warm-up (JIT)
const perCall: number[] = [];
for (let r = 0; r < rounds; r++) {
  const c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) oneCall();
  const c = process.cpuUsage(c0);
  perCall.push((c.user + c.system) / calls);
  h.platform.advance(64 * 500 + 1); // Accepted-state records and timers expire between rounds
}
perCall.sort((a, b) => a - b);
console.log(`core CPU per call: min ${perCall[0]!.toFixed(1)} µs, median ${perCall[Math.floor(rounds / 2)]!.toFixed(1)} µs (${calls} calls x ${rounds} rounds)`);

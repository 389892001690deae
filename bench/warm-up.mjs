// CPU of the SIP warm-up and what it buys: warm up ROUNDS synthetic calls, then the CPU per message of
// the next 100 calls (what the first real calls meet). `npm run build` first.
//   node bench/warm-up.mjs ROUNDS
import { warmUpSipPath } from "../dist/src/sip/warm-up.js";
const rounds = Number(process.argv[2]);
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
let t = cpu();
const w = warmUpSipPath(rounds);
const warmMs = cpu() - t;
// then: the first 100 calls' cost (what the first real calls would meet), per message
t = cpu(); const after = warmUpSipPath(100); const perMsgUs = ((cpu() - t) * 1000) / after.messages;
console.log(JSON.stringify({ rounds, messages: w.messages, failures: w.failures, warmCpuMs: +warmMs.toFixed(1), next100CallsUsPerMsg: +perMsgUs.toFixed(2) }));

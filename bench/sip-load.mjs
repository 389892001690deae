// Fixed-rate SIP load against a trunkgate process started from compiled JS (the same shape as the
// bench harness's SIP part, on ephemeral ports so it can run next to other work): SIPp uac --TCP-->
// stunnel client (client cert) --TLS--> trunkgate --TCP--> SIPp uas. Per trial it prints the
// proxy process's CPU-µs per completed call (utime+stime of all its threads, /proc) and the
// INVITE→200 p50/p99/max (SIPp -trace_rtt, 1 ms clock), for the whole trial and without its
// first second.
//
//   npx tsc -p tsconfig.json --outDir /tmp/tg-dist      # or use dist/ after npm run build
//   node bench/sip-load.mjs --dist /tmp/tg-dist --rate 1000 --seconds 10 --reps 3
//   node bench/sip-load.mjs --mode ln --rate 100 --seconds 10
//   node bench/sip-load.mjs --node-flags="--max-semi-space-size=16" --cpu-prof /tmp/prof
//   node bench/sip-load.mjs --gc      # + young/old GC counts and pauses per trial (node --trace-gc)
//
// Options: --dist DIR (compiled tree holding src/main.js; default dist), --rate N calls/s,
// --seconds N per trial, --warmup N seconds of unmeasured load first (default 3), --reps N trials
// (one process), --mode l1|ln (one TLS connection for all calls | one per call), --node-flags "…",
// --cpu-prof DIR (node --cpu-prof over the whole run), --log-level (default warn, as the harness),
// --log-transactions (sip.logTransactions true; default false, as the harness), --pki DIR (default:
// the harness's /tmp/trunkgate-bench/pki, made with bench/lib/pki.sh if missing).
// Needs sipp, stunnel4, openssl. Every process runs in its own process group, stopped by PID.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { values: o } = parseArgs({
  options: {
    dist: { type: "string", default: join(root, "dist") },
    rate: { type: "string", default: "1000" },
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    reps: { type: "string", default: "1" },
    mode: { type: "string", default: "l1" },
    "node-flags": { type: "string", default: "" },
    "cpu-prof": { type: "string" },
    "log-level": { type: "string", default: "warn" },
    "log-transactions": { type: "boolean", default: false },
    gc: { type: "boolean", default: false },
    pki: { type: "string", default: "/tmp/trunkgate-bench/pki" },
  },
});
const rate = Number(o.rate);
const seconds = Number(o.seconds);
const mode = o.mode === "ln" ? "ln" : "l1";
const pki = resolve(o.pki);
if (!existsSync(join(pki, "client.crt"))) {
  const r = spawnSync("bash", [join(root, "bench/lib/pki.sh"), pki], { stdio: "inherit" });
  if (r.status !== 0) throw new Error("PKI generation failed");
}
const work = mkdtempSync(join(tmpdir(), "tg-sip-load-"));
const started = [];

function freePort() {
  return new Promise((res) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => res(p));
    });
  });
}

async function waitPort(port, ms = 15000) {
  const end = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((r) => {
      const c = connect(port, "127.0.0.1");
      c.once("connect", () => (c.destroy(), r(true)));
      c.once("error", () => r(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function start(name, cmd, args, opts = {}) {
  const child = spawn(cmd, args, { detached: true, stdio: ["ignore", "pipe", "pipe"], ...opts });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise((r) => child.once("exit", (c, s) => r(c ?? s)));
  const p = { name, child, exited, output: () => out };
  started.push(p);
  return p;
}

async function stop(p, graceMs = 3000) {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  try { process.kill(-p.child.pid, "SIGTERM"); } catch { /* gone */ }
  const t = setTimeout(() => { try { process.kill(-p.child.pid, "SIGKILL"); } catch { /* gone */ } }, graceMs);
  await p.exited;
  clearTimeout(t);
}

/** utime+stime (clock ticks) of one process, all its threads. */
function cpuTicks(pid) {
  const s = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
}
/** [busy, total] ticks of the whole machine. */
function sysTicks() {
  const f = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return [total - f[3] - f[4], total];
}
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"]).stdout.toString().trim()) || 100;

const [sipPort, adminPort, uasPort, stunnelPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
const cfgFile = join(work, "trunkgate.yaml");
writeFileSync(cfgFile, `tls:
  certificates: [{ cert: ${pki}/server-ec.crt, key: ${pki}/server-ec.key }]
  clientCertificate: { cert: ${pki}/server-ec.crt, key: ${pki}/server-ec.key }
  trust: { bundledRoots: false, extraRoots: [${pki}/ca.crt], crls: [] }
  watch: false
peers:
  - name: bench-client
    match: { dnsNames: [client.anchors.test] }
    maxConnections: 65000
sip:
  enabled: true
  listen: { host: 127.0.0.1, port: ${sipPort} }
  upstreams:
    - name: uas
      targets: [{ host: 127.0.0.1, port: ${uasPort}, transport: tcp }]
      healthCheck: { enabled: false }
  defaultUpstream: uas
  limits: { maxConnectionsTotal: 65000 }
  media: { srtpPolicy: "off" }
  logTransactions: ${o["log-transactions"]}
http: { enabled: false, listen: { host: 127.0.0.1, port: ${await freePort()} }, upstream: { url: "http://127.0.0.1:1" } }
admin: { listen: { host: 127.0.0.1, port: ${adminPort} } }
store:
  url: "sqlite:${work}/store.db"
  encryptionKeyFile: ${work}/store.key
logging: { level: ${o["log-level"]} }
lifecycle: { drainGraceSeconds: 1 }
`);
writeFileSync(join(work, "stunnel.conf"), `foreground = yes
pid =
syslog = no
debug = warning
[uac]
client = yes
accept = 127.0.0.1:${stunnelPort}
connect = 127.0.0.1:${sipPort}
cert = ${pki}/client.crt
key = ${pki}/client.key
CAfile = ${pki}/ca.crt
verifyChain = yes
checkIP = 127.0.0.1
sni =
sslVersionMin = TLSv1.2
sessionResume = no
TIMEOUTclose = 1
`);

const nodeArgs = o["node-flags"].split(" ").filter(Boolean);
if (o.gc) nodeArgs.push("--trace-gc");
if (o["cpu-prof"]) nodeArgs.push("--cpu-prof", `--cpu-prof-dir=${resolve(o["cpu-prof"])}`);
const tgSpawnedAt = performance.now();
const tg = start("trunkgate", process.execPath, [...nodeArgs, join(resolve(o.dist), "src/main.js"), "start", "--config", cfgFile], { cwd: work });
const logFile = join(work, "trunkgate.log");
const uas = start("uas", "sipp", ["-sn", "uas", "-t", "t1", "-i", "127.0.0.1", "-p", String(uasPort), "-cp", String(await freePort()), "-mp", String(await freePort()), "-nostdin", "-recv_timeout", "30000", "-timeout", "3600s", "-max_socket", "10000"], { cwd: work });
const st = start("stunnel", "stunnel4", [join(work, "stunnel.conf")], { cwd: work });

async function uac(calls, trace) {
  const dir = mkdtempSync(join(work, "uac-"));
  const args = ["-sn", "uac", "-t", mode === "l1" ? "t1" : "tn", "-i", "127.0.0.1", "-p", String(await freePort()), "-cp", String(await freePort()), "-mp", String(await freePort()),
    `127.0.0.1:${sipPort}`, "-rsa", `127.0.0.1:${stunnelPort}`, "-r", String(rate), "-rp", "1000", "-m", String(calls), "-l", String(Math.max(300, rate * 3)),
    "-timeout", `${Math.ceil(calls / rate) + 40}s`, "-recv_timeout", "5000", "-max_socket", "10000", "-nostdin", "-trace_stat", "-stf", join(dir, "stat.csv"), "-fd", "1"];
  if (trace) args.push("-trace_rtt", "-rtt_freq", "100");
  const p = start("uac", "sipp", args, { cwd: dir });
  await p.exited;
  if (!existsSync(join(dir, "stat.csv"))) throw new Error(`sipp uac wrote no statistics: ${p.output().slice(-1500)}`);
  const lines = readFileSync(join(dir, "stat.csv"), "utf8").trim().split("\n");
  const h = lines[0].split(";");
  const row = lines[lines.length - 1].split(";");
  const num = (n) => Number(row[h.indexOf(n)] ?? 0);
  const rtt = [];
  if (trace) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith("_rtt.csv"))) {
      for (const l of readFileSync(join(dir, f), "utf8").split("\n").slice(1)) {
        const [t, ms, n] = l.split(";");
        if (n === "1") rtt.push([Number(t), Number(ms)]);
      }
    }
  }
  return { ok: num("SuccessfulCall(C)"), failed: num("FailedCall(C)"), rtt };
}

/**
 * --trace-gc lines ("[pid:0x…]   12345 ms: Scavenge 40.1 (45.2) -> 38.0 (46.1) MB, 3.2 / 0.0 ms …")
 * stamped with ms since the isolate started (≈ when the process was spawned; a few ms early is fine
 * for windows of seconds): young (Scavenge / Minor) and full (Mark-Compact) collections inside
 * [fromMs, toMs] of our clock, their count per second and pause figures.
 */
function gcStats(output, fromMs, toMs) {
  const young = [];
  let full = 0, fullMs = 0;
  for (const m of output.matchAll(/\]\s+(\d+) ms: (Scavenge|Minor Mark-Sweep|Mark-Compact|Mark-sweep)[^,]*, ([\d.]+) \/ [\d.]+ ms/g)) {
    const at = Number(m[1]) + tgSpawnedAt;
    if (at < fromMs || at > toMs) continue;
    if (m[2] === "Scavenge" || m[2].startsWith("Minor")) young.push(Number(m[3]));
    else { full++; fullMs += Number(m[3]); }
  }
  young.sort((a, b) => a - b);
  const s = (toMs - fromMs) / 1000;
  const sum = young.reduce((a, b) => a + b, 0);
  return { youngPerS: +(young.length / s).toFixed(2), youngMeanMs: young.length ? +(sum / young.length).toFixed(2) : 0,
    youngMaxMs: young.length ? young[young.length - 1] : 0, youngMsPerS: +(sum / s).toFixed(1), full, fullMsPerS: +(fullMs / s).toFixed(1) };
}

function pct(sorted, q) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))];
}

try {
  await Promise.all([waitPort(sipPort, 20000), waitPort(uasPort), waitPort(stunnelPort)]);
  if (Number(o.warmup) > 0) await uac(Math.round(rate * Number(o.warmup)), false);
  for (let rep = 0; rep < Number(o.reps); rep++) {
    const c0 = cpuTicks(tg.child.pid);
    const s0 = sysTicks();
    const t0 = process.hrtime.bigint();
    const g0 = performance.now();
    const r = await uac(Math.round(rate * seconds), true);
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = (cpuTicks(tg.child.pid) - c0) / CLK_TCK;
    const s1 = sysTicks();
    const all = r.rtt.map((x) => x[1]).sort((a, b) => a - b);
    const t0ms = r.rtt.length ? r.rtt[0][0] : 0;
    const late = r.rtt.filter((x) => x[0] - t0ms >= 1000).map((x) => x[1]).sort((a, b) => a - b);
    console.log(JSON.stringify({
      mode, rate, seconds, rep, ok: r.ok, failed: r.failed, wallS: +wall.toFixed(2),
      cpuPct: +(100 * cpu / wall).toFixed(1), usPerCall: r.ok ? Math.round(cpu * 1e6 / r.ok) : null,
      p50: pct(all, 0.5), p99: pct(all, 0.99), max: all[all.length - 1], p99After1s: pct(late, 0.99), traced: all.length,
      machineBusyPct: Math.round(100 * (s1[0] - s0[0]) / (s1[1] - s0[1])),
      ...(o.gc ? { gc: gcStats(tg.output(), g0, performance.now()) } : {}),
    }));
  }
} finally {
  await stop(st, 500);
  await stop(tg, 8000);
  await stop(uas, 1000);
  const out = tg.output();
  if (out.trim()) writeFileSync(logFile, out);
  if (/error|fatal/i.test(out)) console.error(`trunkgate output (${logFile}):\n${out.slice(-3000)}`);
  if (!process.env.KEEP) rmSync(work, { recursive: true, force: true });
}

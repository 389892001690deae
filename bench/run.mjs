// `npm run bench [-- options]`: trunkgate side by side with Kamailio (SIP) and nginx (HTTPS) in one
// run on this machine; the table lands in bench/results/<time>-<quick|full>.{md,tsv}.
// This builds trunkgate, then hands over to the bash driver bench/bench.sh (everything it uses lives
// in bench/). docs/benchmarks.md explains the figures and the pitfalls.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const usage = `usage: npm run bench -- [--quick] [--parts speed,sip,https,mem] [--peers-only] [--no-build]
                          [--workers auto|N] [--trunkgate-cmd "node dist/src/main.js start"]
  --quick          fixed rates, short trials, 1 repetition, 1000 idle connections (< 3 min)
  (default)        full run: rate search (30 s trials), 3 HTTPS repetitions, 10k idle connections (~40 min)
  --parts          which parts (default all): speed sip https mem
  --peers-only     Kamailio and nginx only (e.g. while trunkgate does not proxy yet)
  --no-build       use dist/ as it is (default: npm run build first)
  --workers        trunkgate's lifecycle.workers (default auto: one process per core)
  --trunkgate-cmd  how to start trunkgate; the harness appends --config FILE (env TRUNKGATE_CMD)
Needs root (apt-get install of kamailio, nginx, sip-tester, stunnel4, wrk; ulimit -n).`;

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      quick: { type: "boolean", default: false },
      parts: { type: "string", default: "speed,sip,https,mem" },
      "peers-only": { type: "boolean", default: false },
      "no-build": { type: "boolean", default: false },
      "trunkgate-cmd": { type: "string" },
      workers: { type: "string", default: process.env.TG_WORKERS ?? "auto" },
      help: { type: "boolean", short: "h", default: false },
    },
  }));
} catch (err) {
  console.error(`${err.message}\n${usage}`);
  process.exit(2);
}
if (opts.help) {
  console.log(usage);
  process.exit(0);
}
const parts = opts.parts.split(",").map((p) => p.trim()).filter(Boolean);
const bad = parts.filter((p) => !["speed", "sip", "https", "mem"].includes(p));
if (bad.length) {
  console.error(`bench: unknown part(s) ${bad.join(", ")}\n${usage}`);
  process.exit(2);
}
if (!/^(auto|[1-9][0-9]{0,2})$/.test(opts.workers)) {
  console.error(`bench: --workers takes auto or a number from 1 to 256, not ${JSON.stringify(opts.workers)}\n${usage}`);
  process.exit(2);
}
if (process.getuid?.() !== 0) {
  console.error("bench: run as root (it apt-installs kamailio/nginx/sipp/stunnel/wrk and raises ulimit -n)");
  process.exit(2);
}

let withTrunkgate = !opts["peers-only"];
if (withTrunkgate && !opts["no-build"]) {
  console.error("bench: npm run build");
  const b = spawnSync("npm", ["run", "build"], { cwd: root, stdio: ["ignore", "inherit", "inherit"] });
  if (b.status !== 0) {
    if (existsSync(join(root, "dist/src/main.js"))) console.error("bench: WARNING: the build failed; measuring the dist/ already there");
    else {
      console.error("bench: the build failed and there is no dist/: measuring the peers only");
      withTrunkgate = false;
    }
  }
}
const env = {
  ...process.env,
  QUICK: opts.quick ? "1" : "0",
  PARTS: parts.join(" "),
  PROXIES: withTrunkgate ? "kamailio trunkgate" : "kamailio",
  HTTP_PROXIES: withTrunkgate ? "nginx trunkgate" : "nginx",
};
env.TG_WORKERS = opts.workers;
if (opts["trunkgate-cmd"]) env.TRUNKGATE_CMD = opts["trunkgate-cmd"];
// bench.sh stops what it started on SIGINT/SIGTERM (by PID); pass the signal on and wait for it.
const child = spawn("bash", [join(root, "bench/bench.sh")], { cwd: root, env, stdio: "inherit" });
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => child.kill(sig));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 130 : 1)));

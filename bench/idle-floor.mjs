// The floor under trunkgate's memory per idle mutual-TLS connection: the same measurement as the
// harness's memory part (bench/idle-conns.mjs opens N full-handshake client-certificate connections
// and holds them idle; PSS of the server from /proc/PID/smaps_rollup before and after), against a
// bare Node server with the same TLS material and no application code at all. Whatever a bare
// server costs per connection, no Node program can go below.
//
//   node bench/idle-floor.mjs [--count 1000] [--kinds tls,https,h2] [--pki /tmp/trunkgate-bench/pki]
//        [--no-ticket] [--max-send-fragment BYTES]
//
// kinds: tls = tls.createServer (the TLS socket only), https = https.createServer,
// h2 = http2.createSecureServer({ allowHTTP1 }) (what trunkgate's HTTPS listener uses).
// --no-ticket: SSL_OP_NO_TICKET, as trunkgate without tls.sessionResumption. --max-send-fragment:
// setMaxSendFragment on each connection once secure, as trunkgate does (OpenSSL sizes the
// connection's write buffer, kept while the connection lives, from it). One JSON line per kind. Loopback only; the server is a child process stopped by its PID.
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const here = dirname(fileURLToPath(import.meta.url));
const { values: o } = parseArgs({
  options: {
    count: { type: "string", default: "1000" },
    kinds: { type: "string", default: "tls,https,h2" },
    pki: { type: "string", default: "/tmp/trunkgate-bench/pki" },
    "no-ticket": { type: "boolean", default: false },
    "max-send-fragment": { type: "string" },
    server: { type: "string" }, // internal: run as the bare server of this kind
    port: { type: "string" },
  },
});

if (o.server) {
  // The bare server: same certificate, trust and client-certificate request as trunkgate, nothing else.
  const [{ default: tls }, { default: https }, { default: http2 }] = await Promise.all([import("node:tls"), import("node:https"), import("node:http2")]);
  const opts = {
    cert: readFileSync(join(o.pki, "server-ec.crt")), key: readFileSync(join(o.pki, "server-ec.key")),
    ca: readFileSync(join(o.pki, "ca.crt")), requestCert: true, rejectUnauthorized: true, minVersion: "TLSv1.2",
    ...(o["no-ticket"] ? { secureOptions: (await import("node:crypto")).constants.SSL_OP_NO_TICKET } : {}),
  };
  const answer = (_req, res) => res.end("ok\n");
  const s = o.server === "tls" ? tls.createServer(opts, (sock) => sock.resume())
    : o.server === "https" ? https.createServer(opts, answer)
    : http2.createSecureServer({ ...opts, allowHTTP1: true }, answer);
  const fragment = Number(o["max-send-fragment"] ?? 0);
  // OpenSSL re-sizes the write buffer at the next write: one byte is written right away (the idle
  // client ignores it), as a proxied connection's first answer would.
  if (fragment) s.on("secureConnection", (sock) => sock.setMaxSendFragment(fragment) && sock.write("\n"));
  s.listen(Number(o.port), "127.0.0.1", () => process.stdout.write("listening\n"));
  // SIGUSR2: a full GC (the child runs with --expose-gc), then the heap figures, so what is left
  // is live memory: V8 heap (JS objects per connection) apart from native (OpenSSL, Node's TLS wrap).
  process.on("SIGUSR2", () => {
    globalThis.gc();
    const m = process.memoryUsage();
    process.stdout.write(`${JSON.stringify({ gc: true, heapUsedKiB: m.heapUsed >> 10, externalKiB: m.external >> 10 })}\n`);
  });
} else {
  const count = Number(o.count);
  const kinds = o.kinds.split(",");
  const unknown = kinds.filter((k) => !["tls", "https", "h2"].includes(k));
  if (unknown.length > 0 || !Number.isInteger(count) || count < 1) {
    console.error(`idle-floor: ${unknown.length > 0 ? `unknown kind(s) ${unknown.join(", ")} (tls, https, h2)` : `--count takes a positive whole number, not ${o.count}`}`);
    process.exit(2);
  }
  if (!existsSync(join(o.pki, "client.crt"))) {
    const r = spawnSync("bash", [join(here, "lib/pki.sh"), o.pki], { stdio: "inherit" });
    if (r.status !== 0) throw new Error(`no PKI in ${o.pki}`);
  }
  for (const kind of kinds) {
    const variant = { noTicket: o["no-ticket"], maxSendFragment: Number(o["max-send-fragment"] ?? 16384) };
    console.log(JSON.stringify({ kind, count, ...variant, ...(await measure(kind, count)) }));
  }
}

/** SIGUSR2 to the bare server: full GC, then its heap figures (bounded wait). */
async function gcAndHeap(server) {
  const line = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no heap figures from the server")), 10_000);
    const onData = (d) => {
      const m = /\{"gc":true[^\n]*\}/.exec(String(d));
      if (!m) return;
      clearTimeout(timer);
      server.stdout.off("data", onData);
      resolve(JSON.parse(m[0]));
    };
    server.stdout.on("data", onData);
  });
  server.kill("SIGUSR2");
  return line;
}

function pssKiB(pid) {
  return Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"))?.[1] ?? NaN);
}

/** Resolves when `re` appears in the child's stdout; rejects after ms (every wait is bounded). */
function waitFor(child, re, ms) {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`timeout waiting for ${re}`)), ms);
    child.stdout.on("data", (d) => {
      out += d;
      if (re.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", () => reject(new Error(`exited before ${re}`)));
  });
}

async function measure(kind, count) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const variant = [...(o["no-ticket"] ? ["--no-ticket"] : []), ...(o["max-send-fragment"] ? ["--max-send-fragment", o["max-send-fragment"]] : [])];
  const server = spawn(process.execPath, ["--expose-gc", fileURLToPath(import.meta.url), "--server", kind, "--port", String(port), "--pki", o.pki, ...variant], { stdio: ["ignore", "pipe", "inherit"] });
  let client;
  try {
    await waitFor(server, /listening/, 10_000);
    const heapBefore = await gcAndHeap(server);
    const before = pssKiB(server.pid);
    client = spawn(process.execPath, [join(here, "idle-conns.mjs"), "--port", String(port), "--count", String(count),
      "--cert", join(o.pki, "client.crt"), "--key", join(o.pki, "client.key"), "--ca", join(o.pki, "ca.crt"), "--hold-s", "60"],
    { stdio: ["ignore", "pipe", "inherit"] });
    await waitFor(client, /"ready":true/, 120_000);
    // Let the last handshakes' garbage settle the way the harness does (a fixed settle, not a sync).
    await new Promise((r) => setTimeout(r, 3000));
    const after = pssKiB(server.pid);
    const heapAfter = await gcAndHeap(server);
    const afterGc = pssKiB(server.pid);
    const per = (kib) => +(kib / count).toFixed(1);
    return {
      pssBeforeKiB: before, pssAfterKiB: after, perConnectionKiB: per(after - before),
      // after a full GC: the live part, split into the V8 heap and the rest (native: OpenSSL, buffers)
      perConnectionAfterGcKiB: per(afterGc - before),
      heapPerConnectionKiB: per(heapAfter.heapUsedKiB - heapBefore.heapUsedKiB),
    };
  } finally {
    client?.kill();
    server.kill();
    await once(server, "exit").catch(() => {});
  }
}

// A/B of the HTTPS proxy's HTTP/1.1 paths in one sitting: the downstream engines (http.engine
// lean | node, both with the undici upstream client), or with AB=client the upstream clients
// (http.upstream.client lean | undici, both on the lean engine). The proxy runs in a child process
// (its CPU is what is measured), the upstream and the keep-alive clients here. The variants
// alternate trial by trial so that a machine whose load drifts hurts both alike.
//
//   npm run build && node bench/http-engines.mjs            # 2 trials per variant, 3 s each
//   AB=client TRIALS=5 SECONDS=5 CONNECTIONS=16 node bench/http-engines.mjs
//   CPU_PROF=DIR node bench/http-engines.mjs     # each proxy child writes a .cpuprofile into DIR
//                                                 # for bench/sip-profile.mjs (figures inflated)
//
// Reports per trial: requests/s and proxy CPU-µs per request (user + system of the child); then
// per variant the median and the min over the trials.
import { fork } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { connect } from "node:tls";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = (p) => import(pathToFileURL(join(root, "dist/src", p)).href);

if (process.argv[2] === "--serve") await serve(JSON.parse(process.argv[3]));
else await main();

/** Child: the proxy alone, answering {cpu} on request. */
async function serve(o) {
  const { configSchema } = await dist("config/schema/index.js");
  const { createHttpProxy } = await dist("http/server.js");
  const { createLogger } = await dist("observability/logger.js");
  const { createMetrics } = await dist("observability/metrics.js");
  const { TlsContextProvider } = await dist("tls/context-provider.js");
  const { createPeerIdentity } = await dist("tls/peer-identity.js");
  const { Registry } = await import("prom-client");
  const { Writable } = await import("node:stream");
  const config = configSchema.parse({
    tls: {
      certificates: [{ cert: o.serverCert, key: o.serverKey }],
      // required by the schema; the upstream here is plain http
      clientCertificate: { cert: o.serverCert, key: o.serverKey },
      trust: { bundledRoots: false, extraRoots: [o.caCert] }, watch: false },
    peers: [{ name: "bench", match: { dnsNames: ["bench.client"] } }],
    http: { engine: o.engine, listen: { host: "127.0.0.1", port: 0 }, upstream: { url: o.upstream, client: o.client } },
  });
  const sink = new Writable({ write: (_c, _e, cb) => cb() });
  const proxy = createHttpProxy({
    config,
    tls: new TlsContextProvider(config.tls),
    identity: createPeerIdentity(config.peers),
    metrics: createMetrics("bench", new Registry()),
    logger: createLogger({ level: "warn", destination: sink }),
  });
  const addr = await proxy.start();
  process.on("message", (m) => {
    if (m === "cpu") process.send({ cpu: process.cpuUsage() });
    if (m === "exit") void proxy.close().then(() => process.exit(0));
  });
  process.send({ port: addr.port });
}

async function main() {
  const { issueCertificate } = await dist("pki/issue.js");
  const trials = Number(process.env.TRIALS ?? 2);
  const seconds = Number(process.env.SECONDS ?? 3);
  const connections = Number(process.env.CONNECTIONS ?? 8);
  const variants =
    process.env.AB === "client"
      ? [
          { name: "undici client", engine: "lean", client: "undici" },
          { name: "lean client", engine: "lean", client: "lean" },
        ]
      : [
          { name: "node", engine: "node", client: "undici" },
          { name: "lean", engine: "lean", client: "undici" },
        ];
  const dir = mkdtempSync(join(tmpdir(), "tg-http-engines-"));
  try {
    const ca = await issueCertificate({ commonName: "bench CA", ca: {} });
    const server = await issueCertificate({ issuer: ca, commonName: "localhost", sans: { dns: ["localhost"], ip: ["127.0.0.1"] }, eku: ["serverAuth"] });
    const client = await issueCertificate({ issuer: ca, commonName: "bench", sans: { dns: ["bench.client"] }, eku: ["clientAuth"] });
    const files = { caCert: join(dir, "ca.pem"), serverCert: join(dir, "server.pem"), serverKey: join(dir, "server.key") };
    writeFileSync(files.caCert, ca.certPem);
    writeFileSync(files.serverCert, server.certPem);
    writeFileSync(files.serverKey, server.keyPem, { mode: 0o600 });

    const upstream = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { "content-type": "text/plain", "content-length": "2" });
      res.end("ok");
    });
    upstream.keepAliveTimeout = 60_000;
    upstream.listen(0, "127.0.0.1");
    await once(upstream, "listening");
    const upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;

    const rows = [];
    for (let i = 0; i < trials; i++) {
      for (const v of variants) {
        const prof = process.env.CPU_PROF ? { execArgv: [...process.execArgv, "--cpu-prof", "--cpu-prof-dir", process.env.CPU_PROF] } : {};
        const child = fork(
          fileURLToPath(import.meta.url),
          ["--serve", JSON.stringify({ ...files, engine: v.engine, client: v.client, upstream: upstreamUrl })],
          prof,
        );
        const [{ port }] = await once(child, "message");
        const cpu = () => new Promise((r) => (child.send("cpu"), child.once("message", (m) => r(m.cpu))));
        // Warm-up (JIT, pooled upstream connections), then the measured trial.
        await drive(port, ca.certPem, client, connections, 1);
        const before = await cpu();
        const n = await drive(port, ca.certPem, client, connections, seconds);
        const after = await cpu();
        child.send("exit");
        await once(child, "exit");
        const us = after.user - before.user + (after.system - before.system);
        rows.push({ variant: v.name, trial: i + 1, rps: Math.round(n / seconds), usPerReq: Math.round(us / n) });
        console.log(`${v.name} trial ${i + 1}: ${Math.round(n / seconds)} req/s, ${Math.round(us / n)} proxy CPU-µs/req (${n} requests)`);
      }
    }
    upstream.close();
    upstream.closeAllConnections();
    for (const v of variants) {
      const r = rows.filter((x) => x.variant === v.name);
      const median = (k) => {
        const s = r.map((x) => x[k]).sort((a, b) => a - b);
        return s.length % 2 ? s[(s.length - 1) / 2] : Math.round((s[s.length / 2 - 1] + s[s.length / 2]) / 2);
      };
      const min = (k) => Math.min(...r.map((x) => x[k]));
      console.log(
        `${v.name}: median ${median("rps")} req/s, ${median("usPerReq")} CPU-µs/req; min ${min("usPerReq")} CPU-µs/req over ${r.length} trials`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `connections` keep-alive clients, one request in flight each, for `seconds`; returns the count. */
async function drive(port, caPem, client, connections, seconds) {
  const request = Buffer.from("GET /bench HTTP/1.1\r\nHost: bench.example\r\n\r\n");
  const until = Date.now() + seconds * 1000;
  let count = 0;
  const one = () =>
    new Promise((resolve, reject) => {
      const s = connect({ host: "127.0.0.1", port, servername: "localhost", ca: caPem, cert: client.certPem, key: client.keyPem, ALPNProtocols: ["http/1.1"] });
      let got = "";
      s.on("error", reject);
      s.on("secureConnect", () => s.write(request));
      s.on("data", (d) => {
        got += d.toString("latin1");
        // Every answer is "...\r\n\r\nok": a complete one ends with it.
        if (!got.endsWith("\r\n\r\nok")) return;
        got = "";
        count++;
        if (Date.now() < until) s.write(request);
        else {
          s.destroy();
          resolve();
        }
      });
    });
  await Promise.all(Array.from({ length: connections }, one));
  return count;
}

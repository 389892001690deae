// `trunkgate start` with lifecycle.workers: 2, as real processes: both workers serve TLS
// connections, the primary's /metrics adds up every worker's counters, /readyz asks every worker,
// SIGHUP reaches every worker (TLS material and admission limits), a killed worker is replaced, SIGTERM drains all and exits 0.
import t from "tap";
import { createServer as createHttpServer, type Server } from "node:http";
import { request as httpsRequest } from "node:https";
import type { AddressInfo } from "node:net";
import { connect as tlsConnect, type TLSSocket } from "node:tls";
import { makeTestPki, type TestPki } from "../helpers/pki.js";
import { adminGet, alive, clusterConfig, metricSum, startCli, writeConfig, type LogLine, type RunningCli } from "./harness.js";
import { patience } from "../helpers/time.js";

let pki: TestPki;
let upstream: Server;
let cli: RunningCli;
let ports: { sip: number; http: number; admin: number };
const sockets: TLSSocket[] = [];

t.before(async () => {
  pki = await makeTestPki();
  upstream = createHttpServer((_req, res) => res.end("ok\n"));
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  const upstreamPort = (upstream.address() as AddressInfo).port;
  const cfg = clusterConfig(pki, {
    http: { listen: { host: "127.0.0.1", port: 0 }, upstream: { url: `http://127.0.0.1:${upstreamPort}` } },
  });
  cli = startCli(await writeConfig(pki, "cluster.yaml", cfg));
  const started = await cli.waitFor((l) => l.role === "primary" && l.msg === "trunkgate started", "primary started");
  const listeners = started.listeners as { sip: number; http: number };
  ports = { sip: listeners.sip, http: listeners.http, admin: Number(String(started.admin).split(":").pop()) };
});

t.teardown(async () => {
  for (const s of sockets) s.destroy();
  if (cli && cli.child.exitCode === null) {
    cli.child.kill("SIGKILL");
    await cli.exited;
  }
  upstream?.close();
  await pki?.cleanup();
});

const isPrimary = (l: LogLine) => l.role === "primary";
const workerPids = (): Map<number, number> => {
  const pids = new Map<number, number>();
  for (const l of cli.lines) if (isPrimary(l) && l.msg === "worker started") pids.set(Number(l.worker), Number(l.pid));
  return pids;
};

function mtlsOptions() {
  return { ca: pki.ca.cert, cert: pki.client.cert, key: pki.client.key, servername: "localhost" };
}

/** One HTTPS request on a connection of its own (no keep-alive reuse, so each is a new handshake). */
function httpsGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: "127.0.0.1", port: ports.http, path, agent: false, ...mtlsOptions(), timeout: patience(10_000) }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("https timeout")));
    req.on("error", reject);
    req.end();
  });
}

/** A SIP-over-mTLS connection that stays open; resolves once the first response arrives. */
function sipOptions(): Promise<{ socket: TLSSocket; response: string }> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: "127.0.0.1", port: ports.sip, ...mtlsOptions() });
    sockets.push(socket);
    const timer = setTimeout(() => reject(new Error("no SIP response in time")), patience(10_000));
    let buf = "";
    socket.on("error", reject);
    socket.on("secureConnect", () => {
      const branch = `z9hG4bK${Math.random().toString(36).slice(2)}`;
      socket.write(
        `OPTIONS sip:127.0.0.1:${ports.sip};transport=tls SIP/2.0\r\n` +
          `Via: SIP/2.0/TLS 127.0.0.1:5099;branch=${branch}\r\n` +
          `Max-Forwards: 70\r\nFrom: <sip:probe@dev-trunk.local>;tag=1\r\nTo: <sip:127.0.0.1:${ports.sip}>\r\n` +
          `Call-ID: ${branch}@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
      );
    });
    socket.on("data", (d: Buffer) => {
      buf += d.toString();
      if (buf.includes("\r\n\r\n")) {
        clearTimeout(timer);
        resolve({ socket, response: buf });
      }
    });
  });
}

t.test("the primary forks two workers, each logging with its worker field; /healthz and /readyz answer", async (t) => {
  const started = cli.lines.find((l) => isPrimary(l) && l.msg === "trunkgate started")!;
  t.equal(started.workers, 2);
  t.equal(started.scheduling, "round-robin");
  t.same([...workerPids().keys()].sort(), [1, 2]);
  // A worker's own log line travels on its stdout (an asynchronous destination) while its "ready"
  // reaches the primary over IPC: the primary's "trunkgate started" may come first. Wait (bounded).
  for (const w of [1, 2]) {
    const line = await cli.waitFor((l) => l.worker === w && l.role === undefined && l.msg === "trunkgate started", `worker ${w} started`);
    t.ok(line, `worker ${w} started its app`);
  }
  t.same(await adminGet(ports.admin, "/healthz"), { status: 200, body: "ok\n" });
  t.same(await adminGet(ports.admin, "/readyz"), { status: 200, body: "ready\n" });
});

t.test("HTTPS connections are spread over both workers", async (t) => {
  for (let i = 0; i < 4; i++) t.same(await httpsGet(`/r${i}`), { status: 200, body: "ok\n" });
  const served = new Set<number>();
  for (let i = 0; i < 4; i++) {
    const line = await cli.waitFor((l) => l.path === `/r${i}` && l.status === 200, `access log /r${i}`);
    served.add(Number(line.worker));
  }
  t.same([...served].sort(), [1, 2], "both workers logged requests (worker field of the access log)");
});

t.test("two SIP TLS clients are served; /metrics adds up every worker", async (t) => {
  const a = await sipOptions();
  const b = await sipOptions();
  t.match(a.response, /^SIP\/2\.0 200 /);
  t.match(b.response, /^SIP\/2\.0 200 /);
  const { status, body } = await adminGet(ports.admin, "/metrics");
  t.equal(status, 200);
  t.equal(metricSum(body, "trunkgate_tls_handshakes_total", 'listener="sip"'), 2, "SIP handshakes of both workers summed");
  t.equal(metricSum(body, "trunkgate_tls_handshakes_total", 'listener="http"'), 4, "HTTPS handshakes of both workers summed");
  t.equal(metricSum(body, "trunkgate_active_connections", 'listener="sip"'), 2, "open SIP connections summed over workers");
  t.equal(metricSum(body, "trunkgate_cluster_workers", 'state="running"'), 2);
  // Process metrics stay per process, labelled by worker.
  for (const w of ["1", "2", "primary"]) t.ok(metricSum(body, "process_cpu_user_seconds_total", `worker="${w}"`) > 0, `process metrics of ${w}`);
  // State every worker holds a copy of is not multiplied by the number of workers.
  t.equal(metricSum(body, "trunkgate_build_info"), 1);
  const notAfter = Math.floor(new Date(new (await import("node:crypto")).X509Certificate(pki.serverEcdsa.cert).validTo).getTime() / 1000);
  t.equal(metricSum(body, "trunkgate_certificate_not_after_timestamp_seconds", 'role="server"'), notAfter);
  // One retention scheduler for the cluster: worker 1's.
  t.equal(metricSum(body, "trunkgate_store_retention_runs_total", 'result="success"'), 1);
});

t.test("SIGHUP on the primary reloads the TLS material in every worker", async (t) => {
  cli.child.kill("SIGHUP");
  const reloaded = await Promise.all(
    [1, 2].map((w) => cli.waitFor((l) => l.worker === w && l.role === undefined && String(l.msg).startsWith("TLS material reloaded"), `worker ${w} reloaded`)),
  );
  t.equal(reloaded.length, 2);
  // Each worker also re-read the config file and applied its admission limits (issue 14).
  for (const w of [1, 2]) {
    await cli.waitFor((l) => l.worker === w && l.role === undefined && String(l.msg).startsWith("admission limits applied"), `worker ${w} applied the admission limits`);
  }
  await cli.waitFor((l) => isPrimary(l) && l.msg === "worker reloaded its TLS material" && l.worker === 1, "primary saw worker 1's answer");
  await cli.waitFor((l) => isPrimary(l) && l.msg === "worker reloaded its TLS material" && l.worker === 2, "primary saw worker 2's answer");
  const { body } = await adminGet(ports.admin, "/metrics");
  t.equal(metricSum(body, "trunkgate_tls_reloads_total", 'result="success"'), 2);
});

t.test("a worker killed with SIGKILL is replaced; counters do not go backwards", async (t) => {
  const before = await adminGet(ports.admin, "/metrics");
  const handshakesBefore = metricSum(before.body, "trunkgate_tls_handshakes_total");
  const oldPid = workerPids().get(1)!;
  process.kill(oldPid, "SIGKILL");
  const exited = await cli.waitFor((l) => isPrimary(l) && l.msg === "worker exited unexpectedly; replacing it" && l.worker === 1, "exit noticed");
  t.equal(exited.signal, "SIGKILL");
  const replaced = await cli.waitFor((l) => isPrimary(l) && l.msg === "worker started" && l.worker === 1 && l.pid !== oldPid, "replacement started");
  t.not(replaced.pid, oldPid);
  t.notOk(alive(oldPid), "the killed worker is gone");
  t.same(await adminGet(ports.admin, "/readyz"), { status: 200, body: "ready\n" });
  t.same(await httpsGet("/after-restart"), { status: 200, body: "ok\n" });
  const after = await adminGet(ports.admin, "/metrics");
  t.equal(metricSum(after.body, "trunkgate_cluster_worker_restarts_total"), 1);
  t.ok(metricSum(after.body, "trunkgate_tls_handshakes_total") >= handshakesBefore + 1, "the dead worker's handshakes are still counted");
});

t.test("SIGTERM: every worker drains and exits, then the primary exits 0", async (t) => {
  for (const s of sockets) s.destroy();
  const pids = [...workerPids().values()];
  cli.child.kill("SIGTERM");
  const r = await cli.exit();
  t.equal(r.code, 0, cli.stderr);
  t.ok(cli.lines.some((l) => isPrimary(l) && l.msg === "stopped"));
  for (const w of [1, 2]) t.ok(cli.lines.some((l) => l.worker === w && l.role === undefined && l.msg === "stopped"), `worker ${w} drained and stopped`);
  for (const pid of pids) t.notOk(alive(pid), `worker ${pid} is gone`);
});

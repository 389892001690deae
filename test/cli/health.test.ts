// `trunkgate health` (the container's HEALTHCHECK) probes the admin address the configuration names,
// a wildcard listen address on loopback.
import t, { type Test } from "tap";
import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { healthCommand } from "../../src/cli/health.js";
import { runIn } from "../helpers/capture-io.js";

const dir = mkdtempSync(join(tmpdir(), "trunkgate-health-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function configWithAdmin(host: string, port: number): string {
  const p = join(dir, `admin-${host.replace(/\W/g, "_")}-${port}.yaml`);
  writeFileSync(p, `admin:\n  listen: { host: "${host}", port: ${port} }\n`);
  return p;
}

async function adminStub(t: Test, ready: boolean): Promise<number> {
  const server: Server = createServer((req, res) => {
    if (req.url === "/healthz") res.end("ok\n");
    else if (req.url === "/readyz") {
      res.statusCode = ready ? 200 : 503;
      res.end(ready ? "ready\n" : "not ready: draining\n");
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

t.test("healthy: exit 0; the admin address comes from the config, 0.0.0.0 probed on 127.0.0.1", async (t) => {
  const port = await adminStub(t, false);
  const r = await runIn((io) => healthCommand(["--config", configWithAdmin("0.0.0.0", port)], io));
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, `http://127.0.0.1:${port}/healthz: 200 ok`);
});

t.test("--path /readyz reports 503 and its reason, exit 1", async (t) => {
  const port = await adminStub(t, false);
  const r = await runIn((io) => healthCommand(["--config", configWithAdmin("127.0.0.1", port), "--path", "/readyz"], io));
  t.equal(r.code, 1);
  t.match(r.stderr, /503 not ready: draining/);
});

t.test("nothing listening: exit 1 naming the address", async (t) => {
  // A port that was just free (listened on, then closed): connection refused.
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
  const freePort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const r = await runIn((io) => healthCommand(["--config", configWithAdmin("127.0.0.1", freePort), "--timeout-ms", "5000"], io));
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`127\\.0\\.0\\.1:${freePort}/healthz: ECONNREFUSED`));
});

t.test("bad input: port 0, bad flags and an invalid config are clear errors", async (t) => {
  let r = await runIn((io) => healthCommand(["--config", configWithAdmin("127.0.0.1", 0)], io));
  t.equal(r.code, 1);
  t.match(r.stderr, /admin\.listen\.port is 0/);
  r = await runIn((io) => healthCommand(["--timeout-ms", "soon"], io));
  t.equal(r.code, 2);
  t.match(r.stderr, /--timeout-ms/);
  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, "admin: { listen: { port: nine } }\n");
  r = await runIn((io) => healthCommand(["--config", bad], io));
  t.equal(r.code, 1);
  t.match(r.stderr, /admin\.listen\.port/);
});

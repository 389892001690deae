// bench/ports.mjs: the benchmark runs while its usual ports are taken by something else. A taken
// default moves to a free port (and says so); a taken port the user chose, or any taken port with
// --fixed, is refused with exit 2 and a message naming the variable and the port.
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createServer, type Server } from "node:net";
import t from "tap";
import { repoPath } from "../helpers/paths.js";

const PORTS = repoPath("bench/ports.mjs");

async function listenOnEphemeral(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as { port: number }).port };
}

async function runPorts(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const clean = { ...process.env };
  delete clean.BENCH_FIXED_PORTS;
  const child = spawn(process.execPath, [PORTS, ...args], { env: { ...clean, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (err += d));
  const [code] = (await once(child, "exit")) as [number | null];
  return { code, out, err };
}

/** the `export NAME=PORT` lines as a map */
function exported(out: string): Record<string, number> {
  return Object.fromEntries([...out.matchAll(/^export ([A-Z_0-9]+)=(\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

t.test("a taken default port moves to a free one, and the move is reported", async (t) => {
  const { server, port } = await listenOnEphemeral();
  t.teardown(() => server.close());
  const r = await runPorts([`TEST_SUT_PORT=${port}`]);
  t.equal(r.code, 0, r.err);
  const got = exported(r.out).TEST_SUT_PORT;
  t.not(got, port, "not the taken port");
  t.ok(got !== undefined && got > port, "the next free port above it");
  t.match(r.err, new RegExp(`TEST_SUT_PORT: port ${port} taken, using ${got}`));
  // and it is really free: we can listen on it
  const probe = createServer().listen(got, "127.0.0.1");
  await once(probe, "listening");
  probe.close();
});

t.test("a free default port is kept, a block keeps its ports consecutive and clear of the others", async (t) => {
  const { server, port } = await listenOnEphemeral();
  server.close();
  await once(server, "close");
  const r = await runPorts([`A_PORT=${port}:2`]);
  t.equal(r.code, 0, r.err);
  t.same(exported(r.out), { A_PORT: port });

  const held = await listenOnEphemeral();
  t.teardown(() => held.server.close());
  // B's block would start on the held port: it moves past it and past C's default
  const r2 = await runPorts([`B_PORT=${held.port}:3`, `C_PORT=${held.port + 3}`]);
  t.equal(r2.code, 0, r2.err);
  const e = exported(r2.out);
  t.ok(e.B_PORT !== undefined && e.B_PORT > held.port, "B moved up");
  t.ok(e.C_PORT !== undefined && (e.C_PORT < e.B_PORT! || e.C_PORT > e.B_PORT! + 2), "no overlap between B's block and C");
});

t.test("a taken port is refused by name with --fixed or when set in the environment", async (t) => {
  const { server, port } = await listenOnEphemeral();
  t.teardown(() => server.close());
  const fixed = await runPorts(["--fixed", `KAM_PORT=${port}`]);
  t.equal(fixed.code, 2);
  t.equal(fixed.out, "", "nothing to evaluate");
  t.match(fixed.err, new RegExp(`KAM_PORT: port ${port} on 127.0.0.1 is taken`));

  const fromEnv = await runPorts(["TG_SIP_PORT=5081"], { TG_SIP_PORT: String(port) });
  t.equal(fromEnv.code, 2);
  t.match(fromEnv.err, new RegExp(`TG_SIP_PORT: port ${port} on 127.0.0.1 is taken .*set in the environment`));

  const viaEnvFlag = await runPorts([`X_PORT=${port}`], { BENCH_FIXED_PORTS: "1" });
  t.equal(viaEnvFlag.code, 2);
  t.match(viaEnvFlag.err, `X_PORT: port ${port}`);
});

t.test("bad specs are refused with a clear message", async (t) => {
  const r = await runPorts(["KAM_PORT=fifty"]);
  t.equal(r.code, 2);
  t.match(r.err, /bad port spec "KAM_PORT=fifty"/);
  const r2 = await runPorts(["KAM_PORT=5061"], { KAM_PORT: "x" });
  t.equal(r2.code, 2);
  t.match(r2.err, /KAM_PORT=x: a port number please/);
});

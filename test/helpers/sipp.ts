/**
 * SIPp (Debian's sip-tester: plain TCP only, no TLS) and stunnel4 around it, for end-to-end SIP
 * tests over real TLS.
 *
 *   trunk side:    sipp uac --TCP--> stunnel client (dev client cert, verifies trunkgate) --TLS--> trunkgate
 *   upstream side: trunkgate --TLS (client cert required)--> stunnel server --TCP--> sipp uas
 *                  or trunkgate --TCP--> sipp uas                 (upstream transport tcp)
 *
 * Every process gets free loopback ports (asked from the kernel), bounded durations (-m, -timeout,
 * a kill timer), is started in its own process group and stopped by pid. stunnel configs are
 * generated into a temp dir with the quirks from shared/bench: `sni =` (empty: no SNI for an IP),
 * `sessionResume = no`, `foreground = yes`, `pid =` (no pid file).
 *
 *   const uas = await startSipp({ scenario: "uas", transport: "t1" });
 *   const res = await runSipp({ scenario: "uac", target: `127.0.0.1:${tgPort}`, via: `127.0.0.1:${stunnelPort}`, calls: 10, rate: 50 });
 *   t.equal(res.failed, 0);
 */
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { createSocket } from "node:dgram";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bound, patience } from "./time.js";

export const SIPP = process.env.SIPP ?? "/usr/bin/sipp";
export const STUNNEL = process.env.STUNNEL ?? "/usr/bin/stunnel4";

/** A TCP port free on 127.0.0.1 right now (the kernel picks it). */
export async function freeTcpPort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, "127.0.0.1");
  await once(srv, "listening");
  const port = (srv.address() as AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A UDP port free on 127.0.0.1 right now (SIPp binds a UDP control port and media ports). */
export async function freeUdpPort(): Promise<number> {
  const s = createSocket("udp4");
  s.bind(0, "127.0.0.1");
  await once(s, "listening");
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Waits until something accepts TCP connections on 127.0.0.1:port (bounded). */
export async function waitForTcpPort(port: number, timeoutMs = 5000): Promise<void> {
  const { connect } = await import("node:net");
  const limit = patience(timeoutMs);
  const end = Date.now() + limit;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, "127.0.0.1");
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > end) throw new Error(`nothing listens on 127.0.0.1:${port} after ${limit} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface ManagedProcess {
  readonly child: ChildProcess;
  readonly name: string;
  /** stdout+stderr so far. */
  output(): string;
  /** Resolves with the exit code (signal → 128+n) once the process exited. */
  readonly exited: Promise<number>;
  /** SIGTERM the process group, SIGKILL after graceMs; resolves when it exited. */
  stop(graceMs?: number): Promise<number>;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Starts a process in its own process group; killed after `maxMs` whatever happens. */
export function startProcess(name: string, cmd: string, args: string[], opts: { cwd?: string; maxMs?: number } = {}): ManagedProcess {
  const child = spawn(cmd, args, { cwd: opts.cwd, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout?.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr?.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number>((resolve) => {
    child.once("exit", (code, signal) => resolve(code ?? 128 + (SIGNALS[signal ?? ""] ?? 0)));
    child.once("error", () => resolve(-1));
  });
  const kill = (sig: NodeJS.Signals) => {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, sig); // the process group we created
    } catch {
      try {
        child.kill(sig);
      } catch {
        /* already gone */
      }
    }
  };
  const hard = setTimeout(() => kill("SIGKILL"), opts.maxMs ?? 120_000);
  hard.unref();
  void exited.then(() => clearTimeout(hard));
  return {
    child,
    name,
    output: () => out,
    exited,
    async stop(graceMs = 2000) {
      kill("SIGTERM");
      const t = setTimeout(() => kill("SIGKILL"), graceMs);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

// ------------------------------------------------------------------------------------- stunnel

export interface StunnelOptions {
  mode: "client" | "server";
  /** Port stunnel listens on (127.0.0.1). */
  acceptPort: number;
  /** Where it connects to (127.0.0.1). */
  connectPort: number;
  certPath: string;
  keyPath: string;
  caPath: string;
  /** server mode: require and verify a client certificate (default true). */
  verifyClient?: boolean;
}

export interface Stunnel extends ManagedProcess {
  readonly port: number;
  readonly dir: string;
}

export async function startStunnel(o: StunnelOptions): Promise<Stunnel> {
  const dir = await mkdtemp(join(tmpdir(), "tg-stunnel-"));
  const lines = [
    "foreground = yes",
    "pid =",
    "syslog = no",
    "debug = warning",
    `[${o.mode === "client" ? "uac" : "uas"}]`,
    ...(o.mode === "client" ? ["client = yes"] : []),
    `accept = 127.0.0.1:${o.acceptPort}`,
    `connect = 127.0.0.1:${o.connectPort}`,
    `cert = ${o.certPath}`,
    `key = ${o.keyPath}`,
    `CAfile = ${o.caPath}`,
    "sslVersionMin = TLSv1.2",
    "TIMEOUTclose = 0",
  ];
  if (o.mode === "client") {
    // verify trunkgate's certificate for 127.0.0.1; no SNI (stunnel would send the IP otherwise)
    lines.push("verifyChain = yes", "checkIP = 127.0.0.1", "sni =", "sessionResume = no");
  } else {
    lines.push(`verifyChain = ${o.verifyClient === false ? "no" : "yes"}`, "options = NO_TICKET");
  }
  const conf = join(dir, "stunnel.conf");
  await writeFile(conf, lines.join("\n") + "\n");
  const p = startProcess(`stunnel-${o.mode}`, STUNNEL, [conf], { maxMs: 600_000 });
  try {
    await Promise.race([
      waitForTcpPort(o.acceptPort, 10_000),
      p.exited.then((c) => {
        throw new Error(`stunnel exited (${c}): ${p.output()}`);
      }),
    ]);
  } catch (err) {
    await p.stop(100);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const stopProcess = p.stop;
  return Object.assign(p, {
    port: o.acceptPort,
    dir,
    async stop(graceMs = 500) {
      const code = await stopProcess(graceMs);
      await rm(dir, { recursive: true, force: true });
      return code;
    },
  });
}

// ---------------------------------------------------------------------------------------- SIPp

export interface SippOptions {
  /** Built-in scenario name ("uac", "uas") or the XML text of a custom scenario. */
  scenario: "uac" | "uas" | { xml: string; name: string };
  /** Local SIP port (0 = a free one). */
  port?: number;
  /** uac: the address in Request-URI/To (trunkgate). */
  target?: string;
  /** uac: where the bytes go (-rsa: the stunnel client in front of trunkgate). */
  via?: string;
  /** t1 = one TCP connection for all calls, tn = one per call. */
  transport?: "t1" | "tn";
  calls?: number;
  /** calls per second. */
  rate?: number;
  /** Max simultaneous calls. */
  limit?: number;
  /** Overall SIPp timeout in seconds (-timeout). */
  timeoutSeconds?: number;
  /** -recv_timeout in ms (a call fails when a message does not come in time). */
  recvTimeoutMs?: number;
  /** Extra arguments. */
  args?: string[];
  /** Values for [key] placeholders (-key k v). */
  keys?: Record<string, string>;
}

export interface SippStats {
  outgoing: number;
  successful: number;
  failed: number;
  /** Mean response time 1 (INVITE → 200) in ms, when measured. */
  rtt1Ms: number | undefined;
}

export interface Sipp extends ManagedProcess {
  readonly port: number;
  readonly dir: string;
  /** Statistics from the -stf file (last line). */
  stats(): Promise<SippStats>;
  /** Stop, read stats, remove the temp dir. */
  finish(): Promise<{ code: number; stats: SippStats; output: string }>;
}

function statField(header: string[], row: string[], name: string): string | undefined {
  const i = header.indexOf(name);
  return i >= 0 ? row[i] : undefined;
}

function hmsToMs(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const p = v.split(":");
  if (p.length !== 4) return undefined;
  return (Number(p[0]) * 3600 + Number(p[1]) * 60 + Number(p[2])) * 1000 + Number(p[3]) / 1000;
}

export async function readSippStats(file: string): Promise<SippStats> {
  let text = "";
  try {
    text = await readFile(file, "utf8");
  } catch {
    return { outgoing: 0, successful: 0, failed: 0, rtt1Ms: undefined };
  }
  const lines = text.trim().split("\n").filter((l) => l.length > 0);
  if (lines.length < 2) return { outgoing: 0, successful: 0, failed: 0, rtt1Ms: undefined };
  const header = lines[0]!.split(";");
  const row = lines[lines.length - 1]!.split(";");
  const num = (n: string) => Number(statField(header, row, n) ?? 0);
  return {
    outgoing: num("OutgoingCall(C)") || num("IncomingCall(C)"),
    successful: num("SuccessfulCall(C)"),
    failed: num("FailedCall(C)"),
    rtt1Ms: hmsToMs(statField(header, row, "ResponseTime1(C)")),
  };
}

/** Starts SIPp; resolves once it listens on its SIP port (uas) or right after spawn (uac). */
export async function startSipp(o: SippOptions): Promise<Sipp> {
  const dir = await mkdtemp(join(tmpdir(), "tg-sipp-"));
  const port = o.port && o.port > 0 ? o.port : await freeTcpPort();
  const cp = await freeUdpPort();
  const mp = await freeUdpPort();
  const stf = join(dir, "stats.csv");
  const args: string[] = [];
  if (typeof o.scenario === "string") args.push("-sn", o.scenario);
  else {
    const f = join(dir, `${o.scenario.name}.xml`);
    await writeFile(f, o.scenario.xml);
    args.push("-sf", f);
  }
  args.push("-t", o.transport ?? "t1", "-i", "127.0.0.1", "-p", String(port), "-cp", String(cp), "-mp", String(mp));
  args.push("-nostdin", "-max_socket", "512", "-trace_stat", "-stf", stf, "-fd", "1");
  // SIPp's own limits are bounds, not expectations: stretched with TRUNKGATE_TEST_TIME_SCALE.
  const timeoutSeconds = Math.ceil(bound((o.timeoutSeconds ?? 30) * 1000) / 1000);
  args.push("-timeout", `${timeoutSeconds}s`, "-recv_timeout", String(bound(o.recvTimeoutMs ?? 10_000)));
  if (o.calls !== undefined) args.push("-m", String(o.calls));
  if (o.rate !== undefined) args.push("-r", String(o.rate), "-rp", "1000");
  if (o.limit !== undefined) args.push("-l", String(o.limit));
  if (o.via !== undefined) args.push("-rsa", o.via);
  for (const [k, v] of Object.entries(o.keys ?? {})) args.push("-key", k, v);
  args.push(...(o.args ?? []));
  if (o.target !== undefined) args.push(o.target);
  const name = typeof o.scenario === "string" ? o.scenario : o.scenario.name;
  const p = startProcess(`sipp-${name}`, SIPP, args, { cwd: dir, maxMs: (timeoutSeconds + 30) * 1000 });
  const isServer = o.target === undefined;
  if (isServer) {
    try {
      await Promise.race([
        waitForTcpPort(port, 10_000),
        p.exited.then((c) => {
          throw new Error(`sipp exited (${c}) before listening: ${p.output().slice(-2000)}`);
        }),
      ]);
    } catch (err) {
      await p.stop(100);
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }
  const stats = () => readSippStats(stf);
  const stopProcess = p.stop;
  return Object.assign(p, {
    port,
    dir,
    stats,
    /** Stop (SIGTERM, SIGKILL after graceMs) and remove the temp dir. */
    async stop(graceMs = 2000) {
      const code = await stopProcess(graceMs);
      await rm(dir, { recursive: true, force: true });
      return code;
    },
    async finish() {
      const code = p.child.exitCode !== null ? await p.exited : await stopProcess(2000);
      const s = await stats();
      const output = p.output();
      await rm(dir, { recursive: true, force: true });
      return { code, stats: s, output };
    },
  });
}

/** Runs a SIPp client to completion (bounded by its -timeout and a kill timer). */
export async function runSipp(o: SippOptions): Promise<{ code: number; stats: SippStats; output: string }> {
  const p = await startSipp(o);
  await p.exited;
  return p.finish();
}

// Runs `trunkgate start` (the built CLI) as a real process tree: a cluster primary and its workers.
// stdout is parsed as JSON log lines as they come; waits are event-driven and bounded.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { stringify } from "yaml";
import { appEnv, MAIN } from "../helpers/cli.js";
import { type TestPki, testTlsSection } from "../helpers/pki.js";
import { patience } from "../helpers/time.js";

/**
 * The default bound for a process-tree event (started, reloaded, exited). A primary and its
 * workers each load the whole app: on a 2-core machine at load 20 a worker took 37 s to report
 * a failed listen. A bound, not an expectation: the event usually comes in a second or two.
 */
const PROCESS_TREE_MS = 120_000;

export type LogLine = Record<string, unknown> & { msg?: string; worker?: number; role?: string };

export function clusterConfig(pki: TestPki, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tls: testTlsSection(pki),
    peers: [{ name: "dev-trunk", match: { dnsNames: ["dev-trunk.local"] } }],
    // Port 0 with workers: the first worker's listen(0) picks a port, the primary shares that
    // same socket with every other worker (cluster keys listeners by address, port and order).
    sip: { listen: { host: "127.0.0.1", port: 0 } },
    http: { enabled: false },
    admin: { listen: { host: "127.0.0.1", port: 0 } },
    store: { url: `sqlite:${join(pki.dir, "cluster-store.db")}`, encryptionKeyFile: join(pki.dir, "cluster-store.key") },
    logging: { level: "info" },
    lifecycle: { workers: 2, drainGraceSeconds: 2 },
    ...extra,
  };
}

export async function writeConfig(pki: TestPki, name: string, cfg: Record<string, unknown>): Promise<string> {
  const p = join(pki.dir, name);
  await writeFile(p, stringify(cfg));
  return p;
}

export class RunningCli {
  readonly lines: LogLine[] = [];
  stderr = "";
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  #waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  #buf = "";

  constructor(readonly child: ChildProcess) {
    child.stdout!.on("data", (d: Buffer) => {
      this.#buf += d.toString();
      let nl: number;
      while ((nl = this.#buf.indexOf("\n")) >= 0) {
        const text = this.#buf.slice(0, nl);
        this.#buf = this.#buf.slice(nl + 1);
        let line: LogLine;
        try {
          line = JSON.parse(text) as LogLine;
        } catch {
          line = { msg: `(not JSON) ${text}` };
        }
        this.lines.push(line);
        this.#waiters = this.#waiters.filter((w) => (w.pred(line) ? (w.resolve(line), false) : true));
      }
    });
    child.stderr!.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((res) => child.on("close", (code, signal) => res({ code, signal })));
  }

  /** The first log line (already seen or still to come) that satisfies pred, within patience(timeoutMs). */
  waitFor(pred: (l: LogLine) => boolean, what: string, timeoutMs = PROCESS_TREE_MS): Promise<LogLine> {
    const seen = this.lines.find(pred);
    if (seen) return Promise.resolve(seen);
    const limit = patience(timeoutMs);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no log line "${what}" within ${limit} ms; stderr: ${this.stderr}\n${this.lines.map((l) => JSON.stringify(l)).join("\n")}`));
      }, limit);
      const done = (l: LogLine) => {
        clearTimeout(timer);
        resolve(l);
      };
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`process exited before "${what}"; stderr: ${this.stderr}`));
      });
      this.#waiters.push({ pred, resolve: done });
    });
  }

  /** Resolves with the exit, or SIGKILLs the tree's root and rejects after patience(timeoutMs). */
  async exit(timeoutMs = PROCESS_TREE_MS): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const limit = patience(timeoutMs);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        reject(new Error(`did not exit within ${limit} ms`));
      }, limit);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

export function startCli(configPath: string, env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [MAIN, "start", "--config", configPath], { stdio: "pipe", env: appEnv(env) });
  return new RunningCli(child);
}

/** GET on the plain-HTTP admin listener. */
export function adminGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, path, agent: false, timeout: patience(10_000) }, (res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error(`admin ${path}: timeout`)));
    req.on("error", reject);
    req.end();
  });
}

/** Sum of every sample of `name` whose label text contains each of `labels` (e.g. 'listener="sip"'). */
export function metricSum(text: string, name: string, ...labels: string[]): number {
  let sum = 0;
  let found = false;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = line.slice(name.length, line.lastIndexOf(" "));
    if (!labels.every((l) => labelText.includes(l))) continue;
    sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    found = true;
  }
  return found ? sum : Number.NaN;
}

/** Whether a process with this PID still exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

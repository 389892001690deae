// Runs the built `trunkgate` CLI (dist/, built by `npm test`'s pretest) as a child process.
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { patience } from "./time.js";

export const MAIN = resolve("dist/src/main.js");

/**
 * The least a wait on a child process gives up after: each one loads the whole app (about a
 * CPU-second), which took 7-20 s of wall time on a 2-core machine at load 20.
 */
const PROCESS_MS = 60_000;

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment for a spawned trunkgate: this one, less the hooks tap puts in NODE_OPTIONS for
 * its own bookkeeping (@tapjs/processinfo: coverage is off). They are not part of the app, and
 * loading them more than doubled each child's start-up CPU (1.1 s -> 2.5 s for `--help`), paid
 * again by every cluster worker. Other NODE_OPTIONS stay.
 */
export function appEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  const own = (env.NODE_OPTIONS ?? "").split(/\s+/).filter((o) => o !== "" && !o.includes("@tapjs/"));
  if (own.length > 0) env.NODE_OPTIONS = own.join(" ");
  else delete env.NODE_OPTIONS;
  return env;
}

export function runCli(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliRun> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [MAIN, ...args], { cwd: opts.cwd, env: appEnv(opts.env), stdio: "pipe" });
    collect(child, opts.timeoutMs ?? 60_000).then(res, rej);
  });
}

/** The child's output and exit; it is SIGKILLed after patience(timeoutMs), at least PROCESS_MS. */
export function collect(child: ChildProcess, timeoutMs: number): Promise<CliRun> {
  return new Promise((res, rej) => {
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill("SIGKILL"), patience(Math.max(timeoutMs, PROCESS_MS)));
    child.on("error", rej);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      res({ code, signal, stdout, stderr });
    });
  });
}

/** Resolves when a line of the child's stdout satisfies the predicate (bounded by patience(timeoutMs)). */
export function waitForLine(child: ChildProcess, pred: (line: string) => boolean, timeoutMs = 60_000): Promise<string> {
  return new Promise((res, rej) => {
    let buf = "";
    const limit = patience(Math.max(timeoutMs, PROCESS_MS));
    const timer = setTimeout(() => rej(new Error(`no matching line within ${limit} ms; got:\n${buf}`)), limit);
    const onData = (d: Buffer) => {
      buf += d.toString();
      for (const line of buf.split("\n")) {
        if (pred(line)) {
          clearTimeout(timer);
          child.stdout?.off("data", onData);
          return res(line);
        }
      }
    };
    child.stdout?.on("data", onData);
    child.on("close", () => {
      clearTimeout(timer);
      rej(new Error(`process exited before a matching line:\n${buf}`));
    });
  });
}

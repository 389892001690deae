// A throwaway PostgreSQL cluster for tests: initdb into a temp dir, postgres on 127.0.0.1 with a
// free port, trust auth on loopback only, no unix socket. We run as root in CI, so initdb and
// postgres run as the `postgres` user (setpriv execs, so the child pid is the postmaster's pid).
// Missing binaries fail loudly unless TRUNKGATE_SKIP_PG=1 (then startPostgres returns null and
// callers skip with a visible reason). Every wait is bounded by a deadline.
//
// One server per suite run: initdb and a server start take about a second (several on a loaded
// machine), paid by every PostgreSQL test file when each had its own. test/run-suite.mjs
// starts one server before tap and names it in TRUNKGATE_TEST_PG_URL; startPostgres() then hands
// out a view of it whose databases are this file's own (created fresh, dropped by stop()), so
// files stay isolated. A file run without the runner (`npx tap dist/test/x.test.js`) starts its
// own server as before.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import pg from "pg";
import { bound } from "./time.js";
import { closedAncestor } from "./reachable.js";

export interface PgServer {
  /** URL of the `postgres` maintenance database. */
  url: string;
  port: number;
  /** Creates a fresh database and returns its URL (one per test). */
  createDatabase(prefix?: string): Promise<string>;
  /** Own server: stops it and removes its files. Shared server: drops the databases made here. */
  stop(): Promise<void>;
}

/** The environment variable naming the run's shared server (its maintenance database URL). */
export const SHARED_PG_ENV = "TRUNKGATE_TEST_PG_URL";

export interface StartPostgresOptions {
  /** Start a server of this process's own even when the run shares one (the runner, the helper's test). */
  own?: boolean;
  /** The server's max_connections (a shared server serves several test files at once). */
  maxConnections?: number;
}

// initdb alone takes seconds on a busy machine: bounds, not expectations.
const START_TIMEOUT_MS = bound(90_000);
const STOP_TIMEOUT_MS = bound(30_000);

export function pgBinDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.TRUNKGATE_PG_BIN ?? "/usr/lib/postgresql/15/bin";
}

export function pgSkipped(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.TRUNKGATE_SKIP_PG === "1";
}

/**
 * The run's shared server when there is one (TRUNKGATE_TEST_PG_URL), else a cluster of its own;
 * null when TRUNKGATE_SKIP_PG=1. Throws when binaries are missing.
 */
export async function startPostgres(opts: StartPostgresOptions = {}): Promise<PgServer | null> {
  if (pgSkipped()) return null;
  const shared = process.env[SHARED_PG_ENV];
  if (shared && !opts.own) return sharedPostgres(shared);
  const bin = pgBinDir();
  for (const tool of ["initdb", "postgres"]) {
    if (!existsSync(join(bin, tool))) {
      throw new Error(
        `PostgreSQL binary ${join(bin, tool)} not found: install postgresql-15 (apt-get install postgresql-15), set TRUNKGATE_PG_BIN, or set TRUNKGATE_SKIP_PG=1 to skip the PostgreSQL tests`,
      );
    }
  }
  const dir = mkdtempSync(join(tmpdir(), "trunkgate-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? postgresIds() : undefined;
  if (ids) {
    chownSync(dir, ids.uid, ids.gid);
    // The server runs as `postgres`: it must be able to reach its directory (a TMPDIR inside a
    // private home directory is not reachable). Say so instead of a cryptic initdb failure.
    const closed = await closedAncestor(dirname(dir));
    if (closed) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`the postgres user cannot enter ${closed} (on the way to ${dir}): point TMPDIR at a directory others can enter`);
    }
  }
  const wrap = (cmd: string, args: string[]): [string, string[]] =>
    ids ? ["setpriv", ["--reuid", String(ids.uid), "--regid", String(ids.gid), "--init-groups", "--", cmd, ...args]] : [cmd, args];

  const [icmd, iargs] = wrap(join(bin, "initdb"), [
    "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync", "--no-instructions",
  ]);
  const init = spawnSync(icmd, iargs, { encoding: "utf8", timeout: START_TIMEOUT_MS, cwd: dir });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.status ?? init.signal}): ${init.stderr || init.error?.message}`);
  }

  // The free port can be taken between probing and binding: retry a few times with a new port.
  let lastError: Error | undefined;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      const child = await startServer(wrap, bin, data, port, dir, opts.maxConnections ?? 50);
      return server(child, port, dir);
    } catch (err) {
      lastError = err as Error;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError ?? new Error("postgres did not start");
}

function postgresIds(): { uid: number; gid: number } {
  const uid = spawnSync("id", ["-u", "postgres"], { encoding: "utf8" });
  const gid = spawnSync("id", ["-g", "postgres"], { encoding: "utf8" });
  if (uid.status !== 0 || gid.status !== 0) throw new Error("running as root but there is no `postgres` user to run PostgreSQL as");
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function startServer(
  wrap: (cmd: string, args: string[]) => [string, string[]],
  bin: string,
  data: string,
  port: number,
  cwd: string,
  maxConnections: number,
): Promise<ChildProcess> {
  const [cmd, args] = wrap(join(bin, "postgres"), [
    "-D", data, "-p", String(port),
    "-c", "listen_addresses=127.0.0.1",
    "-c", "unix_socket_directories=",
    "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
    "-c", `max_connections=${maxConnections}`,
  ]);
  const child = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"], cwd });
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (d: string) => {
    if (stderr.length < 20_000) stderr += d;
  });
  const exited = new Promise<never>((_, reject) => {
    child.once("exit", (code, signal) => reject(new Error(`postgres exited early (${code ?? signal}): ${stderr.trim().slice(-2000)}`)));
    child.once("error", (err) => reject(err));
  });
  exited.catch(() => {});
  const deadline = Date.now() + START_TIMEOUT_MS;
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  try {
    await Promise.race([exited, waitReady(url, deadline)]);
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
  return child;
}

/** Polls a real connection until the server accepts queries or the deadline passes. */
async function waitReady(url: string, deadline: number): Promise<void> {
  let last = "";
  while (Date.now() < deadline) {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await c.connect();
      await c.query("SELECT 1");
      await c.end();
      return;
    } catch (err) {
      last = (err as Error).message;
      await c.end().catch(() => {});
      await new Promise((r) => setTimeout(r, 50)); // poll interval, bounded by the deadline
    }
  }
  throw new Error(`postgres not ready within ${START_TIMEOUT_MS} ms: ${last}`);
}

function server(child: ChildProcess, port: number, dir: string): PgServer {
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // A crashed test process must not leave a postmaster behind.
  const killOnExit = () => {
    try {
      if (child.pid) process.kill(child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  };
  process.once("exit", killOnExit);
  let stopped: Promise<void> | undefined;
  return {
    url,
    port,
    createDatabase: (prefix = "t") => createDatabase(url, prefix),
    stop() {
      stopped ??= (async () => {
        process.removeListener("exit", killOnExit);
        if (child.exitCode === null && child.signalCode === null && child.pid) {
          process.kill(child.pid, "SIGINT"); // fast shutdown: aborts sessions, no checkpoint wait
          const timedOut = await Promise.race([
            exited.then(() => false),
            new Promise<boolean>((r) => setTimeout(() => r(true), STOP_TIMEOUT_MS).unref()),
          ]);
          if (timedOut) {
            process.kill(child.pid, "SIGKILL");
            await exited;
          }
        }
        rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
}

/** A fresh database on the server at `url` (its maintenance database); returns the new one's URL. */
async function createDatabase(url: string, prefix: string): Promise<string> {
  const name = `${prefix}_${randomBytes(6).toString("hex")}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  await maintenance(url, `CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

async function maintenance(url: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: bound(30_000) });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/**
 * A test file's view of a server the whole run shares (`url`: its maintenance database): the same
 * PgServer, but stop() drops the databases this view created instead of stopping the server, so
 * one file's data never meets another's and the server does not fill up over a run. FORCE ends
 * sessions still connected, as stopping an own server would.
 */
export function sharedPostgres(url: string): PgServer {
  const created: string[] = [];
  let stopped: Promise<void> | undefined;
  return {
    url,
    port: Number(new URL(url).port || 5432),
    async createDatabase(prefix = "t") {
      if (stopped) throw new Error("createDatabase after stop()");
      const db = await createDatabase(url, prefix);
      created.push(new URL(db).pathname.slice(1));
      return db;
    },
    stop() {
      stopped ??= (async () => {
        for (const name of created.splice(0)) await maintenance(url, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      })();
      return stopped;
    },
  };
}

// Embedded SQLite (better-sqlite3, WAL). better-sqlite3 is synchronous on one connection, so an
// async transaction must not interleave with other statements on that connection: every statement
// and transaction goes through one FIFO lock. BEGIN IMMEDIATE takes the write lock up front so two
// processes sharing the file serialise instead of failing at commit. Within one process the lock is
// shared by every connection to the same file: a second connection's BEGIN IMMEDIATE would
// otherwise block the only thread in busy_timeout while the first transaction awaits, and fail.
import Database from "better-sqlite3";
import { closeSync, mkdirSync, openSync } from "node:fs";
import { dirname } from "node:path";
import type { Dialect, Row, SqlDriver, SqlTx, SqlValue } from "./driver.js";

export function openSqlite(path: string): SqlDriver {
  if (path !== ":memory:") {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    createPrivately(path);
  }
  const db = new Database(path);
  // Deleted customer data is overwritten, not left in free pages; auto_vacuum lets a purge give
  // pages back (it only takes effect on a new file: reclaim.ts converts an older one once).
  db.pragma("secure_delete = ON");
  db.pragma("auto_vacuum = INCREMENTAL");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  db.pragma("foreign_keys = ON");
  return new SqliteDriver(db, lockFor(path));
}

/**
 * Creates the file 0600 before SQLite does (its -wal and -shm files inherit the mode), and only
 * when it does not exist: closing any descriptor of a file releases every POSIX lock this process
 * holds on it, including the locks of a live SQLite connection (the main thread's, when the
 * call-record worker opens its own). Without its lock, another process (an operator's sqlite3)
 * believes it is the last connection and deletes the WAL under us. So a descriptor of an existing
 * database file is never opened, let alone closed, outside SQLite: `wx` fails with EEXIST instead.
 */
function createPrivately(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return;
    throw err;
  }
  // Nobody can hold a lock on a file created just now by this call.
  closeSync(fd);
}

interface FileLock {
  queue: Promise<unknown>;
}
const fileLocks = new Map<string, FileLock>();
function lockFor(path: string): FileLock {
  if (path === ":memory:") return { queue: Promise.resolve() };
  let l = fileLocks.get(path);
  if (!l) {
    l = { queue: Promise.resolve() };
    fileLocks.set(path, l);
  }
  return l;
}

class SqliteDriver implements SqlDriver {
  readonly dialect: Dialect = "sqlite";
  private readonly statements = new Map<string, Database.Statement>();
  private closed = false;
  private readonly direct: SqlTx;

  constructor(
    private readonly db: Database.Database,
    private readonly lock: FileLock,
  ) {
    this.direct = {
      dialect: "sqlite",
      all: async <T>(sql: string, params?: readonly SqlValue[]) => this.allNow<T>(sql, params),
      run: async (sql: string, params?: readonly SqlValue[]) => this.runNow(sql, params),
      lock: async () => {},
    };
  }

  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.exclusive(async () => this.allNow<T>(sql, params));
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.exclusive(async () => this.runNow(sql, params));
  }

  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        const result = await fn(this.direct);
        this.db.exec("COMMIT");
        return result;
      } catch (err) {
        if (this.db.inTransaction) this.db.exec("ROLLBACK");
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.exclusiveEvenIfClosed(async () => this.db.close());
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error("store is closed"));
    return this.exclusiveEvenIfClosed(fn);
  }

  private exclusiveEvenIfClosed<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.lock.queue.then(fn, fn);
    this.lock.queue = next.catch(() => {});
    return next;
  }

  private prepare(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  private allNow<T>(sql: string, params: readonly SqlValue[] = []): T[] {
    return this.prepare(sql).all(...params) as T[];
  }

  private runNow(sql: string, params: readonly SqlValue[] = []): number {
    const s = this.prepare(sql);
    if (s.reader) {
      s.all(...params);
      return 0;
    }
    return s.run(...params).changes;
  }
}

// PostgreSQL through a pg Pool, so replicas share one store. Placeholders `?` are rewritten to $n
// once per distinct statement (cached). BIGINT is parsed to a JS number for this pool only (the
// global pg type parsers are left alone).
import pg from "pg";
import type { Dialect, Row, SqlDriver, SqlExecutor, SqlTx, SqlValue } from "./driver.js";

const INT8_OID = 20;
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as "text")) as pg.CustomTypesConfig["getTypeParser"],
};

export interface PostgresOptions {
  maxConnections?: number;
}

export function openPostgres(url: string, opts: PostgresOptions = {}): SqlDriver {
  const pool = new pg.Pool({ connectionString: url, max: opts.maxConnections ?? 10, types });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  return new PostgresDriver(pool);
}

const rewritten = new Map<string, string>();
function toDollar(sql: string): string {
  let out = rewritten.get(sql);
  if (out === undefined) {
    let n = 0;
    out = sql.replace(/\?/g, () => `$${++n}`);
    rewritten.set(sql, out);
  }
  return out;
}

function executor(q: pg.Pool | pg.PoolClient): SqlExecutor {
  return {
    dialect: "postgres",
    async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
      return (await q.query(toDollar(sql), params as SqlValue[])).rows as T[];
    },
    async run(sql: string, params: readonly SqlValue[] = []): Promise<number> {
      return (await q.query(toDollar(sql), params as SqlValue[])).rowCount ?? 0;
    },
  };
}

class PostgresDriver implements SqlDriver {
  readonly dialect: Dialect = "postgres";
  private readonly exec: SqlExecutor;

  constructor(private readonly pool: pg.Pool) {
    this.exec = executor(pool);
  }

  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    return this.exec.all<T>(sql, params);
  }

  run(sql: string, params?: readonly SqlValue[]): Promise<number> {
    return this.exec.run(sql, params);
  }

  async transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const base = executor(client);
    const tx: SqlTx = {
      ...base,
      lock: async (name: string) => {
        await client.query("SELECT pg_advisory_xact_lock(hashtext($1))", [`trunkgate:${name}`]);
      },
    };
    let broken = false;
    try {
      await client.query("BEGIN");
      const result = await fn(tx);
      await client.query("COMMIT");
      return result;
    } catch (err) {
      try {
        await client.query("ROLLBACK");
      } catch {
        broken = true; // connection is gone: do not return it to the pool
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

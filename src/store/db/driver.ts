// The small SQL surface the repositories use, implemented once per dialect (sqlite.ts, postgres.ts).
// Statements are written with `?` placeholders and portable SQL (ON CONFLICT … DO UPDATE works on
// both); the PostgreSQL driver rewrites placeholders to $n. Integers come back as JS numbers on both
// (timestamps are epoch milliseconds, well inside 2^53).
export type Dialect = "sqlite" | "postgres";
export type SqlValue = string | number | null;
export type Row = Record<string, unknown>;

export interface SqlExecutor {
  readonly dialect: Dialect;
  all<T = Row>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** Returns the number of rows changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
}

export interface SqlTx extends SqlExecutor {
  /**
   * Serialise this transaction against others taking the same lock name, across processes and
   * replicas (PostgreSQL advisory transaction lock; SQLite transactions are already exclusive).
   */
  lock(name: string): Promise<void>;
}

export interface SqlDriver extends SqlExecutor {
  /** Runs fn in one transaction: committed when fn resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export class StoreUrlError extends Error {
  override name = "StoreUrlError";
}

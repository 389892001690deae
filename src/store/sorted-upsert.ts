// Multi-row upserts in the caller's key order. Callers sort rows by key so that every writer locks
// rows in the same order: two transactions touching overlapping rows then wait for each other
// instead of deadlocking.
import type { SqlTx, SqlValue } from "./db/driver.js";

export interface UpsertSql {
  head: string;
  row: string;
  tail: string;
}

/** Rows per multi-row statement on PostgreSQL (≤ 15 parameters each: far below its 65 535 limit). */
const PG_ROWS_PER_STATEMENT = 500;

/**
 * Rows must be sorted by key: every writer then locks rows in the same order, so two replicas
 * rolling up overlapping days wait for each other instead of deadlocking. SQLite: one cached
 * statement per row (cheapest in-process); PostgreSQL: one round trip per chunk.
 */
export async function upsertSorted(tx: SqlTx, sql: UpsertSql, rows: readonly SqlValue[][]): Promise<void> {
  if (tx.dialect === "sqlite") {
    const one = `${sql.head} VALUES ${sql.row} ${sql.tail}`;
    for (const r of rows) await tx.run(one, r);
    return;
  }
  for (let start = 0; start < rows.length; start += PG_ROWS_PER_STATEMENT) {
    const chunk = rows.slice(start, start + PG_ROWS_PER_STATEMENT);
    await tx.run(`${sql.head} VALUES ${new Array(chunk.length).fill(sql.row).join(", ")} ${sql.tail}`, chunk.flat());
  }
}

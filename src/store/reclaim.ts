// After a purge, make deleted customer data unreadable from the database files, not just from SQL.
// SQLite: connections run with secure_delete (deleted content is overwritten with zeros, see
// db/sqlite.ts) and auto_vacuum=INCREMENTAL; here the free pages are released from the file
// (incremental_vacuum) and the WAL, which still holds earlier images of the purged pages, is
// checkpointed and truncated. A database created before auto_vacuum was set is converted once by
// a full VACUUM (auto_vacuum can only change that way). PostgreSQL: VACUUM the purged table so its
// dead tuples' space is reused; the bytes stay in the data files, in backups and in WAL archives
// until overwritten or expired (the operator's part: see src/store/README.md).
import type { SqlDriver } from "./db/driver.js";

const INCREMENTAL = 2;

export async function reclaimDeletedSpace(db: SqlDriver, tables: readonly string[]): Promise<void> {
  if (db.dialect === "postgres") {
    for (const t of tables) await db.run(`VACUUM ${t}`);
    return;
  }
  const [mode] = await db.all<{ auto_vacuum: number }>("PRAGMA auto_vacuum");
  if (Number(mode?.auto_vacuum) !== INCREMENTAL) {
    await db.run("PRAGMA auto_vacuum = INCREMENTAL");
    await db.run("VACUUM");
  } else {
    await db.run("PRAGMA incremental_vacuum");
  }
  await db.run("PRAGMA wal_checkpoint(TRUNCATE)");
}

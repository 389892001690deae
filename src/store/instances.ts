// Running instances and the data keys they may write with, recorded in the store so that
// `keys prune` (another process, maybe another host) can refuse to remove a key an instance still
// uses. Each instance upserts its row at start and on every heartbeat; a row carries its own expiry
// (last seen + STALE_AFTER_HEARTBEATS heartbeats), so an instance that died without closing (kill -9,
// a lost node) stops blocking a prune after that long, whatever heartbeat the pruning CLI is
// configured with. A clean close deletes the row. Times are the wall clock (Date.now), not the
// store's injectable clock: rows are compared across processes.
// A row whose instance still owns call-journal entries (answered calls it could not record before
// it died) is kept after it expires, for its last heartbeat: call-journal-recovery.ts uses it as
// those calls' end and deletes the row once it has recorded them.
import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import { randomBytes } from "node:crypto";
import type { SqlDriver } from "./db/driver.js";

/** A row expires after this many missed heartbeats. */
export const STALE_AFTER_HEARTBEATS = 3;

export interface InstanceInfo {
  id: string;
  host: string;
  pid: number;
  /** Data key ids this instance may write with (its active key; during a switch the previous too). */
  keyIds: string[];
  lastSeen: number;
}

interface InstanceRow {
  id: string;
  host: string;
  pid: number;
  key_ids: string;
  last_seen: number;
}

/**
 * Where this process's pid means something: the kernel boot and the pid namespace. Two rows with
 * the same scope name processes of one kernel and one pid namespace, so a pid no longer running
 * there is a dead instance (the host name cannot tell that: containers may share one, with pid
 * namespaces of their own). null where /proc is not available: liveness by heartbeat only.
 */
export const PROCESS_SCOPE: string | null = (() => {
  try {
    return `${readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim()}/${readlinkSync("/proc/self/ns/pid")}`;
  } catch {
    return null;
  }
})();

/** Journal entries an instance still owns keep its row (see the file comment). */
const OWNS_NO_JOURNAL = "NOT EXISTS (SELECT 1 FROM call_journal j WHERE j.owner = store_instances.id)";

export class InstanceRegistry {
  readonly id = randomBytes(9).toString("base64url");
  readonly host = hostname();
  readonly #startedAt = Date.now();

  constructor(
    private readonly db: SqlDriver,
    private readonly heartbeatMs: number,
  ) {}

  /** Records (or refreshes) this instance with the keys it may write with. */
  async heartbeat(keyIds: readonly string[], now = Date.now()): Promise<void> {
    await this.db.run(
      `INSERT INTO store_instances (id, host, pid, key_ids, started_at, last_seen, expires_at, scope) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET key_ids = excluded.key_ids, last_seen = excluded.last_seen, expires_at = excluded.expires_at`,
      [this.id, this.host, process.pid, [...new Set(keyIds)].sort().join(","), this.#startedAt, now, now + STALE_AFTER_HEARTBEATS * this.heartbeatMs, PROCESS_SCOPE],
    );
  }

  /**
   * Clean stop: this instance writes nothing any more. Its row goes, unless calls it could not
   * record are still journaled: then it is only marked expired (prune ignores it at once), so that
   * the recovery finds it gone and ends those calls at its last heartbeat.
   */
  async remove(now = Date.now()): Promise<void> {
    await this.db.run(`DELETE FROM store_instances WHERE id = ? AND ${OWNS_NO_JOURNAL}`, [this.id]);
    await this.db.run("UPDATE store_instances SET expires_at = ? WHERE id = ?", [now - 1, this.id]);
  }
}

/** Instances whose row has not expired (expired rows are removed on the way, unless they own journal entries). */
export async function liveInstances(db: SqlDriver, now = Date.now()): Promise<InstanceInfo[]> {
  await db.run(`DELETE FROM store_instances WHERE expires_at < ? AND ${OWNS_NO_JOURNAL}`, [now]);
  const rows = await db.all<InstanceRow>("SELECT id, host, pid, key_ids, last_seen FROM store_instances WHERE expires_at >= ? ORDER BY host, pid", [now]);
  return rows.map((r) => ({ id: r.id, host: r.host, pid: Number(r.pid), keyIds: r.key_ids ? r.key_ids.split(",") : [], lastSeen: Number(r.last_seen) }));
}

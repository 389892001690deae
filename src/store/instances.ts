// Running instances and the data keys they may write with, recorded in the store so that
// `keys prune` (another process, maybe another host) can refuse to remove a key an instance still
// uses. Each instance upserts its row at start and on every heartbeat; a row carries its own expiry
// (last seen + STALE_AFTER_HEARTBEATS heartbeats), so an instance that died without closing (kill -9,
// a lost node) stops blocking a prune after that long, whatever heartbeat the pruning CLI is
// configured with. A clean close deletes the row. Times are the wall clock (Date.now), not the
// store's injectable clock: rows are compared across processes.
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
      `INSERT INTO store_instances (id, host, pid, key_ids, started_at, last_seen, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET key_ids = excluded.key_ids, last_seen = excluded.last_seen, expires_at = excluded.expires_at`,
      [this.id, this.host, process.pid, [...new Set(keyIds)].sort().join(","), this.#startedAt, now, now + STALE_AFTER_HEARTBEATS * this.heartbeatMs],
    );
  }

  /** Clean stop: this instance writes nothing any more. */
  async remove(): Promise<void> {
    await this.db.run("DELETE FROM store_instances WHERE id = ?", [this.id]);
  }
}

/** Instances whose row has not expired (expired rows are removed on the way). */
export async function liveInstances(db: SqlDriver, now = Date.now()): Promise<InstanceInfo[]> {
  await db.run("DELETE FROM store_instances WHERE expires_at < ?", [now]);
  const rows = await db.all<InstanceRow>("SELECT id, host, pid, key_ids, last_seen FROM store_instances WHERE expires_at >= ? ORDER BY host, pid", [now]);
  return rows.map((r) => ({ id: r.id, host: r.host, pid: Number(r.pid), keyIds: r.key_ids ? r.key_ids.split(",") : [], lastSeen: Number(r.last_seen) }));
}

// Records for the calls a dead instance left in the call journal (call-journal.ts): answered, never
// recorded, because the process died (kill -9, OOM, a lost node) before the batch with their
// record committed. Each becomes a call record with hangup side "unknown" and counts in the daily
// statistics like any other.
//
// Whose entries: never this instance's own, and another instance's only once it is gone — its
// store_instances row expired (3 missed heartbeats), was marked expired by a clean stop, or names
// a pid that no longer runs in this process's kernel boot and pid namespace (a restart on the same
// machine or container: recovered at once, no wait for the expiry). Owners without a row at all
// (removed by a trunkgate older than the journal) are gone too; only the start-up pass looks for
// them, the periodic pass looks only at gone rows (cheap: the instances table is small).
//
// The end time: the owner's last heartbeat, the latest moment it is known to have been alive and
// carrying the call. The process died within one heartbeat after it; the call itself may have
// gone on (the endpoints' media does not pass through trunkgate) but nothing more is known, and
// ending it at the recovery instead would count the whole downtime — minutes, or days for a node
// that never came back — as talk time. A call answered after that heartbeat ends at its answer
// (duration 0). Only an owner whose row is gone ends its calls at the recovery time.
//
// Safe to run concurrently from every instance: one transaction per batch of up to 500 entries,
// under a cross-replica lock, reads the entries, writes their records and deletes them.
import type { StoreContext } from "./context.js";
import type { CallRecordRepository, EncodedRecord } from "./call-records.js";
import { deleteJournal, JOURNAL_TABLE } from "./call-journal.js";
import { openCallFields } from "./call-fields.js";
import { PROCESS_SCOPE } from "./instances.js";
import { transactionWithRetry } from "./tx-retry.js";

export interface RecoveredOwner {
  owner: string;
  host: string | null;
  pid: number | null;
  calls: number;
  /** The end written into the recovered records (ms). */
  endedAt: number;
  /** Why that end: the owner's last heartbeat, or (its row gone) the time of the recovery. */
  end: "last_heartbeat" | "recovery_time";
}

export interface RecoveryOptions {
  /** This instance's store_instances id: its own entries are never recovered. */
  self: string;
  /** Also look for owners that have no store_instances row (the start-up pass). */
  full?: boolean;
  now?: number;
  /** Whether a pid runs in this process's scope (default: signal 0). */
  pidAlive?: (pid: number) => boolean;
  batchSize?: number;
}

interface InstanceRow {
  id: string;
  host: string;
  pid: number | string;
  last_seen: number | string;
  expires_at: number | string;
  scope: string | null;
}

interface JournalRow {
  id: string;
  call_id_hash: string;
  started_at: number | string;
  answered_at: number | string;
  final_status: number | string;
  service: string | null;
  peer_enc: string | null;
  calling_enc: string | null;
  called_enc: string | null;
  fields_enc: string | null;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether the instance of this row is gone (see the file comment). */
export function instanceGone(row: { pid: number; expiresAt: number; scope: string | null }, now: number, alive: (pid: number) => boolean): boolean {
  if (row.expiresAt < now) return true;
  return PROCESS_SCOPE !== null && row.scope === PROCESS_SCOPE && row.pid !== process.pid && !alive(row.pid);
}

export async function recoverOrphanedCalls(ctx: StoreContext, records: CallRecordRepository, o: RecoveryOptions): Promise<RecoveredOwner[]> {
  const now = o.now ?? Date.now();
  const alive = o.pidAlive ?? pidAlive;
  const rows = await ctx.db.all<InstanceRow>("SELECT id, host, pid, last_seen, expires_at, scope FROM store_instances");
  const byId = new Map(rows.map((r) => [r.id, r]));
  const owners: string[] = [];
  for (const r of rows) {
    if (r.id !== o.self && instanceGone({ pid: Number(r.pid), expiresAt: Number(r.expires_at), scope: r.scope }, now, alive)) owners.push(r.id);
  }
  if (o.full) {
    const journaled = await ctx.db.all<{ owner: string }>("SELECT DISTINCT owner FROM call_journal WHERE owner <> ?", [o.self]);
    for (const { owner } of journaled) if (!byId.has(owner)) owners.push(owner);
  }
  const out: RecoveredOwner[] = [];
  for (const owner of owners) {
    const row = byId.get(owner);
    const endedAt = row ? Number(row.last_seen) : now;
    const calls = await recoverOwner(ctx, records, owner, endedAt, o.batchSize ?? 500);
    // Its calls are recorded: the row has nothing left to keep (prune and status ignore it).
    if (row) await ctx.db.run(`DELETE FROM store_instances WHERE id = ? AND NOT EXISTS (SELECT 1 FROM call_journal j WHERE j.owner = ?)`, [owner, owner]);
    if (calls > 0) out.push({ owner, host: row?.host ?? null, pid: row ? Number(row.pid) : null, calls, endedAt, end: row ? "last_heartbeat" : "recovery_time" });
  }
  return out;
}

async function recoverOwner(ctx: StoreContext, records: CallRecordRepository, owner: string, endedAt: number, batchSize: number): Promise<number> {
  let total = 0;
  for (;;) {
    const n = await transactionWithRetry(ctx.db, async (tx) => {
      // Two instances recovering the same owner: the second waits, then finds the entries gone.
      await tx.lock("call-journal-recovery");
      const entries = await tx.all<JournalRow>(
        "SELECT id, call_id_hash, started_at, answered_at, final_status, service, peer_enc, calling_enc, called_enc, fields_enc FROM call_journal WHERE owner = ? ORDER BY id LIMIT ?",
        [owner, batchSize],
      );
      if (entries.length === 0) return 0;
      const encoded: EncodedRecord[] = [];
      const peers: (string | null)[] = [];
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        // An entry that cannot be decrypted (a key no longer in the keyring) is still a call:
        // recorded without peer and numbers, counted, and reported as an unreadable row.
        const plain = ctx.readable(JOURNAL_TABLE, e.id, () => openCallFields(ctx, JOURNAL_TABLE, e.id, e)) ?? [null, null, null];
        const answeredAt = Number(e.answered_at);
        encoded.push(
          records.encodeHashed(
            e.call_id_hash,
            {
              startedAt: new Date(Number(e.started_at)),
              answeredAt: new Date(answeredAt),
              endedAt: new Date(Math.max(answeredAt, endedAt)),
              finalStatus: Number(e.final_status),
              hangupSide: "unknown",
              service: e.service,
              peer: plain[0] ?? null,
              callingNumber: plain[1] ?? null,
              calledNumber: plain[2] ?? null,
            },
            i,
          ),
        );
        peers.push(plain[0] ?? null);
      }
      await records.writeRows(tx, encoded, peers);
      await deleteJournal(tx, entries.map((e) => e.id));
      return entries.length;
    });
    total += n;
    if (n < batchSize) return total;
  }
}

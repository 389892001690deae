// Temporary call metadata, one row per INVITE dialog, kept only until the retention purge rolls it
// up into daily statistics (retention.ts). Calling/called numbers and the peer are encrypted, sealed
// together in one value (call-fields.ts); the Call-ID is stored only as a keyed hash (enough to find
// a call's record, not to read its Call-ID).
import type { StoreContext } from "./context.js";
import { pooledRandomBytes } from "./crypto/random-pool.js";
import type { SqlTx, SqlValue } from "./db/driver.js";
import type { RollupInput, StatisticsRepository } from "./statistics.js";
import { transactionWithRetry } from "./tx-retry.js";
import { reclaimDeletedSpace } from "./reclaim.js";
import { deleteJournal, encodeJournalRow, insertJournal, journalId } from "./call-journal.js";
import { openCallFields, sealCallFields } from "./call-fields.js";
import { CallRecordError, HANGUP_SIDES, isAnsweredCall, type CallEvent, type CallRecordInput, type HangupSide, type InsertManyOptions } from "./call-record-types.js";

export { CallRecordWriter, type CallRecordWriterOptions } from "./call-record-writer.js";
export { CallRecordError, HANGUP_SIDES, isAnsweredCall, type AnsweredCall, type CallEvent, type CallRecordInput, type HangupSide, type InsertManyOptions } from "./call-record-types.js";

export interface StoredCallRecord {
  id: string;
  callIdHash: string;
  startedAt: Date;
  answeredAt: Date | null;
  endedAt: Date | null;
  /** endedAt − answeredAt for answered calls, else null. */
  durationMs: number | null;
  finalStatus: number | null;
  hangupSide: HangupSide;
  service: string | null;
  peer: string | null;
  callingNumber: string | null;
  calledNumber: string | null;
}

interface CallRecordRow {
  id: string;
  call_id_hash: string;
  started_at: number;
  answered_at: number | null;
  ended_at: number | null;
  duration_ms: number | null;
  final_status: number | null;
  hangup_side: string;
  service: string | null;
  /** Rows written before migration 8: one value per field (fields_enc NULL). */
  peer_enc: string | null;
  calling_enc: string | null;
  called_enc: string | null;
  fields_enc: string | null;
}

const T = "call_records";
const CALL_ID_DOMAIN = "call-id";
/** What a new row is written with: the per-field columns of older rows stay NULL. */
const COLUMNS = "id, call_id_hash, started_at, answered_at, ended_at, duration_ms, final_status, hangup_side, service, fields_enc";
const READ_COLUMNS = `${COLUMNS}, peer_enc, calling_enc, called_enc`;

/** One call_records row as inserted (COLUMNS order). */
export type EncodedRecord = SqlValue[];
type Row = EncodedRecord;

const ROW_PLACEHOLDERS = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const INSERT_ONE = `INSERT INTO call_records (${COLUMNS}) VALUES ${ROW_PLACEHOLDERS} ON CONFLICT (id) DO NOTHING`;
/** Rows per multi-row INSERT on PostgreSQL (10 parameters each, far below its 65 535 limit). */
const PG_ROWS_PER_STATEMENT = 500;

/**
 * SQLite: one cached prepared statement per row. In-process, a multi-row INSERT measured slower
 * (spreading ~800 parameters costs more than the per-statement overhead it saves), and `changes`
 * tells whether the row was new without a RETURNING clause (which cost ~2.5 µs/row).
 */
async function insertPerRow(tx: SqlTx, rows: readonly Row[]): Promise<boolean[]> {
  const inserted: boolean[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) inserted[i] = (await tx.run(INSERT_ONE, rows[i])) > 0;
  return inserted;
}

/** PostgreSQL: one round trip per up to PG_ROWS_PER_STATEMENT rows instead of one per row. */
async function insertMultiRow(tx: SqlTx, rows: readonly Row[]): Promise<boolean[]> {
  const inserted: boolean[] = new Array(rows.length).fill(false);
  const index = new Map<string, number>();
  for (let start = 0; start < rows.length; start += PG_ROWS_PER_STATEMENT) {
    const chunk = rows.slice(start, start + PG_ROWS_PER_STATEMENT);
    const params: SqlValue[] = [];
    for (let i = 0; i < chunk.length; i++) {
      index.set(chunk[i]![0] as string, start + i);
      for (const v of chunk[i]!) params.push(v);
    }
    const sql = `INSERT INTO call_records (${COLUMNS}) VALUES ${new Array(chunk.length).fill(ROW_PLACEHOLDERS).join(", ")} ON CONFLICT (id) DO NOTHING RETURNING id`;
    for (const { id } of await tx.all<{ id: string }>(sql, params)) inserted[index.get(id)!] = true;
  }
  return inserted;
}

export class CallRecordRepository {
  constructor(
    private readonly ctx: StoreContext,
    private readonly statistics: StatisticsRepository,
  ) {}

  hashCallId(callId: string): string {
    return this.ctx.keys.blindIndex(CALL_ID_DOMAIN, callId);
  }

  /**
   * Writes records in one transaction and adds them to the daily statistics in the same
   * transaction, so statistics are current at once and a record is counted exactly once (the
   * purge later only deletes). Returns how many records were written. Throws CallRecordError on
   * invalid input.
   *
   * Journal entries (AnsweredCall) in the batch are stored in call_journal, and each answered
   * call's record deletes its entry, in the same transaction: an entry lives exactly as long as
   * its call is up and unrecorded.
   *
   * With `batchId`, record ids are `batchId` + the record's index in its batch (base 36) instead
   * of random, and a record whose id is already stored is skipped (neither written nor counted
   * again): writing the same batch twice — the off-thread writer re-posts a batch whose
   * acknowledgement was lost with a dead worker — stores and counts it once. Journal inserts skip
   * an entry already there and deletes are unconditional, so a batch written twice leaves the
   * journal as once.
   */
  async insertMany(events: readonly CallEvent[], opts: InsertManyOptions = {}): Promise<number> {
    if (events.length === 0) return 0;
    const offset = opts.offset ?? 0;
    const owner = opts.journalOwner;
    const rows: Row[] = [];
    const peers: (string | null)[] = [];
    const opened: SqlValue[][] = [];
    const ended: string[] = [];
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (isAnsweredCall(e)) {
        if (owner === undefined) throw new Error("insertMany: journal entries need opts.journalOwner");
        opened.push(encodeJournalRow(this.ctx, owner, e, i, (callId) => this.hashCallId(callId)));
        continue;
      }
      const row = this.encode(e, i, opts.batchId === undefined ? undefined : `${opts.batchId}${(offset + i).toString(36)}`);
      rows.push(row);
      peers.push(e.peer ?? null);
      if (owner !== undefined && row[3] !== null) ended.push(journalId(owner, row[1] as string));
    }
    // Retried as a whole on a deadlock/serialization failure: the rows were built above, and a
    // rolled-back attempt left nothing (ids are the same, so nothing is written twice either).
    return transactionWithRetry(this.ctx.db, async (tx) => {
      if (opened.length > 0) await insertJournal(tx, opened);
      const n = await this.writeRows(tx, rows, peers);
      if (ended.length > 0) await deleteJournal(tx, ended);
      return n;
    });
  }

  /**
   * In an open transaction: inserts encoded rows (skipping ids already stored) and rolls the new
   * ones up into the daily statistics. `peers[i]` is row i's peer in clear (grouped by its index).
   */
  async writeRows(tx: SqlTx, rows: readonly Row[], peers: readonly (string | null)[]): Promise<number> {
    if (rows.length === 0) return 0;
    const inserted = tx.dialect === "postgres" ? await insertMultiRow(tx, rows) : await insertPerRow(tx, rows);
    const rollup: RollupInput[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (!inserted[i]) continue;
      const row = rows[i]!;
      rollup.push({
        startedAt: row[2] as number,
        answered: row[3] !== null,
        durationMs: row[5] as number | null,
        finalStatus: row[6] as number | null,
        service: row[8] as string | null,
        peer: peers[i] ?? null,
      });
    }
    if (rollup.length > 0) await this.statistics.rollup(tx, rollup);
    return rollup.length;
  }

  /**
   * Tests and troubleshooting only: no index serves it (migration 8 dropped it from the write
   * path), so it scans the retained records.
   */
  async findByCallId(callId: string): Promise<StoredCallRecord[]> {
    const rows = await this.ctx.db.all<CallRecordRow>(
      `SELECT ${READ_COLUMNS} FROM call_records WHERE call_id_hash = ? ORDER BY started_at, id`,
      [this.hashCallId(callId)],
    );
    return rows.map((r) => this.decode(r));
  }

  async count(): Promise<number> {
    const rows = await this.ctx.db.all<{ n: number | string }>("SELECT COUNT(*) AS n FROM call_records");
    return Number(rows[0]?.n ?? 0);
  }

  /** Oldest start time still stored (ms), or null when empty. */
  async oldestStartedAt(): Promise<number | null> {
    const rows = await this.ctx.db.all<{ m: number | string | null }>("SELECT MIN(started_at) AS m FROM call_records");
    const m = rows[0]?.m;
    return m === null || m === undefined ? null : Number(m);
  }

  /**
   * Deletes every record started before `cutoff`, in batches (one transaction each). Their
   * statistics were added when they were written, so only the anonymised aggregates remain.
   * Returns the number purged.
   */
  async purgeStartedBefore(cutoff: Date, opts: { batchSize?: number } = {}): Promise<number> {
    const batchSize = Math.max(1, Math.min(opts.batchSize ?? 500, 5000));
    let total = 0;
    for (;;) {
      const n = await this.ctx.db.transaction(async (tx) => {
        const rows = await tx.all<{ id: string }>(
          "SELECT id FROM call_records WHERE started_at < ? ORDER BY started_at, id LIMIT ?",
          [cutoff.getTime(), batchSize],
        );
        if (rows.length === 0) return 0;
        const placeholders = rows.map(() => "?").join(", ");
        await tx.run(`DELETE FROM call_records WHERE id IN (${placeholders})`, rows.map((r) => r.id));
        return rows.length;
      });
      total += n;
      if (n < batchSize) return total;
    }
  }

  /** After a purge: purged values unreadable from the database files too (reclaim.ts). */
  reclaimPurgedSpace(): Promise<void> {
    return reclaimDeletedSpace(this.ctx.db, ["call_records", "daily_statistics", "daily_statistics_durations"]);
  }

  private encode(r: CallRecordInput, i: number, fixedId: string | undefined): Row {
    if (typeof r.callId !== "string" || r.callId.length === 0) throw new CallRecordError(`record ${i}: callId: empty`);
    return this.encodeHashed(this.hashCallId(r.callId), r, i, fixedId);
  }

  /** A record whose Call-ID is known only by its hash (recovered from the call journal). */
  encodeHashed(callIdHash: string, r: Omit<CallRecordInput, "callId">, i: number, fixedId?: string): Row {
    const bad = (field: string, why: string) => new CallRecordError(`record ${i}: ${field}: ${why}`);
    const started = ms(r.startedAt);
    if (started === null) throw bad("startedAt", "required date");
    const answered = ms(r.answeredAt);
    if (answered === null && r.answeredAt) throw bad("answeredAt", "invalid date");
    const ended = ms(r.endedAt);
    if (ended === null && r.endedAt) throw bad("endedAt", "invalid date");
    if (!HANGUP_SIDES.includes(r.hangupSide)) throw bad("hangupSide", "caller, callee or none");
    const status = r.finalStatus ?? null;
    if (status !== null && (!Number.isInteger(status) || status < 100 || status > 699)) throw bad("finalStatus", "100–699 or null");
    const id = fixedId ?? pooledRandomBytes(16).toString("base64url");
    const duration = answered !== null && ended !== null ? Math.max(0, ended - answered) : null;
    return [
      id,
      callIdHash,
      started,
      answered,
      ended,
      duration,
      status,
      r.hangupSide,
      r.service ?? null,
      sealCallFields(this.ctx, T, id, r.peer, r.callingNumber, r.calledNumber),
    ];
  }

  private decode(r: CallRecordRow): StoredCallRecord {
    const date = (v: number | null) => (v === null ? null : new Date(Number(v)));
    const [peer, callingNumber, calledNumber] = openCallFields(this.ctx, T, r.id, r);
    return {
      id: r.id,
      callIdHash: r.call_id_hash,
      startedAt: new Date(Number(r.started_at)),
      answeredAt: date(r.answered_at),
      endedAt: date(r.ended_at),
      durationMs: r.duration_ms === null ? null : Number(r.duration_ms),
      finalStatus: r.final_status === null ? null : Number(r.final_status),
      hangupSide: r.hangup_side as HangupSide,
      service: r.service,
      peer,
      callingNumber,
      calledNumber,
    };
  }
}

function ms(d: Date | null | undefined): number | null {
  if (d === null || d === undefined) return null;
  const t = d instanceof Date ? d.getTime() : NaN;
  return Number.isNaN(t) ? null : t;
}

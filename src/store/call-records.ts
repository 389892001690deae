// Temporary call metadata, one row per INVITE dialog, kept only until the retention purge rolls it
// up into daily statistics (retention.ts). Calling/called numbers and the peer are encrypted; the
// Call-ID is stored only as a keyed hash (enough to find a call's record, not to read its Call-ID).
import { randomBytes } from "node:crypto";
import type { StoreContext } from "./context.js";
import type { RollupInput, StatisticsRepository } from "./statistics.js";

export { CallRecordWriter, type CallRecordWriterOptions } from "./call-record-writer.js";

export type HangupSide = "caller" | "callee" | "none";
export const HANGUP_SIDES: readonly HangupSide[] = ["caller", "callee", "none"];

export interface CallRecordInput {
  callId: string;
  startedAt: Date;
  answeredAt?: Date | null;
  endedAt?: Date | null;
  /** Final response status of the INVITE (100–699); null when none was sent (e.g. timeout). */
  finalStatus?: number | null;
  hangupSide: HangupSide;
  service?: string | null;
  peer?: string | null;
  callingNumber?: string | null;
  calledNumber?: string | null;
}

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
  peer_enc: string | null;
  calling_enc: string | null;
  called_enc: string | null;
}

const T = "call_records";
const CALL_ID_DOMAIN = "call-id";
const COLUMNS = "id, call_id_hash, started_at, answered_at, ended_at, duration_ms, final_status, hangup_side, service, peer_enc, calling_enc, called_enc";

export class CallRecordError extends Error {
  override name = "CallRecordError";
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
   * purge later only deletes). Returns how many. Throws CallRecordError on invalid input.
   */
  async insertMany(records: readonly CallRecordInput[]): Promise<number> {
    if (records.length === 0) return 0;
    const rows = records.map((r, i) => this.encode(r, i));
    const rollup: RollupInput[] = rows.map((row, i) => {
      const r = records[i]!;
      return {
        startedAt: row[2] as number,
        answered: row[3] !== null,
        durationMs: row[5] as number | null,
        finalStatus: r.finalStatus ?? null,
        service: r.service ?? null,
        peer: r.peer ?? null,
      };
    });
    await this.ctx.db.transaction(async (tx) => {
      for (const row of rows) {
        await tx.run(`INSERT INTO call_records (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, row);
      }
      await this.statistics.rollup(tx, rollup);
    });
    return rows.length;
  }

  async findByCallId(callId: string): Promise<StoredCallRecord[]> {
    const rows = await this.ctx.db.all<CallRecordRow>(
      `SELECT ${COLUMNS} FROM call_records WHERE call_id_hash = ? ORDER BY started_at, id`,
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

  private encode(r: CallRecordInput, i: number): (string | number | null)[] {
    const bad = (field: string, why: string) => new CallRecordError(`record ${i}: ${field}: ${why}`);
    if (typeof r.callId !== "string" || r.callId.length === 0) throw bad("callId", "empty");
    const started = ms(r.startedAt);
    if (started === null) throw bad("startedAt", "required date");
    const answered = ms(r.answeredAt);
    if (answered === null && r.answeredAt) throw bad("answeredAt", "invalid date");
    const ended = ms(r.endedAt);
    if (ended === null && r.endedAt) throw bad("endedAt", "invalid date");
    if (!HANGUP_SIDES.includes(r.hangupSide)) throw bad("hangupSide", "caller, callee or none");
    const status = r.finalStatus ?? null;
    if (status !== null && (!Number.isInteger(status) || status < 100 || status > 699)) throw bad("finalStatus", "100–699 or null");
    const id = randomBytes(16).toString("base64url");
    const duration = answered !== null && ended !== null ? Math.max(0, ended - answered) : null;
    return [
      id,
      this.hashCallId(r.callId),
      started,
      answered,
      ended,
      duration,
      status,
      r.hangupSide,
      r.service ?? null,
      this.ctx.encryptOpt(r.peer, T, "peer_enc", id),
      this.ctx.encryptOpt(r.callingNumber, T, "calling_enc", id),
      this.ctx.encryptOpt(r.calledNumber, T, "called_enc", id),
    ];
  }

  private decode(r: CallRecordRow): StoredCallRecord {
    const date = (v: number | null) => (v === null ? null : new Date(Number(v)));
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
      peer: this.ctx.decryptOpt(r.peer_enc, T, "peer_enc", r.id),
      callingNumber: this.ctx.decryptOpt(r.calling_enc, T, "calling_enc", r.id),
      calledNumber: this.ctx.decryptOpt(r.called_enc, T, "called_enc", r.id),
    };
  }
}

function ms(d: Date | null | undefined): number | null {
  if (d === null || d === undefined) return null;
  const t = d instanceof Date ? d.getTime() : NaN;
  return Number.isNaN(t) ? null : t;
}

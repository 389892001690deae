// The call journal (call_journal, migration 4): one row per answered call whose record is not
// written yet, so that a process killed mid-call (kill -9, OOM, a lost node) leaves behind which
// calls were up; call-journal-recovery.ts turns those rows into records. Rows are written and
// deleted only inside call-record batches (CallRecordRepository.insertMany): an answered call
// costs one INSERT in the batch after its 200 and one DELETE in the batch with its record, no
// extra transaction. Numbers and the peer are encrypted like call_records' (sealed together in
// fields_enc, call-fields.ts; entries written before migration 8 have one column per field); the
// Call-ID is only its keyed hash. The row id is `<owner>.<call-id hash>`: the record's own hash
// finds it.
import type { StoreContext } from "./context.js";
import type { SqlTx, SqlValue } from "./db/driver.js";
import { CallRecordError, type AnsweredCall } from "./call-record-types.js";
import { sealCallFields } from "./call-fields.js";

export const JOURNAL_TABLE = "call_journal";
const COLUMNS = "id, owner, call_id_hash, started_at, answered_at, final_status, service, fields_enc";
const ROW_PLACEHOLDERS = "(?, ?, ?, ?, ?, ?, ?, ?)";
const INSERT_ONE = `INSERT INTO call_journal (${COLUMNS}) VALUES ${ROW_PLACEHOLDERS} ON CONFLICT (id) DO NOTHING`;
/** PostgreSQL rows per statement (8 parameters each, far below its 65 535 limit). */
const PG_ROWS_PER_STATEMENT = 500;

export function journalId(owner: string, callIdHash: string): string {
  return `${owner}.${callIdHash}`;
}

/** Validates and encrypts one entry (index `i` in its batch, for the error message). */
export function encodeJournalRow(ctx: StoreContext, owner: string, e: AnsweredCall, i: number, hashCallId: (callId: string) => string): SqlValue[] {
  const bad = (field: string, why: string) => new CallRecordError(`record ${i}: ${field}: ${why}`);
  if (typeof e.callId !== "string" || e.callId.length === 0) throw bad("callId", "empty");
  const started = e.startedAt instanceof Date ? e.startedAt.getTime() : NaN;
  if (Number.isNaN(started)) throw bad("startedAt", "required date");
  const answered = e.answeredAt instanceof Date ? e.answeredAt.getTime() : NaN;
  if (Number.isNaN(answered)) throw bad("answeredAt", "required date");
  if (!Number.isInteger(e.finalStatus) || e.finalStatus < 200 || e.finalStatus > 299) throw bad("finalStatus", "2xx for an answered call");
  const hash = hashCallId(e.callId);
  const id = journalId(owner, hash);
  return [
    id,
    owner,
    hash,
    started,
    answered,
    e.finalStatus,
    e.service ?? null,
    sealCallFields(ctx, JOURNAL_TABLE, id, e.peer, e.callingNumber, e.calledNumber),
  ];
}

/** An entry already there (the same batch written twice) is kept as it is. */
export async function insertJournal(tx: SqlTx, rows: readonly SqlValue[][]): Promise<void> {
  if (tx.dialect !== "postgres") {
    for (const r of rows) await tx.run(INSERT_ONE, r);
    return;
  }
  for (let start = 0; start < rows.length; start += PG_ROWS_PER_STATEMENT) {
    const chunk = rows.slice(start, start + PG_ROWS_PER_STATEMENT);
    await tx.run(`INSERT INTO call_journal (${COLUMNS}) VALUES ${new Array(chunk.length).fill(ROW_PLACEHOLDERS).join(", ")} ON CONFLICT (id) DO NOTHING`, chunk.flat());
  }
}

export async function deleteJournal(tx: SqlTx, ids: readonly string[]): Promise<void> {
  if (tx.dialect !== "postgres") {
    for (const id of ids) await tx.run("DELETE FROM call_journal WHERE id = ?", [id]);
    return;
  }
  for (let start = 0; start < ids.length; start += PG_ROWS_PER_STATEMENT) {
    const chunk = ids.slice(start, start + PG_ROWS_PER_STATEMENT);
    await tx.run(`DELETE FROM call_journal WHERE id IN (${chunk.map(() => "?").join(", ")})`, chunk);
  }
}

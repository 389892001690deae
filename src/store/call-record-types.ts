// The call-record types shared by the repository (call-records.ts), the call journal
// (call-journal.ts) and the writers, kept apart so that neither imports the other.

/**
 * Who ended the call. "none": nobody (unanswered, or still up when trunkgate stopped cleanly);
 * "unknown": the instance that carried the call died (kill -9, lost node) before it saw the end —
 * the record was made from the call journal on recovery (call-journal-recovery.ts).
 */
export type HangupSide = "caller" | "callee" | "none" | "unknown";
export const HANGUP_SIDES: readonly HangupSide[] = ["caller", "callee", "none", "unknown"];

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

/**
 * An answered call whose record is not written yet. It travels in the same batches as the records
 * and is kept in call_journal until the batch with its record deletes it; what is left there after
 * a crash are the calls that were up (see call-journal-recovery.ts).
 */
export interface AnsweredCall {
  /** Tells a journal entry from a record in a batch. */
  readonly journal: true;
  callId: string;
  startedAt: Date;
  answeredAt: Date;
  finalStatus: number;
  service?: string | null;
  peer?: string | null;
  callingNumber?: string | null;
  calledNumber?: string | null;
}

/** What a call-record batch carries: records, and journal entries for answered calls. */
export type CallEvent = CallRecordInput | AnsweredCall;

export function isAnsweredCall(e: CallEvent): e is AnsweredCall {
  return (e as AnsweredCall).journal === true;
}

export interface InsertManyOptions {
  /** Deterministic, idempotent ids: `batchId` + index (see insertMany). */
  batchId?: string;
  /** Index of the first record within its batch (a batch written record by record). */
  offset?: number;
  /**
   * The store_instances id of the writing instance: journal entries are kept under it, and an
   * answered call's record deletes its entry. Required when the batch holds journal entries.
   */
  journalOwner?: string;
}

export class CallRecordError extends Error {
  override name = "CallRecordError";
}

// What crosses the thread boundary between the main-thread CallRecordWorkerWriter and its worker
// (call-record-worker.ts). A batch of records travels as one flat array of primitives, 11 slots per
// record or journal entry (the last slot tells which), with times as epoch ms: record() then allocates nothing, and structured-cloning a flat
// array of strings and numbers is much cheaper than cloning objects (their keys) or Dates.
import { isAnsweredCall, type CallEvent, type HangupSide } from "./call-record-types.js";
import { Keyring } from "./crypto/keyring.js";

export type WireValue = string | number | null;
export const WIRE_FIELDS = 11;
/** The last slot: a call record, or a journal entry for an answered call (AnsweredCall). */
const RECORD = 0;
const ANSWERED = 1;

/** The keyring's key material (fresh copies: a pooled Buffer would clone its whole pool). */
export interface WireKeyring {
  active: string;
  keys: Record<string, Uint8Array>;
  indexKey: Uint8Array;
}

export interface WorkerInit {
  url: string;
  baseDir: string;
  keyring: WireKeyring;
  /** The store_instances id journal entries are kept under (the instance's, see call-journal.ts). */
  journalOwner: string;
  /** Test hook: exit right after committing this many batches, before acknowledging the last. */
  exitAfterBatches?: number;
}

/** A key change (rotation, prune) reaches the worker as a keyring message, in order with the batches. */
export type ToWorker = { type: "write"; id: string; data: WireValue[] } | { type: "keyring"; keyring: WireKeyring } | { type: "close" };

export type FromWorker =
  | { type: "done"; id: string; written: number; invalid: string[] }
  | { type: "failed"; id: string; error: string }
  /** The worker writes with this active key from now on (every later batch uses it). */
  | { type: "keyring"; active: string }
  | { type: "closed" };

export function toWireKeyring(k: Keyring): WireKeyring {
  const d = k.toData();
  return {
    active: d.active,
    keys: Object.fromEntries(Object.entries(d.keys).map(([kid, key]) => [kid, new Uint8Array(key)])),
    indexKey: new Uint8Array(d.indexKey),
  };
}

export function fromWireKeyring(w: WireKeyring): Keyring {
  return new Keyring({
    active: w.active,
    keys: Object.fromEntries(Object.entries(w.keys).map(([kid, k]) => [kid, Buffer.from(k)])),
    indexKey: Buffer.from(w.indexKey),
  });
}

/**
 * Appends one record or journal entry. Values of the wrong type become values insertMany rejects
 * (NaN time or status, empty callId or hangup side), so an invalid record is dropped as "invalid"
 * in the worker exactly as the inline writer would drop it.
 */
export function appendWire(out: WireValue[], e: CallEvent): void {
  const answered = isAnsweredCall(e);
  out.push(
    typeof e.callId === "string" ? e.callId : "",
    time(e.startedAt),
    time(e.answeredAt),
    answered ? null : time(e.endedAt),
    e.finalStatus === null || e.finalStatus === undefined ? null : typeof e.finalStatus === "number" ? e.finalStatus : NaN,
    answered ? "" : typeof e.hangupSide === "string" ? e.hangupSide : "",
    text(e.service),
    text(e.peer),
    text(e.callingNumber),
    text(e.calledNumber),
    answered ? ANSWERED : RECORD,
  );
}

export function decodeWire(data: readonly WireValue[]): CallEvent[] {
  const out: CallEvent[] = [];
  for (let i = 0; i + WIRE_FIELDS <= data.length; i += WIRE_FIELDS) {
    const common = {
      callId: data[i] as string,
      service: data[i + 6] as string | null,
      peer: data[i + 7] as string | null,
      callingNumber: data[i + 8] as string | null,
      calledNumber: data[i + 9] as string | null,
    };
    if (data[i + 10] === ANSWERED) {
      // A missing answer time or status stays invalid (NaN), so the entry is refused, not guessed.
      out.push({ ...common, journal: true, startedAt: date(data[i + 1]) as Date, answeredAt: date(data[i + 2]) ?? new Date(NaN), finalStatus: (data[i + 4] as number | null) ?? NaN });
      continue;
    }
    out.push({
      ...common,
      startedAt: date(data[i + 1]) as Date,
      answeredAt: date(data[i + 2]),
      endedAt: date(data[i + 3]),
      finalStatus: data[i + 4] as number | null,
      hangupSide: data[i + 5] as HangupSide,
    });
  }
  return out;
}

function time(d: Date | null | undefined): number | null {
  if (d === null || d === undefined) return null;
  return d instanceof Date ? d.getTime() : NaN;
}

function date(v: WireValue | undefined): Date | null {
  return typeof v === "number" ? new Date(v) : null;
}

function text(v: string | null | undefined): string | null {
  return typeof v === "string" ? v : null;
}

/** Driver errors may quote statement parameters: only the message head and code cross threads or reach logs. */
export function errorSummary(err: unknown): string {
  const e = err as { message?: string; code?: string };
  return `${e.code ? `${e.code}: ` : ""}${String(e.message ?? err).split("\n")[0]!.slice(0, 200)}`;
}

// Turns the proxy's call events into call records (one per INVITE dialog) for the store's batched
// writer. Unanswered calls are recorded when the INVITE fails; answered calls when a BYE ends
// them (or, if the BYE never comes, when the dialog has been idle past the limit, or on shutdown).
// An answered call is also journaled at once (sink.answered, written in the next batch), so that
// if this process dies before the call's record is written, the next start records it
// (src/store/call-journal-recovery.ts).
// Runs once per INVITE and per BYE: a Map entry per live call, no timers per call.
import type { AnsweredCall, CallRecordInput, HangupSide } from "../store/call-record-types.js";
import type { Direction } from "./metrics.js";
import type { CallObserver, InviteCompletion } from "./proxy/call-observer.js";
import { calledNumber, callingNumber } from "./route/call-numbers.js";

export interface CallRecordSinkSync {
  /** Queue one record; never waits (CallRecordWriter.record). */
  record(r: CallRecordInput): boolean;
  /** Journal an answered call until its record is written (CallRecordWriter.answered). */
  answered(c: AnsweredCall): boolean;
}

// Times are kept as epoch ms, not Dates: a live call stays in memory for the call's whole length,
// and two Date objects per call were a good part of what every young-generation GC had to copy.
interface LiveCall {
  status: number;
  startedAt: number;
  answeredAt: number;
  direction: Direction;
  input: Omit<CallRecordInput, "startedAt" | "answeredAt" | "endedAt" | "hangupSide" | "finalStatus">;
}

export class CallRecorder implements CallObserver {
  readonly #live = new Map<string, LiveCall>();

  constructor(
    private sink: CallRecordSinkSync,
    private opts: { now: () => Date; assumeInternational: boolean; maxCallMs: number },
  ) {}

  get liveCalls(): number {
    return this.#live.size;
  }

  inviteCompleted(c: InviteCompletion): void {
    const now = this.opts.now();
    const startedAt = now.getTime() - c.elapsedMs;
    const base = {
      callId: c.req.callId,
      service: c.service,
      peer: c.peer,
      callingNumber: callingNumber(c.req, this.opts.assumeInternational) ?? null,
      calledNumber: calledNumber(c.req, this.opts.assumeInternational) ?? null,
    };
    if (c.status >= 200 && c.status < 300) {
      this.#live.set(c.req.callId, { status: c.status, startedAt, answeredAt: now.getTime(), direction: c.direction, input: base });
      this.sink.answered({ journal: true, ...base, startedAt: new Date(startedAt), answeredAt: now, finalStatus: c.status });
      return;
    }
    this.sink.record({ ...base, startedAt: new Date(startedAt), answeredAt: null, endedAt: now, finalStatus: c.status, hangupSide: "none" });
  }

  byeCompleted(callId: string, direction: Direction): void {
    const call = this.#live.get(callId);
    if (call === undefined) return;
    this.#live.delete(callId);
    // The side that sent the BYE hung up: from the trunk = inbound; the caller is whoever sent the INVITE.
    const side: HangupSide = direction === call.direction ? "caller" : "callee";
    this.#finish(call, this.opts.now(), side);
  }

  /** Records calls whose BYE never came (lost, or the far end vanished); call every few minutes. */
  sweep(): number {
    const now = this.opts.now();
    let n = 0;
    for (const [id, call] of this.#live) {
      if (now.getTime() - call.answeredAt > this.opts.maxCallMs) {
        this.#live.delete(id);
        this.#finish(call, null, "none");
        n++;
      }
    }
    return n;
  }

  /** On shutdown: record every call still up, with no end time (it did not end here). */
  flushLive(): void {
    for (const call of this.#live.values()) this.#finish(call, null, "none");
    this.#live.clear();
  }

  #finish(call: LiveCall, endedAt: Date | null, hangupSide: HangupSide): void {
    this.sink.record({ ...call.input, startedAt: new Date(call.startedAt), answeredAt: new Date(call.answeredAt), endedAt, finalStatus: call.status, hangupSide });
  }
}


// The admission decision for one peer (pure: the caller passes the time, nothing here does I/O).
// What is refused and what never is:
// - ACK, BYE and CANCEL are never refused (an ACK gets no response at all; BYE and CANCEL end calls,
//   and refusing them would keep calls, and what they hold, alive longer: the opposite of shedding).
//   They do take a request token when one is there, so they count toward requestsPerSecond.
// - An initial INVITE (no To tag) is a new call: refused under overload, beyond requestsPerSecond,
//   at maxConcurrentCalls, or beyond newCallsPerSecond.
// - Any other request (in dialog or not: re-INVITE, UPDATE, INFO, OPTIONS, …) only beyond
//   requestsPerSecond (RFC 5057: a 503 inside a dialog fails that transaction, not the dialog);
//   overload never sheds it: in-dialog work finishes calls already accepted.
import type { PeerLimits } from "./limits.js";
import { TokenBucket } from "./token-bucket.js";

export const REJECTION_REASONS = ["concurrent_calls", "call_rate", "request_rate", "overload"] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

export const enum RequestKind {
  /** An initial INVITE: a new call. */
  NewCall,
  /** ACK, BYE, CANCEL: counted, never refused. */
  Passing,
  /** Everything else. */
  Other,
}

export function requestKind(method: string, hasToTag: boolean): RequestKind {
  if (method === "INVITE") return hasToTag ? RequestKind.Other : RequestKind.NewCall;
  return method === "ACK" || method === "BYE" || method === "CANCEL" ? RequestKind.Passing : RequestKind.Other;
}

export class PeerAdmission {
  /** Calls from this peer whose INVITE is not answered yet (CallTracker keeps it). */
  callsInSetup = 0;
  /** Confirmed dialogs this peer started (the dialog table's events keep it). */
  dialogs = 0;
  #limits: PeerLimits;
  readonly #calls: TokenBucket;
  readonly #requests: TokenBucket;

  constructor(readonly name: string, limits: PeerLimits, nowMs: number) {
    this.#limits = limits;
    this.#calls = new TokenBucket(limits.newCallsPerSecond, limits.newCallsBurst, nowMs);
    this.#requests = new TokenBucket(limits.requestsPerSecond, limits.requestsBurst, nowMs);
  }

  get limits(): PeerLimits {
    return this.#limits;
  }

  /** Calls counted against maxConcurrentCalls. */
  get activeCalls(): number {
    return this.callsInSetup + this.dialogs;
  }

  /** Why this request must be refused, or undefined to let it through. */
  decide(kind: RequestKind, nowMs: number, overloaded: boolean): RejectionReason | undefined {
    const l = this.#limits;
    if (kind === RequestKind.Passing) {
      if (l.requestsPerSecond > 0) this.#requests.drain(nowMs);
      return undefined;
    }
    // Shed before spending any token: what overload refuses should not cost the peer its rate.
    if (kind === RequestKind.NewCall && overloaded) return "overload";
    if (l.requestsPerSecond > 0 && !this.#requests.take(nowMs)) return "request_rate";
    if (kind !== RequestKind.NewCall) return undefined;
    if (l.maxConcurrentCalls > 0 && this.activeCalls >= l.maxConcurrentCalls) return "concurrent_calls";
    if (l.newCallsPerSecond > 0 && !this.#calls.take(nowMs)) return "call_rate";
    return undefined;
  }

  /** Live reload: new limits; calls counted and tokens held carry over. */
  reconfigure(limits: PeerLimits, nowMs: number): void {
    this.#limits = limits;
    this.#calls.reconfigure(limits.newCallsPerSecond, limits.newCallsBurst, nowMs);
    this.#requests.reconfigure(limits.requestsPerSecond, limits.requestsBurst, nowMs);
  }
}

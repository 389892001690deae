// Counts each peer's calls in setup: from the INVITE the gate let through to its final response.
// Answered calls are counted from the dialog table's events instead (PeerAdmission.dialogs), so a
// call is counted in exactly one place at a time and every way a call ends takes it off:
//   final response (2xx → the dialog takes over; non-2xx, CANCEL's 487) → ended();
//   the core answering the INVITE itself without a transaction (400, 488, draining 503) → ended();
//   the trunk's connection lost before the answer → connectionClosed();
//   and, should any path still be missed, sweep() drops entries older than the longest an INVITE
//   transaction can live (Timer C plus its guard), so nothing stays counted for ever.
// Keyed by Call-ID + From tag: an INVITE retransmission is not a second call.
import type { PeerAdmission } from "./peer-admission.js";

interface CallInSetup {
  readonly peer: PeerAdmission;
  readonly connectionId: number;
  readonly startedAt: number;
}

export function setupKey(callId: string, fromTag: string | undefined): string {
  return fromTag === undefined ? callId : `${callId}\n${fromTag}`;
}

export class CallTracker {
  readonly #calls = new Map<string, CallInSetup>();
  /** Keys of the calls in setup per trunk connection (a lost connection ends them). */
  readonly #byConnection = new Map<number, Set<string>>();

  get size(): number {
    return this.#calls.size;
  }

  has(key: string): boolean {
    return this.#calls.has(key);
  }

  /** A new call; false when the key is already counted (a retransmission). */
  started(key: string, peer: PeerAdmission, connectionId: number, nowMs: number): boolean {
    if (this.#calls.has(key)) return false;
    this.#calls.set(key, { peer, connectionId, startedAt: nowMs });
    let keys = this.#byConnection.get(connectionId);
    if (keys === undefined) this.#byConnection.set(connectionId, (keys = new Set()));
    keys.add(key);
    peer.callsInSetup++;
    return true;
  }

  /** The INVITE got its final response (or will never get one from the core). */
  ended(key: string): void {
    const c = this.#calls.get(key);
    if (c === undefined) return;
    this.#calls.delete(key);
    c.peer.callsInSetup--;
    const keys = this.#byConnection.get(c.connectionId);
    if (keys !== undefined) {
      keys.delete(key);
      if (keys.size === 0) this.#byConnection.delete(c.connectionId);
    }
  }

  /** The trunk connection closed: its calls in setup can no longer be answered. Returns how many. */
  connectionClosed(connectionId: number): number {
    const keys = this.#byConnection.get(connectionId);
    if (keys === undefined) return 0;
    this.#byConnection.delete(connectionId);
    for (const key of keys) {
      const c = this.#calls.get(key);
      if (c === undefined) continue;
      this.#calls.delete(key);
      c.peer.callsInSetup--;
    }
    return keys.size;
  }

  /** Drops calls in setup for longer than `maxAgeMs` (a path that ended them unseen); returns how many. */
  sweep(nowMs: number, maxAgeMs: number): number {
    let n = 0;
    for (const [key, c] of this.#calls) {
      if (nowMs - c.startedAt > maxAgeMs) {
        this.ended(key);
        n++;
      }
    }
    return n;
  }
}

// INVITE server transaction (RFC 3261 §17.2.1, amended by RFC 6026 §7.1): Proceeding → Completed
// (non-2xx final; waits for the ACK, Timer H) → Confirmed (Timer I) → Terminated, or Proceeding →
// Accepted (2xx; Timer L = 64·T1) where ACKs that match are passed to the core to be forwarded.
// The transaction keeps the last response's bytes so it can answer retransmissions itself.
import type { TimerEntry, TimerTarget, Timers } from "../timer/timers.js";
import { ServerState, TimerKind, type ServerTxOwner, type TxTiming } from "./types.js";

export class InviteServerTransaction<C = unknown> implements TimerTarget {
  state = ServerState.Proceeding;
  /** Last response sent (provisional or final), for retransmissions; undefined before any. */
  lastResponse: Buffer | undefined;
  /** Status of the last response sent (0 before any). */
  lastStatus = 0;
  #tG: TimerEntry | undefined;
  #tH: TimerEntry | undefined;
  #tEnd: TimerEntry | undefined;
  #gInterval: number;

  constructor(
    readonly key: string,
    readonly ctx: C,
    private owner: ServerTxOwner<InviteServerTransaction<C>>,
    private timers: Timers,
    private timing: TxTiming,
  ) {
    this.#gInterval = timing.t1;
  }

  /** A retransmission of the INVITE arrived. */
  receiveRequestRetransmission(): void {
    if ((this.state === ServerState.Proceeding || this.state === ServerState.Completed) && this.lastResponse) {
      this.owner.retransmitResponse(this);
    }
  }

  /**
   * Records a response the core is about to send. Returns false when the transaction may no
   * longer send it (a final was already sent): the caller then drops the response.
   */
  sendResponse(status: number, bytes: Buffer): boolean {
    if (this.state === ServerState.Accepted) {
      // RFC 6026: 2xx retransmissions from the UAS are forwarded in Accepted.
      return status >= 200 && status < 300;
    }
    if (this.state !== ServerState.Proceeding) return false;
    this.lastResponse = bytes;
    this.lastStatus = status;
    if (status < 200) return true;
    if (status < 300) {
      // Nothing is ever resent from Accepted (the UAS retransmits its 2xx itself): keep no bytes.
      this.lastResponse = undefined;
      this.state = ServerState.Accepted;
      if (this.timing.reliable && this.owner.takeOverAccepted?.(this) === true) {
        this.state = ServerState.Terminated;
        return true;
      }
      this.#tEnd = this.timers.start(this, TimerKind.L, 64 * this.timing.t1);
      return true;
    }
    this.state = ServerState.Completed;
    if (!this.timing.reliable) this.#tG = this.timers.start(this, TimerKind.G, this.#gInterval);
    this.#tH = this.timers.start(this, TimerKind.H, 64 * this.timing.t1);
    return true;
  }

  /** An ACK matched this transaction (same branch: the ACK for a non-2xx, or RFC 6026 Accepted). */
  receiveAck(ack: unknown): void {
    if (this.state === ServerState.Completed) {
      this.timers.cancel(this.#tG);
      this.timers.cancel(this.#tH);
      this.#tG = this.#tH = undefined;
      this.state = ServerState.Confirmed;
      if (this.timing.reliable) this.#terminate();
      else this.#tEnd = this.timers.start(this, TimerKind.I, this.timing.t4);
    } else if (this.state === ServerState.Accepted) {
      this.owner.ackInAccepted(this, ack);
    }
    // Confirmed / Proceeding: absorbed (an ACK before any final is meaningless).
  }

  /** The connection toward the client is gone: nothing more can be sent. */
  transportError(): void {
    if (this.state !== ServerState.Accepted) this.#terminate();
  }

  onTimer(kind: number): void {
    switch (kind) {
      case TimerKind.G:
        if (this.state !== ServerState.Completed) return;
        this.owner.retransmitResponse(this);
        this.#gInterval = Math.min(2 * this.#gInterval, this.timing.t2);
        this.#tG = this.timers.start(this, TimerKind.G, this.#gInterval);
        return;
      case TimerKind.H:
        if (this.state !== ServerState.Completed) return;
        this.owner.ackTimeout(this);
        this.#terminate();
        return;
      case TimerKind.I:
      case TimerKind.L:
        this.#terminate();
        return;
    }
  }

  #terminate(): void {
    if (this.state === ServerState.Terminated) return;
    this.timers.cancel(this.#tG);
    this.timers.cancel(this.#tH);
    this.timers.cancel(this.#tEnd);
    this.#tG = this.#tH = this.#tEnd = undefined;
    this.state = ServerState.Terminated;
    this.owner.serverTerminated(this);
  }
}

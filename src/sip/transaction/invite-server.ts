// INVITE server transaction (RFC 3261 §17.2.1, amended by RFC 6026 §7.1): Proceeding → Completed
// (non-2xx final; waits for the ACK, Timer H) → Confirmed (Timer I) → Terminated, or Proceeding →
// Accepted (2xx; Timer L = 64·T1) where ACKs that match are passed to the core to be forwarded.
// The transaction keeps the last response's bytes so it can answer retransmissions itself.
// sendResponse and receiveAck return what the layer does (SendResult, AckAction); a 2xx's Accepted
// state is settled by the layer after the response went out (Timer L, or handed to a compact record).
import type { TimerEntry, TimerTarget, Timers } from "../timer/timers.js";
import { AckAction, SendResult, ServerState, TimerKind, type ServerTxOwner, type TxTiming } from "./types.js";

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

  /** A retransmission of the INVITE arrived: true when the last response must be sent again. */
  receiveRequestRetransmission(): boolean {
    return (this.state === ServerState.Proceeding || this.state === ServerState.Completed) && this.lastResponse !== undefined;
  }

  /** Records a response the core is about to send; Refused when a final was already sent. */
  sendResponse(status: number, bytes: Buffer): SendResult {
    if (this.state === ServerState.Accepted) {
      // RFC 6026: 2xx retransmissions from the UAS are forwarded in Accepted.
      return status >= 200 && status < 300 ? SendResult.Sent : SendResult.Refused;
    }
    if (this.state !== ServerState.Proceeding) return SendResult.Refused;
    this.lastResponse = bytes;
    this.lastStatus = status;
    if (status < 200) return SendResult.Sent;
    if (status < 300) {
      // Nothing is ever resent from Accepted (the UAS retransmits its 2xx itself): keep no bytes.
      this.lastResponse = undefined;
      this.state = ServerState.Accepted;
      return SendResult.SentAccepted;
    }
    this.state = ServerState.Completed;
    if (!this.timing.reliable) this.#tG = this.timers.start(this, TimerKind.G, this.#gInterval);
    this.#tH = this.timers.start(this, TimerKind.H, 64 * this.timing.t1);
    return SendResult.Sent;
  }

  /** After SentAccepted, when the layer kept this transaction: Timer L. */
  settle(): void {
    if (this.state === ServerState.Accepted && this.#tEnd === undefined) {
      this.#tEnd = this.timers.start(this, TimerKind.L, 64 * this.timing.t1);
    }
  }

  /**
   * Over TLS/TCP, after SentAccepted: the layer keeps a compact record of the Accepted state
   * instead (nothing is retransmitted from it). Ends without Timer L and without serverTerminated.
   */
  handOffAccepted(): void {
    if (this.state !== ServerState.Accepted) return;
    this.timers.cancel(this.#tEnd);
    this.#tEnd = undefined;
    this.state = ServerState.Terminated;
  }

  /** An ACK matched this transaction (same branch: the ACK for a non-2xx, or RFC 6026 Accepted). */
  receiveAck(): AckAction {
    if (this.state === ServerState.Completed) {
      this.timers.cancel(this.#tG);
      this.timers.cancel(this.#tH);
      this.#tG = this.#tH = undefined;
      this.state = ServerState.Confirmed;
      if (this.timing.reliable) this.#terminate();
      else this.#tEnd = this.timers.start(this, TimerKind.I, this.timing.t4);
      return AckAction.Absorb;
    }
    // Accepted: forwarded end to end. Confirmed / Proceeding: absorbed (an ACK before any final is meaningless).
    return this.state === ServerState.Accepted ? AckAction.Forward : AckAction.Absorb;
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

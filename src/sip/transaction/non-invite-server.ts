// Non-INVITE server transaction (RFC 3261 §17.2.2): Trying/Proceeding → Completed (Timer J = 64·T1
// over unreliable transports, zero over TLS/TCP) → Terminated. Request retransmissions are
// answered with the last response sent.
import type { TimerEntry, TimerTarget, Timers } from "../timer/timers.js";
import { SendResult, ServerState, TimerKind, type ServerTxOwner, type TxTiming } from "./types.js";

export class NonInviteServerTransaction<C = unknown> implements TimerTarget {
  state = ServerState.Proceeding;
  lastResponse: Buffer | undefined;
  lastStatus = 0;
  #tJ: TimerEntry | undefined;

  constructor(
    readonly key: string,
    readonly ctx: C,
    private owner: ServerTxOwner<NonInviteServerTransaction<C>>,
    private timers: Timers,
    private timing: TxTiming,
  ) {}

  /** A retransmission of the request arrived: true when the last response must be sent again. */
  receiveRequestRetransmission(): boolean {
    return this.lastResponse !== undefined && this.state !== ServerState.Terminated;
  }

  /**
   * Records a response the core is about to send; Refused once a final was sent. A final over
   * TLS/TCP returns SentThenEnd: the layer ends the transaction (settle) after the core's
   * bookkeeping for that final, so the end is never reported in the middle of sending it.
   */
  sendResponse(status: number, bytes: Buffer): SendResult {
    if (this.state !== ServerState.Proceeding) return SendResult.Refused;
    this.lastResponse = bytes;
    this.lastStatus = status;
    if (status < 200) return SendResult.Sent;
    this.state = ServerState.Completed;
    if (this.timing.reliable) return SendResult.SentThenEnd;
    this.#tJ = this.timers.start(this, TimerKind.J, 64 * this.timing.t1);
    return SendResult.Sent;
  }

  /** After SentThenEnd: Timer J is zero, the transaction ends now. */
  settle(): void {
    if (this.state === ServerState.Completed && this.#tJ === undefined) this.#terminate();
  }

  transportError(): void {
    this.#terminate();
  }

  onTimer(kind: number): void {
    if (kind === TimerKind.J) this.#terminate();
  }

  #terminate(): void {
    if (this.state === ServerState.Terminated) return;
    this.timers.cancel(this.#tJ);
    this.#tJ = undefined;
    this.state = ServerState.Terminated;
    this.owner.serverTerminated(this);
  }
}

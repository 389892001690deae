// INVITE client transaction (RFC 3261 §17.1.1, amended by RFC 6026 §7.2: a 2xx moves it to
// Accepted, where 2xx retransmissions keep reaching the proxy core for Timer M = 64·T1).
// receiveResponse returns what the layer does with the response (ClientAction); the layer then
// settles the transition (settleAccepted / settleCompleted) once the proxy core handled it.
// Timer C (§16.6 step 11) lives here too because it belongs to each forwarded INVITE.
import type { TimerEntry, TimerTarget, Timers } from "../timer/timers.js";
import { ClientAction, ClientState, TimerKind, type ClientTxOwner, type TxTiming } from "./types.js";

export class InviteClientTransaction<C = unknown> implements TimerTarget {
  state = ClientState.Calling;
  /** Whether any provisional (including 100) arrived: a CANCEL may only be sent after one (§9.1). */
  provisionalSeen = false;
  /** Final status received (0 while none). */
  finalStatus = 0;
  #tA: TimerEntry | undefined;
  #tB: TimerEntry | undefined;
  #tC: TimerEntry | undefined;
  #tEnd: TimerEntry | undefined;
  #tFailover: TimerEntry | undefined;
  #aInterval: number;

  constructor(
    readonly branch: string,
    /** The proxy core's per-request context (response context, chosen target, ...). */
    readonly ctx: C,
    private owner: ClientTxOwner<InviteClientTransaction<C>>,
    private timers: Timers,
    private timing: TxTiming,
  ) {
    this.#aInterval = timing.t1;
  }

  /**
   * Call right after the request was handed to the transport. `failoverMs` > 0: fail with
   * "failover" when no provisional arrived by then (the proxy tries its next target instead of
   * waiting a whole Timer B); `timerBMs`: Timer B, shorter than 64·T1 when an earlier attempt of
   * the same request already used part of it (the request as a whole is bounded by 64·T1).
   */
  start(failoverMs = 0, timerBMs = 64 * this.timing.t1): void {
    if (!this.timing.reliable) this.#tA = this.timers.start(this, TimerKind.A, this.#aInterval);
    this.#tB = this.timers.start(this, TimerKind.B, timerBMs);
    this.#tC = this.timers.start(this, TimerKind.C, this.timing.timerC);
    if (failoverMs > 0) this.#tFailover = this.timers.start(this, TimerKind.Failover, failoverMs);
  }

  receiveResponse(status: number): ClientAction {
    switch (this.state) {
      case ClientState.Calling:
      case ClientState.Proceeding:
        if (status < 200) {
          this.state = ClientState.Proceeding;
          this.provisionalSeen = true;
          this.timers.cancel(this.#tA);
          this.timers.cancel(this.#tB);
          this.timers.cancel(this.#tFailover);
          this.#tA = this.#tB = this.#tFailover = undefined;
          // §16.7 step 2: Timer C restarts on every provisional response.
          this.timers.cancel(this.#tC);
          this.#tC = this.timers.start(this, TimerKind.C, this.timing.timerC);
          return ClientAction.PassUp;
        }
        this.finalStatus = status;
        this.#stopRunning();
        if (status < 300) {
          this.state = ClientState.Accepted;
          return ClientAction.PassUpAccepted;
        }
        this.state = ClientState.Completed;
        return ClientAction.AckPassUpCompleted;
      case ClientState.Accepted:
        // RFC 6026: 2xx retransmissions (or 2xx from other forks) go to the TU; others are dropped.
        return status >= 200 && status < 300 ? ClientAction.PassUp : ClientAction.Drop;
      case ClientState.Completed:
        return status >= 300 ? ClientAction.Ack : ClientAction.Drop;
      default:
        return ClientAction.Drop;
    }
  }

  /**
   * After PassUpAccepted was handled: Timer M, unless the owner took the Accepted state over
   * (handOffAccepted) while handling the 2xx.
   */
  settleAccepted(): void {
    if (this.state === ClientState.Accepted && this.#tEnd === undefined) {
      this.#tEnd = this.timers.start(this, TimerKind.M, 64 * this.timing.t1);
    }
  }

  /** After AckPassUpCompleted was handled: Timer D absorbs retransmitted finals (zero over TLS/TCP). */
  settleCompleted(): void {
    if (this.state !== ClientState.Completed || this.#tEnd !== undefined) return;
    if (this.timing.reliable) this.#terminate();
    else this.#tEnd = this.timers.start(this, TimerKind.D, 32_000);
  }

  /** The connection carrying this transaction failed before a final response (§17.1.4). */
  transportError(): void {
    if (this.state !== ClientState.Calling && this.state !== ClientState.Proceeding) return;
    this.#stopRunning();
    this.owner.clientFailed(this, "transport");
    this.#terminate();
  }

  /**
   * Accepted only: the owner keeps its own compact record for Timer M (over TLS/TCP the 2xx
   * retransmissions it must still pass on need no transaction state). Ends this object without
   * the clientTerminated callback and without ever starting Timer M.
   */
  handOffAccepted(): void {
    if (this.state !== ClientState.Accepted) return;
    this.timers.cancel(this.#tEnd);
    this.#tEnd = undefined;
    this.state = ClientState.Terminated;
  }

  /** Give up without telling the TU (the proxy core already answered the server side). */
  abandon(): void {
    this.#stopRunning();
    this.#terminate();
  }

  onTimer(kind: number): void {
    switch (kind) {
      case TimerKind.A:
        if (this.state !== ClientState.Calling) return;
        this.owner.retransmitRequest(this);
        this.#aInterval *= 2;
        this.#tA = this.timers.start(this, TimerKind.A, this.#aInterval);
        return;
      case TimerKind.B:
      case TimerKind.Failover:
        if (this.state !== ClientState.Calling) return;
        // No CANCEL for a branch that never answered (§9.1): it just ends; a late response to it
        // is a stray (dropped).
        this.#stopRunning();
        this.owner.clientFailed(this, kind === TimerKind.B ? "timeout" : "failover");
        this.#terminate();
        return;
      case TimerKind.C:
        this.#tC = undefined;
        if (this.state === ClientState.Calling || this.state === ClientState.Proceeding) this.owner.clientTimerC(this);
        return;
      case TimerKind.D:
      case TimerKind.M:
        this.#terminate();
        return;
    }
  }

  get running(): boolean {
    return this.state === ClientState.Calling || this.state === ClientState.Proceeding;
  }

  #stopRunning(): void {
    this.timers.cancel(this.#tA);
    this.timers.cancel(this.#tB);
    this.timers.cancel(this.#tC);
    this.timers.cancel(this.#tFailover);
    this.#tA = this.#tB = this.#tC = this.#tFailover = undefined;
  }

  #terminate(): void {
    if (this.state === ClientState.Terminated) return;
    this.timers.cancel(this.#tEnd);
    this.#stopRunning();
    this.state = ClientState.Terminated;
    this.owner.clientTerminated(this);
  }
}

// Non-INVITE client transaction (RFC 3261 §17.1.2): Trying → Proceeding → Completed → Terminated.
// Timer E retransmits (unreliable transports only), Timer F (64·T1) gives up, Timer K (T4, zero
// over TLS/TCP) absorbs late retransmissions of the final response.
import type { TimerEntry, TimerTarget, Timers } from "../timer/timers.js";
import { ClientAction, ClientState, TimerKind, type ClientTxOwner, type TxTiming } from "./types.js";

export class NonInviteClientTransaction<C = unknown> implements TimerTarget {
  /** Calling = "Trying" in §17.1.2. */
  state = ClientState.Calling;
  finalStatus = 0;
  #tE: TimerEntry | undefined;
  #tF: TimerEntry | undefined;
  #tK: TimerEntry | undefined;
  #eInterval: number;

  constructor(
    readonly branch: string,
    readonly ctx: C,
    private owner: ClientTxOwner<NonInviteClientTransaction<C>>,
    private timers: Timers,
    private timing: TxTiming,
    /** Timer F override (health probes use their own timeout). */
    private timeoutMs = 64 * timing.t1,
  ) {
    this.#eInterval = timing.t1;
  }

  start(): void {
    if (!this.timing.reliable) this.#tE = this.timers.start(this, TimerKind.E, this.#eInterval);
    this.#tF = this.timers.start(this, TimerKind.F, this.timeoutMs);
  }

  /** Returns what the layer does with the response (then settleCompleted() after a final). */
  receiveResponse(status: number): ClientAction {
    if (this.state !== ClientState.Calling && this.state !== ClientState.Proceeding) return ClientAction.Drop;
    if (status < 200) {
      this.state = ClientState.Proceeding;
      return ClientAction.PassUp;
    }
    this.finalStatus = status;
    this.#stopRunning();
    this.state = ClientState.Completed;
    return ClientAction.PassUpCompleted;
  }

  /** After the final was handled: Timer K absorbs its retransmissions (zero over TLS/TCP). */
  settleCompleted(): void {
    if (this.state !== ClientState.Completed || this.#tK !== undefined) return;
    if (this.timing.reliable) this.#terminate();
    else this.#tK = this.timers.start(this, TimerKind.K, this.timing.t4);
  }

  transportError(): void {
    if (!this.running) return;
    this.#stopRunning();
    this.owner.clientFailed(this, "transport");
    this.#terminate();
  }

  abandon(): void {
    this.#stopRunning();
    this.#terminate();
  }

  get running(): boolean {
    return this.state === ClientState.Calling || this.state === ClientState.Proceeding;
  }

  onTimer(kind: number): void {
    switch (kind) {
      case TimerKind.E:
        if (!this.running) return;
        this.owner.retransmitRequest(this);
        // §17.1.2.2: doubles up to T2, and stays at T2 once Proceeding.
        this.#eInterval = this.state === ClientState.Proceeding ? this.timing.t2 : Math.min(2 * this.#eInterval, this.timing.t2);
        this.#tE = this.timers.start(this, TimerKind.E, this.#eInterval);
        return;
      case TimerKind.F:
        if (!this.running) return;
        this.#stopRunning();
        this.owner.clientFailed(this, "timeout");
        this.#terminate();
        return;
      case TimerKind.K:
        this.#terminate();
        return;
    }
  }

  #stopRunning(): void {
    this.timers.cancel(this.#tE);
    this.timers.cancel(this.#tF);
    this.#tE = this.#tF = undefined;
  }

  #terminate(): void {
    if (this.state === ClientState.Terminated) return;
    this.timers.cancel(this.#tK);
    this.#stopRunning();
    this.state = ClientState.Terminated;
    this.owner.clientTerminated(this);
  }
}

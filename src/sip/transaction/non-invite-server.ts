// Non-INVITE server transaction (RFC 3261 §17.2.2): Trying/Proceeding → Completed (Timer J = 64·T1
// over unreliable transports, zero over TLS/TCP) → Terminated. Request retransmissions are
// answered with the last response sent.
import type { TimerEntry, TimerTarget, Timers } from "../timer/timers.js";
import { ServerState, TimerKind, type ServerTxOwner, type TxTiming } from "./types.js";

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

  receiveRequestRetransmission(): void {
    if (this.lastResponse && this.state !== ServerState.Terminated) this.owner.retransmitResponse(this);
  }

  sendResponse(status: number, bytes: Buffer): boolean {
    if (this.state !== ServerState.Proceeding) return false;
    this.lastResponse = bytes;
    this.lastStatus = status;
    if (status < 200) return true;
    this.state = ServerState.Completed;
    if (this.timing.reliable) this.#terminate();
    else this.#tJ = this.timers.start(this, TimerKind.J, 64 * this.timing.t1);
    return true;
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

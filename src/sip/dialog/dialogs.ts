// The dialog table: confirmed INVITE dialogs (a 2xx went through), keyed by Call-ID. It serves two
// purposes: the active-calls gauge, and routing in-dialog requests that arrive without Route
// headers (SIPp's built-in uac ignores Record-Route and sends ACK/BYE to the proxy's own URI) or
// whose Route entries lost their hints. Entries leave on BYE, or after `idleMs` without traffic
// (a lost BYE must not leak memory). One Map lookup per in-dialog request; nothing per call timer.

export interface Dialog {
  readonly callId: string;
  /** Upstream service and target index the dialog runs through. */
  readonly service: string;
  readonly targetIndex: number;
  /** Trunk (peer) name and the connection the dialog was set up on. */
  readonly peer: string;
  readonly connectionId: number;
  /** Which side sent the initial INVITE (0 inbound from trunk, 1 from upstream). */
  readonly initiator: 0 | 1;
  lastUsed: number;
}

export class DialogTable {
  readonly #byCallId = new Map<string, Dialog>();

  constructor(
    private idleMs: number,
    private onCountChange: (n: number) => void = () => undefined,
  ) {}

  get size(): number {
    return this.#byCallId.size;
  }

  confirm(d: Dialog): void {
    const had = this.#byCallId.has(d.callId);
    this.#byCallId.set(d.callId, d);
    if (!had) this.onCountChange(this.#byCallId.size);
  }

  get(callId: string, now: number): Dialog | undefined {
    const d = this.#byCallId.get(callId);
    if (d !== undefined) d.lastUsed = now;
    return d;
  }

  end(callId: string): void {
    if (this.#byCallId.delete(callId)) this.onCountChange(this.#byCallId.size);
  }

  /** Drops dialogs idle for longer than idleMs; returns how many. Call every few minutes. */
  sweep(now: number): number {
    let n = 0;
    for (const [k, d] of this.#byCallId) {
      if (now - d.lastUsed > this.idleMs) {
        this.#byCallId.delete(k);
        n++;
      }
    }
    if (n > 0) this.onCountChange(this.#byCallId.size);
    return n;
  }

  clear(): void {
    this.#byCallId.clear();
    this.onCountChange(0);
  }
}

// The dialog table: confirmed INVITE dialogs (a 2xx went through), keyed by Call-ID and both tags
// (RFC 3261 §12: a dialog is Call-ID + local tag + remote tag; a Call-ID alone may be reused by a
// careless or hostile trunk, and must not let one call's BYE end another). It serves two purposes:
// the active-calls gauge, and routing in-dialog requests that arrive without Route headers (SIPp's
// built-in uac ignores Record-Route and sends ACK/BYE to the proxy's own URI) or whose Route entries
// lost their hints. Entries leave on BYE, after `idleMs` without traffic (a lost BYE must not leak
// memory), or, past `maxDialogs`, oldest first (counted): a flood of answered calls never ending
// cannot grow it without bound. One Map lookup per in-dialog request; nothing per call timer.

export interface Dialog {
  /** dialogKey(Call-ID, caller's tag, callee's tag). */
  readonly key: string;
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

/**
 * The table key of a dialog: the same whichever side sends the request (From and To tags swap
 * with the direction), so the tags are ordered. LF cannot occur in a Call-ID or a tag.
 */
export function dialogKey(callId: string, tagA: string | undefined, tagB: string | undefined): string {
  const a = tagA ?? "";
  const b = tagB ?? "";
  return a <= b ? `${callId}\n${a}\n${b}` : `${callId}\n${b}\n${a}`;
}

/** Told of every dialog entering and leaving the table, whatever the cause (per-peer call counts). */
export interface DialogListener {
  dialogAdded(d: Dialog): void;
  dialogRemoved(d: Dialog): void;
}

export class DialogTable {
  // Insertion order = order of confirmation: the first entry is the oldest (eviction).
  readonly #byKey = new Map<string, Dialog>();
  listener: DialogListener | undefined;

  constructor(
    private idleMs: number,
    private onCountChange: (n: number) => void = () => undefined,
    private maxDialogs = Number.POSITIVE_INFINITY,
    private onEvicted: () => void = () => undefined,
  ) {}

  get size(): number {
    return this.#byKey.size;
  }

  confirm(d: Dialog): void {
    const had = this.#byKey.has(d.key);
    this.#byKey.set(d.key, d);
    if (had) return;
    this.listener?.dialogAdded(d);
    if (this.#byKey.size > this.maxDialogs) {
      const oldest = this.#byKey.values().next().value;
      if (oldest !== undefined) {
        this.#byKey.delete(oldest.key);
        this.listener?.dialogRemoved(oldest);
      }
      this.onEvicted();
    }
    this.onCountChange(this.#byKey.size);
  }

  get(key: string, now: number): Dialog | undefined {
    const d = this.#byKey.get(key);
    if (d !== undefined) d.lastUsed = now;
    return d;
  }

  end(key: string): void {
    const d = this.#byKey.get(key);
    if (d === undefined) return;
    this.#byKey.delete(key);
    this.listener?.dialogRemoved(d);
    this.onCountChange(this.#byKey.size);
  }

  /** Drops dialogs idle for longer than idleMs; returns how many. Call every few minutes. */
  sweep(now: number): number {
    let n = 0;
    for (const [k, d] of this.#byKey) {
      if (now - d.lastUsed > this.idleMs) {
        this.#byKey.delete(k);
        this.listener?.dialogRemoved(d);
        n++;
      }
    }
    if (n > 0) this.onCountChange(this.#byKey.size);
    return n;
  }

  clear(): void {
    const l = this.listener;
    if (l !== undefined) for (const d of this.#byKey.values()) l.dialogRemoved(d);
    this.#byKey.clear();
    this.onCountChange(0);
  }
}

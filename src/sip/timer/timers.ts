// Timers for transactions, connections and health checks without one setTimeout (and one closure)
// per timer. SIP timers come in a handful of fixed durations (T1·2^n, 64·T1, T4, Timer C, the
// first-message timeout, ...), so every timer of one duration expires in the order it was started:
// a FIFO queue per duration, with one platform timer armed for the head of each queue, gives O(1)
// start, O(1) cancel (lazy: the entry is flagged and skipped) and O(1) expiry. Node's own timers
// use the same idea internally, but still allocate a Timeout object and we would add a closure.
//
// The platform (clock + setTimeout) is injectable so the transaction state machines can be tested
// with a manual clock and no real time passing.

/** An object that receives timer expiries; `kind` tells which of its timers fired. */
export interface TimerTarget {
  onTimer(kind: number): void;
}

/**
 * Receives keys whose expiry (Timers.expireLater) fell due. For records that only ever expire
 * (never cancelled, never restarted): RFC 6026's Accepted-state leftovers, kept 64·T1 per call.
 */
export interface KeyExpiryTarget {
  onKeyExpired(key: string): void;
}

/** A started timer. Cancel it through Timers.cancel (or check `active`). */
export interface TimerEntry {
  readonly due: number;
  readonly kind: number;
  readonly active: boolean;
}

export interface Timers {
  now(): number;
  start(target: TimerTarget, kind: number, delayMs: number): TimerEntry;
  cancel(entry: TimerEntry | undefined): void;
  /**
   * `target.onKeyExpired(key)` in delayMs, with no object per call (no handle, no cancel): the
   * key goes into a ring of keys per duration. For the many long-lived records that only expire.
   */
  expireLater(target: KeyExpiryTarget, key: string, delayMs: number): void;
  /** Number of timers started and not yet fired or cancelled (cancelled ones are dropped lazily). */
  readonly pending: number;
  close(): void;
}

/** What the timer queues need from the runtime; tests pass a manual implementation. */
export interface TimerPlatform {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realPlatform: TimerPlatform = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Timers never keep the process alive by themselves: sockets and listeners do.
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

const NOBODY: TimerTarget = { onTimer: () => undefined };

class Entry implements TimerEntry {
  constructor(
    readonly due: number,
    public target: TimerTarget,
    readonly kind: number,
    public active: boolean,
    readonly queue: DurationQueue | undefined,
  ) {}
}

/**
 * One FIFO of entries sharing a duration; an array with a moving head. Cancelled entries stay in
 * place (O(1) cancel) but drop their target at once, and the queue is compacted when they
 * outnumber the live ones: long timers that are nearly always cancelled (Timer C: 3 minutes,
 * stopped by every final response) would otherwise pile up.
 */
class DurationQueue {
  items: Entry[] = [];
  head = 0;
  cancelled = 0;
  /** True while runQueue walks `items` (no compaction then: it would swap the array under it). */
  running = false;
  handle: unknown = undefined;
  armedFor = Infinity;
  readonly fire: () => void;

  constructor(private owner: FifoTimers) {
    // One closure per distinct duration (a handful per process), not per timer.
    this.fire = () => this.owner.runQueue(this);
  }
}

/**
 * Keys expiring after one fixed duration, in the order they were added: three parallel rings
 * (key, target, due time) instead of an Entry object per key, so a record kept for 32 s costs the
 * young-generation GC a few array slots, not an object graph. Grows by doubling; never shrinks.
 */
class KeyQueue {
  keys: (string | undefined)[] = new Array<string | undefined>(64).fill(undefined);
  targets: (KeyExpiryTarget | undefined)[] = new Array<KeyExpiryTarget | undefined>(64).fill(undefined);
  dues = new Float64Array(64);
  head = 0;
  size = 0;
  handle: unknown = undefined;
  readonly fire: () => void;

  constructor(owner: FifoTimers) {
    this.fire = () => owner.runKeyQueue(this);
  }

  push(key: string, target: KeyExpiryTarget, due: number): void {
    if (this.size === this.keys.length) this.#grow();
    const i = (this.head + this.size) & (this.keys.length - 1);
    this.keys[i] = key;
    this.targets[i] = target;
    this.dues[i] = due;
    this.size++;
  }

  #grow(): void {
    const n = this.keys.length;
    const keys = new Array<string | undefined>(2 * n).fill(undefined);
    const targets = new Array<KeyExpiryTarget | undefined>(2 * n).fill(undefined);
    const dues = new Float64Array(2 * n);
    for (let k = 0; k < n; k++) {
      const i = (this.head + k) & (n - 1);
      keys[k] = this.keys[i];
      targets[k] = this.targets[i];
      dues[k] = this.dues[i]!;
    }
    this.keys = keys;
    this.targets = targets;
    this.dues = dues;
    this.head = 0;
  }
}

export class FifoTimers implements Timers {
  #queues = new Map<number, DurationQueue>();
  #keyQueues = new Map<number, KeyQueue>();
  #pending = 0;
  #closed = false;

  constructor(
    private platform: TimerPlatform = realPlatform,
    /** A target's onTimer threw: report it (the other timers keep firing; nothing crashes). */
    private onError: (err: unknown) => void = (err) => process.emitWarning(`timer callback failed: ${String(err)}`),
  ) {}

  now(): number {
    return this.platform.now();
  }

  get pending(): number {
    return this.#pending;
  }

  start(target: TimerTarget, kind: number, delayMs: number): TimerEntry {
    const d = delayMs < 0 ? 0 : Math.ceil(delayMs);
    if (this.#closed) return new Entry(this.platform.now() + d, NOBODY, kind, false, undefined);
    let q = this.#queues.get(d);
    if (q === undefined) {
      q = new DurationQueue(this);
      this.#queues.set(d, q);
    }
    const e = new Entry(this.platform.now() + d, target, kind, true, q);
    q.items.push(e);
    this.#pending++;
    if (q.handle === undefined) this.#arm(q, d);
    return e;
  }

  expireLater(target: KeyExpiryTarget, key: string, delayMs: number): void {
    if (this.#closed) return;
    const d = delayMs < 0 ? 0 : Math.ceil(delayMs);
    let q = this.#keyQueues.get(d);
    if (q === undefined) {
      q = new KeyQueue(this);
      this.#keyQueues.set(d, q);
    }
    q.push(key, target, this.platform.now() + d);
    if (q.handle === undefined) q.handle = this.platform.setTimeout(q.fire, d);
  }

  /** Called by a key queue's platform timer: expire every key due, then re-arm for the next. */
  runKeyQueue(q: KeyQueue): void {
    q.handle = undefined;
    const now = this.platform.now();
    while (q.size > 0) {
      const i = q.head;
      if (q.dues[i]! > now) break;
      const key = q.keys[i]!;
      const target = q.targets[i]!;
      q.keys[i] = undefined;
      q.targets[i] = undefined;
      q.head = (i + 1) & (q.keys.length - 1);
      q.size--;
      try {
        target.onKeyExpired(key);
      } catch (err) {
        this.onError(err);
      }
    }
    if (q.size > 0 && !this.#closed) {
      const ms = q.dues[q.head]! - now;
      q.handle = this.platform.setTimeout(q.fire, ms < 0 ? 0 : ms);
    }
  }

  cancel(entry: TimerEntry | undefined): void {
    if (entry === undefined || !entry.active) return;
    const e = entry as Entry;
    e.active = false;
    e.target = NOBODY; // release the transaction now, not when the entry falls due
    this.#pending--;
    const q = e.queue;
    if (q === undefined) return;
    q.cancelled++;
    if (!q.running && q.cancelled > 64 && q.cancelled * 2 > q.items.length - q.head) this.#compact(q);
  }

  #compact(q: DurationQueue): void {
    const live: Entry[] = [];
    const items = q.items;
    for (let i = q.head; i < items.length; i++) if (items[i]!.active) live.push(items[i]!);
    q.items = live;
    q.head = 0;
    q.cancelled = 0;
    // The armed platform timer may now be early for the new head: runQueue just re-arms then.
  }

  /** Called by a queue's platform timer: fire everything due, in order, then re-arm. */
  runQueue(q: DurationQueue): void {
    q.handle = undefined;
    const now = this.platform.now();
    const items = q.items;
    q.running = true;
    while (q.head < items.length) {
      const e = items[q.head]!;
      if (e.active && e.due > now) break;
      items[q.head] = undefined as unknown as Entry; // let it be collected
      q.head++;
      if (!e.active) q.cancelled--;
      else {
        e.active = false;
        this.#pending--;
        const target = e.target;
        e.target = NOBODY;
        try {
          target.onTimer(e.kind);
        } catch (err) {
          // A bug in one target must not stop the others from firing, nor take the process down.
          this.onError(err);
        }
      }
    }
    q.running = false;
    if (q.head >= items.length) {
      items.length = 0;
      q.head = 0;
      q.cancelled = 0;
      return;
    }
    if (q.head > 1024 && q.head * 2 > items.length) {
      q.items = items.slice(q.head);
      q.head = 0;
    }
    if (!this.#closed) this.#arm(q, q.items[q.head]!.due - now);
  }

  #arm(q: DurationQueue, ms: number): void {
    q.handle = this.platform.setTimeout(q.fire, ms < 0 ? 0 : ms);
  }

  close(): void {
    this.#closed = true;
    for (const q of this.#queues.values()) {
      if (q.handle !== undefined) this.platform.clearTimeout(q.handle);
      q.handle = undefined;
      for (let i = q.head; i < q.items.length; i++) q.items[i]!.active = false;
      q.items = [];
      q.head = 0;
    }
    for (const q of this.#keyQueues.values()) {
      if (q.handle !== undefined) this.platform.clearTimeout(q.handle);
      q.handle = undefined;
    }
    this.#keyQueues.clear();
    this.#pending = 0;
  }
}

/**
 * A manual clock for tests: time moves only through advance(), which fires due platform timers in
 * due order (ties in start order).
 */
interface ManualTimer {
  due: number;
  seq: number;
  fn: () => void;
  live: boolean;
}

export class ManualPlatform implements TimerPlatform {
  #now = 0;
  #seq = 0;
  #timers: ManualTimer[] = [];

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const t = { due: this.#now + ms, seq: this.#seq++, fn, live: true };
    this.#timers.push(t);
    return t;
  }

  clearTimeout(h: unknown): void {
    (h as { live: boolean }).live = false;
  }

  /** Move the clock forward by ms, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.#now + ms;
    for (;;) {
      let next: ManualTimer | undefined;
      for (const t of this.#timers) {
        if (t.live && t.due <= end && (!next || t.due < next.due || (t.due === next.due && t.seq < next.seq))) next = t;
      }
      if (!next) break;
      next.live = false;
      this.#now = Math.max(this.#now, next.due);
      next.fn();
    }
    this.#timers = this.#timers.filter((t) => t.live);
    this.#now = end;
  }
}

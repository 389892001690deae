// Requests the primary sends to workers over IPC and the answers it waits for, by id, each with a
// deadline: a worker that is busy, stuck or gone yields `undefined` instead of hanging /metrics or
// /readyz.
export class PendingRequests<T> {
  #next = 1;
  readonly #waiting = new Map<number, { resolve: (v: T | undefined) => void; timer: NodeJS.Timeout }>();

  constructor(private timeoutMs: number) {}

  /** A new id and the promise of its answer (undefined on timeout or cancel). */
  open(): { id: number; answer: Promise<T | undefined> } {
    const id = this.#next++;
    const answer = new Promise<T | undefined>((resolve) => {
      const timer = setTimeout(() => this.settle(id, undefined), this.timeoutMs);
      timer.unref();
      this.#waiting.set(id, { resolve, timer });
    });
    return { id, answer };
  }

  settle(id: number, value: T | undefined): void {
    const w = this.#waiting.get(id);
    if (w === undefined) return; // late answer after the deadline
    this.#waiting.delete(id);
    clearTimeout(w.timer);
    w.resolve(value);
  }
}

// A token bucket: `rate` tokens per second flow into a bucket of `burst`; each admitted event takes
// one. Pure (the caller passes the time in ms), two numbers of state, no timers: refilled lazily
// when asked. rate 0 means "no limit" and is the caller's to check (see PeerAdmission).

export class TokenBucket {
  #tokens: number;
  #last: number;
  #rate: number;
  #burst: number;

  constructor(ratePerSecond: number, burst: number, nowMs: number) {
    this.#rate = ratePerSecond;
    this.#burst = burst;
    this.#tokens = burst;
    this.#last = nowMs;
  }

  /** Takes a token when one is there; false (nothing taken) otherwise. */
  take(nowMs: number): boolean {
    this.#refill(nowMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  /** Takes a token when one is there, and never refuses: for what must pass but still counts. */
  drain(nowMs: number): void {
    this.#refill(nowMs);
    if (this.#tokens >= 1) this.#tokens -= 1;
  }

  /** New rate and size (live reload): the tokens held stay, capped at the new size. */
  reconfigure(ratePerSecond: number, burst: number, nowMs: number): void {
    this.#refill(nowMs);
    this.#rate = ratePerSecond;
    this.#burst = burst;
    if (this.#tokens > burst) this.#tokens = burst;
  }

  /** Tokens available now (tests, diagnostics). */
  available(nowMs: number): number {
    this.#refill(nowMs);
    return this.#tokens;
  }

  #refill(nowMs: number): void {
    const elapsed = nowMs - this.#last;
    // A clock that went backwards refills nothing (and never drains).
    if (elapsed <= 0) return;
    this.#last = nowMs;
    const t = this.#tokens + (elapsed * this.#rate) / 1000;
    this.#tokens = t > this.#burst ? this.#burst : t;
  }
}

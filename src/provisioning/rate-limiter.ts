// Token bucket per client: `burst` requests at once, refilled at requestsPerMinute / 60 per second.
// Chosen over a sliding window because it needs two numbers per client and no per-request history.
// Buckets of idle clients are full again after burst/rate seconds and then carry no information, so
// they are dropped when the map grows past a bound: memory stays proportional to active clients.
export interface RateLimiterOptions {
  requestsPerMinute: number;
  burst?: number;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
  /** Sweep idle buckets once the map holds this many (default 10 000). */
  sweepAt?: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

interface Bucket {
  tokens: number;
  at: number;
}

const ALLOWED: RateDecision = { allowed: true };

export class RateLimiter {
  readonly #perMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #sweepAt: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(opts: RateLimiterOptions) {
    this.#perMs = opts.requestsPerMinute / 60_000;
    this.#burst = opts.burst ?? opts.requestsPerMinute;
    this.#now = opts.now ?? Date.now;
    this.#sweepAt = opts.sweepAt ?? 10_000;
  }

  /** Takes one token for `client`; when none is left, says how long until one is. */
  take(client: string): RateDecision {
    const now = this.#now();
    let b = this.#buckets.get(client);
    if (!b) {
      if (this.#buckets.size >= this.#sweepAt) this.#sweep(now);
      b = { tokens: this.#burst, at: now };
      this.#buckets.set(client, b);
    } else {
      b.tokens = Math.min(this.#burst, b.tokens + (now - b.at) * this.#perMs);
      b.at = now;
    }
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return ALLOWED;
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - b.tokens) / this.#perMs / 1000)) };
  }

  get size(): number {
    return this.#buckets.size;
  }

  #sweep(now: number): void {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + (now - b.at) * this.#perMs >= this.#burst) this.#buckets.delete(k);
    }
  }
}

// Transactions that PostgreSQL may abort for reasons the client did nothing wrong about: a
// deadlock (40P01) or a serialization failure (40001). Writers take row locks in one order (sorted
// keys) so deadlocks between trunkgate's own writers should not happen, but another client, an
// operator's script or a future code path can still provoke one; the transaction is rolled back
// as a whole, so running it again is safe. Bounded attempts with jittered backoff, so two
// colliding writers do not collide again in lockstep.
import type { SqlDriver, SqlTx } from "./db/driver.js";

/** SQLSTATEs after which the whole transaction may simply be run again. */
export const RETRYABLE_SQLSTATES: ReadonlySet<string> = new Set(["40001", "40P01"]);

export interface RetryOptions {
  /** Attempts in total, including the first (default 6). */
  attempts?: number;
  /** Backoff before attempt n is random in [0, baseDelayMs · 2^(n-1)) ms (default 10). */
  baseDelayMs?: number;
}

export function isRetryableTxError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && RETRYABLE_SQLSTATES.has(code);
}

export async function transactionWithRetry<T>(db: SqlDriver, fn: (tx: SqlTx) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = Math.max(1, opts.attempts ?? 6);
  const base = opts.baseDelayMs ?? 10;
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction(fn);
    } catch (err) {
      if (attempt >= attempts || !isRetryableTxError(err)) throw err;
      const delay = Math.random() * base * 2 ** (attempt - 1);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}

// Time bounds for bounded waits in tests. A bound only decides how long a test waits for an event
// before it gives up and fails; it never decides a result on a healthy machine. So bounds are
// generous (a shared 2-core machine under load runs everything 3-5x slower), and one knob stretches
// them all: TRUNKGATE_TEST_TIME_SCALE=3 makes every bound three times longer (slow CI runners,
// debuggers). No test asserts how long something took: speed belongs to the benchmarks.

const scale = (() => {
  const v = Number(process.env.TRUNKGATE_TEST_TIME_SCALE ?? "1");
  return Number.isFinite(v) && v > 0 ? v : 1;
})();

/** ms stretched by TRUNKGATE_TEST_TIME_SCALE (default 1). */
export function bound(ms: number): number {
  return Math.round(ms * scale);
}

/**
 * The shortest a wait for something that must happen gives up after. Callers of the shared helpers
 * pass what they expect on a quiet machine; a busy one stalls an event loop for seconds (GC, other
 * processes compiling), and giving up early there fails a healthy test. Waiting longer costs
 * nothing when the event comes: only a broken test waits this long.
 */
export const MIN_WAIT_MS = 30_000;

/** The bound for a wait on an event that must come: at least MIN_WAIT_MS, then scaled. */
export function patience(ms: number): number {
  return bound(Math.max(ms, MIN_WAIT_MS));
}

/** Resolves with p, or rejects naming `what` once patience(ms) has passed without it. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  const limit = patience(ms);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${limit} ms`)), limit);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Polls cond until it holds, or rejects naming `what` after patience(ms). For state with no event to
 * wait on (a counter in another object); the poll interval is not a sleep-as-synchronisation: the
 * result does not depend on it, only how soon the wait notices.
 */
export async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000, everyMs = 20): Promise<void> {
  const limit = patience(ms);
  const deadline = Date.now() + limit;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${limit} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

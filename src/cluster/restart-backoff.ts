// How long the primary waits before replacing a worker that died: doubling from FIRST_MS with each
// consecutive failure of the same slot, capped at MAX_MS, so a worker that keeps crashing costs a
// log line every 30 s rather than a busy fork loop. A worker that ran STABLE_MS resets the count.
export const FIRST_MS = 250;
export const MAX_MS = 30_000;
export const STABLE_MS = 30_000;

/** Delay before restart number `failures` (1 = the first consecutive failure). */
export function restartDelayMs(failures: number): number {
  return Math.min(MAX_MS, FIRST_MS * 2 ** Math.max(0, Math.min(failures - 1, 20)));
}

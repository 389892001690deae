// A small seeded PRNG for the fuzz-style tests, so that a failing input reproduces from its seed.

/** mulberry32: returns numbers in [0, 1) from a 32-bit seed. */
export function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

// A small seeded generator for the fuzz tests, so that a failing case can
// be replayed by its seed.

/** mulberry32: small, seeded, good enough to pick mutations and arguments. */
export function rng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// mulberry32: a tiny seeded PRNG. The sandbox's faults, the benchmarks' jitter and the test
// corpora all draw from it, so the same seed replays the same run.
export function random(seed = 1): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator): one uint32 of state, advanced by the odd constant
 * 0x6d2b79f5 and mixed with two multiply-xorshift rounds. Written out here, in pure 32-bit integer maths,
 * so that `paperSplit` gives the same classes in every version of this package and on every platform; do not
 * change it (a test pins its output).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let mixed = Math.imul(state ^ (state >>> 15), state | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return (mixed ^ (mixed >>> 14)) >>> 0;
  };
}

/**
 * Shuffles `items` in place with Fisher-Yates driven by `mulberry32(seed)`: for i from the end down to 1,
 * j = floor(word * (i + 1) / 2^32), exact in doubles because word * (i + 1) < 2^53. Returns `items`.
 *
 * ```ts
 * seededShuffle([1, 2, 3, 4, 5], 0); // the same order everywhere, forever
 * ```
 */
export function seededShuffle<T>(items: T[], seed: number): T[] {
  if (!Number.isInteger(seed)) throw new Error(`seededShuffle: seed must be an integer, got ${seed}`);
  const next = mulberry32(seed);
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor((next() * (i + 1)) / 4294967296);
    const kept = items[i];
    items[i] = items[j];
    items[j] = kept;
  }
  return items;
}

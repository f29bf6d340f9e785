/**
 * A small seeded pseudo-random generator (mulberry32) returning uniform numbers in [0, 1).
 *
 * Weights are drawn with it in plain JavaScript rather than with `tf.random*`, so that the same seed gives the
 * same weights on every tfjs backend (cpu, wasm and webgl each implement their own random kernels).
 *
 * Seeds are taken modulo 2^32. The streams of two different seeds below 2^32 only meet after billions of draws
 * (mulberry32 advances its state by a fixed odd constant), so neighbouring seeds such as 0, 1, 2 give unrelated
 * numbers.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

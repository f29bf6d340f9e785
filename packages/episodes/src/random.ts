/**
 * A seeded pseudo-random generator. Everything random in an episode (classes, samples, order, labels,
 * augmentation) draws from one of these, so a seed fixes a whole batch.
 */
export interface Random {
  /** A float in [0, 1): a uint32 divided by 2^32, so it is exact and identical on every platform. */
  next(): number;
  /**
   * An integer in [0, n), `floor(next() * n)`. The bias of that mapping is below n / 2^32 (under 1e-6 for
   * n < 4096), far below anything an episode can notice, and it keeps one draw per call.
   */
  int(n: number): number;
  /** Shuffles `array` in place (Fisher-Yates, one `int` draw per element but the first) and returns it. */
  shuffle<A extends unknown[] | Int32Array>(array: A): A;
  /** The four uint32 words of the generator's state; `restoreRandom(state)` continues from here. */
  state(): number[];
}

const TWO_TO_32 = 4294967296;

/**
 * splitmix32: turns one 32-bit seed into well-mixed words for sfc32's state, so that nearby seeds (0, 1, 2)
 * still give unrelated streams.
 */
function splitmix32(seed: number): () => number {
  let state = seed | 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let mixed = state ^ (state >>> 16);
    mixed = Math.imul(mixed, 0x21f0aaad);
    mixed ^= mixed >>> 15;
    mixed = Math.imul(mixed, 0x735a2d97);
    mixed ^= mixed >>> 15;
    return mixed >>> 0;
  };
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Chaotic generator) over a 4-word state. Only 32-bit integer
 * operations (adds, xors and shifts truncated with `| 0` and `>>>`), so Node, browsers and every tfjs backend agree
 * bit for bit.
 */
function sfc32(words: number[]): Random {
  let a = words[0] | 0;
  let b = words[1] | 0;
  let c = words[2] | 0;
  let d = words[3] | 0;
  const nextUint32 = (): number => {
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  const random: Random = {
    next: () => nextUint32() / TWO_TO_32,
    int(n: number): number {
      if (!Number.isInteger(n) || n < 1 || n > TWO_TO_32) {
        throw new Error(`Random.int: n must be an integer in [1, 2^32], got ${n}`);
      }
      return Math.floor((nextUint32() / TWO_TO_32) * n);
    },
    shuffle<A extends unknown[] | Int32Array>(array: A): A {
      for (let i = array.length - 1; i > 0; i--) {
        const j = random.int(i + 1);
        const kept = array[i];
        array[i] = array[j];
        array[j] = kept;
      }
      return array;
    },
    state: () => [a >>> 0, b >>> 0, c >>> 0, d >>> 0],
  };
  return random;
}

/**
 * A generator seeded with the low 32 bits of the integer `seed`. The same seed gives the same numbers
 * everywhere (pure 32-bit integer maths).
 *
 * ```ts
 * const random = createRandom(42);
 * random.int(6); // a die roll, the same on every machine
 * random.shuffle([1, 2, 3, 4]);
 * ```
 */
export function createRandom(seed: number): Random {
  if (!Number.isInteger(seed)) {
    throw new Error(`createRandom: seed must be an integer, got ${seed}`);
  }
  const mix = splitmix32(seed);
  return sfc32([mix(), mix(), mix(), mix()]);
}

/**
 * A generator that continues exactly where the one whose `state()` was saved left off (for checkpoints).
 *
 * ```ts
 * const random = createRandom(1);
 * const saved = random.state();
 * const first = random.next();
 * restoreRandom(saved).next() === first; // true
 * ```
 */
export function restoreRandom(state: number[]): Random {
  if (
    !Array.isArray(state) ||
    state.length !== 4 ||
    !state.every((word) => Number.isInteger(word) && word >= 0 && word < TWO_TO_32)
  ) {
    throw new Error(
      `restoreRandom: state must be the 4 uint32 words from Random.state(), got ${JSON.stringify(state)}`,
    );
  }
  return sfc32(state);
}

/**
 * `count` distinct integers from [0, population) in random order: the first `count` steps of a Fisher-Yates
 * shuffle of 0..population-1, with the swapped entries kept in a Map so memory is O(count) even when the
 * population is huge (string labels). With count = population it is a uniform random permutation.
 *
 * ```ts
 * pickDistinct(10, 3, createRandom(0)); // e.g. [7, 2, 9]
 * ```
 */
export function pickDistinct(population: number, count: number, random: Random): Int32Array {
  if (!Number.isInteger(population) || population < 0 || !Number.isInteger(count) || count < 0) {
    throw new Error(`pickDistinct: population and count must be non-negative integers, got ${population}, ${count}`);
  }
  if (count > population) {
    throw new Error(`pickDistinct: cannot pick ${count} distinct values from a population of ${population}`);
  }
  const swapped = new Map<number, number>();
  const picked = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const j = i + random.int(population - i);
    const atJ = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    picked[i] = atJ;
  }
  return picked;
}

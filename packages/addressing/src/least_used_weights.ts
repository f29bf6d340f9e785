import * as tf from '@tensorflow/tfjs-core';
import { assertRank } from '@mann/memory';

/**
 * The least-used weights w^lu (Santoro et al. 2016): a 0/1 mask [B, N] marking, in each episode, exactly the
 * `n` slots with the smallest usage. Ties go to the lower slot index, so at the start of an episode, when
 * every usage is 0, the mask marks slots 0..n-1.
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { leastUsedWeights } from '@mann/addressing';
 * leastUsedWeights(tf.tensor2d([[0.5, 0.1, 0.1, 0.9]]), 2).print(); // [[0, 1, 1, 0]]
 * leastUsedWeights(tf.zeros([1, 4]), 2).print();                    // [[1, 1, 0, 0]]
 * ```
 *
 * Not differentiated through: the mask is a step function of the usage, so its true derivative is zero almost
 * everywhere, and tfjs has neither a TopK gradient nor a stopGradient. The computation is wrapped in
 * `tf.customGrad` with a zero gradient, so a loss can depend on it without breaking backpropagation.
 *
 * How: slot j is marked when its rank, #{i : u_i < u_j} + #{i < j : u_i = u_j}, is below n. This pairwise
 * comparison ([B, N, N], cheap for N = 128) uses only comparisons, casts and sums, which every backend (cpu,
 * wasm, webgl) has and computes identically, so ties break the same way everywhere; the order in which TopK
 * returns equal values is a backend detail.
 */
export function leastUsedWeights(usage: tf.Tensor2D, n: number): tf.Tensor2D {
  return rankedMasks('leastUsedWeights', usage, [n])[0];
}

/**
 * Several least-used masks from one ranking of the usage: `leastUsedMasks(usage, [a, b])` equals
 * `[leastUsedWeights(usage, a), leastUsedWeights(usage, b)]`, but ranks the slots once. LRUA uses it when it
 * writes through the H least-used slots and clears only the first of them.
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { leastUsedMasks } from '@mann/addressing';
 * const [two, one] = leastUsedMasks(tf.tensor2d([[0.5, 0.1, 0.1, 0.9]]), [2, 1]);
 * two.print(); // [[0, 1, 1, 0]]
 * one.print(); // [[0, 1, 0, 0]]
 * ```
 */
export function leastUsedMasks(usage: tf.Tensor2D, counts: readonly number[]): tf.Tensor2D[] {
  return rankedMasks('leastUsedMasks', usage, counts);
}

/** Both ops' body; `op` names the caller in error messages. */
function rankedMasks(op: string, usage: tf.Tensor2D, counts: readonly number[]): tf.Tensor2D[] {
  assertRank(op, 'usage', usage, 2, '[B, N]');
  const slots = usage.shape[1];
  for (const n of counts) {
    if (!Number.isInteger(n) || n < 0) {
      throw new Error(`${op}: n must be a non-negative integer, got ${String(n)}`);
    }
    if (n > slots) {
      throw new Error(`${op}: n = ${n} is larger than the number of slots (${slots})`);
    }
  }
  if (counts.length === 0) return [];
  // customGrad returns one tensor, so the masks travel stacked [K, B, N] and are split after.
  const masks = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const u = args[0] as tf.Tensor;
    const value = tf.tidy(() => {
      const candidate = tf.expandDims(u, 2); // u_j along axis 1: [B, N, 1]
      const other = tf.expandDims(u, 1); // u_i along axis 2: [B, 1, N]
      const smaller = tf.cast(tf.less(other, candidate), 'float32'); // [B, N, N]: u_i < u_j
      const index = tf.range(0, slots, 1, 'int32');
      // earlier[j, i] = 1 when i < j: among equal usages the lower index counts as smaller.
      const earlier = tf.cast(tf.less(tf.expandDims(index, 0), tf.expandDims(index, 1)), 'float32'); // [N, N]
      const tiedEarlier = tf.mul(tf.cast(tf.equal(other, candidate), 'float32'), earlier);
      const rank = tf.sum(tf.add(smaller, tiedEarlier), 2); // [B, N]
      return tf.stack(counts.map((n) => tf.cast(tf.less(rank, n), 'float32')));
    });
    return { value, gradFunc: (_dy: tf.Tensor) => tf.zerosLike(u) };
  });
  const [batch] = usage.shape;
  return tf.tidy(() => {
    const stacked = masks(usage);
    // Slices rather than tf.unstack, whose gradient fails when it has a single output.
    return counts.map((_, i) => tf.reshape(tf.slice(stacked, [i, 0, 0], [1, batch, slots]), [batch, slots]) as tf.Tensor2D);
  });
}

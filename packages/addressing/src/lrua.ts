import * as tf from '@tensorflow/tfjs-core';
import {
  clearSlots,
  initialMemory,
  initialUsage,
  initialWeights,
  readMemory,
  resolveMemoryConfig,
  updateUsage,
  writeMemory,
  type MemoryConfig,
} from '@mann/memory';
import { contentWeights } from './content_weights';
import { lruaFast } from './fast_lrua';
import { leastUsedMasks } from './least_used_weights';
import { lruaWriteWeights } from './lrua_write_weights';
import { checkHeads, checkParameters, checkState } from './scheme_checks';
import type { AddressingScheme, AddressingState } from './types';

/** What LRUA carries from one step to the next (the last three are what a UI shows as heat maps). */
export interface LruaState extends AddressingState {
  /** Memory M_t [B, N, W]. */
  memory: tf.Tensor3D;
  /** Usage weights w^u_t [B, N]. */
  usage: tf.Tensor2D;
  /** Read weights w^r_t [B, H, N] (also next step's write-gate target). */
  readWeights: tf.Tensor3D;
  /** Write weights w^w_t [B, H, N] used by the last step. */
  writeWeights: tf.Tensor3D;
  /**
   * The least-used mask w^lu [B, N] the last step wrote to (zeros before the first step); its least-used slot
   * was cleared first, or with `clearing: 'all-least-used'` all of it.
   */
  leastUsed: tf.Tensor2D;
}

/** Options of {@link lrua}: the memory, the number of heads and how writing works. */
export interface LruaOptions {
  /** The memory: `{ slots, width, initialValue? }` (paper: 128 x 40). */
  memory: MemoryConfig;
  /** Number of heads H (read heads, one write head each; paper: 4). Between 1 and `memory.slots`. */
  heads: number;
  /** Usage decay gamma in [0, 1] (default 0.95, as every peer). */
  decay?: number;
  /**
   * What a head writes: `'key'` (default, the paper: the read key k_t itself) or `'add'` (a separate add
   * vector a_t = tanh(W_a h_t + b_a), as some peers; adds heads * W parameters).
   */
  writeVector?: 'key' | 'add';
  /**
   * Which slots are zeroed before the write: `'least-used'` (default, the paper's "the least used memory
   * location ... is set to zero": that one slot only) or `'all-least-used'` (all H slots the least-used mask
   * marks, as the PyTorch reference shared/bench/torch_mann_ref.py). The mask itself, and so the write
   * weights, are the same either way. Why it matters: clearing H slots a step wipes 4 x 50 = 200 slots in a
   * 50-step episode, more than the 128 there are, so late in an episode the oldest bindings are erased
   * (docs/training.md measures the cost at the 10th instance).
   */
  clearing?: 'all-least-used' | 'least-used';
}

/**
 * Least Recently Used Access (Santoro et al. 2016), the addressing of the MANN paper.
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { useBackend } from '@mann/backend';
 * import { lrua } from '@mann/addressing';
 * await useBackend('cpu');
 * const scheme = lrua({ memory: { slots: 128, width: 40 }, heads: 4 });
 * let state = scheme.initialState(16);
 * const parameters = tf.randomNormal([16, scheme.parameterSize]); // a linear map of the controller output
 * const { reads, state: next } = tf.tidy(() => scheme.step(parameters, state));
 * reads.shape; // [16, 4, 40]
 * ```
 *
 * Parameter layout, per episode (`parameterSize` = H*W + H, plus H*W with `writeVector: 'add'`):
 * 1. `[0, H*W)`: the H keys, head-major (head 0's W numbers first), i.e. [H, W] flattened; squashed by tanh;
 * 2. `[H*W, H*W + H)`: the H write-gate logits alpha (a sigmoid is applied inside);
 * 3. with `'add'` only, `[H*W + H, 2*H*W + H)`: the H add vectors, [H, W] flattened; squashed by tanh.
 *
 * One step, from state t-1 (write before read, as the paper):
 * - k = tanh(keys); w^lu = leastUsedWeights(w^u_{t-1}, H) (the H least-used slots, no gradient);
 * - w^w = sigmoid(alpha) w^r_{t-1} + (1 - sigmoid(alpha)) w^lu (`lruaWriteWeights`);
 * - M = clearSlots(M_{t-1}, w^lu_1): the single least-used slot is zeroed, as the paper says (with
 *   `clearing: 'all-least-used'`, every slot of the H-slot mask w^lu, as the PyTorch reference
 *   shared/bench/torch_mann_ref.py does);
 * - M = M + sum_h w^w_h^T v_h with v = k (or tanh(add)) (`writeMemory`);
 * - w^r = softmax(cosine(k, M)) on the new memory (`contentWeights`); reads = w^r M (`readMemory`);
 * - w^u = decay w^u_{t-1} + sum_h w^r_h + sum_h w^w_h (`updateUsage`).
 *
 * Initial state: memory filled with `initialValue` (1e-6); usage, read weights, write weights and the
 * least-used mask all zero. So the first step writes only to the least-used slots 0..H-1 (sigmoid(alpha) * 0
 * vanishes), each head's key going to all H of them with weight 1 - sigmoid(alpha).
 *
 * Fast implementation (`fast`, used by a model's fast recurrence): the same step in WebAssembly SIMD where it
 * compiles synchronously (Node, worker threads), else in JavaScript loops, with a hand-written gradient
 * (fast_lrua_cell.ts; `setLruaImplementation` or `MANN_LRUA=js|wasm` chooses).
 */
export function lrua(options: LruaOptions): AddressingScheme<LruaState> {
  if (options == null || typeof options !== 'object') {
    throw new Error(`lrua: options must be an object { memory, heads, decay?, writeVector?, clearing? }, got ${String(options)}`);
  }
  const memory = resolveMemoryConfig(options.memory);
  const heads = options.heads;
  checkHeads('lrua', heads, memory.slots, true);
  const decay = options.decay ?? 0.95;
  if (typeof decay !== 'number' || !(decay >= 0 && decay <= 1)) {
    throw new Error(`lrua: decay must be a number in [0, 1], got ${String(decay)}`);
  }
  const writeVector = options.writeVector ?? 'key';
  if (writeVector !== 'key' && writeVector !== 'add') {
    throw new Error(`lrua: writeVector must be 'key' or 'add', got ${String(writeVector)}`);
  }
  const clearing = options.clearing ?? 'least-used';
  if (clearing !== 'all-least-used' && clearing !== 'least-used') {
    throw new Error(`lrua: clearing must be 'all-least-used' or 'least-used', got ${String(clearing)}`);
  }
  const { slots, width } = memory;
  const keySize = heads * width;
  const parameterSize = keySize + heads + (writeVector === 'add' ? keySize : 0);

  return {
    name: 'lrua',
    heads,
    memory,
    parameterSize,
    fast: lruaFast({ heads, slots, width, decay, writeVector, clearing, initialValue: memory.initialValue }),

    initialState(batchSize: number): LruaState {
      return {
        memory: initialMemory(batchSize, memory),
        usage: initialUsage(batchSize, slots),
        readWeights: initialWeights(batchSize, heads, slots),
        writeWeights: initialWeights(batchSize, heads, slots),
        leastUsed: initialUsage(batchSize, slots),
      };
    },

    step(parameters: tf.Tensor2D, state: LruaState): { reads: tf.Tensor3D; state: LruaState } {
      const batch = checkParameters('lrua.step', parameters, parameterSize);
      checkState('lrua.step', state, {
        memory: [batch, slots, width],
        usage: [batch, slots],
        readWeights: [batch, heads, slots],
      });
      return tf.tidy(() => {
        const keys = tf.tanh(tf.reshape(tf.slice(parameters, [0, 0], [batch, keySize]), [batch, heads, width])) as tf.Tensor3D;
        const gate = tf.slice(parameters, [0, keySize], [batch, heads]);
        const values =
          writeVector === 'add'
            ? (tf.tanh(tf.reshape(tf.slice(parameters, [0, keySize + heads], [batch, keySize]), [batch, heads, width])) as tf.Tensor3D)
            : keys;

        // The paper's single least-used slot is the first of the H, so one ranking gives both masks.
        const masks = leastUsedMasks(state.usage, clearing === 'least-used' ? [heads, 1] : [heads]);
        const leastUsed = masks[0];
        const cleared = masks[1] ?? leastUsed;
        const writeWeights = lruaWriteWeights(gate, state.readWeights, leastUsed);
        const written = writeMemory(clearSlots(state.memory, cleared), writeWeights, values);
        const readWeights = contentWeights(keys, written);
        const reads = readMemory(written, readWeights);
        const usage = updateUsage(state.usage, decay, readWeights, writeWeights);
        return { reads, state: { memory: written, usage, readWeights, writeWeights, leastUsed } };
      });
    },
  };
}

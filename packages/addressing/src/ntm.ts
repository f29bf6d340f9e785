import * as tf from '@tensorflow/tfjs-core';
import { eraseMemory, initialMemory, readMemory, resolveMemoryConfig, writeMemory, type MemoryConfig } from '@mann/memory';
import { contentWeights } from './content_weights';
import { ntmFast } from './fast_ntm';
import { interpolateWeights } from './interpolate_weights';
import { checkHeads, checkParameters, checkState } from './scheme_checks';
import { sharpenWeights } from './sharpen_weights';
import { shiftWeights } from './shift_weights';
import type { AddressingScheme, AddressingState } from './types';

/** What NTM addressing carries from one step to the next. */
export interface NtmState extends AddressingState {
  /** Memory M_t [B, N, W]. */
  memory: tf.Tensor3D;
  /** Read weights of the H read heads [B, H, N]. */
  readWeights: tf.Tensor3D;
  /** Write weights of the H write heads [B, H, N]. */
  writeWeights: tf.Tensor3D;
}

/** Options of {@link ntm}: the memory, the number of heads and of shift offsets. */
export interface NtmOptions {
  /** The memory: `{ slots, width, initialValue? }`. */
  memory: MemoryConfig;
  /** Number of read heads, and of write heads (one each). At least 1. */
  heads: number;
  /** Number S of shift offsets, odd: offsets -(S-1)/2..(S-1)/2 (default 3: -1, 0, +1). At most `memory.slots`. */
  shifts?: number;
}

/**
 * NTM addressing (Graves et al. 2014), the "MANN (NTM addressing)" variant of Santoro et al. (2016):
 * H read heads and H write heads, each addressing by content, then location.
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { useBackend } from '@mann/backend';
 * import { ntm } from '@mann/addressing';
 * await useBackend('cpu');
 * const scheme = ntm({ memory: { slots: 128, width: 40 }, heads: 4 });
 * const state = scheme.initialState(16);
 * const { reads } = tf.tidy(() => scheme.step(tf.randomNormal([16, scheme.parameterSize]), state));
 * reads.shape; // [16, 4, 40]
 * ```
 *
 * Each head, from the controller's numbers: key k = tanh, strength beta = softplus, interpolation gate
 * g = sigmoid, shift s = softmax over S offsets, sharpening gamma = 1 + softplus; then
 * w = sharpen(shift(g * softmax(beta * cosine(k, M)) + (1 - g) * w_{t-1}, s), gamma).
 * Write heads also emit an erase vector e = sigmoid (W) and an add vector a = tanh (W).
 *
 * One step: the write heads address the previous memory M_{t-1}; M = M_{t-1} * prod_h (1 - w_h e_h^T)
 * (`eraseMemory`), then M += sum_h w_h^T a_h (`writeMemory`); the read heads address the new M; reads = w^r M.
 *
 * Parameter layout, per episode (`parameterSize` = H*(W + S + 3) + H*(3W + S + 3)):
 * - read heads: keys [H, W] (head-major), strengths [H], gates [H], shifts [H, S], sharpenings [H];
 * - then write heads: keys [H, W], strengths [H], gates [H], shifts [H, S], sharpenings [H], erase [H, W],
 *   add [H, W].
 *
 * Initial state: memory filled with `initialValue`; read and write weights one-hot on slot 0. Not zeros:
 * the NTM's weightings are distributions (each sums to 1), and with a zero previous weighting the first
 * interpolation would give g * w^c, which the sharpening renormalises so that g has no effect (and a zero
 * gradient) at the first step. With one-hot on slot 0, g chooses between content and "where I was".
 *
 * The scheme has a fast implementation (`fast`, fast_ntm.ts): the same step on Float32Arrays with a hand-written
 * gradient, which a model's fast recurrence runs instead of differentiating `step`; in WebAssembly SIMD where it
 * compiles, else JavaScript (`setNtmImplementation`).
 */
export function ntm(options: NtmOptions): AddressingScheme<NtmState> {
  if (options == null || typeof options !== 'object') {
    throw new Error(`ntm: options must be an object { memory, heads, shifts? }, got ${String(options)}`);
  }
  const memory = resolveMemoryConfig(options.memory);
  const heads = options.heads;
  checkHeads('ntm', heads, memory.slots, false);
  const shifts = options.shifts ?? 3;
  // An integer n has n % 2 === 1 only when it is odd and positive (-1 % 2 is -1): no separate check for n < 1.
  if (!Number.isInteger(shifts) || shifts % 2 !== 1) {
    throw new Error(`ntm: shifts must be an odd positive integer (offsets -(S-1)/2..(S-1)/2), got ${String(shifts)}`);
  }
  if (shifts > memory.slots) {
    throw new Error(`ntm: shifts = ${shifts} is larger than the number of slots (${memory.slots})`);
  }
  const { slots, width } = memory;
  const readSize = heads * (width + shifts + 3);
  const writeSize = heads * (3 * width + shifts + 3);
  const parameterSize = readSize + writeSize;

  return {
    name: 'ntm',
    heads,
    memory,
    parameterSize,
    fast: ntmFast({ memory, heads, shifts }),

    initialState(batchSize: number): NtmState {
      const onSlotZero = () =>
        tf.tidy(() => tf.cast(tf.oneHot(tf.zeros([batchSize, heads], 'int32') as tf.Tensor2D, slots), 'float32') as tf.Tensor3D);
      return { memory: initialMemory(batchSize, memory), readWeights: onSlotZero(), writeWeights: onSlotZero() };
    },

    step(parameters: tf.Tensor2D, state: NtmState): { reads: tf.Tensor3D; state: NtmState } {
      const batch = checkParameters('ntm.step', parameters, parameterSize);
      checkState('ntm.step', state, {
        memory: [batch, slots, width],
        readWeights: [batch, heads, slots],
        writeWeights: [batch, heads, slots],
      });
      return tf.tidy(() => {
        // Reads consecutive blocks of the parameter row: `take(n, shape)` returns the next n numbers per episode.
        let offset = 0;
        const take = (size: number, shape: number[]): tf.Tensor => {
          const block = tf.reshape(tf.slice(parameters, [0, offset], [batch, size]), [batch, ...shape]);
          offset += size;
          return block;
        };
        const head = () => ({
          keys: tf.tanh(take(heads * width, [heads, width])) as tf.Tensor3D,
          strength: tf.softplus(take(heads, [heads])) as tf.Tensor2D,
          gate: tf.sigmoid(take(heads, [heads])) as tf.Tensor2D,
          shift: tf.softmax(take(heads * shifts, [heads, shifts])) as tf.Tensor3D,
          sharpen: tf.add(1, tf.softplus(take(heads, [heads]))) as tf.Tensor2D,
        });
        const address = (h: ReturnType<typeof head>, memoryNow: tf.Tensor3D, previous: tf.Tensor3D): tf.Tensor3D => {
          const content = contentWeights(h.keys, memoryNow, h.strength);
          const interpolated = interpolateWeights(content, previous, h.gate);
          return sharpenWeights(shiftWeights(interpolated, h.shift), h.sharpen);
        };

        const readHead = head();
        const writeHead = head();
        const erase = tf.sigmoid(take(heads * width, [heads, width])) as tf.Tensor3D;
        const add = tf.tanh(take(heads * width, [heads, width])) as tf.Tensor3D;

        const writeWeights = address(writeHead, state.memory, state.writeWeights);
        const written = writeMemory(eraseMemory(state.memory, writeWeights, erase), writeWeights, add);
        const readWeights = address(readHead, written, state.readWeights);
        const reads = readMemory(written, readWeights);
        return { reads, state: { memory: written, readWeights, writeWeights } };
      });
    },
  };
}

import type * as tf from '@tensorflow/tfjs-core';
import type { MemoryConfig } from '@mann/memory';

/**
 * What an addressing scheme carries from one step to the next: always the memory itself, [B, N, W], plus
 * whatever weightings the scheme needs (usage, previous read and write weights...). Every entry is a tensor,
 * so the model can keep, dispose and display state without knowing the scheme.
 */
export interface AddressingState {
  memory: tf.Tensor3D;
  [name: string]: tf.Tensor;
}

/**
 * How a memory-augmented network writes to and reads from its memory: the place where LRUA, NTM addressing
 * or a scheme of your own swaps in without touching the model.
 *
 * A scheme owns no trainable variables. Each step the model projects the controller output linearly to
 * `parameterSize` numbers per episode and hands them to `step`, which interprets them (keys, gates, shifts...),
 * writes, then reads. `step` is a pure function of its inputs: call it inside `tf.tidy` and keep what it returns.
 */
export interface AddressingScheme<S extends AddressingState = AddressingState> {
  /** A short name for logs and checkpoints, e.g. `'lrua'`, `'ntm'`. */
  readonly name: string;
  /** Number of read heads R: each step returns R read vectors. */
  readonly heads: number;
  /** The memory this scheme addresses. */
  readonly memory: Required<MemoryConfig>;
  /** How many controller-projected numbers `step` reads per episode per step. */
  readonly parameterSize: number;
  /** The state at the start of an episode, for `batchSize` episodes. */
  initialState(batchSize: number): S;
  /**
   * One time step: `parameters` [B, parameterSize] -> read vectors [B, R, W] and the next state.
   * Writes happen before reads, as in Santoro et al. (2016).
   */
  step(parameters: tf.Tensor2D, state: S): { reads: tf.Tensor3D; state: S };
}

import type * as tf from '@tensorflow/tfjs-core';
import type { MemoryConfig } from '@mann/memory';

/**
 * What an addressing scheme carries from one step to the next: always the memory itself, [B, N, W], plus
 * whatever weightings the scheme needs (usage, previous read and write weights...). Every entry is a tensor,
 * so the model can keep, dispose and display state without knowing the scheme.
 */
export interface AddressingState {
  /** The memory M_t [B, N, W]. */
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
  step(
    parameters: tf.Tensor2D,
    state: S,
  ): {
    /** The read vectors [B, R, W]. */
    reads: tf.Tensor3D;
    /** The state after this step's write. */
    state: S;
  };
  /**
   * Optional: the same maths on typed arrays with a hand-written gradient, which a model's fast recurrence runs
   * instead of `step` (see {@link FastAddressing}). Without it the model still trains, differentiating `step`.
   */
  readonly fast?: FastAddressing;
}

/**
 * The fast implementation of an addressing scheme's maths: the same function as {@link AddressingScheme.step},
 * on Float32Arrays, forward and backward by hand. A model's recurrence (`fastForward` in @mann/model) uses it
 * when a scheme has one; a scheme without one still trains there, its step differentiated by tfjs
 * ({@link differentiatedAddressing}: correct gradients, slower).
 *
 * A scheme has no trainable variables (the model projects the controller output to its parameters), so a run
 * only maps parameters to reads and read gradients back to parameter gradients.
 */
export interface FastAddressing {
  /** Starts a run over `batch` episodes from `initialState(batch)`. */
  start(batch: number): AddressingRun;
}

/**
 * One run of a {@link FastAddressing}: `forward` once per step (step 0 first), then, to train, `backward` once
 * per step (the last step first). Holds only typed arrays, so an undifferentiated run needs no clean-up.
 */
export interface AddressingRun {
  /**
   * The next step forward: `parameters` [B, parameterSize] (the layout `step` reads) -> read vectors
   * [B, heads * width] (per episode, head 0's W numbers first: `step`'s reads [B, H, W] flattened). The returned
   * array is the caller's.
   */
  forward(parameters: Float32Array): Float32Array;
  /**
   * The next step backward (last step first): dL/d(reads) of that step [B, heads * width], from outside the
   * scheme, -> dL/d(parameters) [B, parameterSize]. Gradients through the memory and the scheme's weightings
   * are carried inside the run.
   */
  backward(readGradient: Float32Array): Float32Array;
}

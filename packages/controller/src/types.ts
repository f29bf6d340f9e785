import type * as tf from '@tensorflow/tfjs-core';

/** A controller's recurrent state: named [B, units] tensors (`h` and `c` for an LSTM, none for feed-forward). */
export interface ControllerState {
  [name: string]: tf.Tensor2D;
}

/**
 * The network that reads the input and drives the memory: the place where an LSTM, a feed-forward network or a
 * controller of your own swaps in without touching the model.
 */
export interface Controller<S extends ControllerState = ControllerState> {
  /** A short name for logs and checkpoints, e.g. `'lstm'`, `'feed-forward'`. */
  readonly name: string;
  /** Width of the input [B, inputSize] that `step` takes. */
  readonly inputSize: number;
  /** Width of the output [B, outputSize] that `step` returns. */
  readonly outputSize: number;
  /**
   * Trainable variables by stable name (`'kernel'`, `'bias'`...). Optimisers train these and checkpoints
   * store them under these names, so renaming one is a breaking change.
   */
  readonly variables: Readonly<Record<string, tf.Variable>>;
  /** The state at the start of an episode, for `batchSize` episodes. */
  initialState(batchSize: number): S;
  /** One time step. Pure apart from reading the variables: call it inside `tf.tidy` (or `tf.grad`). */
  step(input: tf.Tensor2D, state: S): { output: tf.Tensor2D; state: S };
  /** Frees the variables. */
  dispose(): void;
}

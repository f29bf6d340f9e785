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
  step(
    input: tf.Tensor2D,
    state: S,
  ): {
    /** The output [B, outputSize]. */
    output: tf.Tensor2D;
    /** The state after this step. */
    state: S;
  };
  /** Frees the variables. */
  dispose(): void;
  /**
   * Optional: the same maths on typed arrays with a hand-written gradient, which a model's fast recurrence runs
   * instead of `step` (see {@link FastController}). Without it the model still trains, differentiating `step`.
   */
  readonly fast?: FastController;
}

/**
 * The fast implementation of a controller's maths: the same function as {@link Controller.step}, run over a
 * whole batch of episodes on Float32Arrays, forward and backward by hand. A model's recurrence
 * (`fastForward` in @mann/model) uses it when a controller has one; a controller without one still trains
 * there, its step differentiated by tfjs ({@link differentiatedController}: correct gradients, slower).
 *
 * The input of step t is split in two: `[known_t, fed_t]`. The `known` part (in a MANN: the image and the
 * previous label) is known for every step before the run starts, so its share of the work can be done for all
 * steps at once (one large matrix product instead of T small ones). The `fed` part (the previous step's reads)
 * arrives one step at a time. `knownSize + fedSize = inputSize`.
 */
export interface FastController {
  /**
   * Starts a run of `steps` steps over `batch` episodes from `initialState(batch)`. `known` is [T * B, knownSize],
   * time-major (rows t * B .. t * B + B - 1 are step t). Reads the variables' current values.
   */
  start(known: tf.Tensor2D, steps: number, batch: number): ControllerRun;
}

/**
 * One run of a {@link FastController}: `forward` T times (step 0 first), then, to train, `backward` T times (the
 * last step first), then `gradients` once. Between passes a run holds no tensors, only typed arrays: a tensor it
 * needs for several steps of one pass (a weight slice during forward, its transpose during backward) is made at the
 * pass's first call and freed at its last (the run knows `steps`), or at once when a call throws (the run then
 * refuses further calls). So a run that is never differentiated (evaluation) needs no clean-up after its T
 * forwards. Arrays a run returns are the caller's; arrays passed in are not kept (the run copies what it needs).
 */
export interface ControllerRun {
  /** The next step forward: the fed part of its input [B, fedSize] -> the controller output [B, outputSize]. */
  forward(fed: Float32Array): Float32Array;
  /**
   * The next step backward (last step first): dL/d(output) of that step [B, outputSize], from outside the
   * controller, -> dL/d(fed part of its input) [B, fedSize]. The gradient through the controller's own state
   * (h and c of an LSTM) is carried inside the run.
   */
  backward(outputGradient: Float32Array): Float32Array;
  /**
   * After the last backward: dL/d(each variable), keyed as {@link Controller.variables}, as new tensors the caller
   * disposes. `known` is the same tensor (same values) that `start` had.
   */
  gradients(known: tf.Tensor2D): Record<string, tf.Tensor>;
}

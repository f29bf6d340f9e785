import * as tf from '@tensorflow/tfjs-core';
import { fastFeedForward } from './fast_feed_forward';
import { checkSeed, glorotUniformValues } from './glorot_uniform';
import { seededRandom } from './seeded_random';
import type { Controller, FastController } from './types';
import { assertPositiveInteger, assertShape, assertStepInput, formatShape } from './validate';

/** The non-linearities a feed-forward controller offers. */
export type FeedForwardActivation = 'tanh' | 'relu';

const ACTIVATIONS: readonly FeedForwardActivation[] = ['tanh', 'relu'];

/** Options of {@link feedForward}. */
export interface FeedForwardOptions {
  /** Width of the input [B, inputSize]. */
  inputSize: number;
  /** Width of every layer, and so of the output. Default 200. */
  units?: number;
  /** Number of dense layers. Default 1. */
  layers?: number;
  /** Non-linearity after every layer. Default 'tanh'. */
  activation?: FeedForwardActivation;
  /** Seed of the kernels' Glorot-uniform initialisation. Default 0. */
  seed?: number;
}

/** One dense layer's weights: `kernel` [inWidth, outWidth] and `bias` [outWidth]. */
export interface DenseWeights {
  /** Weights [inWidth, outWidth]. */
  kernel: tf.Tensor2D;
  /** Biases [outWidth]. */
  bias: tf.Tensor1D;
}

/**
 * A stack of dense layers, `x <- activation(x · kernel_l + bias_l)` for l = 0, 1, ...: the pure maths of the
 * feed-forward controller's step.
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { feedForwardStep } from '@mann/controller';
 * const layer = { kernel: tf.tensor2d([[1, -1], [2, 0]]), bias: tf.tensor1d([0, 0.5]) };
 * feedForwardStep(tf.tensor2d([[1, 1]]), [layer], 'relu').print(); // [[3, 0]]
 * ```
 */
export function feedForwardStep(input: tf.Tensor2D, layers: readonly DenseWeights[], activation: FeedForwardActivation): tf.Tensor2D {
  const caller = 'feedForwardStep';
  if (!ACTIVATIONS.includes(activation)) {
    throw new Error(`${caller}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(activation)}.`);
  }
  if (input == null || input.rank !== 2) {
    throw new Error(`${caller}: input must be rank 2, [batch, width], got shape ${input == null ? String(input) : formatShape(input.shape)}.`);
  }
  if (!Array.isArray(layers) || layers.length === 0) {
    throw new Error(`${caller}: layers must be a non-empty array of { kernel, bias }.`);
  }
  let width = input.shape[1];
  layers.forEach(({ kernel, bias }, l) => {
    if (kernel == null || kernel.rank !== 2 || kernel.shape[0] !== width) {
      throw new Error(
        `${caller}: layers[${l}].kernel has shape ${kernel == null ? String(kernel) : formatShape(kernel.shape)} ` +
          `but must be [${width}, outWidth] to take a [batch, ${width}] input.`,
      );
    }
    width = kernel.shape[1];
    assertShape(bias, [width], `layers[${l}].bias`, caller);
  });
  return tf.tidy(() => {
    let x: tf.Tensor2D = input;
    for (const { kernel, bias } of layers) {
      const z = tf.add(tf.matMul(x, kernel), bias) as tf.Tensor2D;
      x = activation === 'relu' ? tf.relu(z) : tf.tanh(z);
    }
    return x;
  });
}

/**
 * A feed-forward controller: a stack of `layers` dense layers of `units` each, with no recurrent state (the
 * paper's "MANN with feed-forward controller", whose only memory is the external one).
 *
 * Variables: `kernel0` [inputSize, units], `bias0` [units], `kernel1` [units, units], `bias1`, ... Kernels are
 * Glorot-uniform, drawn in order from one generator seeded with `seed` (so `kernel0` equals
 * `glorotUniform([inputSize, units], seed)`); biases start at zero. The state is the empty object `{}`.
 * `fast` is the same maths by hand on typed arrays, for a model's fast recurrence (fast_feed_forward.ts).
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { feedForward } from '@mann/controller';
 * const controller = feedForward({ inputSize: 3, units: 4, layers: 2 });
 * const { output } = controller.step(tf.ones([2, 3]), controller.initialState(2));
 * output.print(); // [2, 4]
 * controller.dispose();
 * ```
 */
export function feedForward(options: FeedForwardOptions): Controller<{}> {
  return new FeedForwardController(options);
}

class FeedForwardController implements Controller<{}> {
  readonly name = 'feed-forward';
  readonly inputSize: number;
  readonly outputSize: number;
  readonly units: number;
  readonly layers: number;
  readonly activation: FeedForwardActivation;
  readonly variables: Readonly<Record<string, tf.Variable>>;
  /** The same maths on typed arrays, by hand (fast_feed_forward.ts). */
  readonly fast: FastController;
  private disposed = false;

  constructor(options: FeedForwardOptions) {
    const caller = 'feedForward';
    if (options == null || typeof options !== 'object') {
      throw new Error(`${caller}: options must be an object like { inputSize: 305 }, got ${String(options)}.`);
    }
    const { inputSize, units = 200, layers = 1, activation = 'tanh', seed = 0 } = options;
    assertPositiveInteger(inputSize, 'inputSize', caller);
    assertPositiveInteger(units, 'units', caller);
    assertPositiveInteger(layers, 'layers', caller);
    if (!ACTIVATIONS.includes(activation)) {
      throw new Error(`${caller}: activation must be one of ${ACTIVATIONS.join(', ')}, got ${String(activation)}.`);
    }
    checkSeed(seed, caller);
    this.inputSize = inputSize;
    this.units = units;
    this.outputSize = units;
    this.layers = layers;
    this.activation = activation;

    const random = seededRandom(seed);
    const variables: Record<string, tf.Variable> = {};
    for (let l = 0; l < layers; l++) {
      const shape: [number, number] = [l === 0 ? inputSize : units, units];
      const kernel = tf.tensor2d(glorotUniformValues(shape, random), shape, 'float32');
      const bias = tf.zeros([units], 'float32');
      // Unnamed: tfjs variable names must be unique program-wide.
      variables[`kernel${l}`] = tf.variable(kernel, true);
      variables[`bias${l}`] = tf.variable(bias, true);
      kernel.dispose();
      bias.dispose();
    }
    this.variables = Object.freeze(variables);
    this.fast = fastFeedForward(this);
  }

  initialState(batchSize: number): {} {
    this.assertNotDisposed('initialState');
    assertPositiveInteger(batchSize, 'batchSize', 'feed-forward.initialState');
    return {};
  }

  // The state is ignored: a feed-forward controller has none, and `{}` is all there is to pass along.
  step(input: tf.Tensor2D, _state: {}): { output: tf.Tensor2D; state: {} } {
    this.assertNotDisposed('step');
    assertStepInput(input, this.inputSize, 'feed-forward.step');
    const layers: DenseWeights[] = [];
    for (let l = 0; l < this.layers; l++) {
      layers.push({ kernel: this.variables[`kernel${l}`] as tf.Tensor2D, bias: this.variables[`bias${l}`] as tf.Tensor1D });
    }
    return { output: feedForwardStep(input, layers, this.activation), state: {} };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const variable of Object.values(this.variables)) variable.dispose();
  }

  private assertNotDisposed(method: string): void {
    if (this.disposed) throw new Error(`feed-forward.${method}: the controller has been disposed.`);
  }
}

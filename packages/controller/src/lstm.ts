import * as tf from '@tensorflow/tfjs-core';
import { checkSeed, glorotUniformValues } from './glorot_uniform';
import { fastLstm } from './fast_lstm';
import { lstmStep } from './lstm_step';
import { seededRandom } from './seeded_random';
import type { Controller, FastController } from './types';
import { assertFiniteNumber, assertPositiveInteger, assertShape, assertStepInput } from './validate';

/** Options of {@link lstm}. */
export interface LSTMOptions {
  /** Width of the input [B, inputSize] (in a MANN: image + previous label + previous read vectors). */
  inputSize: number;
  /** Number of LSTM units, the width of `h`, `c` and the output. Default 200, as in the paper. */
  units?: number;
  /** Added to the forget gate's pre-activation at every step (see {@link lstmStep}). Default 1. */
  forgetBias?: number;
  /** Seed of the kernel's Glorot-uniform initialisation; the same seed gives the same weights everywhere. Default 0. */
  seed?: number;
}

/** The recurrent state of an LSTM controller: hidden output `h` and cell `c`, both [B, units]. */
export type LSTMState = {
  /** Hidden output h [B, units]. */
  h: tf.Tensor2D;
  /** Cell c [B, units]. */
  c: tf.Tensor2D;
};

/**
 * An LSTM controller (the paper's default, 200 units).
 *
 * Variables: `kernel` [inputSize + units, 4 * units] (input and recurrent weights fused, gate columns in the
 * order i, f, g, o) initialised Glorot-uniform from `seed`, and `bias` [4 * units] initialised to zeros. The
 * maths of a step is {@link lstmStep}; `forgetBias` is added inside it, not stored in `bias`.
 *
 * `step` returns `output` and `state.h` as the same tensor (h_t is the LSTM's output); disposing it twice is
 * harmless in tfjs.
 *
 * `fast` is the same maths by hand on typed arrays, for a model's fast recurrence (see `fastLstm` in
 * fast_lstm.ts and {@link FastController}).
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { lstm } from '@mann/controller';
 * const controller = lstm({ inputSize: 3, units: 4, seed: 1 });
 * let state = controller.initialState(2);
 * const out = tf.tidy(() => {
 *   const next = controller.step(tf.ones([2, 3]), state);
 *   state = next.state; // keep the state...
 *   return next;
 * });
 * out.output.print(); // [2, 4]
 * controller.dispose();
 * ```
 */
export function lstm(options: LSTMOptions): Controller<LSTMState> {
  return new LSTMController(options);
}

class LSTMController implements Controller<LSTMState> {
  readonly name = 'lstm';
  readonly inputSize: number;
  readonly outputSize: number;
  readonly units: number;
  readonly forgetBias: number;
  readonly variables: Readonly<{ kernel: tf.Variable; bias: tf.Variable }>;
  /** The same maths on typed arrays, by hand (fast_lstm.ts). */
  readonly fast: FastController;
  private disposed = false;

  constructor(options: LSTMOptions) {
    if (options == null || typeof options !== 'object') {
      throw new Error(`lstm: options must be an object like { inputSize: 305 }, got ${String(options)}.`);
    }
    const { inputSize, units = 200, forgetBias = 1, seed = 0 } = options;
    assertPositiveInteger(inputSize, 'inputSize', 'lstm');
    assertPositiveInteger(units, 'units', 'lstm');
    assertFiniteNumber(forgetBias, 'forgetBias', 'lstm');
    checkSeed(seed, 'lstm');
    this.inputSize = inputSize;
    this.units = units;
    this.outputSize = units;
    this.forgetBias = forgetBias;

    const kernelShape: [number, number] = [inputSize + units, 4 * units];
    const kernel = tf.tensor2d(glorotUniformValues(kernelShape, seededRandom(seed)), kernelShape, 'float32');
    const bias = tf.zeros([4 * units], 'float32');
    // No variable names: tfjs requires them to be unique across the whole program, and users build many models.
    this.variables = Object.freeze({ kernel: tf.variable(kernel, true), bias: tf.variable(bias, true) });
    kernel.dispose();
    bias.dispose();
    this.fast = fastLstm(this);
  }

  initialState(batchSize: number): LSTMState {
    this.assertNotDisposed('initialState');
    assertPositiveInteger(batchSize, 'batchSize', 'lstm.initialState');
    return { h: tf.zeros([batchSize, this.units]), c: tf.zeros([batchSize, this.units]) };
  }

  step(input: tf.Tensor2D, state: LSTMState): { output: tf.Tensor2D; state: LSTMState } {
    this.assertNotDisposed('step');
    const batch = assertStepInput(input, this.inputSize, 'lstm.step');
    if (state == null || typeof state !== 'object') {
      throw new Error(`lstm.step: state must be { h, c } (from initialState or a previous step), got ${String(state)}.`);
    }
    assertShape(state.h, [batch, this.units], 'state.h', 'lstm.step');
    assertShape(state.c, [batch, this.units], 'state.c', 'lstm.step');
    const { kernel, bias } = this.variables;
    const next = lstmStep(input, state.h, state.c, kernel as tf.Tensor2D, bias as tf.Tensor1D, this.forgetBias);
    return { output: next.h, state: { h: next.h, c: next.c } };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.variables.kernel.dispose();
    this.variables.bias.dispose();
  }

  private assertNotDisposed(method: string): void {
    if (this.disposed) throw new Error(`lstm.${method}: the controller has been disposed.`);
  }
}

// The feed-forward controller's fast implementation (`feedForward(...).fast`): the maths of `feedForwardStep` over
// a whole run, forward and backward by hand, the matrix products in @mann/kernels (WebAssembly SIMD) and the
// activations in JavaScript.
import * as tf from '@tensorflow/tfjs-core';
import { columnSums, matMul, transpose } from '@mann/kernels';
import type { FeedForwardActivation } from './feed_forward';
import { checkLength, checkSameShape, checkStart, matMulValues, PassMatrix, projectKnown, readValues, rowsOf, RunOrder, stackedKernelGradient } from './fast_run';
import type { ControllerRun, FastController } from './types';

/** What the fast feed-forward stack reads from its controller. */
export interface FastFeedForwardSource {
  /** `kernel0`, `bias0`, `kernel1`, ... */
  readonly variables: Readonly<Record<string, tf.Variable>>;
  readonly inputSize: number;
  readonly units: number;
  readonly layers: number;
  readonly activation: FeedForwardActivation;
}

/**
 * The feed-forward controller's {@link FastController}: the same function as `feedForwardStep`
 * (x <- activation(x · kernel_l + bias_l) for each layer), run over T steps of B episodes.
 * - The kernels' values are read once per run. The first layer's kernel rows split as [known; fed]: the known rows
 *   multiply all T steps at once in `start` (one [T*B, knownSize] x [knownSize, U] product plus the bias), the fed
 *   rows once per step (copied to the kernels' memory once per forward pass).
 * - Deeper layers: one product per layer and step, the bias and the activation in JavaScript.
 * - Backward per step: the activation's derivative in JavaScript (from its output: tanh' = 1 - a^2,
 *   relu' = [a > 0]) and one product per layer with the kernel transposed once per backward pass.
 * - The weight gradients at the end: a_{l-1}^T x dZ_l over all T*B rows, the bias gradients as column sums.
 * Every product is @mann/kernels' `matMul` on Float32Arrays, not a tfjs op.
 *
 * A feed-forward controller has no state: nothing is carried from one step to the next, so step t's backward
 * only needs step t's activations.
 */
export function fastFeedForward(source: FastFeedForwardSource): FastController {
  return {
    start(known: tf.Tensor2D, steps: number, batch: number): ControllerRun {
      const caller = 'feed-forward.fast';
      const { variables, inputSize, units, layers, activation } = source;
      if (variables.kernel0.isDisposed) throw new Error(`${caller} start: the controller has been disposed.`);
      const knownSize = checkStart(`${caller} start`, known, steps, batch, inputSize);
      const fedSize = inputSize - knownSize;
      const relu = activation === 'relu';
      // kernels[l]: [inputSize, U] for l = 0, [U, U] after.
      const kernels = Array.from({ length: layers }, (_, l) => ({ values: readValues(variables[`kernel${l}`]), rows: l === 0 ? inputSize : units, cols: units }));
      const block = batch * units;

      // First layer's pre-activations from the known part and bias0, every step: [T*B, U].
      const biases = Array.from({ length: layers }, (_, l) => readValues(variables[`bias${l}`]));
      const projected = projectKnown(known, kernels[0].values, biases[0], units);
      const fedKernel = new PassMatrix(() => rowsOf(kernels[0].values, units, knownSize, fedSize));
      const fedKernelT = new PassMatrix(() => transpose(rowsOf(kernels[0].values, units, knownSize, fedSize)));
      // Deeper layers' kernels and their transposes (layer 0's input gradient goes through fedKernelT).
      const deepKernels = kernels.map((kernel) => new PassMatrix(() => kernel));
      const kernelsT = kernels.map((kernel) => new PassMatrix(() => transpose(kernel)));
      const order = new RunOrder(caller, steps, [fedKernel, fedKernelT, ...deepKernels, ...kernelsT]);

      const fedInputs = new Float32Array(steps * batch * fedSize); // row block t: fed_t
      const outputs = kernels.map(() => new Float32Array(steps * block)); // outputs[l] row block t: a_l at step t
      const dZ = kernels.map(() => new Float32Array(steps * block)); // dZ[l] row block t: dL/dz_l at step t

      return {
        forward(fed: Float32Array): Float32Array {
          return order.forward((t, last) => {
            checkLength(`${caller} forward`, 'fed', fed, batch * fedSize);
            fedInputs.set(fed, t * batch * fedSize);
            const offset = t * block;
            let a = outputs[0].subarray(offset, offset + block);
            a.set(projected.subarray(offset, offset + block));
            if (fedSize > 0) {
              const fromFed = matMulValues(fed, batch, fedKernel.get());
              // Stryker disable next-line EqualityOperator: `<=` only adds a write past the end of a typed array, which is dropped
              for (let i = 0; i < block; i++) a[i] += fromFed[i];
            }
            activate(a, relu);
            for (let l = 1; l < layers; l++) {
              const previous = a;
              a = outputs[l].subarray(offset, offset + block);
              a.set(matMulValues(previous, batch, deepKernels[l].get()));
              const bias = biases[l];
              // Stryker disable next-line EqualityOperator: `<=` only adds writes past the end of a typed array, which are dropped
              for (let b = 0; b < batch; b++) {
                for (let j = 0; j < units; j++) a[b * units + j] += bias[j];
              }
              activate(a, relu);
            }
            if (last) {
              fedKernel.dispose();
              deepKernels.forEach((kernel) => kernel.dispose());
            }
            return a.slice();
          });
        },

        backward(outputGradient: Float32Array): Float32Array {
          return order.backward((t, last) => {
            checkLength(`${caller} backward`, 'outputGradient', outputGradient, block);
            const offset = t * block;
            let da: Float32Array = outputGradient;
            let fedGradient: Float32Array = new Float32Array(batch * fedSize);
            for (let l = layers - 1; l >= 0; l--) {
              const a = outputs[l].subarray(offset, offset + block);
              const dz = dZ[l].subarray(offset, offset + block);
              if (relu) {
                // Stryker disable next-line EqualityOperator: `<=` only adds a write past the end of a typed array, which is dropped
                for (let i = 0; i < block; i++) {
                  dz[i] = a[i] > 0 ? da[i] : 0;
                }
              } else {
                // Stryker disable next-line EqualityOperator: `<=` only adds a write past the end of a typed array, which is dropped
                for (let i = 0; i < block; i++) dz[i] = da[i] * (1 - a[i] * a[i]);
              }
              if (l > 0) {
                da = matMulValues(dz, batch, kernelsT[l].get());
              } else if (fedSize > 0) {
                fedGradient = matMulValues(dz, batch, fedKernelT.get());
              }
            }
            if (last) {
              fedKernelT.dispose();
              kernelsT.forEach((kernelT) => kernelT.dispose());
            }
            return fedGradient;
          });
        },

        gradients(knownAgain: tf.Tensor2D): Record<string, tf.Tensor> {
          return order.gradients(() => {
            checkSameShape(`${caller} gradients`, knownAgain, known);
            const rows = steps * batch;
            const grads: Record<string, tf.Tensor> = {};
            for (let l = 0; l < layers; l++) {
              const kernelGradient =
                l === 0
                  ? stackedKernelGradient(knownAgain, fedInputs, fedSize, dZ[l], units)
                  : matMul({ values: outputs[l - 1], rows, cols: units }, { values: dZ[l], rows, cols: units }, { transposeA: true });
              grads[`kernel${l}`] = tf.tensor2d(kernelGradient, [kernels[l].rows, units]);
              grads[`bias${l}`] = tf.tensor1d(columnSums(dZ[l], units));
            }
            return grads;
          });
        },
      };
    },
  };
}

/** The activation in place: tanh, or relu. */
function activate(values: Float32Array, relu: boolean): void {
  if (relu) {
    // Stryker disable next-line EqualityOperator: `<=` only adds a write past the end of a typed array, which is dropped
    for (let i = 0; i < values.length; i++) {
      if (values[i] < 0) values[i] = 0;
    }
  } else {
    // Stryker disable next-line EqualityOperator: `<=` only adds a write past the end of a typed array, which is dropped
    for (let i = 0; i < values.length; i++) values[i] = Math.tanh(values[i]);
  }
}

import * as tf from '@tensorflow/tfjs-core';
import { differentiatedAddressing, lruaImplementation, ntmImplementation, type FastAddressing } from '@mann/addressing';
import { differentiatedController, type FastController } from '@mann/controller';
import { columnSums, matMul, repeatRows, residentMatrix, transpose, type ResidentMatrix } from '@mann/kernels';
import type { MemoryAugmentedNetwork } from './model';
import { checkInputShapes } from './batch_checks';

/** How the fast path runs a model's parts: each part's own fast implementation, or its step differentiated by tfjs. */
export interface FastPathParts {
  /** The controller's fast implementation, or its `step` differentiated by tfjs. */
  controller: FastController;
  /** null for the memoryless baselines. */
  addressing: FastAddressing | null;
  /** One line for logs: which part runs how, and why. */
  description: string;
}

/**
 * The fast implementations `fastForward` composes for this model: `controller.fast` and `addressing.fast` where the
 * parts have them, else `differentiatedController` / `differentiatedAddressing` (the part's own `step`,
 * differentiated by tfjs: correct, as slow as the plain path for that part), and a line that says so.
 */
export function fastPathParts(model: MemoryAugmentedNetwork): FastPathParts {
  const { controller, addressing } = model;
  const describe = (kind: string, name: string, fast: boolean, detail = '') =>
    fast ? `${kind} '${name}' fast${detail}` : `${kind} '${name}' has no fast implementation, its step differentiated by tfjs (slower)`;
  const parts = [describe('controller', controller.name, !!controller.fast)];
  // The built-in schemes run WebAssembly SIMD where it compiles, else JavaScript: say which.
  const implementation = addressing?.name === 'lrua' ? lruaImplementation() : addressing?.name === 'ntm' ? ntmImplementation() : null;
  const detail = implementation ? ` (${implementation === 'wasm' ? 'WebAssembly SIMD' : 'JavaScript'})` : '';
  if (addressing) parts.push(describe('addressing', addressing.name, !!addressing.fast, detail));
  return { ...fastImplementations(model), description: parts.join(', ') };
}

/** The parts' fast implementations alone (what every batch needs; the description is for logs). */
function fastImplementations(model: MemoryAugmentedNetwork): Omit<FastPathParts, 'description'> {
  const { controller, addressing } = model;
  return {
    controller: controller.fast ?? differentiatedController(controller),
    addressing: addressing ? (addressing.fast ?? differentiatedAddressing(addressing)) : null,
  };
}

/**
 * The same function as `model.forward(images, previousLabels)` (logits [T, B, G * C]) with far fewer tfjs kernels
 * and a hand-written gradient for the whole recurrence: the fast path, for any controller and addressing scheme.
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { useBackend } from '@mann/backend';
 * import { MemoryAugmentedNetwork, fastForward } from '@mann/model';
 * await useBackend('wasm');
 * const model = new MemoryAugmentedNetwork({ controllerUnits: 64, memorySlots: 32, memoryWidth: 16, heads: 2 });
 * const logits = tf.tidy(() => fastForward(model, tf.zeros([10, 4, 400]), tf.zeros([10, 4, 5])));
 * console.log(logits.shape); // [10, 4, 5]
 * ```
 *
 * This is composition only: the maths of each part is the part's own fast implementation (`Controller.fast` in
 * @mann/controller, `AddressingScheme.fast` in @mann/addressing; see {@link fastPathParts}). What it adds:
 * - the recurrence is one `tf.customGrad` op, so the tape records one node instead of thousands;
 * - the controller's input [x_t, y_{t-1}, r_{t-1}] is split: the images and labels of all steps are handed to
 *   the controller at once (the "known" part: one large matrix product), the reads one step at a time;
 * - per step, h_t is projected to the scheme's parameters with one product (h x W_mem + b), and backward
 *   dL/dparameters goes back to h with one product by W_mem's transpose; W_mem's gradient is one large product
 *   over all steps (@mann/kernels' `matMul` on Float32Arrays, W_mem and its transpose copied in once per pass);
 * - the output layer [h, r] x W_o + b_o is a second `tf.customGrad` op on the same products (tfjs' gradient of a
 *   matMul uses transposed products, which are slow on wasm).
 *
 * Runs on every backend and in browsers: typed arrays, @mann/kernels' WebAssembly products and tfjs ops; the
 * weights are read back once per pass (`dataSync`).
 */
export function fastForward(model: MemoryAugmentedNetwork, images: tf.Tensor3D, previousLabels: tf.Tensor3D): tf.Tensor3D {
  checkInputShapes('fastForward', model, images, previousLabels);
  const [steps, batch] = images.shape;
  const parts = fastImplementations(model);
  const units = model.controller.outputSize;
  const readSize = model.readSize;
  const scheme = model.addressing;
  const parameterSize = scheme ? scheme.parameterSize : 0;
  const knownSize = model.imageSize + model.labelSize;
  const rowWidth = units + readSize; // a row of the recurrence's output: [h_t, r_t]
  const controllerNames = Object.keys(model.controller.variables);
  const v = model.variables;
  const known = () => tf.reshape(tf.concat([images, previousLabels], 2), [steps * batch, knownSize]) as tf.Tensor2D;

  const recurrence = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const controllerWeights = args.slice(0, controllerNames.length) as tf.Tensor[];
    // The memory's projection W_mem, b_mem follow, for a MANN only (the last argument is tfjs' save function).
    const [memoryKernel, memoryBias] = (scheme ? args.slice(controllerNames.length, controllerNames.length + 2) : []) as [tf.Tensor2D?, tf.Tensor1D?];
    const knownInputs = known();
    const controllerRun = parts.controller.start(knownInputs, steps, batch);
    knownInputs.dispose();
    const addressingRun = parts.addressing?.start(batch) ?? null;
    const memoryBiasValues = memoryBias ? (memoryBias.dataSync() as Float32Array) : new Float32Array(0);
    const memoryBiasRows = repeatRows(memoryBiasValues, batch);
    // W_mem's values, read once; resident in the kernels' memory for the forward pass.
    const memoryKernelValues = memoryKernel ? { values: new Float32Array(memoryKernel.dataSync()), rows: units, cols: parameterSize } : null;
    let memoryKernelResident: ResidentMatrix | null = memoryKernelValues ? residentMatrix(memoryKernelValues) : null;
    const hidden = new Float32Array(steps * batch * units);
    const outputs = new Float32Array(steps * batch * rowWidth);
    let reads: Float32Array = new Float32Array(batch * readSize); // r_{-1} = 0
    try {
      for (let t = 0; t < steps; t++) {
        const h = controllerRun.forward(reads);
        hidden.set(h, t * batch * units);
        if (addressingRun) {
          const parameters = matMul({ values: h, rows: batch, cols: units }, memoryKernelResident!, { add: memoryBiasRows });
          reads = addressingRun.forward(parameters);
        }
        for (let b = 0; b < batch; b++) {
          const row = (t * batch + b) * rowWidth;
          outputs.set(h.subarray(b * units, (b + 1) * units), row);
          if (readSize > 0) outputs.set(reads.subarray(b * readSize, (b + 1) * readSize), row + units);
        }
      }
    } finally {
      memoryKernelResident?.dispose();
      memoryKernelResident = null;
    }
    const value = tf.tensor2d(outputs, [steps * batch, rowWidth]);

    const gradFunc = (dy: tf.Tensor | tf.Tensor[]) => {
      const outputGradient = (Array.isArray(dy) ? dy[0] : dy).dataSync() as Float32Array;
      const memoryKernelT = memoryKernelValues ? residentMatrix(transpose(memoryKernelValues)) : null;
      const parameterGradients = new Float32Array(steps * batch * parameterSize);
      const dReads = new Float32Array(batch * readSize);
      const dh = new Float32Array(batch * units);
      let fromNext: Float32Array = new Float32Array(batch * readSize); // dL/dr_t through step t + 1's controller input
      try {
        for (let t = steps - 1; t >= 0; t--) {
          for (let b = 0; b < batch; b++) {
            const row = (t * batch + b) * rowWidth;
            for (let j = 0; j < readSize; j++) dReads[b * readSize + j] = outputGradient[row + units + j] + fromNext[b * readSize + j];
            dh.set(outputGradient.subarray(row, row + units), b * units);
          }
          if (addressingRun) {
            const stepParameters = addressingRun.backward(dReads);
            parameterGradients.set(stepParameters, t * batch * parameterSize);
            const fromMemory = matMul({ values: stepParameters, rows: batch, cols: parameterSize }, memoryKernelT!);
            for (let i = 0; i < dh.length; i++) dh[i] += fromMemory[i];
          }
          fromNext = controllerRun.backward(dh);
        }
      } finally {
        memoryKernelT?.dispose();
      }
      return tf.tidy(() => {
        const knownInputs = known();
        const controllerGradients = controllerRun.gradients(knownInputs);
        const grads = controllerNames.map((name, i) => controllerGradients[name] ?? tf.zerosLike(controllerWeights[i]));
        if (!memoryKernel) return grads;
        const rows = steps * batch;
        const memoryKernelGradient = matMul({ values: hidden, rows, cols: units }, { values: parameterGradients, rows, cols: parameterSize }, { transposeA: true });
        return [...grads, tf.tensor2d(memoryKernelGradient, [units, parameterSize]), tf.tensor1d(columnSums(parameterGradients, parameterSize))];
      });
    };
    return { value, gradFunc };
  });

  return tf.tidy(() => {
    const weights: tf.Tensor[] = controllerNames.map((name) => v[`controller/${name}`]);
    if (scheme) weights.push(v['memory/kernel'], v['memory/bias']);
    const hr = recurrence(...weights) as tf.Tensor2D;
    const logits = dense(hr, v['output/kernel'] as tf.Tensor2D, v['output/bias'] as tf.Tensor1D);
    return tf.reshape(logits, [steps, batch, model.outputSize]) as tf.Tensor3D;
  });
}

/**
 * x [R, I] x kernel [I, O] + bias, and its gradient, with @mann/kernels' products on the values read back once:
 * dx = dy kernel^T, dkernel = x^T dy, dbias = the column sums of dy.
 */
function dense(x: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  const [rows, inputs] = x.shape;
  const outputs = kernel.shape[1];
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [input, weights, offsets] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const inputValues = { values: input.dataSync() as Float32Array, rows, cols: inputs };
    const kernelValues = { values: weights.dataSync() as Float32Array, rows: inputs, cols: outputs };
    const biasRows = repeatRows(offsets.dataSync() as Float32Array, rows);
    const value = tf.tensor2d(matMul(inputValues, kernelValues, { add: biasRows, out: biasRows }), [rows, outputs]);
    const gradFunc = (dy: tf.Tensor | tf.Tensor[]) => {
      const gradient = { values: (Array.isArray(dy) ? dy[0] : dy).dataSync() as Float32Array, rows, cols: outputs };
      return [
        tf.tensor2d(matMul(gradient, transpose(kernelValues)), [rows, inputs]),
        tf.tensor2d(matMul(inputValues, gradient, { transposeA: true }), [inputs, outputs]),
        tf.tensor1d(columnSums(gradient.values, outputs)),
      ];
    };
    return { value, gradFunc };
  });
  return op(x, kernel, bias) as tf.Tensor2D;
}

import * as tf from '@tensorflow/tfjs-core';
import { resolveMemoryConfig } from '@mann/memory';
import type { ModelConfig } from './config';
import { lruaInitialRecord, lruaParameterSize, lruaStepBackward, lruaStepForward, lruaZeroCarry, type LruaSizes, type LruaStepRecord } from './fast_lrua_cell';
import { lstmCellBackward, lstmCellForward } from './fast_lstm_cell';
import type { MemoryAugmentedNetwork } from './model';

/**
 * True when `fastForward` can run this configuration: a MANN with an LSTM controller and LRUA addressing (the
 * paper's model, any sizes, one-hot or string labels, writing its keys or separate add vectors), or the LSTM
 * baseline (no memory). Everything else uses the plain path.
 */
export function supportsFastPath(config: ModelConfig): boolean {
  if (config.kind === 'lstm') return true;
  return config.kind === 'mann' && config.controller === 'lstm' && config.addressing === 'lrua';
}

/**
 * The same function as `model.forward(images, previousLabels)` (logits [T, B, G * C]), computed with far fewer
 * tfjs kernels, and with a hand-written gradient for the whole recurrence.
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
 * How (see docs/benchmarks.md for the measurements behind each choice):
 * - the image and label rows of the LSTM kernel multiply all T steps at once, one [T*B, D+L] x [D+L, 4U] matMul;
 * - per step only two backend matMuls remain forward ([r, h] x W_rh and h x W_mem) and two backward (their
 *   transposes, taken once per batch: a transposed matMul is far slower than a plain one on wasm);
 * - the LSTM gates and the whole LRUA memory step (least-used mask, write, cosine read, usage) run in plain
 *   JavaScript on Float32Arrays, forward and backward (fast_lstm_cell.ts, fast_lrua_cell.ts): at B = 16 these
 *   are many tiny kernels whose dispatch costs more than their arithmetic; the LRUA step runs in WebAssembly
 *   SIMD instead where that compiles synchronously (Node, worker threads; fast_lrua_wasm.ts);
 * - the recurrence is one `tf.customGrad` op: the tape records one node instead of ~1,800, and its gradient
 *   computes the weight gradients as three large matMuls over all steps.
 * - the output layer [h, r] x W_o + b_o stays ordinary tfjs ops with tfjs' own gradients;
 * - the LSTM baseline (`kind: 'lstm'`) is the same recurrence with no reads and no memory step.
 *
 * Runs on every backend (cpu, wasm, webgl) and in browsers: it uses only tfjs ops and typed arrays, reading
 * small results back with `dataSync` each step (cheap on cpu and wasm; on webgl each read waits for the GPU, so
 * there the plain path may be the faster one).
 */
export function fastForward(model: MemoryAugmentedNetwork, images: tf.Tensor3D, previousLabels: tf.Tensor3D): tf.Tensor3D {
  const config = model.config;
  if (!supportsFastPath(config)) {
    throw new Error(
      `fastForward: supports a MANN with an LSTM controller and LRUA addressing, and the LSTM baseline; this model is ` +
        `kind '${config.kind}', controller '${config.controller}', addressing '${config.addressing}'. Use model.forward.`,
    );
  }
  if (images.rank !== 3 || previousLabels.rank !== 3 || images.shape[0] !== previousLabels.shape[0] || images.shape[1] !== previousLabels.shape[1]) {
    throw new Error(`fastForward: images [${images.shape}] and previousLabels [${previousLabels.shape}] must both be [T, B, ...] with the same T and B.`);
  }
  if (images.shape[2] !== model.imageSize || previousLabels.shape[2] !== model.labelSize) {
    throw new Error(
      `fastForward: images [${images.shape}] and previousLabels [${previousLabels.shape}] must be [T, B, ${model.imageSize}] and [T, B, ${model.labelSize}].`,
    );
  }
  const [steps, batch] = images.shape;
  const units = config.controllerUnits;
  // The LSTM baseline is the same recurrence without memory: no reads, no memory step.
  const hasMemory = config.kind === 'mann';
  const heads = hasMemory ? config.heads : 0;
  const width = config.memoryWidth;
  const slots = config.memorySlots;
  const readSize = heads * width;
  const sizes: LruaSizes = { batch, heads, slots, width, decay: config.usageDecay, writeVector: config.writeVector, clearing: config.clearing };
  const parameterSize = lruaParameterSize(sizes); // 0 without memory (no heads)
  const inputSize = model.imageSize + model.labelSize;
  const gateSize = 4 * units;
  const recurrentSize = readSize + units; // rows of the kernel that multiply [r_{t-1}, h_{t-1}]
  const initialValue = resolveMemoryConfig({ slots, width }).initialValue;
  const forgetBias = config.forgetBias;
  const v = model.variables;

  const recurrence = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    // The memory's weights are passed only when there is a memory.
    const [kernel, bias, memoryKernel, memoryBias] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor2D?, tf.Tensor1D?];
    // Inputs of all steps at once: [T*B, D+L] x [D+L, 4U] + bias.
    const inputs = tf.reshape(tf.concat([images, previousLabels], 2), [steps * batch, inputSize]) as tf.Tensor2D;
    const inputKernel = tf.slice(kernel, [0, 0], [inputSize, gateSize]) as tf.Tensor2D;
    const recurrentKernel = tf.slice(kernel, [inputSize, 0], [recurrentSize, gateSize]) as tf.Tensor2D;
    const inputGates = tf.add(tf.matMul(inputs, inputKernel), bias);
    const projected = inputGates.dataSync() as Float32Array;
    const memoryBiasValues = hasMemory ? (memoryBias!.dataSync() as Float32Array) : new Float32Array(0);

    const gates: Float32Array[] = [];
    const cells: Float32Array[] = [new Float32Array(batch * units)];
    // records[t] is the memory's state after step t - 1 (none for the LSTM baseline).
    const records: LruaStepRecord[] = hasMemory ? [lruaInitialRecord(sizes, initialValue)] : [];
    const recurrentInputs = new Float32Array(steps * batch * recurrentSize); // row block t: [r_{t-1}, h_{t-1}]
    const outputs = new Float32Array(steps * batch * (units + readSize)); // row block t: [h_t, r_t]
    const hidden = new Float32Array(steps * batch * units);
    const z = new Float32Array(batch * gateSize);
    for (let t = 0; t < steps; t++) {
      const zOffset = t * batch * gateSize;
      if (t === 0) {
        z.set(projected.subarray(zOffset, zOffset + batch * gateSize)); // [r_{-1}, h_{-1}] = 0
      } else {
        const previous = recurrentInputs.subarray(t * batch * recurrentSize, (t + 1) * batch * recurrentSize);
        const recurrent = matMulValues(previous, [batch, recurrentSize], recurrentKernel);
        for (let i = 0; i < z.length; i++) z[i] = projected[zOffset + i] + recurrent[i];
      }
      const stepGates = new Float32Array(batch * gateSize);
      const c = new Float32Array(batch * units);
      const h = hidden.subarray(t * batch * units, (t + 1) * batch * units);
      lstmCellForward(z, cells[t], batch, units, forgetBias, stepGates, c, h);
      gates.push(stepGates);
      cells.push(c);
      let reads: Float32Array | null = null;
      if (hasMemory) {
        const parameters = matMulValues(h, [batch, units], memoryKernel!);
        for (let b = 0; b < batch; b++) {
          for (let p = 0; p < parameterSize; p++) parameters[b * parameterSize + p] += memoryBiasValues[p];
        }
        const record = lruaStepForward(parameters, records[t], sizes);
        records.push(record);
        reads = record.reads;
      }
      for (let b = 0; b < batch; b++) {
        outputs.set(h.subarray(b * units, (b + 1) * units), (t * batch + b) * (units + readSize));
        if (reads) outputs.set(reads.subarray(b * readSize, (b + 1) * readSize), (t * batch + b) * (units + readSize) + units);
        if (t + 1 < steps) {
          const row = ((t + 1) * batch + b) * recurrentSize;
          if (reads) recurrentInputs.set(reads.subarray(b * readSize, (b + 1) * readSize), row);
          recurrentInputs.set(h.subarray(b * units, (b + 1) * units), row + readSize);
        }
      }
    }
    tf.dispose([inputs, inputKernel, recurrentKernel, inputGates]);
    const value = tf.tensor2d(outputs, [steps * batch, units + readSize]);

    const gradFunc = (dy: tf.Tensor | tf.Tensor[]) => {
      const outputGradient = (Array.isArray(dy) ? dy[0] : dy).dataSync() as Float32Array;
      const recurrentKernelT = tf.transpose(tf.slice(kernel, [inputSize, 0], [recurrentSize, gateSize])) as tf.Tensor2D;
      const memoryKernelT = hasMemory ? (tf.transpose(memoryKernel!) as tf.Tensor2D) : null;
      const dGates = new Float32Array(steps * batch * gateSize);
      const dParameters = new Float32Array(steps * batch * parameterSize);
      const dc = new Float32Array(batch * units);
      const dh = new Float32Array(batch * units);
      const dReads = new Float32Array(batch * readSize);
      let fromNext: Float32Array | null = null; // dL/d[r_t, h_t] through step t + 1's gates
      const carry = hasMemory ? lruaZeroCarry(sizes) : null;
      for (let t = steps - 1; t >= 0; t--) {
        const rowWidth = units + readSize;
        for (let b = 0; b < batch; b++) {
          const o = (t * batch + b) * rowWidth;
          for (let j = 0; j < readSize; j++) {
            dReads[b * readSize + j] = outputGradient[o + units + j] + (fromNext ? fromNext[b * recurrentSize + j] : 0);
          }
        }
        let fromMemory: Float32Array | null = null;
        if (memoryKernelT && carry) {
          const stepParameters = dParameters.subarray(t * batch * parameterSize, (t + 1) * batch * parameterSize);
          lruaStepBackward(dReads, records[t + 1], records[t], carry, sizes, stepParameters);
          fromMemory = matMulValues(stepParameters, [batch, parameterSize], memoryKernelT);
        }
        for (let b = 0; b < batch; b++) {
          const o = (t * batch + b) * rowWidth;
          for (let j = 0; j < units; j++) {
            const i = b * units + j;
            dh[i] = outputGradient[o + j] + (fromMemory ? fromMemory[i] : 0) + (fromNext ? fromNext[b * recurrentSize + readSize + j] : 0);
          }
        }
        const stepGates = dGates.subarray(t * batch * gateSize, (t + 1) * batch * gateSize);
        lstmCellBackward(dh, dc, gates[t], cells[t + 1], cells[t], batch, units, stepGates);
        fromNext = t > 0 ? matMulValues(stepGates, [batch, gateSize], recurrentKernelT) : null;
      }
      tf.dispose(memoryKernelT ? [recurrentKernelT, memoryKernelT] : [recurrentKernelT]);
      return tf.tidy(() => {
        const dZ = tf.tensor2d(dGates, [steps * batch, gateSize]);
        const inputsT = tf.transpose(tf.reshape(tf.concat([images, previousLabels], 2), [steps * batch, inputSize]));
        const recurrentT = tf.transpose(tf.tensor2d(recurrentInputs, [steps * batch, recurrentSize]));
        // Plain (untransposed) matMuls of explicit transposes: the fast kernel on every backend.
        const dKernel = tf.concat([tf.matMul(inputsT, dZ), tf.matMul(recurrentT, dZ)], 0);
        if (!hasMemory) return [dKernel, tf.sum(dZ, 0)];
        const dP = tf.tensor2d(dParameters, [steps * batch, parameterSize]);
        const hiddenT = tf.transpose(tf.tensor2d(hidden, [steps * batch, units]));
        return [dKernel, tf.sum(dZ, 0), tf.matMul(hiddenT, dP), tf.sum(dP, 0)];
      });
    };
    return { value, gradFunc };
  });

  return tf.tidy(() => {
    const weights = hasMemory ? [v['controller/kernel'], v['controller/bias'], v['memory/kernel'], v['memory/bias']] : [v['controller/kernel'], v['controller/bias']];
    const hr = recurrence(...weights) as tf.Tensor2D;
    const logits = tf.add(tf.matMul(hr, v['output/kernel']), v['output/bias']);
    return tf.reshape(logits, [steps, batch, model.outputSize]) as tf.Tensor3D;
  });
}

/** values [rows, cols] (a Float32Array) x matrix -> the product's values: one backend matMul, read back. */
function matMulValues(values: Float32Array, shape: [number, number], matrix: tf.Tensor2D): Float32Array {
  const left = tf.tensor2d(values, shape);
  const product = tf.matMul(left, matrix);
  const out = product.dataSync() as Float32Array;
  // dataSync may hand back the backend's own buffer (cpu): copy before the tensor is freed and before writing.
  const copy = new Float32Array(out);
  left.dispose();
  product.dispose();
  return copy;
}

// The LSTM's fast implementation (`lstm(...).fast`): the maths of `lstmStep` over a whole run, forward and
// backward by hand. The matrix products run in @mann/kernels (WebAssembly SIMD); the gate maths in WebAssembly SIMD
// too (lstm_cell_wasm.ts), with plain JavaScript on Float32Arrays as the fallback (lstmCellForward / lstmCellBackward
// below).
import * as tf from '@tensorflow/tfjs-core';
import { columnSums, transpose } from '@mann/kernels';
import { activeLstmCell } from './lstm_cell_wasm';
import { checkLength, checkSameShape, checkStart, matMulValues, PassMatrix, projectKnown, readValues, rowsOf, RunOrder, stackedKernelGradient } from './fast_run';
import type { ControllerRun, FastController } from './types';

/** What the fast LSTM reads from its controller. */
export interface FastLstmSource {
  readonly variables: Readonly<{ kernel: tf.Variable; bias: tf.Variable }>;
  readonly inputSize: number;
  readonly units: number;
  readonly forgetBias: number;
}

/**
 * The LSTM's {@link FastController}: the same function as `lstmStep` (kernel rows [input; h], gate columns
 * i, f, g, o, `forgetBias` added to f), run over T steps of B episodes. The kernel's rows split three ways,
 * [known; fed; h]:
 * - the kernel's values are read once per run; the known rows multiply all T steps at once in `start`: one
 *   [T*B, knownSize] x [knownSize, 4U] product plus the bias;
 * - per step forward, one product [fed_t, h_{t-1}] x the [fed; h] rows (copied to the kernels' memory once per
 *   forward pass, `PassMatrix`), added to the known part's, then the gates (WebAssembly SIMD, lstm_cell_wasm.ts, or the
 *   JavaScript below);
 * - per step backward, the gates' derivative (the same choice) and one product dZ_t x the transposed [fed; h] rows
 *   (transposed and copied once per backward pass);
 * - the weight gradients at the end: [known; fed, h_{t-1}]^T x dZ over all T*B rows, and the bias gradient as a
 *   column sum.
 * Every product is @mann/kernels' `matMul` on Float32Arrays, not a tfjs op: no upload, dispatch or read-back per
 * step.
 *
 * ```js
 * const controller = lstm({ inputSize: 5, units: 4 });
 * const run = controller.fast.start(tf.zeros([2 * 3, 3]), 2, 3); // T = 2, B = 3, known width 3, so fed width 2
 * const h0 = run.forward(new Float32Array(3 * 2)); // [3, 4]
 * const h1 = run.forward(new Float32Array(3 * 2));
 * ```
 */
export function fastLstm(source: FastLstmSource): FastController {
  return {
    start(known: tf.Tensor2D, steps: number, batch: number): ControllerRun {
      const caller = 'lstm.fast';
      const { kernel, bias } = source.variables;
      if (kernel.isDisposed) throw new Error(`${caller} start: the controller has been disposed.`);
      const { inputSize, units, forgetBias } = source;
      const knownSize = checkStart(`${caller} start`, known, steps, batch, inputSize);
      const fedSize = inputSize - knownSize;
      const gateSize = 4 * units;
      const recurrentSize = fedSize + units; // rows of the kernel that multiply [fed_t, h_{t-1}]
      const blockZ = batch * gateSize;
      const blockS = batch * units;
      const blockR = batch * recurrentSize;

      // Pre-activations of every step from the known part and the bias: [T*B, 4U].
      const kernelValues = readValues(kernel);
      const projected = projectKnown(known, kernelValues, readValues(bias), gateSize);
      const recurrentKernel = new PassMatrix(() => rowsOf(kernelValues, gateSize, knownSize, recurrentSize));
      const recurrentKernelT = new PassMatrix(() => transpose(rowsOf(kernelValues, gateSize, knownSize, recurrentSize)));
      const order = new RunOrder(caller, steps, [recurrentKernel, recurrentKernelT]);
      // The gate maths: WebAssembly SIMD where it runs (lstm_cell_wasm.ts), else the JavaScript below; chosen once a run.
      const wasmCell = activeLstmCell(units);
      const cellForward = wasmCell ? wasmCell.forward.bind(wasmCell) : lstmCellForward;
      const cellBackward = wasmCell ? wasmCell.backward.bind(wasmCell) : lstmCellBackward;

      const recurrentInputs = new Float32Array(steps * blockR); // row block t: [fed_t, h_{t-1}]
      const gates = new Float32Array(steps * blockZ); // row block t: i, f, g, o after their non-linearities
      const cells = new Float32Array((steps + 1) * blockS); // block t: c_{t-1} (block 0: the initial zeros)
      const z = new Float32Array(blockZ);
      const dGates = new Float32Array(steps * blockZ); // row block t: dL/dz_t
      const dc = new Float32Array(blockS); // carried dL/dc
      const dh = new Float32Array(blockS);
      let fromNext: Float32Array | null = null; // dL/d[fed_{t+1}, h_t] from step t + 1's gates

      return {
        forward(fed: Float32Array): Float32Array {
          return order.forward((t, last) => {
            checkLength(`${caller} forward`, 'fed', fed, batch * fedSize);
            const previous = recurrentInputs.subarray(t * blockR, (t + 1) * blockR);
            // Stryker disable next-line EqualityOperator: `<=` adds b = batch, which sets an empty subarray at the end: a no-op
            for (let b = 0; b < batch; b++) previous.set(fed.subarray(b * fedSize, (b + 1) * fedSize), b * recurrentSize);
            const zOffset = t * blockZ;
            if (t === 0 && fedSize === 0) {
              z.set(projected.subarray(zOffset, zOffset + blockZ)); // h_{-1} = 0 and nothing fed
            } else {
              z.set(matMulValues(previous, batch, recurrentKernel.get(), projected.subarray(zOffset, zOffset + blockZ)));
            }
            const h = new Float32Array(blockS);
            const nextC = cells.subarray((t + 1) * blockS, (t + 2) * blockS);
            cellForward(z, cells.subarray(t * blockS, (t + 1) * blockS), batch, units, forgetBias, gates.subarray(zOffset, zOffset + blockZ), nextC, h);
            if (t + 1 < steps) {
              for (let b = 0; b < batch; b++) recurrentInputs.set(h.subarray(b * units, (b + 1) * units), (t + 1) * blockR + b * recurrentSize + fedSize);
            }
            if (last) recurrentKernel.dispose();
            return h;
          });
        },

        backward(outputGradient: Float32Array): Float32Array {
          return order.backward((t, last) => {
            checkLength(`${caller} backward`, 'outputGradient', outputGradient, blockS);
            // Stryker disable next-line EqualityOperator: `<=` only adds writes past the end of dh, which are dropped
            for (let b = 0; b < batch; b++) {
              // Stryker disable next-line EqualityOperator: `j <= units` writes dh of the next episode's unit 0 (rewritten by its own pass) or past the end (dropped)
              for (let j = 0; j < units; j++) {
                const i = b * units + j;
                dh[i] = outputGradient[i] + (fromNext ? fromNext[b * recurrentSize + fedSize + j] : 0);
              }
            }
            const stepGates = dGates.subarray(t * blockZ, (t + 1) * blockZ);
            const gateValues = gates.subarray(t * blockZ, (t + 1) * blockZ);
            cellBackward(dh, dc, gateValues, cells.subarray((t + 1) * blockS, (t + 2) * blockS), cells.subarray(t * blockS, (t + 1) * blockS), batch, units, stepGates);
            // dL/d[fed_t, h_{t-1}]; at t = 0 only the fed part is wanted (h_{-1} is a constant).
            const both = t === 0 && fedSize === 0 ? null : matMulValues(stepGates, batch, recurrentKernelT.get());
            if (last) recurrentKernelT.dispose();
            fromNext = both;
            const fedGradient = new Float32Array(batch * fedSize);
            if (both) {
              // Stryker disable next-line EqualityOperator: `<=` adds b = batch, which sets an empty subarray at the end: a no-op
              for (let b = 0; b < batch; b++) fedGradient.set(both.subarray(b * recurrentSize, b * recurrentSize + fedSize), b * fedSize);
            }
            return fedGradient;
          });
        },

        gradients(knownAgain: tf.Tensor2D): Record<string, tf.Tensor> {
          return order.gradients(() => {
            checkSameShape(`${caller} gradients`, knownAgain, known);
            const kernelGradient = stackedKernelGradient(knownAgain, recurrentInputs, recurrentSize, dGates, gateSize);
            return { kernel: tf.tensor2d(kernelGradient, [knownSize + recurrentSize, gateSize]), bias: tf.tensor1d(columnSums(dGates, gateSize)) };
          });
        },
      };
    },
  };
}

// The gate maths, moved from @mann/model's fast_lstm_cell.ts.
// Plain-JavaScript LSTM gate maths for the fast path: the elementwise part of a step and its hand-written
// derivative, on Float32Arrays. The matrix products stay in tfjs (the backend's matMul); these loops replace the
// ~15 small tfjs kernels a step costs on the plain path (and ~30 more in its gradient), whose dispatch overhead,
// not their arithmetic, dominates at B = 16.
// Same maths as `lstmStep`: gate order i, f, g, o; c' = s(f + fb) c + s(i) tanh(g); h' = s(o) tanh(c').

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * One LSTM step from pre-activations `z` [B, 4U] (bias included) and the previous cell `c` [B, U].
 * Writes the gate activations (i, f, g, o, post-nonlinearity) into `gates` [B, 4U], the new cell into
 * `nextC` [B, U] and the new output into `nextH` [B, U].
 *
 * ```js
 * const z = new Float32Array(4), gates = new Float32Array(4), c = new Float32Array(1), h = new Float32Array(1);
 * lstmCellForward(z, new Float32Array(1), 1, 1, 0, gates, c, h);
 * // i = f = o = 0.5 (f uses the forget bias 0: sigmoid(0)), g = 0, so c = 0 and h = 0
 * ```
 */
export function lstmCellForward(
  z: Float32Array,
  c: Float32Array,
  batch: number,
  units: number,
  forgetBias: number,
  gates: Float32Array,
  nextC: Float32Array,
  nextH: Float32Array,
): void {
  const width = 4 * units;
  // Stryker disable next-line EqualityOperator: `<=` adds b = batch, whose writes all land past the ends of the arrays and are dropped
  for (let b = 0; b < batch; b++) {
    const zo = b * width;
    const so = b * units;
    for (let j = 0; j < units; j++) {
      const i = sigmoid(z[zo + j]);
      const f = sigmoid(z[zo + units + j] + forgetBias);
      const g = Math.tanh(z[zo + 2 * units + j]);
      const o = sigmoid(z[zo + 3 * units + j]);
      const cell = f * c[so + j] + i * g;
      gates[zo + j] = i;
      gates[zo + units + j] = f;
      gates[zo + 2 * units + j] = g;
      gates[zo + 3 * units + j] = o;
      nextC[so + j] = cell;
      nextH[so + j] = o * Math.tanh(cell);
    }
  }
}

/**
 * The derivative of {@link lstmCellForward}: from dL/dh' (`dh`), the carried dL/dc' (`dc`, updated in place to
 * dL/dc of the previous step), the saved `gates`, the new cell `nextC` and the previous cell `c`, writes
 * dL/dz into `dz` [B, 4U].
 */
export function lstmCellBackward(
  dh: Float32Array,
  dc: Float32Array,
  gates: Float32Array,
  nextC: Float32Array,
  c: Float32Array,
  batch: number,
  units: number,
  dz: Float32Array,
): void {
  const width = 4 * units;
  // Stryker disable next-line EqualityOperator: `<=` adds b = batch, whose writes all land past the ends of the arrays and are dropped
  for (let b = 0; b < batch; b++) {
    const zo = b * width;
    const so = b * units;
    for (let j = 0; j < units; j++) {
      const i = gates[zo + j];
      const f = gates[zo + units + j];
      const g = gates[zo + 2 * units + j];
      const o = gates[zo + 3 * units + j];
      const tanhC = Math.tanh(nextC[so + j]);
      const gradH = dh[so + j];
      const gradC = dc[so + j] + gradH * o * (1 - tanhC * tanhC);
      dz[zo + j] = gradC * g * i * (1 - i);
      dz[zo + units + j] = gradC * c[so + j] * f * (1 - f);
      dz[zo + 2 * units + j] = gradC * i * (1 - g * g);
      dz[zo + 3 * units + j] = gradH * tanhC * o * (1 - o);
      dc[so + j] = gradC * f;
    }
  }
}

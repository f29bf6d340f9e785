// Bookkeeping shared by the controllers' fast runs (fast_lstm.ts, fast_feed_forward.ts,
// differentiated_controller.ts): argument checks, the order of calls, the tensors a pass keeps between its calls,
// and reading tensors back into typed arrays.
import * as tf from '@tensorflow/tfjs-core';
import { matMul, repeatRows, residentMatrix, type Matrix, type ResidentMatrix } from '@mann/kernels';
import { formatShape } from './validate';

/** Checks `start`'s arguments against the controller's input width; returns knownSize = known.shape[1]. */
export function checkStart(caller: string, known: tf.Tensor2D, steps: number, batch: number, inputSize: number): number {
  for (const [name, value] of [['steps', steps], ['batch', batch]] as const) {
    // Number.isInteger does not coerce: it is false for a string or any other non-number.
    if (!Number.isInteger(value) || value <= 0) {
      throw new Error(`${caller}: ${name} must be a positive integer, got ${String(value)}.`);
    }
  }
  if (known == null || !Array.isArray((known as { shape?: unknown }).shape)) {
    throw new Error(`${caller}: known must be a tf.Tensor of shape [steps * batch, knownSize], got ${String(known)}.`);
  }
  if (known.rank !== 2 || known.shape[0] !== steps * batch || known.shape[1] > inputSize) {
    throw new Error(
      `${caller}: known has shape ${formatShape(known.shape)} but must be [steps * batch, knownSize] = ` +
        `[${steps * batch}, knownSize] with knownSize <= inputSize ${inputSize}.`,
    );
  }
  return known.shape[1];
}

/** Throws unless `gradients` got a tensor of the shape `start` had. */
export function checkSameShape(caller: string, knownAgain: tf.Tensor2D, known: tf.Tensor2D): void {
  const shape = knownAgain?.shape;
  if (!Array.isArray(shape) || shape.length !== 2 || shape[0] !== known.shape[0] || shape[1] !== known.shape[1]) {
    throw new Error(`${caller}: known must be the tensor start had, of shape [${known.shape}], got ${shape ? `[${shape}]` : String(knownAgain)}.`);
  }
}

/** Throws when a typed array has the wrong length (a run's inputs are flat, so the length is the shape check). */
export function checkLength(caller: string, name: string, values: Float32Array, expected: number): void {
  if (!(values instanceof Float32Array) || values.length !== expected) {
    const got = values instanceof Float32Array ? `length ${values.length}` : String(values);
    throw new Error(`${caller}: ${name} must be a Float32Array of length ${expected}, got ${got}.`);
  }
}

/**
 * A matrix that a run multiplies by at every call of one pass (a weight slice during forward, its transpose during
 * backward): copied where the products run (@mann/kernels' `residentMatrix`) at the first call that asks for it,
 * freed by `dispose` at the pass's last call or when a call throws. One copy per pass, not one per step.
 */
export class PassMatrix {
  private resident: ResidentMatrix | null = null;

  constructor(private readonly make: () => Matrix) {}

  get(): ResidentMatrix {
    this.resident ??= residentMatrix(this.make());
    return this.resident;
  }

  dispose(): void {
    this.resident?.dispose();
    this.resident = null;
  }
}

/**
 * The order of a run's calls: `forward` `steps` times, `backward` `steps` times, `gradients` once. `call` runs one
 * call's body with the step it is for; when the body throws it frees the pass matrices and the run refuses any
 * further call (its saved arrays may be half written).
 */
export class RunOrder {
  private forwards = 0;
  private backwards = 0;
  private gradientsTaken = false;
  private failed: unknown = null;

  constructor(
    private readonly caller: string,
    private readonly steps: number,
    private readonly passMatrices: readonly PassMatrix[],
  ) {}

  forward<T>(body: (t: number, last: boolean) => T): T {
    if (this.forwards >= this.steps) {
      throw new Error(`${this.caller} forward: called more than steps = ${this.steps} times; start a new run.`);
    }
    const t = this.forwards;
    const result = this.run(() => body(t, t === this.steps - 1));
    this.forwards++;
    return result;
  }

  backward<T>(body: (t: number, last: boolean) => T): T {
    if (this.forwards < this.steps) {
      throw new Error(`${this.caller} backward: the forward pass is not finished (${this.forwards} of ${this.steps} steps).`);
    }
    if (this.backwards >= this.steps) {
      throw new Error(`${this.caller} backward: called more than steps = ${this.steps} times.`);
    }
    const t = this.steps - 1 - this.backwards;
    const result = this.run(() => body(t, t === 0));
    this.backwards++;
    return result;
  }

  gradients<T>(body: () => T): T {
    if (this.backwards < this.steps) {
      throw new Error(`${this.caller} gradients: the backward pass is not finished (${this.backwards} of ${this.steps} steps).`);
    }
    if (this.gradientsTaken) throw new Error(`${this.caller} gradients: already taken for this run.`);
    const result = this.run(body);
    this.gradientsTaken = true;
    return result;
  }

  private run<T>(body: () => T): T {
    if (this.failed != null) {
      throw new Error(`${this.caller}: an earlier call of this run failed (${String((this.failed as Error).message ?? this.failed)}); start a new run.`);
    }
    try {
      return body();
    } catch (error) {
      this.failed = error ?? new Error('unknown error');
      this.passMatrices.forEach((matrix) => matrix.dispose());
      throw error;
    }
  }
}

/**
 * Runs `body` inside `tf.tidy` (every tensor it makes is freed, also when it throws) and returns its result.
 * Use it rather than returning a typed array from `tf.tidy`: tidy walks its result for tensors, and walks a typed
 * array element by element (about 1 s for 640,000 numbers, 7 ms for a [16, 800] step).
 */
export function tidyValue<T>(body: () => T): T {
  let result!: T;
  tf.tidy(() => {
    result = body();
  });
  return result;
}

/** A tensor's values as a Float32Array of its own (a copy: on cpu `dataSync` can return the tensor's buffer). */
export function readValues(tensor: tf.Tensor): Float32Array {
  return (tensor.dataSync() as Float32Array).slice();
}

/** values [rows, cols] x a pass's matrix -> the product's values (plus `add`, [rows, matrix.cols], when given). */
export function matMulValues(values: Float32Array, rows: number, matrix: ResidentMatrix, add?: Float32Array): Float32Array {
  return matMul({ values, rows, cols: values.length / rows }, matrix, add ? { add } : {});
}

/** Rows `from` .. `from + count - 1` of a [rows, width] row-major matrix's values, as a matrix (a view, no copy). */
export function rowsOf(values: Float32Array, width: number, from: number, count: number): Matrix {
  return { values: values.subarray(from * width, (from + count) * width), rows: count, cols: width };
}

/**
 * The known part's contribution to the first layer for all steps at once: known [T*B, knownSize] x rows
 * 0 .. knownSize - 1 of the kernel (its values, [rows, width]), plus the bias ([T*B, width]).
 */
export function projectKnown(known: tf.Tensor2D, kernelValues: Float32Array, bias: Float32Array, width: number): Float32Array {
  const [rows, knownSize] = known.shape;
  const biasRows = repeatRows(bias, rows);
  // No known part: every row is the bias.
  if (knownSize === 0) return biasRows;
  return matMul({ values: readValues(known), rows, cols: knownSize }, rowsOf(kernelValues, width, 0, knownSize), { add: biasRows, out: biasRows });
}

/**
 * The weight gradient of the rows that multiply `[known, other]` over all T*B rows: [known^T dZ; other^T dZ]
 * ([knownSize + otherWidth, width]) as values. `other` [T*B, otherWidth] may have width 0.
 */
export function stackedKernelGradient(known: tf.Tensor2D, other: Float32Array, otherWidth: number, dZ: Float32Array, width: number): Float32Array {
  const [rows, knownSize] = known.shape;
  const out = new Float32Array((knownSize + otherWidth) * width);
  const dZMatrix = { values: dZ, rows, cols: width };
  if (knownSize > 0) {
    matMul({ values: readValues(known), rows, cols: knownSize }, dZMatrix, { transposeA: true, out: out.subarray(0, knownSize * width) });
  }
  if (otherWidth > 0) {
    matMul({ values: other, rows, cols: otherWidth }, dZMatrix, { transposeA: true, out: out.subarray(knownSize * width) });
  }
  return out;
}

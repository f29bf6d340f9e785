// Bookkeeping shared by the controllers' fast runs (fast_lstm.ts, fast_feed_forward.ts,
// differentiated_controller.ts): argument checks, the order of calls, the tensors a pass keeps between its calls,
// and reading tensors back into typed arrays.
import * as tf from '@tensorflow/tfjs-core';
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
 * A tensor that a run needs for every call of one pass (a weight slice during forward, its transpose during
 * backward): made at the first call that asks for it, kept out of any enclosing `tf.tidy`, freed by `dispose`
 * at the pass's last call or when a call throws. XNNPACK (wasm) caches a matrix's packed form by tensor, so one
 * tensor for the whole pass is packed once, not once per step.
 */
export class PassTensor {
  private tensor: tf.Tensor2D | null = null;

  constructor(private readonly make: () => tf.Tensor2D) {}

  get(): tf.Tensor2D {
    if (this.tensor == null) this.tensor = tf.keep(tf.tidy(this.make));
    return this.tensor;
  }

  dispose(): void {
    this.tensor?.dispose();
    this.tensor = null;
  }
}

/**
 * The order of a run's calls: `forward` `steps` times, `backward` `steps` times, `gradients` once. `call` runs one
 * call's body with the step it is for; when the body throws it frees the pass tensors and the run refuses any
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
    private readonly passTensors: readonly PassTensor[],
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
      this.passTensors.forEach((tensor) => tensor.dispose());
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

/** values [rows, cols] x matrix -> the product's values: one backend matMul, read back; frees its tensors. */
export function matMulValues(values: Float32Array, rows: number, matrix: tf.Tensor2D): Float32Array {
  return tidyValue(() => readValues(tf.matMul(tf.tensor2d(values, [rows, values.length / rows]), matrix)));
}

/**
 * The known part's contribution to the first layer for all steps at once: known [T*B, knownSize] x
 * kernel rows 0 .. knownSize - 1, plus the bias, read back ([T*B, width]). Frees its tensors.
 */
export function projectKnown(known: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor, width: number): Float32Array {
  return tidyValue(() => projectKnownValues(known, kernel, bias, width));
}

function projectKnownValues(known: tf.Tensor2D, kernel: tf.Tensor2D, bias: tf.Tensor, width: number): Float32Array {
  const rows = known.shape[0];
  const knownSize = known.shape[1];
  if (knownSize === 0) {
    // No known part: every row is the bias.
    const biasValues = bias.dataSync() as Float32Array;
    const out = new Float32Array(rows * width);
    for (let r = 0; r < rows; r++) out.set(biasValues, r * width);
    return out;
  }
  const knownKernel = tf.slice(kernel, [0, 0], [knownSize, width]) as tf.Tensor2D;
  return readValues(tf.add(tf.matMul(known, knownKernel), bias));
}

/**
 * The weight gradient of the rows that multiply `[known, other]` over all T*B rows: [known^T dZ; other^T dZ]
 * ([knownSize + otherWidth, width]), as plain matMuls of explicit transposes (a transposed matMul is far slower
 * on wasm). `other` [T*B, otherWidth] may have width 0. Call inside `tf.tidy`.
 */
export function stackedKernelGradient(known: tf.Tensor2D, other: Float32Array, otherWidth: number, dZ: tf.Tensor2D): tf.Tensor2D {
  const rows = dZ.shape[0];
  const parts: tf.Tensor2D[] = [];
  if (known.shape[1] > 0) parts.push(tf.matMul(tf.transpose(known), dZ));
  if (otherWidth > 0) parts.push(tf.matMul(tf.transpose(tf.tensor2d(other, [rows, otherWidth])), dZ));
  return parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
}

// Matrix products on Float32Arrays for the packages' fast paths, in WebAssembly SIMD (assembly/matmul.ts) with
// JavaScript loops as the fallback. Why not tfjs' matMul: in a recurrence of small steps, each backend call costs an
// upload, a dispatch and a read-back, and tfjs-backend-wasm's kernel runs at about 16-22 GFLOP/s here, where this
// module's relaxed-SIMD kernel runs at about 30-37 on the model's shapes (docs/benchmarks.md).
import { checkMatrix, checkProductShapes, type Matrix } from './matrix';
import { LinearMemory } from './linear_memory';
import { MATMUL_RELAXED_WASM_BASE64, MATMUL_SIMD_WASM_BASE64 } from './matmul_wasm_bytes';

/**
 * What the products run on: `relaxed-simd` (WebAssembly with fused multiply-add), `simd` (WebAssembly, multiply
 * then add) or `js` (plain JavaScript loops, several times slower).
 */
export type MatMulImplementation = 'relaxed-simd' | 'simd' | 'js';

/** `auto`: the fastest implementation that compiles here; the others force one (and throw where it cannot run). */
export type MatMulChoice = 'auto' | MatMulImplementation;

const CHOICES: readonly MatMulChoice[] = ['auto', 'relaxed-simd', 'simd', 'js'];
const ENV_VAR = 'MANN_MATMUL';

interface MatMulExports {
  memory: WebAssembly.Memory;
  heapBase(): number;
  multiply(a: number, aRowBytes: number, aColBytes: number, b: number, c: number, m: number, k: number, n: number, accumulate: number): void;
  transpose(src: number, dst: number, rows: number, cols: number): void;
  pack(src: number, dst: number, k: number, n: number): void;
  packedFloats(k: number, n: number): number;
}

/** One thread's module: compiled on first use, its linear memory shared by every resident matrix of the thread. */
class Kernels {
  readonly memory: LinearMemory;

  constructor(
    readonly implementation: 'relaxed-simd' | 'simd',
    readonly exports: MatMulExports,
  ) {
    this.memory = new LinearMemory(exports.memory, exports.heapBase());
  }

  /** Copies `matrix` into a new block in the layout `multiply` reads (`pack`); returns the block's byte address. */
  copyPacked(matrix: Matrix): number {
    const { rows: k, cols: n, values } = matrix;
    const packed = this.memory.allocate(this.exports.packedFloats(k, n) * 4);
    const raw = this.memory.allocate(values.length * 4);
    this.memory.floats().set(values, raw / 4);
    this.exports.pack(raw, packed, k, n);
    this.memory.free(raw);
    return packed;
  }
}

let choice: MatMulChoice = choiceFromEnvironment();
const compiled = new Map<'relaxed-simd' | 'simd', Kernels | null>();

function choiceFromEnvironment(): MatMulChoice {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[ENV_VAR];
  if (value === undefined || value === '') return 'auto';
  if (!CHOICES.includes(value as MatMulChoice)) throw new Error(`${ENV_VAR} must be one of ${CHOICES.join(', ')}; got "${value}".`);
  return value as MatMulChoice;
}

/** The module of this build, compiled once per thread, or null where it does not compile. */
function kernelsOf(implementation: 'relaxed-simd' | 'simd'): Kernels | null {
  if (!compiled.has(implementation)) {
    const base64 = implementation === 'relaxed-simd' ? MATMUL_RELAXED_WASM_BASE64 : MATMUL_SIMD_WASM_BASE64;
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    let kernels: Kernels | null = null;
    // validate first: compiling a module that uses a feature the runtime lacks throws, and the message is noise.
    if (typeof WebAssembly === 'object' && WebAssembly.validate(bytes)) {
      kernels = new Kernels(implementation, new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as MatMulExports);
    }
    compiled.set(implementation, kernels);
  }
  return compiled.get(implementation)!;
}

/** The kernels the current choice runs, or null for JavaScript; throws when a forced implementation cannot run. */
function activeKernels(): Kernels | null {
  if (choice === 'js') return null;
  if (choice === 'auto') return kernelsOf('relaxed-simd') ?? kernelsOf('simd');
  const kernels = kernelsOf(choice);
  if (!kernels) {
    const hint = choice === 'relaxed-simd' ? ' (Node 20 needs `node --experimental-wasm-relaxed-simd`)' : '';
    throw new Error(`${ENV_VAR} / setMatMulImplementation asks for '${choice}', which does not compile here${hint}; use 'auto'.`);
  }
  return kernels;
}

/**
 * Chooses what {@link matMul} runs on in this thread (default `auto`, or the environment variable `MANN_MATMUL`):
 * `auto` takes relaxed SIMD where the runtime has it (browsers since 2023, Node 22; Node 20 with
 * `--experimental-wasm-relaxed-simd`), else plain SIMD, else JavaScript. Resident matrices made before the change
 * stay where they are and keep working.
 *
 * ```js
 * setMatMulImplementation('js');
 * console.log(matMulImplementation()); // 'js'
 * ```
 */
export function setMatMulImplementation(implementation: MatMulChoice): void {
  if (!CHOICES.includes(implementation)) {
    throw new Error(`setMatMulImplementation: expected one of ${CHOICES.map((c) => `'${c}'`).join(', ')}, got ${JSON.stringify(implementation)}.`);
  }
  choice = implementation;
}

/** What {@link matMul} runs on in this thread now: 'relaxed-simd', 'simd' or 'js'. */
export function matMulImplementation(): MatMulImplementation {
  return activeKernels()?.implementation ?? 'js';
}

const live = { matrices: 0, bytes: 0 };

/**
 * The resident matrices not yet disposed in this thread, and their values' bytes: what `tf.memory()` is to tensors,
 * for finding a leak.
 *
 * ```js
 * const weights = residentMatrix({ values: new Float32Array(6), rows: 2, cols: 3 });
 * console.log(residentMemory()); // { matrices: 1, bytes: 24 } (plus any made before)
 * weights.dispose();
 * ```
 */
export function residentMemory(): ResidentMemory {
  let moduleBytes = 0;
  for (const kernels of compiled.values()) moduleBytes += kernels?.memory.byteLength() ?? 0;
  return { ...live, moduleBytes };
}

/** What {@link residentMemory} counts. */
export interface ResidentMemory {
  /** Resident matrices made and not yet disposed. */
  matrices: number;
  /** Bytes of their values. */
  bytes: number;
  /**
   * Bytes of this thread's WebAssembly module memories (0 before the first product): resident matrices, packed, and
   * room the products reuse. It grows to fit the largest product and stays; it does not grow from one batch to the next.
   */
  moduleBytes: number;
}

/**
 * A matrix kept where the products run (the WebAssembly module's memory), for many products with the same right-hand
 * side: a weight matrix multiplied at every step of a recurrence is copied in once, not once per step. Free it with
 * `dispose()` (its memory is reused); like a tfjs tensor, it is not garbage collected.
 */
export class ResidentMatrix {
  private disposed = false;
  // Where the values are: a byte address in the kernels' memory (WebAssembly), or a copy of their own (JavaScript).
  private readonly place: { offset: number } | { values: Float32Array };

  /** @internal use {@link residentMatrix} */
  constructor(
    matrix: Matrix,
    /** @internal */ readonly kernels: Kernels | null,
  ) {
    this.rows = matrix.rows;
    this.cols = matrix.cols;
    this.place = kernels ? { offset: kernels.copyPacked(matrix) } : { values: matrix.values.slice() };
    live.matrices++;
    live.bytes += matrix.values.length * 4;
  }

  /** Rows of the matrix. */
  readonly rows: number;
  /** Columns of the matrix. */
  readonly cols: number;

  /** Whether `dispose()` has been called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** @internal where the values are: a byte address in the kernels' memory, or the JavaScript copy. */
  location(caller: string): { offset: number } | { values: Float32Array } {
    if (this.disposed) throw new Error(`${caller}: the resident matrix [${this.rows}, ${this.cols}] has been disposed.`);
    return this.place;
  }

  /** Frees its memory; further products with it throw. Disposing twice does nothing. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    live.matrices--;
    live.bytes -= this.rows * this.cols * 4;
    if ('offset' in this.place) this.kernels!.memory.free(this.place.offset);
  }
}

/**
 * Copies `matrix` to where the products run, for {@link matMul}'s right-hand side.
 *
 * ```js
 * const weights = residentMatrix({ values: new Float32Array([1, 2, 3, 4, 5, 6]), rows: 2, cols: 3 });
 * for (const x of [[1, 0], [0, 1]]) console.log(matMul({ values: new Float32Array(x), rows: 1, cols: 2 }, weights));
 * // Float32Array [1, 2, 3], then Float32Array [4, 5, 6]
 * weights.dispose();
 * ```
 */
export function residentMatrix(matrix: Matrix): ResidentMatrix {
  checkMatrix('residentMatrix', 'matrix', matrix);
  return new ResidentMatrix(matrix, activeKernels());
}

/** Options of {@link matMul}. */
export interface MatMulOptions {
  /** `a` holds the transpose of the left factor: the product is a^T b, with a of shape [k, m]. */
  transposeA?: boolean;
  /** Added to the product (m x n values, e.g. a bias repeated per row): the result is add + a b. */
  add?: Float32Array;
  /** Where to write the m x n result (else a new array); may be the same array as `add`. */
  out?: Float32Array;
}

/**
 * The matrix product a b of row-major Float32Arrays: `a` [m, k] (or, with `transposeA`, [k, m] holding its
 * transpose) times `b` [k, n], a {@link Matrix} or a {@link ResidentMatrix}; returns the [m, n] values.
 *
 * ```js
 * const a = { values: new Float32Array([1, 2, 3, 4]), rows: 2, cols: 2 };
 * const b = { values: new Float32Array([5, 6, 7, 8]), rows: 2, cols: 2 };
 * console.log(matMul(a, b)); // Float32Array [19, 22, 43, 50]
 * console.log(matMul(a, b, { transposeA: true })); // Float32Array [26, 30, 38, 44]
 * ```
 */
export function matMul(a: Matrix, b: Matrix | ResidentMatrix, options: MatMulOptions = {}): Float32Array {
  const caller = 'matMul';
  checkMatrix(caller, 'a', a);
  if (!(b instanceof ResidentMatrix)) checkMatrix(caller, 'b', b);
  const { transposeA = false, add, out } = options;
  const [m, k, n] = checkProductShapes(caller, a, b, transposeA);
  for (const [name, array] of [['add', add], ['out', out]] as const) {
    if (array !== undefined && (!(array instanceof Float32Array) || array.length !== m * n)) {
      const got = array instanceof Float32Array ? `length ${array.length}` : String(array);
      throw new Error(`${caller}: options.${name} must be a Float32Array of m * n = ${m} * ${n} = ${m * n} values, got ${got}.`);
    }
  }
  const result = out ?? new Float32Array(m * n);
  if (b instanceof ResidentMatrix) {
    const place = b.location(caller);
    if ('offset' in place) productInWasm(b.kernels!, a, transposeA, place.offset, m, k, n, add, result);
    else productInJs(a.values, transposeA, place.values, m, k, n, add, result);
  } else {
    const kernels = activeKernels();
    if (kernels) productInWasm(kernels, a, transposeA, b, m, k, n, add, result);
    else productInJs(a.values, transposeA, b.values, m, k, n, add, result);
  }
  return result;
}

/** The product in the module: `b` a matrix to copy in, or the byte address of a resident one (packed). */
function productInWasm(
  kernels: Kernels,
  a: Matrix,
  transposeA: boolean,
  b: Matrix | number,
  m: number,
  k: number,
  n: number,
  add: Float32Array | undefined,
  result: Float32Array,
): void {
  const { memory, exports } = kernels;
  const scratch: number[] = [];
  const take = (at: number) => {
    scratch.push(at);
    return at;
  };
  try {
    const bAt = typeof b === 'number' ? b : take(kernels.copyPacked(b));
    const aAt = take(memory.allocate(a.values.length * 4));
    const cAt = take(memory.allocate(m * n * 4));
    // A transposed left factor is transposed explicitly: reading it with strides is about 2x slower for large m.
    const leftAt = transposeA ? take(memory.allocate(m * k * 4)) : aAt;
    // Allocation may grow the memory, which detaches earlier views: take the view after the last allocation.
    const floats = memory.floats();
    floats.set(a.values, aAt / 4);
    if (add) floats.set(add, cAt / 4);
    if (transposeA) exports.transpose(aAt, leftAt, k, m);
    exports.multiply(leftAt, k * 4, 4, bAt, cAt, m, k, n, add ? 1 : 0);
    result.set(floats.subarray(cAt / 4, cAt / 4 + m * n));
  } finally {
    for (const at of scratch) memory.free(at);
  }
}

function productInJs(
  a: Float32Array,
  transposeA: boolean,
  b: Float32Array,
  m: number,
  k: number,
  n: number,
  add: Float32Array | undefined,
  result: Float32Array,
): void {
  const row = new Float64Array(n);
  // Stryker disable next-line EqualityOperator: `<=` adds a row i = m whose writes all land past the end of result, dropped
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) {
      const left = transposeA ? a[p * m + i] : a[i * k + p];
      const offset = p * n;
      // Stryker disable next-line EqualityOperator: `<=` adds row[n], past the end of a typed array: dropped
      for (let j = 0; j < n; j++) row[j] += left * b[offset + j];
    }
    for (let j = 0; j < n; j++) result[i * n + j] = (add ? add[i * n + j] : 0) + row[j];
  }
}

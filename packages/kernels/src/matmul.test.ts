import { setFlagsFromString } from 'node:v8';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { columnSums, matMul, matMulImplementation, repeatRows, residentMatrix, residentMemory, setMatMulImplementation, transpose, type MatMulImplementation, type Matrix } from './index';

// Node 20 has relaxed SIMD behind a flag; set before the module first compiles (the choice is made on first use).
setFlagsFromString('--experimental-wasm-relaxed-simd');

const IMPLEMENTATIONS: MatMulImplementation[] = ['relaxed-simd', 'simd', 'js'];

function matrix(rows: number, cols: number, values: number[]): Matrix {
  return { values: new Float32Array(values), rows, cols };
}

/** Deterministic values in [-1, 1) (a linear congruential generator), so failures reproduce. */
function randomMatrix(rows: number, cols: number, seed: number): Matrix {
  const values = new Float32Array(rows * cols);
  let state = seed >>> 0;
  for (let i = 0; i < values.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[i] = state / 2 ** 31 - 1;
  }
  return { values, rows, cols };
}

/** The product in float64, the plain definition. */
function reference(a: Matrix, b: Matrix, transposeA = false): Float64Array {
  const [m, k] = transposeA ? [a.cols, a.rows] : [a.rows, a.cols];
  const out = new Float64Array(m * b.cols);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < b.cols; j++) {
      let sum = 0;
      for (let p = 0; p < k; p++) sum += (transposeA ? a.values[p * m + i] : a.values[i * k + p]) * b.values[p * b.cols + j];
      out[i * b.cols + j] = sum;
    }
  }
  return out;
}

function maxDifference(x: ArrayLike<number>, y: ArrayLike<number>): number {
  expect(x.length).toBe(y.length);
  let max = 0;
  for (let i = 0; i < x.length; i++) max = Math.max(max, Math.abs(x[i] - y[i]));
  return max;
}

afterEach(() => setMatMulImplementation('auto'));

describe('matMul', () => {
  it('auto runs relaxed SIMD when the runtime has it (here, with the flag)', () => {
    expect(matMulImplementation()).toBe('relaxed-simd');
  });

  for (const implementation of IMPLEMENTATIONS) {
    describe(implementation, () => {
      it('multiplies 2 x 2 matrices by hand', () => {
        setMatMulImplementation(implementation);
        expect(matMulImplementation()).toBe(implementation);
        const a = matrix(2, 2, [1, 2, 3, 4]);
        const b = matrix(2, 2, [5, 6, 7, 8]);
        expect(Array.from(matMul(a, b))).toEqual([19, 22, 43, 50]);
        // a^T = [[1, 3], [2, 4]]
        expect(Array.from(matMul(a, b, { transposeA: true }))).toEqual([26, 30, 38, 44]);
        expect(Array.from(matMul(a, b, { add: new Float32Array([1, -1, 0.5, 100]) }))).toEqual([20, 21, 43.5, 150]);
      });

      it('multiplies [1, 3] x [3, 2] and [3, 1] x [1, 2] (a row, a column)', () => {
        setMatMulImplementation(implementation);
        expect(Array.from(matMul(matrix(1, 3, [1, 2, 3]), matrix(3, 2, [1, 0, 0, 1, 2, -1])))).toEqual([7, -1]);
        expect(Array.from(matMul(matrix(3, 1, [1, 2, 3]), matrix(1, 2, [10, -2])))).toEqual([10, -2, 20, -4, 30, -6]);
        // a [3, 1] given transposed is the row [1, 2, 3]
        expect(Array.from(matMul(matrix(3, 1, [1, 2, 3]), matrix(3, 1, [1, 1, 1]), { transposeA: true }))).toEqual([6]);
      });

      // Sizes around the kernel's tiles: rows in fours (and blocks of 64), columns in eights, the rest narrower.
      const SHAPES: Array<[number, number, number]> = [
        [1, 1, 1],
        [3, 5, 7],
        [4, 8, 8],
        [5, 9, 9],
        [16, 360, 800],
        [67, 33, 19],
        [130, 70, 45],
      ];
      for (const [m, k, n] of SHAPES) {
        it(`matches the definition on [${m}, ${k}] x [${k}, ${n}], plain, transposed, with add, and resident`, () => {
          setMatMulImplementation(implementation);
          const a = randomMatrix(m, k, m * 31 + k);
          const b = randomMatrix(k, n, n * 17 + 1);
          const expected = reference(a, b);
          // Each sum has k terms of size <= 1, rounded in float32: within k * 2^-22 or so.
          const tolerance = 1e-6 * (k + 4);
          expect(maxDifference(matMul(a, b), expected)).toBeLessThan(tolerance);
          const aTransposed = transpose(a);
          expect(maxDifference(matMul(aTransposed, b, { transposeA: true }), expected)).toBeLessThan(tolerance);
          const add = randomMatrix(m, n, 5).values;
          const withAdd = matMul(a, b, { add });
          expect(maxDifference(withAdd, expected.map((x, i) => x + add[i]))).toBeLessThan(tolerance);
          const weights = residentMatrix(b);
          const out = add.slice();
          expect(matMul(a, weights, { add: out, out })).toBe(out);
          expect(maxDifference(out, withAdd)).toBeLessThan(tolerance);
          weights.dispose();
        });
      }

      it('keeps resident matrices apart, reuses freed memory, and refuses a disposed one', () => {
        setMatMulImplementation(implementation);
        const before = residentMemory();
        expect(Number.isInteger(before.matrices) && Number.isInteger(before.bytes)).toBe(true);
        const a = randomMatrix(4, 6, 1);
        const first = residentMatrix(randomMatrix(6, 10, 2));
        const second = residentMatrix(randomMatrix(6, 10, 3));
        const fromFirst = matMul(a, first);
        const fromSecond = matMul(a, second);
        expect(maxDifference(fromFirst, reference(a, randomMatrix(6, 10, 2)))).toBeLessThan(1e-5);
        expect(maxDifference(fromSecond, reference(a, randomMatrix(6, 10, 3)))).toBeLessThan(1e-5);
        expect(residentMemory()).toMatchObject({ matrices: before.matrices + 2, bytes: before.bytes + 2 * 6 * 10 * 4 });
        first.dispose();
        first.dispose(); // twice: nothing
        expect(residentMemory()).toMatchObject({ matrices: before.matrices + 1, bytes: before.bytes + 6 * 10 * 4 });
        expect(first.isDisposed).toBe(true);
        expect(() => matMul(a, first)).toThrow('matMul: the resident matrix [6, 10] has been disposed.');
        // A new matrix takes the freed place; the second is unchanged.
        const third = residentMatrix(randomMatrix(6, 10, 4));
        expect(Array.from(matMul(a, second))).toEqual(Array.from(fromSecond));
        expect(maxDifference(matMul(a, third), reference(a, randomMatrix(6, 10, 4)))).toBeLessThan(1e-5);
        second.dispose();
        third.dispose();
        expect(residentMemory()).toMatchObject({ matrices: before.matrices, bytes: before.bytes });
      });
    });
  }

  it('keeps a copy: changing the values after residentMatrix does not change the products', () => {
    for (const implementation of IMPLEMENTATIONS) {
      setMatMulImplementation(implementation);
      const values = new Float32Array([2, 3]);
      const weights = residentMatrix({ values, rows: 2, cols: 1 });
      values.fill(100);
      expect(Array.from(matMul(matrix(1, 2, [1, 1]), weights)), implementation).toEqual([5]);
      weights.dispose();
    }
  });

  it('reuses the module memory: products and resident matrices freed do not make it grow', () => {
    for (const implementation of ['relaxed-simd', 'simd'] as const) {
      setMatMulImplementation(implementation);
      const a = randomMatrix(64, 256, 1);
      const b = randomMatrix(256, 256, 2);
      const warm = residentMatrix(b);
      matMul(a, warm, { transposeA: false });
      matMul(randomMatrix(256, 64, 3), b, { transposeA: true });
      warm.dispose();
      const before = residentMemory().moduleBytes;
      expect(before).toBeGreaterThan(256 * 256 * 4);
      for (let i = 0; i < 20; i++) {
        const weights = residentMatrix(b);
        matMul(a, weights);
        matMul(randomMatrix(256, 64, 3), b, { transposeA: true });
        weights.dispose();
      }
      expect(residentMemory().moduleBytes, implementation).toBe(before);
    }
  });

  it('keeps a resident matrix on the implementation it was made on', () => {
    setMatMulImplementation('js');
    const weights = residentMatrix(matrix(2, 1, [2, 3]));
    setMatMulImplementation('simd');
    expect(Array.from(matMul(matrix(1, 2, [1, 1]), weights))).toEqual([5]);
    weights.dispose();
  });

  it('gives NaN where an input is NaN, as the definition does (no skipped zeros)', () => {
    for (const implementation of IMPLEMENTATIONS) {
      setMatMulImplementation(implementation);
      const product = matMul(matrix(1, 2, [0, 1]), matrix(2, 1, [Number.NaN, 2]));
      expect(product[0], implementation).toBeNaN();
    }
  });

  it('says in one line what is wrong with its arguments', () => {
    const a = matrix(2, 3, [1, 2, 3, 4, 5, 6]);
    expect(() => matMul(a, matrix(2, 2, [1, 2, 3, 4]))).toThrow(
      "matMul: a [2, 3] and b [2, 2] do not multiply: a's columns (3) must equal b's rows (2).",
    );
    expect(() => matMul(a, matrix(3, 2, [1, 2, 3, 4, 5, 6]), { transposeA: true })).toThrow(
      "matMul: a^T [3, 2] (a is [2, 3], transposeA) and b [3, 2] do not multiply: a's rows (2) must equal b's rows (3).",
    );
    expect(() => matMul({ values: new Float32Array(5), rows: 2, cols: 3 }, a)).toThrow('matMul: a is [2, 3] but has 5 values, not 6.');
    expect(() => matMul({ values: [1, 2] as unknown as Float32Array, rows: 1, cols: 2 }, a)).toThrow('matMul: a.values must be a Float32Array, got object.');
    expect(() => matMul({ values: new Float32Array(0), rows: 0, cols: 3 }, a)).toThrow('matMul: a.rows must be a positive integer, got 0.');
    expect(() => matMul(a, { values: new Float32Array(6), rows: 3, cols: 2.5 })).toThrow('matMul: b.cols must be a positive integer, got 2.5.');
    expect(() => matMul(null as unknown as Matrix, a)).toThrow('matMul: a must be a matrix { values: Float32Array, rows, cols }, got null.');
    const b = matrix(3, 1, [1, 1, 1]);
    expect(() => matMul(a, b, { out: new Float32Array(3) })).toThrow('matMul: options.out must be a Float32Array of m * n = 2 * 1 = 2 values, got length 3.');
    expect(() => matMul(matrix(3, 1, [1, 2, 3]), matrix(1, 2, [1, 2]), { out: new Float32Array(5) })).toThrow(
      'matMul: options.out must be a Float32Array of m * n = 3 * 2 = 6 values, got length 5.',
    );
    expect(() => matMul(5 as unknown as Matrix, a)).toThrow('matMul: a must be a matrix { values: Float32Array, rows, cols }, got 5.');
    expect(() => matMul({ values: null as unknown as Float32Array, rows: 1, cols: 1 }, a)).toThrow('matMul: a.values must be a Float32Array, got null.');
    expect(() => matMul(a, b, { add: [1, 2] as unknown as Float32Array })).toThrow('matMul: options.add must be a Float32Array of m * n = 2 * 1 = 2 values, got 1,2.');
    expect(() => residentMatrix(matrix(2, 2, [1]))).toThrow('residentMatrix: matrix is [2, 2] but has 1 values, not 4.');
    expect(() => setMatMulImplementation('fast' as never)).toThrow(
      "setMatMulImplementation: expected one of 'auto', 'relaxed-simd', 'simd', 'js', got \"fast\".",
    );
  });
});

describe('transpose', () => {
  it('swaps rows and columns', () => {
    const t = transpose(matrix(2, 3, [1, 2, 3, 4, 5, 6]));
    expect(t.rows).toBe(3);
    expect(t.cols).toBe(2);
    expect(Array.from(t.values)).toEqual([1, 4, 2, 5, 3, 6]);
    expect(() => transpose(matrix(2, 2, [1, 2, 3]))).toThrow('transpose: matrix is [2, 2] but has 3 values, not 4.');
  });
});

describe('repeatRows and columnSums', () => {
  it('repeat a row, and sum the columns (in float64: the small addend is not lost)', () => {
    expect(Array.from(repeatRows(new Float32Array([1, 2]), 3))).toEqual([1, 2, 1, 2, 1, 2]);
    expect(Array.from(repeatRows(new Float32Array([7]), 0))).toEqual([]);
    expect(Array.from(columnSums(new Float32Array([1, 2, 3, 4, 5, 6]), 3))).toEqual([5, 7, 9]);
    expect(Array.from(columnSums(new Float32Array([1, 2, 3, 4, 5, 6]), 2))).toEqual([9, 12]);
    // 2^24 + 1 + 1 - 2^24: float32 running sums give 0, float64 gives 2.
    expect(Array.from(columnSums(new Float32Array([2 ** 24, 1, 1, -(2 ** 24)]), 1))).toEqual([2]);
  });
});

describe('the choice of implementation', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.restoreAllMocks();
    vi.resetModules();
  });

  /** A fresh copy of the module (its choice and compiled kernels are per module instance). */
  async function freshModule() {
    vi.resetModules();
    return import('./matmul');
  }

  it('reads MANN_MATMUL when loaded: a choice, empty for auto, anything else refused in one line', async () => {
    vi.stubEnv('MANN_MATMUL', 'js');
    expect((await freshModule()).matMulImplementation()).toBe('js');
    vi.stubEnv('MANN_MATMUL', 'simd');
    expect((await freshModule()).matMulImplementation()).toBe('simd');
    vi.stubEnv('MANN_MATMUL', '');
    expect((await freshModule()).matMulImplementation()).toBe('relaxed-simd');
    vi.stubEnv('MANN_MATMUL', 'fast');
    await expect(freshModule()).rejects.toThrow('MANN_MATMUL must be one of auto, relaxed-simd, simd, js; got "fast".');
  });

  it('without relaxed SIMD: auto runs plain SIMD, a forced relaxed-simd says what to do; without SIMD: JavaScript', async () => {
    const validate = WebAssembly.validate.bind(WebAssembly);
    const { MATMUL_RELAXED_WASM_BASE64 } = await import('./matmul_wasm_bytes');
    const relaxed = Uint8Array.from(atob(MATMUL_RELAXED_WASM_BASE64), (c) => c.charCodeAt(0));
    const isRelaxed = (bytes: BufferSource) => (bytes as Uint8Array).length === relaxed.length && (bytes as Uint8Array).every((x, i) => x === relaxed[i]);
    vi.spyOn(WebAssembly, 'validate').mockImplementation((bytes) => !isRelaxed(bytes) && validate(bytes));
    let fresh = await freshModule();
    expect(fresh.matMulImplementation()).toBe('simd');
    expect(Array.from(fresh.matMul(matrix(1, 2, [1, 2]), matrix(2, 1, [3, 4])))).toEqual([11]);
    fresh.setMatMulImplementation('relaxed-simd');
    expect(() => fresh.matMulImplementation()).toThrow(
      "MANN_MATMUL / setMatMulImplementation asks for 'relaxed-simd', which does not compile here (Node 20 needs `node --experimental-wasm-relaxed-simd`); use 'auto'.",
    );
    vi.spyOn(WebAssembly, 'validate').mockReturnValue(false);
    fresh = await freshModule();
    expect(fresh.matMulImplementation()).toBe('js');
    expect(fresh.residentMemory().moduleBytes).toBe(0);
    fresh.setMatMulImplementation('simd');
    expect(() => fresh.matMul(matrix(1, 1, [1]), matrix(1, 1, [1]))).toThrow(
      "MANN_MATMUL / setMatMulImplementation asks for 'simd', which does not compile here; use 'auto'.",
    );
  });
});

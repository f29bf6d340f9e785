// The shape of the kernels' arguments, and the checks every kernel makes up front.

/** A row-major matrix: `values[i * cols + j]` is row i, column j. */
export interface Matrix {
  /** rows x cols numbers, row after row. */
  values: Float32Array;
  /** Number of rows (a positive integer). */
  rows: number;
  /** Number of columns (a positive integer). */
  cols: number;
}

/** Throws one line naming the argument when `matrix` is not a {@link Matrix} whose values fill its shape. */
export function checkMatrix(caller: string, name: string, matrix: Matrix): void {
  if (matrix == null || typeof matrix !== 'object') {
    throw new Error(`${caller}: ${name} must be a matrix { values: Float32Array, rows, cols }, got ${String(matrix)}.`);
  }
  const { values, rows, cols } = matrix;
  if (!(values instanceof Float32Array)) {
    throw new Error(`${caller}: ${name}.values must be a Float32Array, got ${values === null ? 'null' : typeof values}.`);
  }
  for (const [dimension, size] of [['rows', rows], ['cols', cols]] as const) {
    if (!Number.isInteger(size) || size <= 0) {
      throw new Error(`${caller}: ${name}.${dimension} must be a positive integer, got ${String(size)}.`);
    }
  }
  if (values.length !== rows * cols) {
    throw new Error(`${caller}: ${name} is [${rows}, ${cols}] but has ${values.length} values, not ${rows * cols}.`);
  }
}

/** [m, k, n] of the product a b (a given transposed with `transposeA`); throws when the inner sizes differ. */
export function checkProductShapes(caller: string, a: Matrix, b: { rows: number; cols: number }, transposeA: boolean): [number, number, number] {
  const [m, k] = transposeA ? [a.cols, a.rows] : [a.rows, a.cols];
  if (k !== b.rows) {
    const left = transposeA ? `a^T [${m}, ${k}] (a is [${a.rows}, ${a.cols}], transposeA)` : `a [${m}, ${k}]`;
    throw new Error(`${caller}: ${left} and b [${b.rows}, ${b.cols}] do not multiply: a's ${transposeA ? 'rows' : 'columns'} (${k}) must equal b's rows (${b.rows}).`);
  }
  return [m, k, b.cols];
}

/**
 * The transpose of a row-major matrix, as a new matrix [cols, rows].
 *
 * ```js
 * transpose({ values: new Float32Array([1, 2, 3, 4, 5, 6]), rows: 2, cols: 3 });
 * // { values: Float32Array [1, 4, 2, 5, 3, 6], rows: 3, cols: 2 }
 * ```
 */
export function transpose(matrix: Matrix): Matrix {
  checkMatrix('transpose', 'matrix', matrix);
  const { values, rows, cols } = matrix;
  const out = new Float32Array(values.length);
  for (let i = 0; i < rows; i++) {
    // Stryker disable next-line EqualityOperator: `<=` adds j = cols, whose write lands past the end (dropped) or on a value rewritten later
    for (let j = 0; j < cols; j++) out[j * rows + i] = values[i * cols + j];
  }
  return { values: out, rows: cols, cols: rows };
}

/**
 * `row` repeated on `rows` rows: a [rows, row.length] matrix's values (a bias for every row of a product, to pass as
 * {@link matMul}'s `add`).
 *
 * ```js
 * repeatRows(new Float32Array([1, 2]), 3); // Float32Array [1, 2, 1, 2, 1, 2]
 * ```
 */
export function repeatRows(row: Float32Array, rows: number): Float32Array {
  const out = new Float32Array(rows * row.length);
  for (let r = 0; r < rows; r++) out.set(row, r * row.length);
  return out;
}

/**
 * The column sums of a [rows, cols] row-major matrix's values (a bias gradient), summed in float64.
 *
 * ```js
 * columnSums(new Float32Array([1, 2, 3, 4, 5, 6]), 3); // Float32Array [5, 7, 9]
 * ```
 */
export function columnSums(values: Float32Array, cols: number): Float32Array {
  const sums = new Float64Array(cols);
  for (let i = 0; i < values.length; i++) sums[i % cols] += values[i];
  return Float32Array.from(sums);
}

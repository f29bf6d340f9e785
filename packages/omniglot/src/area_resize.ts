/**
 * Per-axis weights of exact area averaging from `inSize` to `outSize` samples. Output sample `i` covers the
 * interval [i * inSize / outSize, (i + 1) * inSize / outSize) of input coordinates; input sample `j` covers
 * [j, j + 1). Scaling both by outSize keeps everything in integers: the overlap of [outSize * j, outSize * j +
 * outSize) and [inSize * i, inSize * i + inSize), divided by inSize, is the weight (each output's weights sum to 1).
 */
function areaWeights(inSize: number, outSize: number): { first: Int32Array; weights: Float64Array[] } {
  const first = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let i = 0; i < outSize; i++) {
    const low = inSize * i;
    const high = inSize * (i + 1);
    const firstInput = Math.floor(low / outSize);
    const lastInput = Math.ceil(high / outSize) - 1;
    const row = new Float64Array(lastInput - firstInput + 1);
    for (let j = firstInput; j <= lastInput; j++) {
      const overlap = Math.min(high, outSize * (j + 1)) - Math.max(low, outSize * j);
      row[j - firstInput] = overlap / inSize;
    }
    first[i] = firstInput;
    weights.push(row);
  }
  return { first, weights };
}

const weightCache = new Map<string, { first: Int32Array; weights: Float64Array[] }>();

function cachedWeights(inSize: number, outSize: number): { first: Int32Array; weights: Float64Array[] } {
  const key = `${inSize}>${outSize}`;
  let found = weightCache.get(key);
  if (found === undefined) {
    found = areaWeights(inSize, outSize);
    weightCache.set(key, found);
  }
  return found;
}

/**
 * Resizes a square single-channel image by exact area averaging: each output pixel is the mean of the input
 * over the square it covers, counting partly covered input pixels by the covered fraction (105 -> 20 gives
 * squares of 5.25 x 5.25 input pixels). Rows first, then columns (the 2-D weights are products, so this is exact).
 *
 * ```ts
 * const ink = new Float32Array(105 * 105).fill(1);
 * resizeByAreaAverage(ink, 105, 20); // 400 ones
 * ```
 */
export function resizeByAreaAverage(image: ArrayLike<number>, inSize: number, outSize: number): Float64Array {
  if (!Number.isInteger(inSize) || inSize < 1 || !Number.isInteger(outSize) || outSize < 1) {
    throw new Error(`resizeByAreaAverage: sizes must be positive integers, got ${inSize} -> ${outSize}`);
  }
  if (image.length !== inSize * inSize) {
    throw new Error(
      `resizeByAreaAverage: image has ${image.length} values, expected ${inSize} x ${inSize} = ${inSize * inSize}`,
    );
  }
  const { first, weights } = cachedWeights(inSize, outSize);
  // Horizontal pass: inSize rows x outSize columns.
  const rows = new Float64Array(inSize * outSize);
  for (let y = 0; y < inSize; y++) {
    const rowStart = y * inSize;
    for (let i = 0; i < outSize; i++) {
      const w = weights[i];
      const start = rowStart + first[i];
      let sum = 0;
      for (let k = 0; k < w.length; k++) sum += w[k] * image[start + k];
      rows[y * outSize + i] = sum;
    }
  }
  // Vertical pass.
  const out = new Float64Array(outSize * outSize);
  for (let i = 0; i < outSize; i++) {
    const w = weights[i];
    const start = first[i];
    for (let x = 0; x < outSize; x++) {
      let sum = 0;
      for (let k = 0; k < w.length; k++) sum += w[k] * rows[(start + k) * outSize + x];
      out[i * outSize + x] = sum;
    }
  }
  return out;
}

// Plain-JavaScript LSTM gate maths for the fast path (fast_forward.ts): the elementwise part of a step and its
// hand-written derivative, on Float32Arrays. The matrix products stay in tfjs (the backend's matMul); these loops
// replace the ~15 small tfjs kernels a step costs on the plain path (and ~30 more in its gradient), whose dispatch
// overhead, not their arithmetic, dominates at B = 16.
// Same maths as `lstmStep` in @mann/controller: gate order i, f, g, o; c' = s(f + fb) c + s(i) tanh(g);
// h' = s(o) tanh(c').

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

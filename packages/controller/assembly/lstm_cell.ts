// The LSTM's gate maths in WebAssembly SIMD: the same functions as lstmCellForward / lstmCellBackward in
// src/fast_lstm.ts, four units at a time, with exp and tanh as f32x4 polynomials (Cephes' expf and tanhf, about one
// float32 ulp). Why: in JavaScript Math.exp costs ~25 ns and Math.tanh ~65 ns a call on this project's machine, and a
// paper-size batch has 5 of them for each of 160,000 unit-steps forward; with this module the LSTM's forward went
// from 47 to 19 ms a batch (its products included).
// sigmoid4 and tanh4 come from @mann/kernels' assembly/simd_math.ts, compiled into this module.
// Layout as in the JavaScript: z, gates and dz are [B, 4U] with gate blocks i, f, g, o; c, nextC, h are [B, U].
// U must be a multiple of 4 (the caller checks; src/lstm_cell_wasm.ts falls back to JavaScript otherwise).

import { sigmoid4, tanh4 } from '../../kernels/assembly/simd_math';

/**
 * One step forward: from the pre-activations z [B, 4U] and the previous cell c [B, U], the gates after their
 * non-linearities into `gates`, the new cell into `nextC` and h into `nextH`. Byte addresses.
 */
export function forward(z: usize, c: usize, batch: i32, units: i32, forgetBias: f32, gates: usize, nextC: usize, nextH: usize): void {
  const blockBytes = <usize>units << 2;
  const bias = f32x4.splat(forgetBias);
  for (let b = 0; b < batch; b++) {
    const zRow = z + <usize>b * 4 * blockBytes;
    const gRow = gates + <usize>b * 4 * blockBytes;
    const sRow = <usize>b * blockBytes;
    for (let j: usize = 0; j < blockBytes; j += 16) {
      const i = sigmoid4(v128.load(zRow + j));
      const f = sigmoid4(f32x4.add(v128.load(zRow + blockBytes + j), bias));
      const g = tanh4(v128.load(zRow + 2 * blockBytes + j));
      const o = sigmoid4(v128.load(zRow + 3 * blockBytes + j));
      const cell = f32x4.add(f32x4.mul(f, v128.load(c + sRow + j)), f32x4.mul(i, g));
      v128.store(gRow + j, i);
      v128.store(gRow + blockBytes + j, f);
      v128.store(gRow + 2 * blockBytes + j, g);
      v128.store(gRow + 3 * blockBytes + j, o);
      v128.store(nextC + sRow + j, cell);
      v128.store(nextH + sRow + j, f32x4.mul(o, tanh4(cell)));
    }
  }
}

/**
 * One step backward: from dL/dh' (dh), the carried dL/dc' (dc, overwritten with dL/dc of the previous step), the
 * saved gates, the new cell nextC and the previous cell c, dL/dz into dz [B, 4U]. Byte addresses.
 */
export function backward(dh: usize, dc: usize, gates: usize, nextC: usize, c: usize, batch: i32, units: i32, dz: usize): void {
  const blockBytes = <usize>units << 2;
  const one = f32x4.splat(1);
  for (let b = 0; b < batch; b++) {
    const gRow = gates + <usize>b * 4 * blockBytes;
    const dRow = dz + <usize>b * 4 * blockBytes;
    const sRow = <usize>b * blockBytes;
    for (let j: usize = 0; j < blockBytes; j += 16) {
      const i = v128.load(gRow + j);
      const f = v128.load(gRow + blockBytes + j);
      const g = v128.load(gRow + 2 * blockBytes + j);
      const o = v128.load(gRow + 3 * blockBytes + j);
      const tanhC = tanh4(v128.load(nextC + sRow + j));
      const gradH = v128.load(dh + sRow + j);
      const gradC = f32x4.add(v128.load(dc + sRow + j), f32x4.mul(f32x4.mul(gradH, o), f32x4.sub(one, f32x4.mul(tanhC, tanhC))));
      v128.store(dRow + j, f32x4.mul(f32x4.mul(f32x4.mul(gradC, g), i), f32x4.sub(one, i)));
      v128.store(dRow + blockBytes + j, f32x4.mul(f32x4.mul(f32x4.mul(gradC, v128.load(c + sRow + j)), f), f32x4.sub(one, f)));
      v128.store(dRow + 2 * blockBytes + j, f32x4.mul(f32x4.mul(gradC, i), f32x4.sub(one, f32x4.mul(g, g))));
      v128.store(dRow + 3 * blockBytes + j, f32x4.mul(f32x4.mul(f32x4.mul(gradH, tanhC), o), f32x4.sub(one, o)));
      v128.store(dc + sRow + j, f32x4.mul(gradC, f));
    }
  }
}

/** The first byte after the module's static data: where the caller may place its arrays. */
export function heapBase(): usize {
  return __heap_base;
}

// The LRUA memory step of src/fast_lrua_cell.ts (forward and hand-written backward) in AssemblyScript with
// WebAssembly SIMD (f32x4), compiled by scripts/wasm.mjs into src/lrua_wasm_bytes.ts. Same maths and the
// same loop structure as the JavaScript; read that file's comments for the derivations.
//
// Why SIMD over the width W: every heavy loop is "for each slot n, for each head h, over the W numbers of a
// slot", so four consecutive numbers of a slot (or of a key) go in one f32x4 lane group. The slot rows of the
// memory (and of its gradient) are copied per episode into blocks whose rows are padded with zeros to a
// multiple of 4 (`Wp`), so the loops need no scalar tail; the keys and read gradients get padded blocks too.
// Everything is f32 (the JavaScript accumulates in f64), so results agree to float32 rounding, not exactly.
//
// Arguments are byte offsets into this module's memory; the caller (src/fast_lrua_wasm.ts) lays the arrays out.
// The keys' and add vectors' tanh and the read softmax's exp run four lanes at a time (tanh4, exp4 from
// @mann/kernels' assembly/simd_math.ts, compiled in): scalar Mathf.exp and Mathf.tanh were about half the forward step.

import { exp4, tanh4 } from '../../kernels/assembly/simd_math';

const EPSILON_SQUARED: f64 = 1e-16;

/** A count rounded up to a multiple of 4: whole f32x4 lane groups, 16-byte aligned blocks. */
// @ts-ignore: decorator
@inline function padded(x: i32): i32 {
  return (x + 3) & ~3;
}

// @ts-ignore: decorator
@inline function f32At(base: usize, index: i32): f32 {
  return load<f32>(base + (<usize>index << 2));
}

// @ts-ignore: decorator
@inline function setF32(base: usize, index: i32, value: f32): void {
  store<f32>(base + (<usize>index << 2), value);
}

// @ts-ignore: decorator
@inline function sumLanes(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** The 4 heads' dot products with slot n, each summed over its lanes, into dots [4, N] at column n. */
// @ts-ignore: decorator
@inline function storeFourDots(dots: usize, slots: i32, n: i32, d0: v128, d1: v128, d2: v128, d3: v128): void {
  setF32(dots, n, sumLanes(d0));
  setF32(dots, slots + n, sumLanes(d1));
  setF32(dots, 2 * slots + n, sumLanes(d2));
  setF32(dots, 3 * slots + n, sumLanes(d3));
}

/** rows x width (row-major) -> rows x Wp, the padding zero. */
function packRows(source: usize, target: usize, rows: i32, width: i32): void {
  const wp = padded(width);
  if (wp == width) {
    memory.copy(target, source, <usize>(rows * width) << 2);
    return;
  }
  memory.fill(target, 0, <usize>(rows * wp) << 2);
  for (let r = 0; r < rows; r++) memory.copy(target + (<usize>(r * wp) << 2), source + (<usize>(r * width) << 2), <usize>width << 2);
}

/** rows x Wp -> rows x width (drops the padding). */
function unpackRows(source: usize, target: usize, rows: i32, width: i32): void {
  const wp = padded(width);
  if (wp == width) {
    memory.copy(target, source, <usize>(rows * width) << 2);
    return;
  }
  for (let r = 0; r < rows; r++) memory.copy(target + (<usize>(r * width) << 2), source + (<usize>(r * wp) << 2), <usize>width << 2);
}

/** out[i] = tanh(values[i]) for i < count: four lanes at a time (tanh4), the rest one by one. */
function tanhInto(values: usize, out: usize, count: i32): void {
  let i = 0;
  for (; i + 4 <= count; i += 4) v128.store(out + (<usize>i << 2), tanh4(v128.load(values + (<usize>i << 2))));
  for (; i < count; i++) store<f32>(out + (<usize>i << 2), Mathf.tanh(load<f32>(values + (<usize>i << 2))));
}

/** out[i] = e^(values[i] - shift) for i < count (four lanes at a time, exp4); returns their sum. */
function expShiftedInto(values: usize, out: usize, count: i32, shift: f32): f32 {
  const shifts = f32x4.splat(shift);
  let sums = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= count; i += 4) {
    const e = exp4(f32x4.sub(v128.load(values + (<usize>i << 2)), shifts));
    v128.store(out + (<usize>i << 2), e);
    sums = f32x4.add(sums, e);
  }
  let total = sumLanes(sums);
  for (; i < count; i++) {
    const e = Mathf.exp(load<f32>(values + (<usize>i << 2)) - shift);
    store<f32>(out + (<usize>i << 2), e);
    total += e;
  }
  return total;
}

/**
 * The forward step's slot loop for 4 heads (the paper's), the same sums in the same order as the general loop in
 * `forward`, so the same numbers to the last bit: the write weights, the dot products and the squares stay in
 * registers and each slot's W numbers are read once, where the general loop keeps the weights in memory and reads the
 * slot again per head (this loop took about half the forward step).
 */
function writeSlotsFourHeads(
  slots: i32, wp: i32, so: i32, wo: i32, cleared: usize, writeWeights: usize, memoryBlock: usize, valueBlock: usize,
  keyBlock: usize, slotNorms: usize, dots: usize,
): void {
  const row = <usize>wp << 2;
  const k0 = keyBlock, k1 = keyBlock + row, k2 = keyBlock + 2 * row, k3 = keyBlock + 3 * row;
  const v0 = valueBlock, v1 = valueBlock + row, v2 = valueBlock + 2 * row, v3 = valueBlock + 3 * row;
  for (let n = 0; n < slots; n++) {
    const keep = f32x4.splat(1 - f32At(cleared, so + n));
    const w0 = f32x4.splat(f32At(writeWeights, wo + n));
    const w1 = f32x4.splat(f32At(writeWeights, wo + slots + n));
    const w2 = f32x4.splat(f32At(writeWeights, wo + 2 * slots + n));
    const w3 = f32x4.splat(f32At(writeWeights, wo + 3 * slots + n));
    const slot = memoryBlock + (<usize>(n * wp) << 2);
    let squares = f32x4.splat(0);
    let d0 = f32x4.splat(0);
    let d1 = f32x4.splat(0);
    let d2 = f32x4.splat(0);
    let d3 = f32x4.splat(0);
    for (let v = 0; v < wp; v += 4) {
      const at = <usize>v << 2;
      let m = f32x4.mul(v128.load(slot + at), keep);
      m = f32x4.add(m, f32x4.mul(w0, v128.load(v0 + at)));
      m = f32x4.add(m, f32x4.mul(w1, v128.load(v1 + at)));
      m = f32x4.add(m, f32x4.mul(w2, v128.load(v2 + at)));
      m = f32x4.add(m, f32x4.mul(w3, v128.load(v3 + at)));
      v128.store(slot + at, m);
      squares = f32x4.add(squares, f32x4.mul(m, m));
      d0 = f32x4.add(d0, f32x4.mul(v128.load(k0 + at), m));
      d1 = f32x4.add(d1, f32x4.mul(v128.load(k1 + at), m));
      d2 = f32x4.add(d2, f32x4.mul(v128.load(k2 + at), m));
      d3 = f32x4.add(d3, f32x4.mul(v128.load(k3 + at), m));
    }
    setF32(slotNorms, so + n, <f32>Math.sqrt(<f64>sumLanes(squares) + EPSILON_SQUARED));
    storeFourDots(dots, slots, n, d0, d1, d2, d3);
  }
}

// The backward step's three slot loops for 4 heads, as writeSlotsFourHeads is the forward's: the same sums in the same
// order as the general loops in `backward` (the same numbers to the last bit), with the heads' weights and dot
// products in registers and each slot row read once per loop.

/** Read: dw^r(h, n) = dr_h . M(n) into dots; dM(n) += sum_h w^r(h, n) dr_h. */
function readBackwardFourHeads(
  slots: i32, wp: i32, wo: i32, readWeights: usize, memoryBlock: usize, dMemoryBlock: usize, readGradientBlock: usize, dots: usize,
): void {
  const row = <usize>wp << 2;
  const g0 = readGradientBlock, g1 = readGradientBlock + row, g2 = readGradientBlock + 2 * row, g3 = readGradientBlock + 3 * row;
  for (let n = 0; n < slots; n++) {
    const w0 = f32x4.splat(f32At(readWeights, wo + n));
    const w1 = f32x4.splat(f32At(readWeights, wo + slots + n));
    const w2 = f32x4.splat(f32At(readWeights, wo + 2 * slots + n));
    const w3 = f32x4.splat(f32At(readWeights, wo + 3 * slots + n));
    const slot = memoryBlock + (<usize>(n * wp) << 2);
    const dSlot = dMemoryBlock + (<usize>(n * wp) << 2);
    let d0 = f32x4.splat(0);
    let d1 = f32x4.splat(0);
    let d2 = f32x4.splat(0);
    let d3 = f32x4.splat(0);
    for (let v = 0; v < wp; v += 4) {
      const at = <usize>v << 2;
      const m = v128.load(slot + at);
      const r0 = v128.load(g0 + at), r1 = v128.load(g1 + at), r2 = v128.load(g2 + at), r3 = v128.load(g3 + at);
      d0 = f32x4.add(d0, f32x4.mul(r0, m));
      d1 = f32x4.add(d1, f32x4.mul(r1, m));
      d2 = f32x4.add(d2, f32x4.mul(r2, m));
      d3 = f32x4.add(d3, f32x4.mul(r3, m));
      let dm = v128.load(dSlot + at);
      dm = f32x4.add(dm, f32x4.mul(w0, r0));
      dm = f32x4.add(dm, f32x4.mul(w1, r1));
      dm = f32x4.add(dm, f32x4.mul(w2, r2));
      dm = f32x4.add(dm, f32x4.mul(w3, r3));
      v128.store(dSlot + at, dm);
    }
    storeFourDots(dots, slots, n, d0, d1, d2, d3);
  }
}

/** dk_h += sum_n ddot(h, n) M(n); dM(n) += sum_h ddot(h, n) k_h + (d|m| / |m|) M(n). */
function keyBackwardFourHeads(
  slots: i32, wp: i32, so: i32, slotNorms: usize, dSlotNorms: usize, weightBlock: usize, memoryBlock: usize,
  dMemoryBlock: usize, keyBlock: usize, dKeyBlock: usize,
): void {
  const row = <usize>wp << 2;
  for (let n = 0; n < slots; n++) {
    const slot = memoryBlock + (<usize>(n * wp) << 2);
    const dSlot = dMemoryBlock + (<usize>(n * wp) << 2);
    const scale = f32x4.splat(f32At(dSlotNorms, n) / f32At(slotNorms, so + n));
    const a0 = f32x4.splat(f32At(weightBlock, n));
    const a1 = f32x4.splat(f32At(weightBlock, slots + n));
    const a2 = f32x4.splat(f32At(weightBlock, 2 * slots + n));
    const a3 = f32x4.splat(f32At(weightBlock, 3 * slots + n));
    for (let v = 0; v < wp; v += 4) {
      const at = <usize>v << 2;
      const m = v128.load(slot + at);
      let dm = f32x4.add(v128.load(dSlot + at), f32x4.mul(scale, m));
      v128.store(dKeyBlock + at, f32x4.add(v128.load(dKeyBlock + at), f32x4.mul(a0, m)));
      dm = f32x4.add(dm, f32x4.mul(a0, v128.load(keyBlock + at)));
      v128.store(dKeyBlock + row + at, f32x4.add(v128.load(dKeyBlock + row + at), f32x4.mul(a1, m)));
      dm = f32x4.add(dm, f32x4.mul(a1, v128.load(keyBlock + row + at)));
      v128.store(dKeyBlock + 2 * row + at, f32x4.add(v128.load(dKeyBlock + 2 * row + at), f32x4.mul(a2, m)));
      dm = f32x4.add(dm, f32x4.mul(a2, v128.load(keyBlock + 2 * row + at)));
      v128.store(dKeyBlock + 3 * row + at, f32x4.add(v128.load(dKeyBlock + 3 * row + at), f32x4.mul(a3, m)));
      dm = f32x4.add(dm, f32x4.mul(a3, v128.load(keyBlock + 3 * row + at)));
      v128.store(dSlot + at, dm);
    }
  }
}

/** Write: dM(n) . v_h into dots; dv_h += w^w(h, n) dM(n); then the cleared slots' dM zeroed (times 1 - cleared). */
function writeBackwardFourHeads(
  slots: i32, wp: i32, so: i32, wo: i32, writeWeights: usize, cleared: usize, dMemoryBlock: usize, valueBlock: usize,
  dValueBlock: usize, dots: usize,
): void {
  const row = <usize>wp << 2;
  const v0 = valueBlock, v1 = valueBlock + row, v2 = valueBlock + 2 * row, v3 = valueBlock + 3 * row;
  const e0 = dValueBlock, e1 = dValueBlock + row, e2 = dValueBlock + 2 * row, e3 = dValueBlock + 3 * row;
  for (let n = 0; n < slots; n++) {
    const dSlot = dMemoryBlock + (<usize>(n * wp) << 2);
    const w0 = f32x4.splat(f32At(writeWeights, wo + n));
    const w1 = f32x4.splat(f32At(writeWeights, wo + slots + n));
    const w2 = f32x4.splat(f32At(writeWeights, wo + 2 * slots + n));
    const w3 = f32x4.splat(f32At(writeWeights, wo + 3 * slots + n));
    const keep = f32x4.splat(1 - f32At(cleared, so + n));
    let d0 = f32x4.splat(0);
    let d1 = f32x4.splat(0);
    let d2 = f32x4.splat(0);
    let d3 = f32x4.splat(0);
    for (let v = 0; v < wp; v += 4) {
      const at = <usize>v << 2;
      const dm = v128.load(dSlot + at);
      d0 = f32x4.add(d0, f32x4.mul(dm, v128.load(v0 + at)));
      v128.store(e0 + at, f32x4.add(v128.load(e0 + at), f32x4.mul(w0, dm)));
      d1 = f32x4.add(d1, f32x4.mul(dm, v128.load(v1 + at)));
      v128.store(e1 + at, f32x4.add(v128.load(e1 + at), f32x4.mul(w1, dm)));
      d2 = f32x4.add(d2, f32x4.mul(dm, v128.load(v2 + at)));
      v128.store(e2 + at, f32x4.add(v128.load(e2 + at), f32x4.mul(w2, dm)));
      d3 = f32x4.add(d3, f32x4.mul(dm, v128.load(v3 + at)));
      v128.store(e3 + at, f32x4.add(v128.load(e3 + at), f32x4.mul(w3, dm)));
      v128.store(dSlot + at, f32x4.mul(keep, dm));
    }
    storeFourDots(dots, slots, n, d0, d1, d2, d3);
  }
}

/** The first free byte after the module's static data: the caller lays its arrays out from here. */
export function heapBase(): usize {
  return __heap_base;
}

/** Bytes of scratch space `forward` and `backward` need at `scratch` (backward's layout, the larger). */
export function scratchBytes(heads: i32, slots: i32, width: i32): i32 {
  const wp = padded(width);
  // blocks: 3 x [H, Wp], 2 x [N, Wp], 2 x [H, N], [N] floats, then H splatted weights (16 bytes each), then
  // 2 x [H, Wp] for the add vectors and their gradients (used with separate add vectors only).
  return (5 * heads * wp + 2 * slots * wp + 2 * padded(heads * slots) + padded(slots)) * 4 + heads * 16;
}

/**
 * One step forward: parameters [B, H*W + H] (or [B, 2*H*W + H] with `separateAdds`: keys, gates, add vectors)
 * and the previous record's memory, usage and read weights -> the new record's arrays (all written in full;
 * `adds` only with `separateAdds`, when the heads write add vectors instead of their keys). The slots zeroed
 * before the write (`cleared`) are the whole least-used mask, or with `clearOne` its least-used slot alone.
 */
export function forward(
  batch: i32, heads: i32, slots: i32, width: i32, decay: f32, separateAdds: i32, clearOne: i32,
  parameters: usize, previousMemory: usize, previousUsage: usize, previousReadWeights: usize,
  keys: usize, adds: usize, gate: usize, leastUsed: usize, cleared: usize, writeWeights: usize, memoryOut: usize, keyNorms: usize,
  slotNorms: usize, similarity: usize, readWeights: usize, usage: usize, reads: usize, scratch: usize,
): void {
  const wp = padded(width);
  const keySize = heads * width;
  const parameterSize = keySize * (separateAdds ? 2 : 1) + heads;
  const keyBlock = scratch; // [H, Wp]
  const readBlock = keyBlock + (<usize>(heads * wp) << 2); // [H, Wp]
  const memoryScratch = readBlock + (<usize>(heads * wp) << 2); // [N, Wp]
  const dots = memoryScratch + (<usize>(slots * wp) << 2); // [H, N]
  // With W a multiple of 4 the slot rows need no padding: the step works on the new record's memory in place.
  const inPlace = wp == width;
  const chosen = dots + (<usize>padded(heads * slots) << 2); // [N] flags
  const splats = chosen + (<usize>padded(slots) << 2); // [H] v128
  // What the heads write: their keys (the paper) or the add vectors.
  const valueBlock = separateAdds ? splats + (<usize>heads << 4) : keyBlock; // [H, Wp]
  for (let b = 0; b < batch; b++) {
    const po = b * parameterSize;
    const ko = b * keySize;
    const so = b * slots;
    const wo = b * heads * slots;
    memory.fill(keyBlock, 0, <usize>(heads * wp) << 2);
    tanhInto(parameters + (<usize>po << 2), keys + (<usize>ko << 2), keySize);
    packRows(keys + (<usize>ko << 2), keyBlock, heads, width);
    for (let h = 0; h < heads; h++) {
      setF32(gate, b * heads + h, 1 / (1 + Mathf.exp(-f32At(parameters, po + keySize + h))));
    }
    if (separateAdds) {
      memory.fill(valueBlock, 0, <usize>(heads * wp) << 2);
      tanhInto(parameters + (<usize>(po + keySize + heads) << 2), adds + (<usize>ko << 2), keySize);
      packRows(adds + (<usize>ko << 2), valueBlock, heads, width);
    }
    // The `heads` least-used slots of the previous usage, ties to the lower index.
    memory.fill(chosen, 0, <usize>slots << 2);
    memory.fill(leastUsed + (<usize>so << 2), 0, <usize>slots << 2);
    memory.fill(cleared + (<usize>so << 2), 0, <usize>slots << 2);
    // Zeroed before the write: every pick, or with `clearOne` the first (the least used) alone.
    const clearedCount = clearOne ? min(1, heads) : heads;
    for (let pick = 0; pick < heads; pick++) {
      let best = -1;
      let bestValue = Infinity;
      for (let n = 0; n < slots; n++) {
        const value = f32At(previousUsage, so + n);
        if (load<i32>(chosen + (<usize>n << 2)) == 0 && (best < 0 || value < bestValue)) {
          best = n;
          bestValue = value;
        }
      }
      store<i32>(chosen + (<usize>best << 2), 1);
      setF32(leastUsed, so + best, 1);
      if (pick < clearedCount) setF32(cleared, so + best, 1);
    }
    for (let h = 0; h < heads; h++) {
      const s = f32At(gate, b * heads + h);
      const row = wo + h * slots;
      for (let n = 0; n < slots; n++) {
        setF32(writeWeights, row + n, s * f32At(previousReadWeights, row + n) + (1 - s) * f32At(leastUsed, so + n));
      }
    }
    const episodeMemory = <usize>(b * slots * width) << 2;
    const memoryBlock = inPlace ? memoryOut + episodeMemory : memoryScratch;
    packRows(previousMemory + episodeMemory, memoryBlock, slots, width);
    // Per slot: clear if marked, add sum_h w^w_h(n) v_h (v = k or the add vector), then its norm and its dot
    // with every key.
    if (heads == 4) {
      writeSlotsFourHeads(slots, wp, so, wo, cleared, writeWeights, memoryBlock, valueBlock, keyBlock, slotNorms, dots);
    } else for (let n = 0; n < slots; n++) {
      const keep = f32x4.splat(1 - f32At(cleared, so + n));
      const slot = memoryBlock + (<usize>(n * wp) << 2);
      for (let h = 0; h < heads; h++) v128.store(splats + (<usize>h << 4), f32x4.splat(f32At(writeWeights, wo + h * slots + n)));
      let squares = f32x4.splat(0);
      for (let v = 0; v < wp; v += 4) {
        let m = f32x4.mul(v128.load(slot + (<usize>v << 2)), keep);
        for (let h = 0; h < heads; h++) {
          m = f32x4.add(m, f32x4.mul(v128.load(splats + (<usize>h << 4)), v128.load(valueBlock + (<usize>(h * wp + v) << 2))));
        }
        v128.store(slot + (<usize>v << 2), m);
        squares = f32x4.add(squares, f32x4.mul(m, m));
      }
      setF32(slotNorms, so + n, <f32>Math.sqrt(<f64>sumLanes(squares) + EPSILON_SQUARED));
      for (let h = 0; h < heads; h++) {
        let dot = f32x4.splat(0);
        const key = keyBlock + (<usize>(h * wp) << 2);
        for (let v = 0; v < wp; v += 4) dot = f32x4.add(dot, f32x4.mul(v128.load(key + (<usize>v << 2)), v128.load(slot + (<usize>v << 2))));
        setF32(dots, h * slots + n, sumLanes(dot));
      }
    }
    // Cosine similarity and softmax over slots, per head.
    for (let h = 0; h < heads; h++) {
      let squares: f32 = 0;
      for (let w = 0; w < width; w++) squares += f32At(keyBlock, h * wp + w) * f32At(keyBlock, h * wp + w);
      const keyNorm = <f32>Math.sqrt(<f64>squares + EPSILON_SQUARED);
      setF32(keyNorms, b * heads + h, keyNorm);
      const row = wo + h * slots;
      let largest: f32 = -Infinity;
      for (let n = 0; n < slots; n++) {
        const cosine = f32At(dots, h * slots + n) / (keyNorm * f32At(slotNorms, so + n));
        setF32(similarity, row + n, cosine);
        if (cosine > largest) largest = cosine;
      }
      const total = expShiftedInto(similarity + (<usize>row << 2), readWeights + (<usize>row << 2), slots, largest);
      for (let n = 0; n < slots; n++) setF32(readWeights, row + n, f32At(readWeights, row + n) / total);
    }
    // Read: r_h = sum_n w^r_h(n) M(n).
    memory.fill(readBlock, 0, <usize>(heads * wp) << 2);
    for (let n = 0; n < slots; n++) {
      const slot = memoryBlock + (<usize>(n * wp) << 2);
      for (let h = 0; h < heads; h++) {
        const a = f32x4.splat(f32At(readWeights, wo + h * slots + n));
        const read = readBlock + (<usize>(h * wp) << 2);
        for (let v = 0; v < wp; v += 4) {
          const at = read + (<usize>v << 2);
          v128.store(at, f32x4.add(v128.load(at), f32x4.mul(a, v128.load(slot + (<usize>v << 2)))));
        }
      }
    }
    unpackRows(readBlock, reads + (<usize>ko << 2), heads, width);
    if (!inPlace) unpackRows(memoryBlock, memoryOut + episodeMemory, slots, width);
    // Usage: decay w^u_{t-1} + sum_h w^r_h + sum_h w^w_h.
    for (let n = 0; n < slots; n++) {
      let sum = decay * f32At(previousUsage, so + n);
      for (let h = 0; h < heads; h++) sum += f32At(readWeights, wo + h * slots + n) + f32At(writeWeights, wo + h * slots + n);
      setF32(usage, so + n, sum);
    }
  }
}

/**
 * One step backward: dL/dreads [B, H, W], the step's record and the previous read weights -> dL/dparameters
 * [B, H*W + H] (or [B, 2*H*W + H] with `separateAdds`); the carry (dL/dM [B, N, W], dL/dw^u [B, N],
 * dL/dw^r [B, H, N]) is updated in place.
 */
export function backward(
  batch: i32, heads: i32, slots: i32, width: i32, decay: f32, separateAdds: i32,
  readGradient: usize, keys: usize, adds: usize, gate: usize, leastUsed: usize, cleared: usize, writeWeights: usize, memoryIn: usize,
  keyNorms: usize, slotNorms: usize, similarity: usize, readWeights: usize, previousReadWeights: usize,
  carryMemory: usize, carryUsage: usize, carryReadWeights: usize, parameterGradient: usize, scratch: usize,
): void {
  const wp = padded(width);
  const keySize = heads * width;
  const parameterSize = keySize * (separateAdds ? 2 : 1) + heads;
  const keyBlock = scratch; // [H, Wp]
  const readGradientBlock = keyBlock + (<usize>(heads * wp) << 2); // [H, Wp]
  const dKeyBlock = readGradientBlock + (<usize>(heads * wp) << 2); // [H, Wp]
  const memoryScratch = dKeyBlock + (<usize>(heads * wp) << 2); // [N, Wp]
  const dMemoryScratch = memoryScratch + (<usize>(slots * wp) << 2); // [N, Wp]
  const dots = dMemoryScratch + (<usize>(slots * wp) << 2); // [H, N]
  // With W a multiple of 4 the slot rows need no padding: read the record's memory and update the carry in place.
  const inPlace = wp == width;
  const weightBlock = dots + (<usize>padded(heads * slots) << 2); // [H, N]
  const dSlotNorms = weightBlock + (<usize>padded(heads * slots) << 2); // [N]
  const splats = dSlotNorms + (<usize>padded(slots) << 2); // [H] v128
  // The written vectors and their gradients: the key blocks themselves unless the heads write add vectors.
  const valueBlock = separateAdds ? splats + (<usize>heads << 4) : keyBlock; // [H, Wp]
  const dValueBlock = separateAdds ? valueBlock + (<usize>(heads * wp) << 2) : dKeyBlock; // [H, Wp]
  for (let b = 0; b < batch; b++) {
    const ko = b * keySize;
    const so = b * slots;
    const wo = b * heads * slots;
    const mo = <usize>(b * slots * width) << 2;
    packRows(keys + (<usize>ko << 2), keyBlock, heads, width);
    packRows(readGradient + (<usize>ko << 2), readGradientBlock, heads, width);
    const memoryBlock = inPlace ? memoryIn + mo : memoryScratch;
    const dMemoryBlock = inPlace ? carryMemory + mo : dMemoryScratch;
    if (!inPlace) {
      packRows(memoryIn + mo, memoryBlock, slots, width);
      packRows(carryMemory + mo, dMemoryBlock, slots, width);
    }
    memory.fill(dKeyBlock, 0, <usize>(heads * wp) << 2);
    if (separateAdds) {
      packRows(adds + (<usize>ko << 2), valueBlock, heads, width);
      memory.fill(dValueBlock, 0, <usize>(heads * wp) << 2);
    }
    memory.fill(dSlotNorms, 0, <usize>slots << 2);
    // Read: dw^r(h, n) gets dr_h . M(n); dM(n) += sum_h w^r(h, n) dr_h.
    if (heads == 4) {
      readBackwardFourHeads(slots, wp, wo, readWeights, memoryBlock, dMemoryBlock, readGradientBlock, dots);
    } else for (let n = 0; n < slots; n++) {
      const slot = memoryBlock + (<usize>(n * wp) << 2);
      const dSlot = dMemoryBlock + (<usize>(n * wp) << 2);
      for (let h = 0; h < heads; h++) {
        v128.store(splats + (<usize>h << 4), f32x4.splat(f32At(readWeights, wo + h * slots + n)));
        const gradient = readGradientBlock + (<usize>(h * wp) << 2);
        let dot = f32x4.splat(0);
        for (let v = 0; v < wp; v += 4) dot = f32x4.add(dot, f32x4.mul(v128.load(gradient + (<usize>v << 2)), v128.load(slot + (<usize>v << 2))));
        setF32(dots, h * slots + n, sumLanes(dot));
      }
      for (let v = 0; v < wp; v += 4) {
        let dm = v128.load(dSlot + (<usize>v << 2));
        for (let h = 0; h < heads; h++) {
          dm = f32x4.add(dm, f32x4.mul(v128.load(splats + (<usize>h << 4)), v128.load(readGradientBlock + (<usize>(h * wp + v) << 2))));
        }
        v128.store(dSlot + (<usize>v << 2), dm);
      }
    }
    // Softmax, then cosine = dot / (|k| |m|): dL/ddot into weightBlock, norm gradients aside.
    for (let h = 0; h < heads; h++) {
      const row = wo + h * slots;
      let inner: f32 = 0;
      for (let n = 0; n < slots; n++) {
        const dRead = f32At(dots, h * slots + n) + f32At(carryReadWeights, row + n) + f32At(carryUsage, so + n);
        setF32(dots, h * slots + n, dRead);
        inner += f32At(readWeights, row + n) * dRead;
      }
      const keyNorm = f32At(keyNorms, b * heads + h);
      let dKeyNorm: f32 = 0;
      for (let n = 0; n < slots; n++) {
        const ds = f32At(readWeights, row + n) * (f32At(dots, h * slots + n) - inner);
        const scaled = ds * f32At(similarity, row + n);
        dKeyNorm -= scaled / keyNorm;
        setF32(dSlotNorms, n, f32At(dSlotNorms, n) - scaled / f32At(slotNorms, so + n));
        setF32(weightBlock, h * slots + n, ds / (keyNorm * f32At(slotNorms, so + n)));
      }
      const factor = f32x4.splat(dKeyNorm / keyNorm);
      const key = keyBlock + (<usize>(h * wp) << 2);
      const dKey = dKeyBlock + (<usize>(h * wp) << 2);
      for (let v = 0; v < wp; v += 4) {
        const at = dKey + (<usize>v << 2);
        v128.store(at, f32x4.add(v128.load(at), f32x4.mul(factor, v128.load(key + (<usize>v << 2)))));
      }
    }
    // dk_h += sum_n ddot(h, n) M(n); dM(n) += sum_h ddot(h, n) k_h + (d|m| / |m|) M(n).
    if (heads == 4) {
      keyBackwardFourHeads(slots, wp, so, slotNorms, dSlotNorms, weightBlock, memoryBlock, dMemoryBlock, keyBlock, dKeyBlock);
    } else for (let n = 0; n < slots; n++) {
      const slot = memoryBlock + (<usize>(n * wp) << 2);
      const dSlot = dMemoryBlock + (<usize>(n * wp) << 2);
      const scale = f32x4.splat(f32At(dSlotNorms, n) / f32At(slotNorms, so + n));
      for (let h = 0; h < heads; h++) v128.store(splats + (<usize>h << 4), f32x4.splat(f32At(weightBlock, h * slots + n)));
      for (let v = 0; v < wp; v += 4) {
        const m = v128.load(slot + (<usize>v << 2));
        let dm = f32x4.add(v128.load(dSlot + (<usize>v << 2)), f32x4.mul(scale, m));
        for (let h = 0; h < heads; h++) {
          const a = v128.load(splats + (<usize>h << 4));
          const at = (<usize>(h * wp + v) << 2);
          v128.store(dKeyBlock + at, f32x4.add(v128.load(dKeyBlock + at), f32x4.mul(a, m)));
          dm = f32x4.add(dm, f32x4.mul(a, v128.load(keyBlock + at)));
        }
        v128.store(dSlot + (<usize>v << 2), dm);
      }
    }
    // Write: dw^w(h, n) = dw^u(n) + dM(n) . v_h; dv_h += sum_n w^w(h, n) dM(n) (v = k unless the heads write add
    // vectors); cleared slots pass no gradient.
    if (heads == 4) {
      writeBackwardFourHeads(slots, wp, so, wo, writeWeights, cleared, dMemoryBlock, valueBlock, dValueBlock, dots);
    } else for (let n = 0; n < slots; n++) {
      const dSlot = dMemoryBlock + (<usize>(n * wp) << 2);
      for (let h = 0; h < heads; h++) {
        const a = f32x4.splat(f32At(writeWeights, wo + h * slots + n));
        const key = valueBlock + (<usize>(h * wp) << 2);
        const dKey = dValueBlock + (<usize>(h * wp) << 2);
        let dot = f32x4.splat(0);
        for (let v = 0; v < wp; v += 4) {
          const dm = v128.load(dSlot + (<usize>v << 2));
          dot = f32x4.add(dot, f32x4.mul(dm, v128.load(key + (<usize>v << 2))));
          const at = dKey + (<usize>v << 2);
          v128.store(at, f32x4.add(v128.load(at), f32x4.mul(a, dm)));
        }
        setF32(dots, h * slots + n, sumLanes(dot));
      }
      const keep = f32x4.splat(1 - f32At(cleared, so + n));
      for (let v = 0; v < wp; v += 4) v128.store(dSlot + (<usize>v << 2), f32x4.mul(keep, v128.load(dSlot + (<usize>v << 2))));
    }
    if (!inPlace) unpackRows(dMemoryBlock, carryMemory + mo, slots, width);
    // w^w = s w^r_{t-1} + (1 - s) w^lu: ds_h = sum_n dw^w (w^r_{t-1} - w^lu); carried dw^r_{t-1} = s dw^w.
    for (let h = 0; h < heads; h++) {
      const row = wo + h * slots;
      const s = f32At(gate, b * heads + h);
      let dGate: f32 = 0;
      for (let n = 0; n < slots; n++) {
        const dWrite = f32At(carryUsage, so + n) + f32At(dots, h * slots + n);
        dGate += dWrite * (f32At(previousReadWeights, row + n) - f32At(leastUsed, so + n));
        setF32(carryReadWeights, row + n, s * dWrite);
      }
      setF32(parameterGradient, b * parameterSize + keySize + h, dGate * s * (1 - s));
      for (let w = 0; w < width; w++) {
        const k = f32At(keyBlock, h * wp + w);
        setF32(parameterGradient, b * parameterSize + h * width + w, f32At(dKeyBlock, h * wp + w) * (1 - k * k));
      }
      if (separateAdds) {
        for (let w = 0; w < width; w++) {
          const a = f32At(valueBlock, h * wp + w);
          setF32(parameterGradient, b * parameterSize + keySize + heads + h * width + w, f32At(dValueBlock, h * wp + w) * (1 - a * a));
        }
      }
    }
    // Usage decays into step t - 1.
    for (let n = 0; n < slots; n++) setF32(carryUsage, so + n, f32At(carryUsage, so + n) * decay);
  }
}

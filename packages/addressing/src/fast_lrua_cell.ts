// Plain-JavaScript LRUA memory step and its hand-written derivative, behind `lrua(...).fast` (fast_lrua.ts).
// Same maths as `lrua` in @mann/addressing (write before read, keys or add vectors written, least-used slots
// cleared, cosine with norms sqrt(sum x^2 + 1e-16), usage decay). Why JavaScript: at the paper's size every product
// here is [4 x 40] by [40 x 128] per episode, far too small for a backend kernel to pay its dispatch cost (a wasm
// BatchMatMul of this size takes as long as this loop), and the plain path needs ~35 such kernels per step forward
// and ~80 backward. Float32Arrays work in every JavaScript runtime, so the browser keeps this path.
// Where WebAssembly SIMD compiles (Node, worker threads), lruaStepForward / lruaStepBackward run the same loops
// in wasm instead (fast_lrua_wasm.ts, assembly/lrua.ts); setLruaImplementation('js') or MANN_LRUA=js keeps these.
import { activeLruaWasm } from './fast_lrua_wasm';

/** Sizes of one LRUA memory: B episodes, H heads, N slots of width W, usage decay, and what a head writes. */
export interface LruaSizes {
  batch: number;
  heads: number;
  slots: number;
  width: number;
  decay: number;
  /** 'key' (default, the paper: the read key is written) or 'add' (a separate add vector, as `lrua`'s option). */
  writeVector?: 'key' | 'add';
  /**
   * 'least-used' (default, the paper: only the single least-used slot is zeroed before the write) or
   * 'all-least-used' (every slot of the H-slot least-used mask), as `lrua`'s `clearing` option.
   */
  clearing?: 'all-least-used' | 'least-used';
}

/** What one step saves for its derivative (all batch-major Float32Arrays). */
export interface LruaStepRecord {
  /** tanh keys [B, H, W]. */
  keys: Float32Array;
  /** What each head writes [B, H, W]: tanh add vectors with writeVector 'add', else empty (the keys are written). */
  adds: Float32Array;
  /** sigmoid(alpha) [B, H]. */
  gate: Float32Array;
  /** least-used mask of the previous usage [B, N] (0 or 1). */
  leastUsed: Float32Array;
  /** the slots zeroed before the write [B, N] (0 or 1): the whole mask, or its least-used slot alone. */
  cleared: Float32Array;
  /** write weights [B, H, N]. */
  writeWeights: Float32Array;
  /** memory after the write [B, N, W]. */
  memory: Float32Array;
  /** key norms [B, H] and slot norms [B, N]. */
  keyNorms: Float32Array;
  slotNorms: Float32Array;
  /** cosine similarities [B, H, N]. */
  similarity: Float32Array;
  /** read weights [B, H, N]. */
  readWeights: Float32Array;
  /** usage after the step [B, N]. */
  usage: Float32Array;
  /** read vectors [B, H, W]. */
  reads: Float32Array;
}

const EPSILON_SQUARED = 1e-16; // cosineSimilarity's default epsilon 1e-8, squared

/** The length of each record array for these sizes (batch-major: [B, H, W], [B, H], [B, N], [B, H, N], [B, N, W]). */
export function lruaRecordLengths({ batch, heads, slots, width, writeVector }: LruaSizes): Record<keyof LruaStepRecord, number> {
  const bh = batch * heads;
  return {
    keys: bh * width,
    adds: writeVector === 'add' ? bh * width : 0,
    gate: bh,
    leastUsed: batch * slots,
    cleared: batch * slots,
    writeWeights: bh * slots,
    memory: batch * slots * width,
    keyNorms: bh,
    slotNorms: batch * slots,
    similarity: bh * slots,
    readWeights: bh * slots,
    usage: batch * slots,
    reads: bh * width,
  };
}

/** Addressing parameters per episode: H keys of W, H gate logits, and H add vectors of W with writeVector 'add'. */
export function lruaParameterSize({ heads, width, writeVector }: LruaSizes): number {
  return heads * width * (writeVector === 'add' ? 2 : 1) + heads;
}

/** The initial LRUA state as a record (memory filled with `initialValue`; usage and weights zero). */
export function lruaInitialRecord(sizes: LruaSizes, initialValue: number): LruaStepRecord {
  const lengths = lruaRecordLengths(sizes);
  const record = {} as LruaStepRecord;
  for (const field of Object.keys(lengths) as Array<keyof LruaStepRecord>) record[field] = new Float32Array(lengths[field]);
  record.memory.fill(initialValue);
  return record;
}

/**
 * One LRUA step: the addressing parameters `parameters` [B, lruaParameterSize(sizes)] (keys head-major, the gate
 * logits, then with writeVector 'add' the add vectors: the layout of `lrua`'s `parameterSize`) and the previous
 * step's record -> the new record (reads in `reads`).
 *
 * ```js
 * const sizes = { batch: 1, heads: 1, slots: 2, width: 1, decay: 0.95 };
 * const next = lruaStepForward(new Float32Array([0, 0]), lruaInitialRecord(sizes, 1e-6), sizes);
 * // key tanh(0) = 0, so nothing is written; slot 0 (least used, ties to the lower index) is cleared
 * ```
 *
 * Runs {@link lruaStepForwardJs} or the same loops in WebAssembly SIMD (fast_lrua_wasm.ts): see
 * `setLruaImplementation`.
 */
export function lruaStepForward(parameters: Float32Array, previous: LruaStepRecord, sizes: LruaSizes): LruaStepRecord {
  const wasm = activeLruaWasm();
  return wasm ? wasm.forward(parameters, previous, sizes) : lruaStepForwardJs(parameters, previous, sizes);
}

/**
 * {@link lruaStepForward} in JavaScript (the fallback, and the reference the wasm step is tested against).
 *
 * Speed: the loops run over slots outermost and handle the heads four at a time (heads padded with zero rows
 * to a multiple of 4), so each slot's W numbers are loaded once per four heads; that doubles V8's throughput
 * over one head per pass.
 */
export function lruaStepForwardJs(parameters: Float32Array, previous: LruaStepRecord, sizes: LruaSizes): LruaStepRecord {
  const { batch, heads, slots, width, decay } = sizes;
  const keySize = heads * width;
  const parameterSize = lruaParameterSize(sizes);
  const separateAdds = sizes.writeVector === 'add';
  const next = lruaInitialRecord(sizes, 0);
  const { keys, adds, gate, leastUsed, cleared, writeWeights, memory, keyNorms, slotNorms, similarity, readWeights, usage, reads } = next;
  // Slots zeroed before the write: the first `clearedCount` picks (the least used first).
  const clearedCount = sizes.clearing === 'all-least-used' ? heads : Math.min(1, heads);
  const previousMemory = previous.memory;
  const padded = paddedHeads(heads);
  const keyBlock = new Float32Array(padded * width);
  // What the heads write: the keys themselves (the paper), or the add vectors.
  const valueBlock = separateAdds ? new Float32Array(padded * width) : keyBlock;
  const writeBlock = new Float32Array(padded * slots);
  const dotBlock = new Float32Array(padded * slots);
  const readBlock = new Float32Array(padded * width);
  const chosen = new Uint8Array(slots);
  for (let b = 0; b < batch; b++) {
    const po = b * parameterSize;
    const ko = b * keySize;
    const so = b * slots;
    const wo = b * heads * slots;
    const mo = b * slots * width;
    for (let i = 0; i < keySize; i++) keys[ko + i] = Math.tanh(parameters[po + i]);
    for (let h = 0; h < heads; h++) gate[b * heads + h] = 1 / (1 + Math.exp(-parameters[po + keySize + h]));
    if (separateAdds) for (let i = 0; i < keySize; i++) adds[ko + i] = Math.tanh(parameters[po + keySize + heads + i]);
    // The `heads` least-used slots of the previous usage, ties to the lower index (leastUsedWeights' order).
    chosen.fill(0);
    for (let pick = 0; pick < heads; pick++) {
      let best = -1;
      let bestValue = Infinity;
      for (let n = 0; n < slots; n++) {
        const value = previous.usage[so + n];
        if (!chosen[n] && (best < 0 || value < bestValue)) {
          best = n;
          bestValue = value;
        }
      }
      chosen[best] = 1;
      leastUsed[so + best] = 1;
      if (pick < clearedCount) cleared[so + best] = 1;
    }
    // Write weights: sigmoid(alpha) w^r_{t-1} + (1 - sigmoid(alpha)) w^lu.
    for (let h = 0; h < heads; h++) {
      const s = gate[b * heads + h];
      const row = wo + h * slots;
      for (let n = 0; n < slots; n++) writeWeights[row + n] = s * previous.readWeights[row + n] + (1 - s) * leastUsed[so + n];
    }
    keyBlock.set(keys.subarray(ko, ko + keySize));
    if (separateAdds) valueBlock.set(adds.subarray(ko, ko + keySize));
    writeBlock.set(writeWeights.subarray(wo, wo + heads * slots));
    // Per slot: clear if marked, add sum_h w^w_h(n) v_h (v = k or the add vector), then its norm and its dot
    // with every key.
    for (let n = 0; n < slots; n++) {
      const keep = 1 - cleared[so + n];
      const slot = mo + n * width;
      for (let w = 0; w < width; w++) memory[slot + w] = previousMemory[slot + w] * keep;
      for (let g = 0; g < padded; g += 4) {
        const a0 = writeBlock[g * slots + n], a1 = writeBlock[(g + 1) * slots + n];
        const a2 = writeBlock[(g + 2) * slots + n], a3 = writeBlock[(g + 3) * slots + n];
        const k0 = g * width, k1 = k0 + width, k2 = k1 + width, k3 = k2 + width;
        for (let w = 0; w < width; w++) {
          memory[slot + w] += a0 * valueBlock[k0 + w] + a1 * valueBlock[k1 + w] + a2 * valueBlock[k2 + w] + a3 * valueBlock[k3 + w];
        }
      }
      let squares = 0;
      for (let w = 0; w < width; w++) squares += memory[slot + w] * memory[slot + w];
      slotNorms[so + n] = Math.sqrt(squares + EPSILON_SQUARED);
      for (let g = 0; g < padded; g += 4) {
        const k0 = g * width, k1 = k0 + width, k2 = k1 + width, k3 = k2 + width;
        let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        for (let w = 0; w < width; w++) {
          const m = memory[slot + w];
          d0 += keyBlock[k0 + w] * m;
          d1 += keyBlock[k1 + w] * m;
          d2 += keyBlock[k2 + w] * m;
          d3 += keyBlock[k3 + w] * m;
        }
        dotBlock[g * slots + n] = d0;
        dotBlock[(g + 1) * slots + n] = d1;
        dotBlock[(g + 2) * slots + n] = d2;
        dotBlock[(g + 3) * slots + n] = d3;
      }
    }
    // Cosine similarity and softmax over slots, per head.
    for (let h = 0; h < heads; h++) {
      const key = ko + h * width;
      let squares = 0;
      for (let w = 0; w < width; w++) squares += keys[key + w] * keys[key + w];
      const keyNorm = Math.sqrt(squares + EPSILON_SQUARED);
      keyNorms[b * heads + h] = keyNorm;
      const row = wo + h * slots;
      let largest = -Infinity;
      for (let n = 0; n < slots; n++) {
        const cosine = dotBlock[h * slots + n] / (keyNorm * slotNorms[so + n]);
        similarity[row + n] = cosine;
        largest = Math.max(largest, cosine);
      }
      let total = 0;
      for (let n = 0; n < slots; n++) {
        const e = Math.exp(similarity[row + n] - largest);
        readWeights[row + n] = e;
        total += e;
      }
      for (let n = 0; n < slots; n++) readWeights[row + n] /= total;
    }
    // Read: r_h = sum_n w^r_h(n) M(n), four heads per pass over the slots.
    writeBlock.fill(0);
    writeBlock.set(readWeights.subarray(wo, wo + heads * slots));
    readBlock.fill(0);
    for (let n = 0; n < slots; n++) {
      const slot = mo + n * width;
      for (let g = 0; g < padded; g += 4) {
        const a0 = writeBlock[g * slots + n], a1 = writeBlock[(g + 1) * slots + n];
        const a2 = writeBlock[(g + 2) * slots + n], a3 = writeBlock[(g + 3) * slots + n];
        const k0 = g * width, k1 = k0 + width, k2 = k1 + width, k3 = k2 + width;
        for (let w = 0; w < width; w++) {
          const m = memory[slot + w];
          readBlock[k0 + w] += a0 * m;
          readBlock[k1 + w] += a1 * m;
          readBlock[k2 + w] += a2 * m;
          readBlock[k3 + w] += a3 * m;
        }
      }
    }
    reads.set(readBlock.subarray(0, keySize), ko);
    writeBlock.fill(0);
    // Usage: decay w^u_{t-1} + sum_h w^r_h + sum_h w^w_h.
    for (let n = 0; n < slots; n++) {
      let sum = decay * previous.usage[so + n];
      for (let h = 0; h < heads; h++) sum += readWeights[wo + h * slots + n] + writeWeights[wo + h * slots + n];
      usage[so + n] = sum;
    }
  }
  return next;
}

/** Heads rounded up to a multiple of 4 (the loops' block of heads). */
function paddedHeads(heads: number): number {
  return Math.ceil(heads / 4) * 4;
}

/** Gradients carried backwards from step t + 1 to step t (all zero after the last step). */
export interface LruaCarry {
  /** dL/dM_t [B, N, W]. */
  memory: Float32Array;
  /** dL/dw^u_t [B, N]. */
  usage: Float32Array;
  /** dL/dw^r_t through step t + 1's write weights [B, H, N]. */
  readWeights: Float32Array;
}

export function lruaZeroCarry(sizes: LruaSizes): LruaCarry {
  const { batch, heads, slots, width } = sizes;
  return {
    memory: new Float32Array(batch * slots * width),
    usage: new Float32Array(batch * slots),
    readWeights: new Float32Array(batch * heads * slots),
  };
}

/**
 * The derivative of {@link lruaStepForward}: from dL/dreads `readGradient` [B, H, W], the step's record and the
 * previous step's record, writes dL/dparameters into `parameterGradient` [B, lruaParameterSize(sizes)] and updates `carry` in
 * place to the gradients of step t - 1's state. The least-used mask gets no gradient (as in the plain path).
 */
export function lruaStepBackward(
  readGradient: Float32Array,
  record: LruaStepRecord,
  previous: LruaStepRecord,
  carry: LruaCarry,
  sizes: LruaSizes,
  parameterGradient: Float32Array,
): void {
  const wasm = activeLruaWasm();
  if (wasm) wasm.backward(readGradient, record, previous, carry, sizes, parameterGradient);
  else lruaStepBackwardJs(readGradient, record, previous, carry, sizes, parameterGradient);
}

/** {@link lruaStepBackward} in JavaScript (the fallback, and the reference the wasm step is tested against). */
export function lruaStepBackwardJs(
  readGradient: Float32Array,
  record: LruaStepRecord,
  previous: LruaStepRecord,
  carry: LruaCarry,
  sizes: LruaSizes,
  parameterGradient: Float32Array,
): void {
  const { batch, heads, slots, width, decay } = sizes;
  const keySize = heads * width;
  const parameterSize = lruaParameterSize(sizes);
  const separateAdds = sizes.writeVector === 'add';
  const { keys, adds, gate, leastUsed, cleared, writeWeights, memory, keyNorms, slotNorms, similarity, readWeights } = record;
  const dMemory = carry.memory;
  const dUsage = carry.usage;
  const padded = paddedHeads(heads);
  // Head blocks padded with zero rows (see lruaStepForward): keys, read gradients, dL/dkeys, and per-slot weights.
  const keyBlock = new Float32Array(padded * width);
  const readGradientBlock = new Float32Array(padded * width);
  const dKeyBlock = new Float32Array(padded * width);
  // The written vectors and their gradients: the key blocks themselves unless the heads write add vectors.
  const valueBlock = separateAdds ? new Float32Array(padded * width) : keyBlock;
  const dValueBlock = separateAdds ? new Float32Array(padded * width) : dKeyBlock;
  const weightBlock = new Float32Array(padded * slots);
  const dotBlock = new Float32Array(padded * slots);
  const dSlotNorms = new Float32Array(slots);
  for (let b = 0; b < batch; b++) {
    const ko = b * keySize;
    const so = b * slots;
    const wo = b * heads * slots;
    const mo = b * slots * width;
    keyBlock.set(keys.subarray(ko, ko + keySize));
    readGradientBlock.set(readGradient.subarray(ko, ko + keySize));
    dKeyBlock.fill(0);
    if (separateAdds) {
      valueBlock.set(adds.subarray(ko, ko + keySize));
      dValueBlock.fill(0);
    }
    dSlotNorms.fill(0);
    // Read: dw^r(h, n) gets dr_h . M(n); dM(n) += sum_h w^r(h, n) dr_h.
    weightBlock.set(readWeights.subarray(wo, wo + heads * slots));
    for (let n = 0; n < slots; n++) {
      const slot = mo + n * width;
      for (let g = 0; g < padded; g += 4) {
        const a0 = weightBlock[g * slots + n], a1 = weightBlock[(g + 1) * slots + n];
        const a2 = weightBlock[(g + 2) * slots + n], a3 = weightBlock[(g + 3) * slots + n];
        const k0 = g * width, k1 = k0 + width, k2 = k1 + width, k3 = k2 + width;
        let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        for (let w = 0; w < width; w++) {
          const m = memory[slot + w];
          const r0 = readGradientBlock[k0 + w], r1 = readGradientBlock[k1 + w];
          const r2 = readGradientBlock[k2 + w], r3 = readGradientBlock[k3 + w];
          d0 += r0 * m;
          d1 += r1 * m;
          d2 += r2 * m;
          d3 += r3 * m;
          dMemory[slot + w] += a0 * r0 + a1 * r1 + a2 * r2 + a3 * r3;
        }
        dotBlock[g * slots + n] = d0;
        dotBlock[(g + 1) * slots + n] = d1;
        dotBlock[(g + 2) * slots + n] = d2;
        dotBlock[(g + 3) * slots + n] = d3;
      }
    }
    // Softmax, then cosine = dot / (|k| |m|): dL/ddot into weightBlock, norm gradients aside.
    weightBlock.fill(0);
    for (let h = 0; h < heads; h++) {
      const row = wo + h * slots;
      let inner = 0;
      for (let n = 0; n < slots; n++) {
        // dw^r = dr . M + carried (step t + 1's write weights) + dw^u (the usage sums the read weights)
        const dRead = dotBlock[h * slots + n] + carry.readWeights[row + n] + dUsage[so + n];
        dotBlock[h * slots + n] = dRead;
        inner += readWeights[row + n] * dRead;
      }
      const keyNorm = keyNorms[b * heads + h];
      let dKeyNorm = 0;
      for (let n = 0; n < slots; n++) {
        const ds = readWeights[row + n] * (dotBlock[h * slots + n] - inner);
        const scaled = ds * similarity[row + n];
        dKeyNorm -= scaled / keyNorm;
        dSlotNorms[n] -= scaled / slotNorms[so + n];
        weightBlock[h * slots + n] = ds / (keyNorm * slotNorms[so + n]);
      }
      const key = h * width;
      for (let w = 0; w < width; w++) dKeyBlock[key + w] += (dKeyNorm * keyBlock[key + w]) / keyNorm;
    }
    // dk_h += sum_n ddot(h, n) M(n); dM(n) += sum_h ddot(h, n) k_h + (d|m| / |m|) M(n).
    for (let n = 0; n < slots; n++) {
      const slot = mo + n * width;
      const scale = dSlotNorms[n] / slotNorms[so + n];
      for (let g = 0; g < padded; g += 4) {
        const a0 = weightBlock[g * slots + n], a1 = weightBlock[(g + 1) * slots + n];
        const a2 = weightBlock[(g + 2) * slots + n], a3 = weightBlock[(g + 3) * slots + n];
        const k0 = g * width, k1 = k0 + width, k2 = k1 + width, k3 = k2 + width;
        const own = g === 0 ? scale : 0;
        for (let w = 0; w < width; w++) {
          const m = memory[slot + w];
          dKeyBlock[k0 + w] += a0 * m;
          dKeyBlock[k1 + w] += a1 * m;
          dKeyBlock[k2 + w] += a2 * m;
          dKeyBlock[k3 + w] += a3 * m;
          dMemory[slot + w] += a0 * keyBlock[k0 + w] + a1 * keyBlock[k1 + w] + a2 * keyBlock[k2 + w] + a3 * keyBlock[k3 + w] + own * m;
        }
      }
    }
    // Write: M = clear(M_{t-1}) + sum_h w^w_h v_h. dw^w(h, n) = dw^u(n) + dM(n) . v_h; dv_h += sum_n w^w(h, n) dM(n)
    // (v = k unless the heads write add vectors); then the cleared slots pass no gradient to M_{t-1}.
    weightBlock.fill(0);
    weightBlock.set(writeWeights.subarray(wo, wo + heads * slots));
    for (let n = 0; n < slots; n++) {
      const slot = mo + n * width;
      for (let g = 0; g < padded; g += 4) {
        const a0 = weightBlock[g * slots + n], a1 = weightBlock[(g + 1) * slots + n];
        const a2 = weightBlock[(g + 2) * slots + n], a3 = weightBlock[(g + 3) * slots + n];
        const k0 = g * width, k1 = k0 + width, k2 = k1 + width, k3 = k2 + width;
        let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        for (let w = 0; w < width; w++) {
          const dm = dMemory[slot + w];
          d0 += dm * valueBlock[k0 + w];
          d1 += dm * valueBlock[k1 + w];
          d2 += dm * valueBlock[k2 + w];
          d3 += dm * valueBlock[k3 + w];
          dValueBlock[k0 + w] += a0 * dm;
          dValueBlock[k1 + w] += a1 * dm;
          dValueBlock[k2 + w] += a2 * dm;
          dValueBlock[k3 + w] += a3 * dm;
        }
        dotBlock[g * slots + n] = d0;
        dotBlock[(g + 1) * slots + n] = d1;
        dotBlock[(g + 2) * slots + n] = d2;
        dotBlock[(g + 3) * slots + n] = d3;
      }
      const keep = 1 - cleared[so + n];
      for (let w = 0; w < width; w++) dMemory[slot + w] *= keep;
    }
    // w^w = s w^r_{t-1} + (1 - s) w^lu: ds_h = sum_n dw^w (w^r_{t-1} - w^lu); carried dw^r_{t-1} = s dw^w.
    for (let h = 0; h < heads; h++) {
      const row = wo + h * slots;
      const s = gate[b * heads + h];
      let dGate = 0;
      for (let n = 0; n < slots; n++) {
        const dWrite = dUsage[so + n] + dotBlock[h * slots + n];
        dGate += dWrite * (previous.readWeights[row + n] - leastUsed[so + n]);
        carry.readWeights[row + n] = s * dWrite;
      }
      parameterGradient[b * parameterSize + keySize + h] = dGate * s * (1 - s);
      for (let w = 0; w < width; w++) {
        const k = keyBlock[h * width + w];
        parameterGradient[b * parameterSize + h * width + w] = dKeyBlock[h * width + w] * (1 - k * k);
      }
      if (separateAdds) {
        for (let w = 0; w < width; w++) {
          const a = valueBlock[h * width + w];
          parameterGradient[b * parameterSize + keySize + heads + h * width + w] = dValueBlock[h * width + w] * (1 - a * a);
        }
      }
    }
    weightBlock.fill(0);
    // Usage decays into step t - 1.
    for (let n = 0; n < slots; n++) dUsage[so + n] *= decay;
  }
}

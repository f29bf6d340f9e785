// Plain-JavaScript LRUA memory step and its hand-written derivative, for the fast path (fast_forward.ts).
// Same maths as `lrua` in @mann/addressing (write before read, keys written, least-used slots cleared, cosine
// with norms sqrt(sum x^2 + 1e-16), usage decay). Why JavaScript: at the paper's size every product here is
// [4 x 40] by [40 x 128] per episode, far too small for a backend kernel to pay its dispatch cost (a wasm
// BatchMatMul of this size takes as long as this loop), and the plain path needs ~35 such kernels per step
// forward and ~80 backward. Float32Arrays work in every JavaScript runtime, so the browser keeps this path.

/** Sizes of one LRUA memory: B episodes, H heads, N slots of width W, usage decay. */
export interface LruaSizes {
  batch: number;
  heads: number;
  slots: number;
  width: number;
  decay: number;
}

/** What one step saves for its derivative (all batch-major Float32Arrays). */
export interface LruaStepRecord {
  /** tanh keys [B, H, W]. */
  keys: Float32Array;
  /** sigmoid(alpha) [B, H]. */
  gate: Float32Array;
  /** least-used mask of the previous usage [B, N] (0 or 1). */
  leastUsed: Float32Array;
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

/** The initial LRUA state as a record (memory filled with `initialValue`; usage and weights zero). */
export function lruaInitialRecord(sizes: LruaSizes, initialValue: number): LruaStepRecord {
  const { batch, heads, slots, width } = sizes;
  return {
    keys: new Float32Array(batch * heads * width),
    gate: new Float32Array(batch * heads),
    leastUsed: new Float32Array(batch * slots),
    writeWeights: new Float32Array(batch * heads * slots),
    memory: new Float32Array(batch * slots * width).fill(initialValue),
    keyNorms: new Float32Array(batch * heads),
    slotNorms: new Float32Array(batch * slots),
    similarity: new Float32Array(batch * heads * slots),
    readWeights: new Float32Array(batch * heads * slots),
    usage: new Float32Array(batch * slots),
    reads: new Float32Array(batch * heads * width),
  };
}

/**
 * One LRUA step: the addressing parameters `parameters` [B, H*W + H] (keys head-major, then the gate logits;
 * the layout of `lrua`'s `parameterSize`) and the previous step's record -> the new record (reads in `reads`).
 *
 * ```js
 * const sizes = { batch: 1, heads: 1, slots: 2, width: 1, decay: 0.95 };
 * const next = lruaStepForward(new Float32Array([0, 0]), lruaInitialRecord(sizes, 1e-6), sizes);
 * // key tanh(0) = 0, so nothing is written; slot 0 (least used, ties to the lower index) is cleared
 * ```
 */
export function lruaStepForward(parameters: Float32Array, previous: LruaStepRecord, sizes: LruaSizes): LruaStepRecord {
  const { batch, heads, slots, width, decay } = sizes;
  const keySize = heads * width;
  const parameterSize = keySize + heads;
  const next = lruaInitialRecord(sizes, 0);
  const { keys, gate, leastUsed, writeWeights, memory, keyNorms, slotNorms, similarity, readWeights, usage, reads } = next;
  const chosen = new Uint8Array(slots);
  for (let b = 0; b < batch; b++) {
    const po = b * parameterSize;
    const ko = b * keySize;
    const so = b * slots;
    const wo = b * heads * slots;
    const mo = b * slots * width;
    for (let i = 0; i < keySize; i++) keys[ko + i] = Math.tanh(parameters[po + i]);
    for (let h = 0; h < heads; h++) gate[b * heads + h] = 1 / (1 + Math.exp(-parameters[po + keySize + h]));
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
    }
    // Write weights: sigmoid(alpha) w^r_{t-1} + (1 - sigmoid(alpha)) w^lu.
    for (let h = 0; h < heads; h++) {
      const s = gate[b * heads + h];
      const row = wo + h * slots;
      for (let n = 0; n < slots; n++) writeWeights[row + n] = s * previous.readWeights[row + n] + (1 - s) * leastUsed[so + n];
    }
    // Memory: clear the least-used slots, add sum_h w^w_h(n) k_h; then the slot norms.
    for (let n = 0; n < slots; n++) {
      const keep = 1 - leastUsed[so + n];
      const slot = mo + n * width;
      for (let w = 0; w < width; w++) memory[slot + w] = previous.memory[slot + w] * keep;
      for (let h = 0; h < heads; h++) {
        const weight = writeWeights[wo + h * slots + n];
        const key = ko + h * width;
        for (let w = 0; w < width; w++) memory[slot + w] += weight * keys[key + w];
      }
      let squares = 0;
      for (let w = 0; w < width; w++) squares += memory[slot + w] * memory[slot + w];
      slotNorms[so + n] = Math.sqrt(squares + EPSILON_SQUARED);
    }
    // Read: cosine similarity, softmax over slots, weighted sum of slots.
    for (let h = 0; h < heads; h++) {
      const key = ko + h * width;
      let squares = 0;
      for (let w = 0; w < width; w++) squares += keys[key + w] * keys[key + w];
      const keyNorm = Math.sqrt(squares + EPSILON_SQUARED);
      keyNorms[b * heads + h] = keyNorm;
      const row = wo + h * slots;
      let largest = -Infinity;
      for (let n = 0; n < slots; n++) {
        const slot = mo + n * width;
        let dot = 0;
        for (let w = 0; w < width; w++) dot += keys[key + w] * memory[slot + w];
        const cosine = dot / (keyNorm * slotNorms[so + n]);
        similarity[row + n] = cosine;
        if (cosine > largest) largest = cosine;
      }
      let total = 0;
      for (let n = 0; n < slots; n++) {
        const e = Math.exp(similarity[row + n] - largest);
        readWeights[row + n] = e;
        total += e;
      }
      for (let n = 0; n < slots; n++) readWeights[row + n] /= total;
      for (let n = 0; n < slots; n++) {
        const weight = readWeights[row + n];
        const slot = mo + n * width;
        for (let w = 0; w < width; w++) reads[key + w] += weight * memory[slot + w];
      }
    }
    // Usage: decay w^u_{t-1} + sum_h w^r_h + sum_h w^w_h.
    for (let n = 0; n < slots; n++) {
      let sum = decay * previous.usage[so + n];
      for (let h = 0; h < heads; h++) sum += readWeights[wo + h * slots + n] + writeWeights[wo + h * slots + n];
      usage[so + n] = sum;
    }
  }
  return next;
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
 * previous step's record, writes dL/dparameters into `parameterGradient` [B, H*W + H] and updates `carry` in
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
  const { batch, heads, slots, width, decay } = sizes;
  const keySize = heads * width;
  const parameterSize = keySize + heads;
  const { keys, gate, leastUsed, writeWeights, memory, keyNorms, slotNorms, similarity, readWeights } = record;
  const dMemory = carry.memory;
  const dUsage = carry.usage;
  const dReadWeights = new Float32Array(heads * slots);
  const dSimilarity = new Float32Array(heads * slots);
  const dKeys = new Float32Array(keySize);
  const dSlotNorms = new Float32Array(slots);
  for (let b = 0; b < batch; b++) {
    const ko = b * keySize;
    const so = b * slots;
    const wo = b * heads * slots;
    const mo = b * slots * width;
    dKeys.fill(0);
    dSlotNorms.fill(0);
    // Read and usage: dw^r(h, n) = carried + dw^u(n) + dr_h . M(n); dM(n) += sum_h w^r(h, n) dr_h.
    for (let n = 0; n < slots; n++) {
      const slot = mo + n * width;
      for (let h = 0; h < heads; h++) {
        const read = ko + h * width;
        const weight = readWeights[wo + h * slots + n];
        let dot = 0;
        for (let w = 0; w < width; w++) {
          dot += readGradient[read + w] * memory[slot + w];
          dMemory[slot + w] += weight * readGradient[read + w];
        }
        dReadWeights[h * slots + n] = carry.readWeights[wo + h * slots + n] + dUsage[so + n] + dot;
      }
    }
    // Softmax, then cosine = dot / (|k| |m|).
    for (let h = 0; h < heads; h++) {
      const row = wo + h * slots;
      let inner = 0;
      for (let n = 0; n < slots; n++) inner += readWeights[row + n] * dReadWeights[h * slots + n];
      const keyNorm = keyNorms[b * heads + h];
      const key = ko + h * width;
      let dKeyNorm = 0;
      for (let n = 0; n < slots; n++) {
        const ds = readWeights[row + n] * (dReadWeights[h * slots + n] - inner);
        dSimilarity[h * slots + n] = ds;
        const scaled = ds * similarity[row + n];
        dKeyNorm -= scaled / keyNorm;
        dSlotNorms[n] -= scaled / slotNorms[so + n];
        const dDot = ds / (keyNorm * slotNorms[so + n]);
        const slot = mo + n * width;
        for (let w = 0; w < width; w++) {
          dKeys[h * width + w] += dDot * memory[slot + w];
          dMemory[slot + w] += dDot * keys[key + w];
        }
      }
      for (let w = 0; w < width; w++) dKeys[h * width + w] += (dKeyNorm * keys[key + w]) / keyNorm;
    }
    for (let n = 0; n < slots; n++) {
      const scale = dSlotNorms[n] / slotNorms[so + n];
      const slot = mo + n * width;
      for (let w = 0; w < width; w++) dMemory[slot + w] += scale * memory[slot + w];
    }
    // Write: M = clear(M_{t-1}) + sum_h w^w_h k_h. dw^w(h, n) = dw^u(n) + dM(n) . k_h; dk_h += sum_n w^w(h, n) dM(n).
    // Then w^w = s w^r_{t-1} + (1 - s) w^lu: ds_h = sum_n dw^w (w^r_{t-1} - w^lu); carried dw^r_{t-1} = s dw^w.
    for (let h = 0; h < heads; h++) {
      const key = ko + h * width;
      const row = wo + h * slots;
      const s = gate[b * heads + h];
      let dGate = 0;
      for (let n = 0; n < slots; n++) {
        const slot = mo + n * width;
        const weight = writeWeights[row + n];
        let dot = 0;
        for (let w = 0; w < width; w++) {
          dot += dMemory[slot + w] * keys[key + w];
          dKeys[h * width + w] += weight * dMemory[slot + w];
        }
        const dWrite = dUsage[so + n] + dot;
        dGate += dWrite * (previous.readWeights[row + n] - leastUsed[so + n]);
        carry.readWeights[row + n] = s * dWrite;
      }
      parameterGradient[b * parameterSize + keySize + h] = dGate * s * (1 - s);
      for (let w = 0; w < width; w++) {
        const k = keys[key + w];
        parameterGradient[b * parameterSize + h * width + w] = dKeys[h * width + w] * (1 - k * k);
      }
    }
    // Carry to step t - 1: the cleared slots pass no gradient; usage decays.
    for (let n = 0; n < slots; n++) {
      const keep = 1 - leastUsed[so + n];
      const slot = mo + n * width;
      for (let w = 0; w < width; w++) dMemory[slot + w] *= keep;
      dUsage[so + n] *= decay;
    }
  }
}

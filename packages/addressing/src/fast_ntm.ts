// NTM addressing (`ntm` in ntm.ts) on Float32Arrays, forward and backward by hand: the scheme's fast
// implementation (`ntm(...).fast`). Why: at the paper's size (B = 16, 4 + 4 heads, 128 x 40 memory) every product
// is [4 x 40] by [40 x 128] per episode, far too small for a backend kernel to pay its dispatch cost, and the plain
// step is ~140 tfjs kernels forward and ~570 more to differentiate it (as fast_lrua_cell.ts explains for LRUA).
//
// The same maths as `ntm(...).step`, operation for operation (the tfjs helpers it calls are named alongside):
// - per head: key k = tanh, strength beta = softplus, gate g = sigmoid, shift s = softmax over S offsets,
//   sharpening gamma = 1 + softplus;
// - content: w^c = softmax_n(beta * K(k, M(n))), K the cosine with guarded norms sqrt(sum x^2 + 1e-16)
//   (cosineSimilarity, contentWeights);
// - interpolation: w^g = g w^c + (1 - g) w_{t-1} (interpolateWeights);
// - shift: w~(i) = sum_k s(k) w^g((i - o_k) mod N), o_k = k - (S - 1) / 2 (shiftWeights: offset +1 moves slot j to j + 1);
// - sharpening: w = softmax(gamma * log(w~ + 1e-8)) (sharpenWeights);
// - write heads address M_{t-1}; M = M_{t-1} * prod_h (1 - w_h e_h^T), heads in order (eraseMemory), then
//   M += sum_h w_h^T a_h (writeMemory); read heads address the new M; r_h = sum_n w^r_h(n) M(n) (readMemory).
// Initial state (ntm's initialState): memory filled with `initialValue`, read and write weights one-hot on slot 0.
//
// Where WebAssembly SIMD compiles (Node, worker threads), a run executes the same maths in wasm instead
// (fast_ntm_wasm.ts, assembly/ntm.ts: ~9x faster at the paper's size); setNtmImplementation('js') or MANN_NTM=js
// keeps these loops, which stay the fallback (a browser's main thread) and the reference the wasm run is tested
// against (src/ntm_wasm.test.ts).
//
// Speed: the O(N W H) work (dot products with the keys, erase and add, reads, and their derivatives) runs over
// slots outermost on contiguous memory rows, the heads four at a time (padded with zero rows, as
// fast_lrua_cell.ts), so each slot's W numbers are loaded once per four heads; the erase, the add, the new slot's
// norm and its dots with the read keys share one pass over the slot. The per-head chain over slots
// (softmax, interpolation, shift, sharpening) is O(N S) per head. Each step's intermediate values go into a record
// allocated once for that step; scratch buffers are allocated once per run.
import type { MemoryConfig } from '@mann/memory';
import { checkLength } from './check_length';
import { activeNtmWasm } from './fast_ntm_wasm';
import type { AddressingRun, FastAddressing } from './types';

/** Options of {@link ntmFast}: {@link NtmOptions} resolved, with every default filled in. */
export interface NtmFastOptions {
  /** The memory (resolved: `initialValue` given). */
  memory: Required<MemoryConfig>;
  /** Number of read heads, and of write heads. */
  heads: number;
  /** Number S of shift offsets (odd, at most `memory.slots`). */
  shifts: number;
}

/** cosineSimilarity's default epsilon 1e-8, squared: ||x|| = sqrt(sum x^2 + 1e-16). */
const EPSILON_SQUARED = 1e-16;
/** sharpenWeights' default epsilon: w = softmax(gamma * log(w~ + 1e-8)). */
const SHARPEN_EPSILON = 1e-8;

/** Sizes of one run, and the parameter layout of `ntm`'s step. */
export interface NtmSizes {
  batch: number;
  heads: number;
  slots: number;
  width: number;
  shifts: number;
  /** Heads rounded up to a multiple of 4 (the slot loops' block of heads). */
  padded: number;
  /** Numbers per head group (the read heads, or the write heads without erase and add): H (W + S + 3). */
  groupSize: number;
  /** 2 H (W + S + 3) + 2 H W: read heads, write heads, erase vectors, add vectors. */
  parameterSize: number;
}

/** What one step saves of a group of heads (read or write), all batch-major. */
export interface HeadsRecord {
  /** tanh keys [B, H, W] and their guarded norms [B, H]. */
  keys: Float32Array;
  keyNorms: Float32Array;
  /** beta = softplus(x) and its slope sigmoid(x) [B, H]. */
  strength: Float32Array;
  strengthSlope: Float32Array;
  /** g = sigmoid [B, H]. */
  gate: Float32Array;
  /** s = softmax over the S offsets [B, H, S]. */
  shift: Float32Array;
  /** gamma = 1 + softplus(x) and its slope sigmoid(x) [B, H]. */
  sharpen: Float32Array;
  sharpenSlope: Float32Array;
  /** Cosine similarities, content weights, interpolated, shifted and final (sharpened) weights [B, H, N]. */
  similarity: Float32Array;
  content: Float32Array;
  interpolated: Float32Array;
  shifted: Float32Array;
  weights: Float32Array;
}

/** What one step saves for its derivative; the initial record holds only `memory`, `slotNorms` and the weights. */
export interface NtmStepRecord {
  read: HeadsRecord;
  write: HeadsRecord;
  /** Erase vectors e = sigmoid and add vectors a = tanh [B, H, W]. */
  erase: Float32Array;
  add: Float32Array;
  /** Memory after the step's write [B, N, W], and its slots' guarded norms [B, N] (read heads' cosine). */
  memory: Float32Array;
  slotNorms: Float32Array;
}

/** Gradients carried from step t + 1 back to step t. */
export interface NtmCarry {
  /** dL/dM_t [B, N, W]. */
  memory: Float32Array;
  /** dL/dw^r_t and dL/dw^w_t through step t + 1's interpolations [B, H, N]. */
  readWeights: Float32Array;
  writeWeights: Float32Array;
}

/** Buffers a run reuses at every step (one episode at a time). */
interface NtmScratch {
  /** Head blocks [padded, W]: keys, a second operand (add vectors, read gradients), erase vectors. */
  keyBlock: Float32Array;
  valueBlock: Float32Array;
  eraseBlock: Float32Array;
  /** dL/dkeys [padded, W]. */
  dKeyBlock: Float32Array;
  /** Head blocks [padded, N]: per-slot weights, dot products. */
  weightBlock: Float32Array;
  dotBlock: Float32Array;
  /** Rows over slots [N]: exponentials forward; dL/dw, dL/dw~ and dL/dw^g backward; dL/d||M(n)||. */
  rowA: Float64Array;
  rowB: Float64Array;
  rowC: Float64Array;
  dSlotNorms: Float64Array;
  /** The erase's partial products R_g = M_{t-1} prod_{h < g} (1 - w_h e_h) of one slot at each block's start g [padded / 4, W]. */
  blockStarts: Float32Array;
  /** dL/de and dL/da of one episode [padded, W]. */
  dErase: Float64Array;
  dAdd: Float64Array;
}

/**
 * NTM addressing's fast implementation (`ntm(...).fast`): `ntm`'s step on Float32Arrays with its derivative
 * written out, each step's intermediate values kept for the backward pass. Each run is WebAssembly SIMD or
 * JavaScript, as `setNtmImplementation` / MANN_NTM choose when it starts (fast_ntm_wasm.ts).
 *
 * ```js
 * const fast = ntmFast({ memory: { slots: 4, width: 2, initialValue: 1e-6 }, heads: 1, shifts: 3 });
 * const run = fast.start(1);
 * // parameterSize = 1 * (2 + 3 + 3) + 1 * (3 * 2 + 3 + 3) = 20 (`ntm`'s layout)
 * const reads = run.forward(new Float32Array(20)); // [1, 1 * 2]
 * const parameterGradient = run.backward(new Float32Array([1, 1])); // d(sum of reads) / d(parameters), [1, 20]
 * ```
 */
export function ntmFast(options: NtmFastOptions): FastAddressing {
  const { memory, heads, shifts } = options;
  const { slots, width, initialValue } = memory;
  if (!Number.isInteger(slots) || slots < 1 || !Number.isInteger(width) || width < 1 || !Number.isFinite(initialValue)) {
    throw new Error(`ntmFast: memory must be { slots, width, initialValue } (positive integers, a finite number), got ${JSON.stringify(memory)}`);
  }
  if (!Number.isInteger(heads) || heads < 1) throw new Error(`ntmFast: heads must be a positive integer, got ${String(heads)}`);
  // An integer n has n % 2 === 1 only when it is odd and positive (-1 % 2 is -1).
  if (!Number.isInteger(shifts) || shifts % 2 !== 1 || shifts > slots) {
    throw new Error(`ntmFast: shifts must be an odd positive integer at most slots (${slots}), got ${String(shifts)}`);
  }
  return {
    start(batch: number): AddressingRun {
      if (!Number.isInteger(batch) || batch < 1) throw new Error(`ntm.fast start: batch must be a positive integer, got ${String(batch)}`);
      const sizes = ntmSizes(batch, heads, slots, width, shifts);
      // The implementation is chosen when the run starts (setNtmImplementation) and kept for the whole run.
      const wasm = activeNtmWasm();
      const run: NtmRunSteps = wasm ? wasm.start(sizes, initialValue) : new NtmJsRun(sizes, initialValue);
      let steps = 0;
      let stepsBack = 0;
      return {
        forward(parameters: Float32Array): Float32Array {
          checkLength('ntm.fast forward', 'parameters', parameters, batch * sizes.parameterSize);
          if (stepsBack > 0) throw new Error('ntm.fast forward: the run is already going backward; start a new run.');
          const reads = run.forward(parameters);
          steps++;
          return reads;
        },
        backward(readGradient: Float32Array): Float32Array {
          const t = steps - 1 - stepsBack;
          if (t < 0) throw new Error(`ntm.fast backward: called more often than forward (${steps} steps).`);
          checkLength('ntm.fast backward', 'readGradient', readGradient, batch * heads * width);
          const parameterGradient = run.backward(readGradient, t);
          stepsBack++;
          return parameterGradient;
        },
      };
    },
  };
}

/** The sizes of a run and `ntm`'s parameter layout. */
export function ntmSizes(batch: number, heads: number, slots: number, width: number, shifts: number): NtmSizes {
  const groupSize = heads * (width + shifts + 3);
  return { batch, heads, slots, width, shifts, padded: Math.ceil(heads / 4) * 4, groupSize, parameterSize: 2 * groupSize + 2 * heads * width };
}

/**
 * One run's steps behind ntmFast's checks (which guarantee the order: forward for steps 0, 1, ..., then backward
 * for the last step first), in JavaScript ({@link NtmJsRun}) or WebAssembly (fast_ntm_wasm.ts).
 */
export interface NtmRunSteps {
  /** The next step: parameters [B, parameterSize] -> reads [B, H * W] (the caller's). */
  forward(parameters: Float32Array): Float32Array;
  /** Step t backward: dL/dreads [B, H * W] -> dL/dparameters [B, parameterSize] (the caller's). */
  backward(readGradient: Float32Array, t: number): Float32Array;
}

/** The run in JavaScript loops: the fallback, and the reference the WebAssembly run is tested against. */
export class NtmJsRun implements NtmRunSteps {
  /** records[t] is the state after step t - 1; records[0] the initial state. */
  readonly records: NtmStepRecord[];
  /** The gradients carried to the step before the last one gone back (null before the first backward). */
  carry: NtmCarry | null = null;
  private readonly scratch: NtmScratch;

  constructor(
    private readonly sizes: NtmSizes,
    initialValue: number,
  ) {
    this.scratch = ntmScratch(sizes);
    this.records = [ntmInitialRecord(sizes, initialValue)];
  }

  forward(parameters: Float32Array): Float32Array {
    const { batch, heads, width } = this.sizes;
    const record = ntmRecord(this.sizes);
    const reads = new Float32Array(batch * heads * width);
    ntmStepForward(parameters, this.records[this.records.length - 1], record, this.sizes, this.scratch, reads);
    this.records.push(record);
    return reads;
  }

  backward(readGradient: Float32Array, t: number): Float32Array {
    const { batch, heads, slots, width, parameterSize } = this.sizes;
    this.carry ??= {
      memory: new Float32Array(batch * slots * width),
      readWeights: new Float32Array(batch * heads * slots),
      writeWeights: new Float32Array(batch * heads * slots),
    };
    const parameterGradient = new Float32Array(batch * parameterSize);
    ntmStepBackward(readGradient, this.records[t + 1], this.records[t], this.carry, this.sizes, this.scratch, parameterGradient);
    return parameterGradient;
  }
}

function headsRecord({ batch, heads, slots, width, shifts }: NtmSizes): HeadsRecord {
  const bh = batch * heads;
  return {
    keys: new Float32Array(bh * width),
    keyNorms: new Float32Array(bh),
    strength: new Float32Array(bh),
    strengthSlope: new Float32Array(bh),
    gate: new Float32Array(bh),
    shift: new Float32Array(bh * shifts),
    sharpen: new Float32Array(bh),
    sharpenSlope: new Float32Array(bh),
    similarity: new Float32Array(bh * slots),
    content: new Float32Array(bh * slots),
    interpolated: new Float32Array(bh * slots),
    shifted: new Float32Array(bh * slots),
    weights: new Float32Array(bh * slots),
  };
}

export function ntmRecord(sizes: NtmSizes): NtmStepRecord {
  const { batch, heads, slots, width } = sizes;
  return {
    read: headsRecord(sizes),
    write: headsRecord(sizes),
    erase: new Float32Array(batch * heads * width),
    add: new Float32Array(batch * heads * width),
    memory: new Float32Array(batch * slots * width),
    slotNorms: new Float32Array(batch * slots),
  };
}

/** `ntm`'s initialState as a record: memory filled with `initialValue`, read and write weights one-hot on slot 0. */
function ntmInitialRecord(sizes: NtmSizes, initialValue: number): NtmStepRecord {
  const { batch, heads, slots, width } = sizes;
  const record = ntmRecord(sizes);
  record.memory.fill(initialValue);
  const value = record.memory[0]; // the float32 the memory holds
  record.slotNorms.fill(Math.sqrt(width * value * value + EPSILON_SQUARED));
  for (let row = 0; row < batch * heads; row++) {
    record.read.weights[row * slots] = 1;
    record.write.weights[row * slots] = 1;
  }
  return record;
}

function ntmScratch({ slots, width, padded }: NtmSizes): NtmScratch {
  return {
    keyBlock: new Float32Array(padded * width),
    valueBlock: new Float32Array(padded * width),
    eraseBlock: new Float32Array(padded * width),
    dKeyBlock: new Float32Array(padded * width),
    weightBlock: new Float32Array(padded * slots),
    dotBlock: new Float32Array(padded * slots),
    rowA: new Float64Array(slots),
    rowB: new Float64Array(slots),
    rowC: new Float64Array(slots),
    dSlotNorms: new Float64Array(slots),
    blockStarts: new Float32Array((padded / 4) * width),
    dErase: new Float64Array(padded * width),
    dAdd: new Float64Array(padded * width),
  };
}

/** softplus(x) = log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), which cannot overflow. */
function softplus(x: number): number {
  return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/**
 * Reads one head group's numbers for episode b from its parameter row (from `base`): keys [H, W], strengths,
 * gates, shifts [H, S], sharpenings (`ntm`'s layout), squashed; and the keys' guarded norms.
 */
function readHeadParameters(parameters: Float32Array, base: number, group: HeadsRecord, b: number, sizes: NtmSizes): void {
  const { heads, width, shifts } = sizes;
  const keySize = heads * width;
  const ko = b * keySize;
  for (let i = 0; i < keySize; i++) group.keys[ko + i] = Math.tanh(parameters[base + i]);
  for (let h = 0; h < heads; h++) {
    const hs = b * heads + h;
    let squares = 0;
    for (let w = 0; w < width; w++) squares += group.keys[ko + h * width + w] * group.keys[ko + h * width + w];
    group.keyNorms[hs] = Math.sqrt(squares + EPSILON_SQUARED);
    const beta = parameters[base + keySize + h];
    group.strength[hs] = softplus(beta);
    group.strengthSlope[hs] = sigmoid(beta);
    group.gate[hs] = sigmoid(parameters[base + keySize + heads + h]);
    const so = base + keySize + 2 * heads + h * shifts;
    let largest = -Infinity;
    for (let k = 0; k < shifts; k++) largest = Math.max(largest, parameters[so + k]);
    let total = 0;
    for (let k = 0; k < shifts; k++) total += Math.exp(parameters[so + k] - largest);
    for (let k = 0; k < shifts; k++) group.shift[hs * shifts + k] = Math.exp(parameters[so + k] - largest) / total;
    const gamma = parameters[base + keySize + 2 * heads + heads * shifts + h];
    group.sharpen[hs] = 1 + softplus(gamma);
    group.sharpenSlope[hs] = sigmoid(gamma);
  }
}

/**
 * dotBlock[h, n] = k_h . M(n) for the memory rows of one episode (from `mo`), four heads per pass over a slot
 * (keyBlock [padded, W], padding rows zero).
 */
function slotDots(memory: Float32Array, mo: number, keyBlock: Float32Array, dotBlock: Float32Array, sizes: NtmSizes): void {
  const { slots, width, padded } = sizes;
  for (let n = 0; n < slots; n++) {
    const slot = mo + n * width;
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
}

/**
 * One head's weights from its dot products with the slots (dotBlock row h) and the slot norms:
 * cosine, content softmax(beta K), interpolation with `previous`, circular shift, sharpening.
 */
function addressForward(
  group: HeadsRecord,
  b: number,
  h: number,
  dotBlock: Float32Array,
  slotNorms: Float32Array,
  previous: Float32Array,
  sizes: NtmSizes,
  exps: Float64Array,
): void {
  const { heads, slots, shifts } = sizes;
  const hs = b * heads + h;
  const row = hs * slots;
  const so = b * slots;
  const { similarity, content, interpolated, shifted, weights } = group;
  const keyNorm = group.keyNorms[hs];
  const beta = group.strength[hs];
  // Content: softmax_n(beta * cos(k, M(n))).
  let largest = -Infinity;
  for (let n = 0; n < slots; n++) {
    const cosine = dotBlock[h * slots + n] / (keyNorm * slotNorms[so + n]);
    similarity[row + n] = cosine;
    largest = Math.max(largest, beta * cosine);
  }
  let total = 0;
  for (let n = 0; n < slots; n++) {
    const e = Math.exp(beta * similarity[row + n] - largest);
    exps[n] = e;
    total += e;
  }
  // Interpolation: g w^c + (1 - g) w_{t-1}.
  const g = group.gate[hs];
  for (let n = 0; n < slots; n++) {
    content[row + n] = exps[n] / total;
    interpolated[row + n] = g * content[row + n] + (1 - g) * previous[row + n];
  }
  // Shift: w~(i) = sum_k s(k) w^g(i - o_k), indices mod N.
  const half = (shifts - 1) / 2;
  const sh = hs * shifts;
  for (let i = 0; i < slots; i++) {
    let sum = 0;
    for (let k = 0; k < shifts; k++) {
      let j = i - (k - half);
      if (j < 0) j += slots;
      else if (j >= slots) j -= slots;
      sum += group.shift[sh + k] * interpolated[row + j];
    }
    shifted[row + i] = sum;
  }
  // Sharpening: softmax(gamma * log(w~ + epsilon)).
  const gamma = group.sharpen[hs];
  largest = -Infinity;
  for (let n = 0; n < slots; n++) {
    const z = gamma * Math.log(shifted[row + n] + SHARPEN_EPSILON);
    exps[n] = z;
    largest = Math.max(largest, z);
  }
  total = 0;
  for (let n = 0; n < slots; n++) {
    const e = Math.exp(exps[n] - largest);
    exps[n] = e;
    total += e;
  }
  for (let n = 0; n < slots; n++) weights[row + n] = exps[n] / total;
}

/**
 * One NTM step for every episode: parameters [B, parameterSize] and the previous record -> `next` filled in and
 * the read vectors in `reads` [B, H, W].
 */
function ntmStepForward(
  parameters: Float32Array,
  previous: NtmStepRecord,
  next: NtmStepRecord,
  sizes: NtmSizes,
  scratch: NtmScratch,
  reads: Float32Array,
): void {
  const { batch, heads, slots, width, padded, groupSize, parameterSize } = sizes;
  const keySize = heads * width;
  const { keyBlock, valueBlock, eraseBlock, weightBlock, dotBlock, rowA } = scratch;
  const { read, write, erase, add, memory, slotNorms } = next;
  const previousMemory = previous.memory;
  for (let b = 0; b < batch; b++) {
    const po = b * parameterSize;
    const ko = b * keySize;
    const so = b * slots;
    const wo = b * heads * slots;
    const mo = b * slots * width;
    readHeadParameters(parameters, po, read, b, sizes);
    readHeadParameters(parameters, po + groupSize, write, b, sizes);
    for (let i = 0; i < keySize; i++) {
      erase[ko + i] = sigmoid(parameters[po + 2 * groupSize + i]);
      add[ko + i] = Math.tanh(parameters[po + 2 * groupSize + keySize + i]);
    }
    // Write heads address the previous memory (its slot norms were computed for the previous step's read heads).
    keyBlock.set(write.keys.subarray(ko, ko + keySize));
    slotDots(previousMemory, mo, keyBlock, dotBlock, sizes);
    for (let h = 0; h < heads; h++) addressForward(write, b, h, dotBlock, previous.slotNorms, previous.write.weights, sizes, rowA);
    // Per slot: erase M(n) *= (1 - w_h(n) e_h), head after head, then add sum_h w_h(n) a_h, four heads per pass
    // (one pass for H <= 4: the last block's erase and every block's add commute); then the slot's norm and its
    // dot with every read key.
    weightBlock.set(write.weights.subarray(wo, wo + heads * slots));
    eraseBlock.set(erase.subarray(ko, ko + keySize));
    valueBlock.set(add.subarray(ko, ko + keySize));
    keyBlock.set(read.keys.subarray(ko, ko + keySize));
    const last = padded - 4;
    for (let n = 0; n < slots; n++) {
      const slot = mo + n * width;
      for (let g = 0; g <= last; g += 4) {
        const source = g === 0 ? previousMemory : memory;
        const a0 = weightBlock[g * slots + n], a1 = weightBlock[(g + 1) * slots + n];
        const a2 = weightBlock[(g + 2) * slots + n], a3 = weightBlock[(g + 3) * slots + n];
        const k0 = g * width, k1 = k0 + width, k2 = k1 + width, k3 = k2 + width;
        if (g < last) {
          for (let w = 0; w < width; w++) {
            const m = source[slot + w] * (1 - a0 * eraseBlock[k0 + w]) * (1 - a1 * eraseBlock[k1 + w]);
            memory[slot + w] = m * (1 - a2 * eraseBlock[k2 + w]) * (1 - a3 * eraseBlock[k3 + w]);
          }
        } else {
          for (let w = 0; w < width; w++) {
            const m = source[slot + w] * (1 - a0 * eraseBlock[k0 + w]) * (1 - a1 * eraseBlock[k1 + w]);
            memory[slot + w] =
              m * (1 - a2 * eraseBlock[k2 + w]) * (1 - a3 * eraseBlock[k3 + w]) +
              (a0 * valueBlock[k0 + w] + a1 * valueBlock[k1 + w] + a2 * valueBlock[k2 + w] + a3 * valueBlock[k3 + w]);
          }
        }
      }
      for (let g = 0; g < last; g += 4) {
        const a0 = weightBlock[g * slots + n], a1 = weightBlock[(g + 1) * slots + n];
        const a2 = weightBlock[(g + 2) * slots + n], a3 = weightBlock[(g + 3) * slots + n];
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
    // Read heads address the new memory; r_h = sum_n w^r_h(n) M(n), four heads per pass over the slots.
    for (let h = 0; h < heads; h++) addressForward(read, b, h, dotBlock, slotNorms, previous.read.weights, sizes, rowA);
    weightBlock.set(read.weights.subarray(wo, wo + heads * slots));
    valueBlock.fill(0);
    for (let n = 0; n < slots; n++) {
      const slot = mo + n * width;
      for (let g = 0; g < padded; g += 4) {
        const a0 = weightBlock[g * slots + n], a1 = weightBlock[(g + 1) * slots + n];
        const a2 = weightBlock[(g + 2) * slots + n], a3 = weightBlock[(g + 3) * slots + n];
        const k0 = g * width, k1 = k0 + width, k2 = k1 + width, k3 = k2 + width;
        for (let w = 0; w < width; w++) {
          const m = memory[slot + w];
          valueBlock[k0 + w] += a0 * m;
          valueBlock[k1 + w] += a1 * m;
          valueBlock[k2 + w] += a2 * m;
          valueBlock[k3 + w] += a3 * m;
        }
      }
    }
    reads.set(valueBlock.subarray(0, keySize), ko);
  }
}

/**
 * The derivative of one head's {@link addressForward}: from dL/dw (`dWeights` [N]) to dL/d(its parameters)
 * (written from `base`, keys excepted: those need the slot pass), dL/d(dot products) into dDotBlock row h,
 * dL/d||M(n)|| added to `dSlotNorms`, dL/dw_{t-1} into `dPrevious` (the carry), and dL/d||k|| k / ||k|| added to
 * dKeyBlock row h.
 */
function addressBackward(
  group: HeadsRecord,
  b: number,
  h: number,
  dWeights: Float64Array,
  slotNorms: Float32Array,
  previous: Float32Array,
  sizes: NtmSizes,
  scratch: NtmScratch,
  dDotBlock: Float32Array,
  dPrevious: Float32Array,
  parameterGradient: Float32Array,
  base: number,
): void {
  const { heads, slots, width, shifts } = sizes;
  const { rowB: dShifted, rowC: dInterpolated, dSlotNorms, dKeyBlock } = scratch;
  const hs = b * heads + h;
  const row = hs * slots;
  const so = b * slots;
  const keySize = heads * width;
  const { similarity, content, interpolated, shifted, weights } = group;
  // Sharpening w = softmax(z), z = gamma log(w~ + eps): dz = w (dw - sum w dw);
  // dgamma = sum dz log(w~ + eps); dw~ = dz gamma / (w~ + eps).
  const gamma = group.sharpen[hs];
  let inner = 0;
  for (let n = 0; n < slots; n++) inner += weights[row + n] * dWeights[n];
  let dGamma = 0;
  for (let n = 0; n < slots; n++) {
    const dz = weights[row + n] * (dWeights[n] - inner);
    const shiftedPlus = shifted[row + n] + SHARPEN_EPSILON;
    dGamma += dz * Math.log(shiftedPlus);
    dShifted[n] = (dz * gamma) / shiftedPlus;
  }
  // Shift w~(i) = sum_k s(k) w^g(i - o_k): ds(k) = sum_i dw~(i) w^g(i - o_k); dw^g(j) = sum_k s(k) dw~(j + o_k).
  const half = (shifts - 1) / 2;
  const sh = hs * shifts;
  dInterpolated.fill(0);
  let shiftInner = 0;
  const shiftGradients = base + keySize + 2 * heads + h * shifts;
  for (let k = 0; k < shifts; k++) {
    const offset = k - half;
    const s = group.shift[sh + k];
    let ds = 0;
    for (let i = 0; i < slots; i++) {
      let j = i - offset;
      if (j < 0) j += slots;
      else if (j >= slots) j -= slots;
      ds += dShifted[i] * interpolated[row + j];
      dInterpolated[j] += s * dShifted[i];
    }
    parameterGradient[shiftGradients + k] = ds; // dL/ds for now, the softmax's derivative below
    shiftInner += s * ds;
  }
  for (let k = 0; k < shifts; k++) {
    parameterGradient[shiftGradients + k] = group.shift[sh + k] * (parameterGradient[shiftGradients + k] - shiftInner);
  }
  // Interpolation w^g = g w^c + (1 - g) w_{t-1}: dg = sum dw^g (w^c - w_{t-1}); dw^c = g dw^g; dw_{t-1} = (1 - g) dw^g.
  const g = group.gate[hs];
  let dGate = 0;
  let contentInner = 0;
  for (let n = 0; n < slots; n++) {
    const d = dInterpolated[n];
    dGate += d * (content[row + n] - previous[row + n]);
    dPrevious[row + n] = (1 - g) * d;
    contentInner += content[row + n] * g * d;
  }
  // Content w^c = softmax(beta K): dlogit = w^c (dw^c - sum w^c dw^c); dbeta = sum dlogit K; dK = beta dlogit.
  // Cosine K = dot / (||k|| ||M(n)||): ddot = dK / (||k|| ||M(n)||); d||k|| = -sum dK K / ||k||; d||M(n)|| = -dK K / ||M(n)||.
  const beta = group.strength[hs];
  const keyNorm = group.keyNorms[hs];
  let dBeta = 0;
  let dKeyNorm = 0;
  for (let n = 0; n < slots; n++) {
    const dLogit = content[row + n] * (g * dInterpolated[n] - contentInner);
    const cosine = similarity[row + n];
    dBeta += dLogit * cosine;
    const dCosine = beta * dLogit;
    const slotNorm = slotNorms[so + n];
    dDotBlock[h * slots + n] = dCosine / (keyNorm * slotNorm);
    dKeyNorm -= (dCosine * cosine) / keyNorm;
    dSlotNorms[n] -= (dCosine * cosine) / slotNorm;
  }
  const key = b * keySize + h * width;
  for (let w = 0; w < width; w++) dKeyBlock[h * width + w] += (dKeyNorm * group.keys[key + w]) / keyNorm;
  // Through the squashings: softplus' = sigmoid, sigmoid' = g (1 - g).
  parameterGradient[base + keySize + h] = dBeta * group.strengthSlope[hs];
  parameterGradient[base + keySize + heads + h] = dGate * g * (1 - g);
  parameterGradient[base + keySize + 2 * heads + heads * shifts + h] = dGamma * group.sharpenSlope[hs];
}

/**
 * Through the cosine's slot side for one episode (memory rows from `mo`): dk_h += sum_n ddot(h, n) M(n) into
 * dKeyBlock, and dM(n) += sum_h ddot(h, n) k_h + (d||M(n)|| / ||M(n)||) M(n) into `dMemory`; then the keys'
 * parameter gradients dL/dk (1 - k^2) from `base`.
 */
function cosineSlotsBackward(
  memory: Float32Array,
  slotNorms: Float32Array,
  dMemory: Float32Array,
  group: HeadsRecord,
  b: number,
  sizes: NtmSizes,
  scratch: NtmScratch,
  parameterGradient: Float32Array,
  base: number,
): void {
  const { heads, slots, width, padded } = sizes;
  const { keyBlock, dKeyBlock, weightBlock: dDotBlock, dSlotNorms } = scratch;
  const mo = b * slots * width;
  const so = b * slots;
  const keySize = heads * width;
  for (let n = 0; n < slots; n++) {
    const slot = mo + n * width;
    const scale = dSlotNorms[n] / slotNorms[so + n];
    for (let g = 0; g < padded; g += 4) {
      const a0 = dDotBlock[g * slots + n], a1 = dDotBlock[(g + 1) * slots + n];
      const a2 = dDotBlock[(g + 2) * slots + n], a3 = dDotBlock[(g + 3) * slots + n];
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
  const ko = b * keySize;
  for (let i = 0; i < keySize; i++) {
    const k = group.keys[ko + i];
    parameterGradient[base + i] = dKeyBlock[i] * (1 - k * k);
  }
}

/**
 * The derivative of {@link ntmStepForward}: dL/dreads [B, H, W] of step t, its record and step t - 1's ->
 * dL/dparameters into `parameterGradient` [B, parameterSize]; `carry` (dL/d of step t's memory and weights)
 * becomes step t - 1's in place.
 */
function ntmStepBackward(
  readGradient: Float32Array,
  record: NtmStepRecord,
  previous: NtmStepRecord,
  carry: NtmCarry,
  sizes: NtmSizes,
  scratch: NtmScratch,
  parameterGradient: Float32Array,
): void {
  const { batch, heads, slots, width, padded, groupSize, parameterSize } = sizes;
  const keySize = heads * width;
  const { keyBlock, valueBlock, eraseBlock, dKeyBlock, weightBlock, dotBlock, rowA: dWeights, dSlotNorms, blockStarts, dErase, dAdd } = scratch;
  const { read, write, erase, add, memory, slotNorms } = record;
  const previousMemory = previous.memory;
  const dMemory = carry.memory;
  for (let b = 0; b < batch; b++) {
    const po = b * parameterSize;
    const ko = b * keySize;
    const wo = b * heads * slots;
    const mo = b * slots * width;
    // Read r_h = sum_n w^r_h(n) M(n): dw^r(h, n) = dr_h . M(n); dM(n) += sum_h w^r(h, n) dr_h.
    weightBlock.set(read.weights.subarray(wo, wo + heads * slots));
    valueBlock.set(readGradient.subarray(ko, ko + keySize));
    for (let n = 0; n < slots; n++) {
      const slot = mo + n * width;
      for (let g = 0; g < padded; g += 4) {
        const a0 = weightBlock[g * slots + n], a1 = weightBlock[(g + 1) * slots + n];
        const a2 = weightBlock[(g + 2) * slots + n], a3 = weightBlock[(g + 3) * slots + n];
        const k0 = g * width, k1 = k0 + width, k2 = k1 + width, k3 = k2 + width;
        let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
        for (let w = 0; w < width; w++) {
          const m = memory[slot + w];
          const r0 = valueBlock[k0 + w], r1 = valueBlock[k1 + w], r2 = valueBlock[k2 + w], r3 = valueBlock[k3 + w];
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
    // Read heads' addressing (dw^r also gets step t + 1's interpolation, carried), then the cosine's slot side
    // on the new memory.
    weightBlock.fill(0);
    dKeyBlock.fill(0);
    dSlotNorms.fill(0);
    keyBlock.set(read.keys.subarray(ko, ko + keySize));
    for (let h = 0; h < heads; h++) {
      const row = wo + h * slots;
      for (let n = 0; n < slots; n++) dWeights[n] = dotBlock[h * slots + n] + carry.readWeights[row + n];
      addressBackward(read, b, h, dWeights, slotNorms, previous.read.weights, sizes, scratch, weightBlock, carry.readWeights, parameterGradient, po);
    }
    cosineSlotsBackward(memory, slotNorms, dMemory, read, b, sizes, scratch, parameterGradient, po);
    // Write: M = R_H + sum_h w_h a_h^T, R_0 = M_{t-1}, R_{h+1} = R_h * f_h, f_h = 1 - w_h e_h^T. Per slot n:
    // da_h += w_h(n) dM(n); dw_h(n) = dM(n) . a_h; then, last head first, from dR = dM(n) and with df_h = dR R_h:
    // dw_h(n) -= df_h . e_h, de_h -= w_h(n) df_h, dR *= f_h; dM_{t-1}(n) = dR (written over dM(n) in place).
    // Four heads per pass (padding rows have w = 0, e = 0: f = 1); R_h is rebuilt from the block's first R_g,
    // kept per block in `blockStarts` when there is more than one block.
    dErase.fill(0);
    dAdd.fill(0);
    weightBlock.fill(0);
    weightBlock.set(write.weights.subarray(wo, wo + heads * slots));
    eraseBlock.set(erase.subarray(ko, ko + keySize));
    valueBlock.set(add.subarray(ko, ko + keySize));
    const last = padded - 4;
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
          dAdd[k0 + w] += a0 * dm;
          dAdd[k1 + w] += a1 * dm;
          dAdd[k2 + w] += a2 * dm;
          dAdd[k3 + w] += a3 * dm;
        }
        dotBlock[g * slots + n] = d0;
        dotBlock[(g + 1) * slots + n] = d1;
        dotBlock[(g + 2) * slots + n] = d2;
        dotBlock[(g + 3) * slots + n] = d3;
      }
      for (let g = 0; g < last; g += 4) {
        const source = g === 0 ? previousMemory : blockStarts;
        const from = g === 0 ? slot : (g / 4) * width;
        const to = (g / 4 + 1) * width;
        const a0 = weightBlock[g * slots + n], a1 = weightBlock[(g + 1) * slots + n];
        const a2 = weightBlock[(g + 2) * slots + n], a3 = weightBlock[(g + 3) * slots + n];
        const k0 = g * width, k1 = k0 + width, k2 = k1 + width, k3 = k2 + width;
        for (let w = 0; w < width; w++) {
          const m = source[from + w] * (1 - a0 * eraseBlock[k0 + w]) * (1 - a1 * eraseBlock[k1 + w]);
          blockStarts[to + w] = m * (1 - a2 * eraseBlock[k2 + w]) * (1 - a3 * eraseBlock[k3 + w]);
        }
      }
      for (let g = last; g >= 0; g -= 4) {
        const source = g === 0 ? previousMemory : blockStarts;
        const from = g === 0 ? slot : (g / 4) * width;
        const a0 = weightBlock[g * slots + n], a1 = weightBlock[(g + 1) * slots + n];
        const a2 = weightBlock[(g + 2) * slots + n], a3 = weightBlock[(g + 3) * slots + n];
        const k0 = g * width, k1 = k0 + width, k2 = k1 + width, k3 = k2 + width;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (let w = 0; w < width; w++) {
          const e0 = eraseBlock[k0 + w], e1 = eraseBlock[k1 + w], e2 = eraseBlock[k2 + w], e3 = eraseBlock[k3 + w];
          const f0 = 1 - a0 * e0, f1 = 1 - a1 * e1, f2 = 1 - a2 * e2, f3 = 1 - a3 * e3;
          const r0 = source[from + w];
          const r1 = r0 * f0, r2 = r1 * f1, r3 = r2 * f2;
          let dR = dMemory[slot + w];
          let dF = dR * r3;
          s3 += dF * e3;
          dErase[k3 + w] -= a3 * dF;
          dR *= f3;
          dF = dR * r2;
          s2 += dF * e2;
          dErase[k2 + w] -= a2 * dF;
          dR *= f2;
          dF = dR * r1;
          s1 += dF * e1;
          dErase[k1 + w] -= a1 * dF;
          dR *= f1;
          dF = dR * r0;
          s0 += dF * e0;
          dErase[k0 + w] -= a0 * dF;
          dMemory[slot + w] = dR * f0;
        }
        dotBlock[g * slots + n] -= s0;
        dotBlock[(g + 1) * slots + n] -= s1;
        dotBlock[(g + 2) * slots + n] -= s2;
        dotBlock[(g + 3) * slots + n] -= s3;
      }
    }
    // Write heads' addressing (dw^w: the write's, plus step t + 1's interpolation, carried), then the cosine's
    // slot side on the previous memory.
    weightBlock.fill(0);
    dKeyBlock.fill(0);
    dSlotNorms.fill(0);
    keyBlock.set(write.keys.subarray(ko, ko + keySize));
    const writeBase = po + groupSize;
    for (let h = 0; h < heads; h++) {
      const row = wo + h * slots;
      for (let n = 0; n < slots; n++) dWeights[n] = dotBlock[h * slots + n] + carry.writeWeights[row + n];
      addressBackward(write, b, h, dWeights, previous.slotNorms, previous.write.weights, sizes, scratch, weightBlock, carry.writeWeights, parameterGradient, writeBase);
    }
    cosineSlotsBackward(previousMemory, previous.slotNorms, dMemory, write, b, sizes, scratch, parameterGradient, writeBase);
    // Erase e = sigmoid, add a = tanh.
    const eraseBase = po + 2 * groupSize;
    for (let i = 0; i < keySize; i++) {
      const e = erase[ko + i];
      const a = add[ko + i];
      parameterGradient[eraseBase + i] = dErase[i] * e * (1 - e);
      parameterGradient[eraseBase + keySize + i] = dAdd[i] * (1 - a * a);
    }
  }
}

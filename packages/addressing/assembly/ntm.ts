// NTM addressing's step (src/fast_ntm.ts: forward and hand-written backward) in AssemblyScript with WebAssembly
// SIMD (f32x4), compiled by scripts/wasm.mjs into src/ntm_wasm_bytes.ts and driven by src/fast_ntm_wasm.ts. The
// same maths as the JavaScript, step for step (and the same comments); read fast_ntm.ts for the derivations.
//
// Unlike the LRUA module (assembly/lrua.ts), which the caller feeds a step's arrays and empties afterwards, a run's
// whole state lives here: every step's record (the values its derivative needs) and the carried gradients stay
// in this module's memory from forward to backward, so a step copies in only its parameters (or read gradient)
// and copies out only its reads (or parameter gradient). The caller (fast_ntm_wasm.ts) owns the memory map: it
// allocates records, the carry and a work area, and passes their byte addresses.
//
// Layout: `configure` sets the sizes (B episodes, H heads per group, N slots, W width, S shifts) and lays a
// record out (float32 offsets of its fields, `fieldOffset`). Rows are padded with zeros to a multiple of 4 so that
// every loop runs in whole f32x4 lane groups: vectors over the width to Wp, rows over the slots (similarities,
// weights...) to Np (padding lanes 0; padding slot norms 1), the heads to Hp (padding heads zero). The memory is
// [N, Wp] per episode. The heads' vectors (keys, erase and add vectors, and in scratch the reads and the
// gradients of those) are interleaved by blocks of four heads: for each block, for each chunk of four numbers of
// the width, the four heads' chunks side by side (64 bytes; `chunkAt`). A slot loop then reaches four heads from
// one pointer with constant offsets, and each block's weights at slot n are four neighbouring floats (the weights
// transposed per block, `transposeBlocks`): few live registers, which is what made these loops fast in V8.
//
// Two kinds of loops:
// - over slots and width, O(N W H) (dot products with the keys, erase and add, reads, and their derivatives):
//   slot by slot, four heads per pass (the heads in blocks of 4), the width in f32x4 lanes, so each slot's numbers
//   are loaded once per four heads and the four heads' sums stay in registers;
// - over the slots of one head, O(N S) (cosine, content softmax, interpolation, circular shift, sharpening, and
//   their derivatives): four slots per f32x4, with exp, log and tanh as f32x4 polynomials (Cephes' expf, logf and
//   tanhf: within a few float32 roundings), the shift as unaligned loads from a copy of the row wrapped around.
//
// Precision: everything is float32 (the JavaScript works in float64 between its float32 arrays), so the two agree
// to float32 rounding, not exactly: src/ntm_wasm.test.ts measures how closely.

const EPSILON_SQUARED: f64 = 1e-16; // cosineSimilarity's epsilon 1e-8, squared
const SHARPEN_EPSILON: f32 = 1e-8; // sharpenWeights' epsilon

// Record fields (ids for `fieldOffset`): a group of heads (read: 0..13, write: 14..27), then the step's own.
const KEYS = 0; // tanh keys [B, Hp, Wp] (interleaved by blocks of four heads)
const KEY_NORMS = 1; // [B, H]
const STRENGTH = 2; // softplus [B, H]
const STRENGTH_SLOPE = 3; // sigmoid [B, H]
const GATE = 4; // sigmoid [B, H]
const SHIFT = 5; // softmax over the offsets [B, H, S]
const SHARPEN = 6; // 1 + softplus [B, H]
const SHARPEN_SLOPE = 7; // sigmoid [B, H]
const SIMILARITY = 8; // cosine [B, H, Np]
const CONTENT = 9; // [B, H, Np]
const INTERPOLATED = 10; // [B, H, Np]
const SHIFTED = 11; // [B, H, Np]
const LOG_SHIFTED = 12; // log(shifted + 1e-8) [B, H, Np]
const WEIGHTS = 13; // [B, H, Np]
const GROUP_FIELDS = 14;
const READ = 0;
const WRITE = GROUP_FIELDS;
const ERASE = 2 * GROUP_FIELDS; // sigmoid [B, Hp, Wp] (interleaved)
const ADD = ERASE + 1; // tanh [B, Hp, Wp] (interleaved)
const MEMORY = ERASE + 2; // memory after the step's write [B, N, Wp]
const SLOT_NORMS = ERASE + 3; // its slots' guarded norms [B, Np]
const FIELD_COUNT = ERASE + 4;

/** Float32 offset of every record field (an i32 each). */
const FIELDS = memory.data(FIELD_COUNT * 4);

let B: i32 = 0;
let H: i32 = 0;
let N: i32 = 0;
let W: i32 = 0;
let S: i32 = 0;
let WP: i32 = 0; // W rounded up to a multiple of 4
let CH: i32 = 0; // Wp / 4: chunks of four numbers in a row of the width
let NP: i32 = 0; // N rounded up to a multiple of 4
let HP: i32 = 0; // H rounded up to a multiple of 4
let HALF: i32 = 0; // (S - 1) / 2
let GROUP: i32 = 0; // parameters of one group of heads per episode: H (W + S + 3)
let P: i32 = 0; // parameters per episode: 2 H (W + S + 3) + 2 H W
let RECORD_FLOATS: i32 = 0;
// Scratch layout (byte offsets from the scratch address).
let SLOT_MASK: usize = 0; // [Np] i32: all ones for the N slots, zero for the padding
let WIDTH_MASK: usize = 0; // [Wp] i32: all ones for the W numbers of a row, zero for the padding
let TRANSPOSED: usize = 0; // [Hp / 4, Np, 4]: a [H, Np] array's blocks of four heads, slot by slot
let DOTS: usize = 0; // [Hp, Np]: dot products (forward), dL/dw (backward)
let D_DOTS: usize = 0; // [Hp, Np]: dL/d(dot products)
let ROW_A: usize = 0; // [Np] per-head rows
let ROW_B: usize = 0; // [Np]
let EXT_A: usize = 0; // [Np + 2 half + 4]: a row wrapped around (the shift)
let EXT_B: usize = 0; // [Np + 2 half + 4]
let D_SLOT_NORMS: usize = 0; // [Np]
let INVERSE_NORMS: usize = 0; // [Np]: 1 / ||M(n)|| of the memory the heads address
let BLOCK: usize = 0; // [Hp, Wp] interleaved: reads (forward), read gradients (backward)
let D_KEYS: usize = 0; // [Hp, Wp] interleaved
let D_ERASE: usize = 0; // [Hp, Wp] interleaved
let D_ADD: usize = 0; // [Hp, Wp] interleaved
let STARTS: usize = 0; // [Hp / 4, Wp]: a slot's partial erase products at each block of heads
let SCRATCH_BYTES: i32 = 0;

// @ts-ignore: decorator
@inline function pad4(x: i32): i32 {
  return (x + 3) & ~3;
}

// @ts-ignore: decorator
@inline function at(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
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
@inline function get(base: usize, index: i32): v128 {
  return v128.load(base + (<usize>index << 2));
}

// @ts-ignore: decorator
@inline function put(base: usize, index: i32, value: v128): void {
  v128.store(base + (<usize>index << 2), value);
}

// @ts-ignore: decorator
@inline function splat(x: f32): v128 {
  return f32x4.splat(x);
}

// @ts-ignore: decorator
@inline function sumLanes(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

// @ts-ignore: decorator
@inline function maxLanes(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

/** [sum of a's lanes, of b's, of c's, of d's]. */
// @ts-ignore: decorator
@inline function sums4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7));
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}

/** Writes the four lanes of `v` to rows h..h+3 (stride Np) of `rows` at column n. */
// @ts-ignore: decorator
@inline function scatter4(rows: usize, h: i32, n: i32, v: v128): void {
  setF32(rows, h * NP + n, f32x4.extract_lane(v, 0));
  setF32(rows, (h + 1) * NP + n, f32x4.extract_lane(v, 1));
  setF32(rows, (h + 2) * NP + n, f32x4.extract_lane(v, 2));
  setF32(rows, (h + 3) * NP + n, f32x4.extract_lane(v, 3));
}

/** e^x, Cephes' expf: relative error ~1e-7; x clamped to [-87.3, 88.3] (below: ~1.6e-38 instead of less). */
// @ts-ignore: decorator
@inline function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.pmax(x, splat(-87.3)), splat(88.3)); // pmin, pmax: one instruction each (no NaN here)
  const fx = f32x4.floor(f32x4.add(f32x4.mul(x, splat(1.44269504088896341)), splat(0.5)));
  let r = f32x4.sub(x, f32x4.mul(fx, splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(fx, splat(-2.12194440e-4)));
  const z = f32x4.mul(r, r);
  let y = splat(1.9875691500e-4);
  y = f32x4.add(f32x4.mul(y, r), splat(1.3981999507e-3));
  y = f32x4.add(f32x4.mul(y, r), splat(8.3334519073e-3));
  y = f32x4.add(f32x4.mul(y, r), splat(4.1665795894e-2));
  y = f32x4.add(f32x4.mul(y, r), splat(1.6666665459e-1));
  y = f32x4.add(f32x4.mul(y, r), splat(5.0000001201e-1));
  y = f32x4.add(f32x4.add(f32x4.mul(y, z), r), splat(1));
  // 2^fx: fx + 127 + 1.5 * 2^23 holds the integer fx + 127 in its low mantissa bits; shifted into the exponent
  // (the higher bits shift out). Cheaper than a saturating conversion.
  const pow2n = i32x4.shl(f32x4.add(fx, splat(12583039)), 23);
  return f32x4.mul(y, pow2n);
}

/** log x for positive normal x, Cephes' logf: error within a few float32 roundings. */
// @ts-ignore: decorator
@inline function log4(x: v128): v128 {
  let e = f32x4.convert_i32x4_s(i32x4.sub(i32x4.shr_u(x, 23), i32x4.splat(126)));
  let m = v128.or(v128.and(x, i32x4.splat(0x007fffff)), i32x4.splat(0x3f000000)); // mantissa in [0.5, 1)
  const small = f32x4.lt(m, splat(0.707106781186547524));
  const tmp = v128.and(m, small);
  m = f32x4.sub(m, splat(1));
  e = f32x4.sub(e, v128.and(splat(1), small));
  m = f32x4.add(m, tmp);
  const z = f32x4.mul(m, m);
  let y = splat(7.0376836292e-2);
  y = f32x4.add(f32x4.mul(y, m), splat(-1.1514610310e-1));
  y = f32x4.add(f32x4.mul(y, m), splat(1.1676998740e-1));
  y = f32x4.add(f32x4.mul(y, m), splat(-1.2420140846e-1));
  y = f32x4.add(f32x4.mul(y, m), splat(1.4249322787e-1));
  y = f32x4.add(f32x4.mul(y, m), splat(-1.6668057665e-1));
  y = f32x4.add(f32x4.mul(y, m), splat(2.0000714765e-1));
  y = f32x4.add(f32x4.mul(y, m), splat(-2.4999993993e-1));
  y = f32x4.add(f32x4.mul(y, m), splat(3.3333331174e-1));
  y = f32x4.mul(f32x4.mul(y, m), z);
  y = f32x4.add(y, f32x4.mul(e, splat(-2.12194440e-4)));
  y = f32x4.sub(y, f32x4.mul(z, splat(0.5)));
  m = f32x4.add(m, y);
  return f32x4.add(m, f32x4.mul(e, splat(0.693359375)));
}

/** tanh x, Cephes' tanhf: a polynomial below |x| = 0.625, else 1 - 2 / (e^{2|x|} + 1) with x's sign. */
// @ts-ignore: decorator
@inline function tanh4(x: v128): v128 {
  const ax = f32x4.abs(x);
  const z = f32x4.mul(x, x);
  let p = splat(-5.70498872745e-3);
  p = f32x4.add(f32x4.mul(p, z), splat(2.06390887954e-2));
  p = f32x4.add(f32x4.mul(p, z), splat(-5.37397155531e-2));
  p = f32x4.add(f32x4.mul(p, z), splat(1.33314422036e-1));
  p = f32x4.add(f32x4.mul(p, z), splat(-3.33332819422e-1));
  const near = f32x4.add(x, f32x4.mul(f32x4.mul(p, z), x));
  const e = exp4(f32x4.add(ax, ax));
  const far = v128.or(f32x4.sub(splat(1), f32x4.div(splat(2), f32x4.add(e, splat(1)))), v128.and(x, splat(-0.0)));
  return v128.bitselect(near, far, f32x4.lt(ax, splat(0.625)));
}

// @ts-ignore: decorator
@inline function sigmoid4(x: v128): v128 {
  return f32x4.div(splat(1), f32x4.add(splat(1), exp4(f32x4.neg(x))));
}

/** softplus(x) = log(1 + e^x), without overflow for large x (scalar: a few per head). */
function softplus(x: f64): f64 {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

// @ts-ignore: decorator
@inline function sigmoid(x: f64): f64 {
  return 1 / (1 + Math.exp(-x));
}

/** The address of a record's field. */
// @ts-ignore: decorator
@inline function field(record: usize, id: i32): usize {
  return record + (<usize>load<i32>(FIELDS + (<usize>id << 2)) << 2);
}

/** Address of head h's chunk c (numbers 4c..4c+3) in an interleaved [Hp, Wp] array. */
// @ts-ignore: decorator
@inline function chunkAt(block: usize, h: i32, c: i32): usize {
  return block + (<usize>((h >> 2) * CH + c) << 6) + (<usize>(h & 3) << 4);
}

/** Float index of head h's number w in an interleaved [Hp, Wp] array. */
// @ts-ignore: decorator
@inline function interleaved(h: i32, w: i32): i32 {
  return (((h >> 2) * CH + (w >> 2)) << 4) + ((h & 3) << 2) + (w & 3);
}

/** Start of the block of four heads g..g+3 in an interleaved [Hp, Wp] array. */
// @ts-ignore: decorator
@inline function blockAt(block: usize, g: i32): usize {
  return block + (<usize>((g >> 2) * CH) << 6);
}

/** Where TRANSPOSED holds the four weights of block g at slot n. */
// @ts-ignore: decorator
@inline function fourAt(scratch: usize, g: i32, n: i32): usize {
  return scratch + TRANSPOSED + (<usize>((g >> 2) * NP + n) << 4);
}

/** The first free byte after the module's static data: the caller lays its memory out from here. */
export function heapBase(): usize {
  return __heap_base;
}

/**
 * Sets the sizes every other call uses and lays a record out. Cheap: the caller calls it whenever the sizes
 * change (a module may serve runs of different sizes).
 */
export function configure(batch: i32, heads: i32, slots: i32, width: i32, shifts: i32): void {
  B = batch;
  H = heads;
  N = slots;
  W = width;
  S = shifts;
  WP = pad4(width);
  CH = WP >> 2;
  NP = pad4(slots);
  HP = pad4(heads);
  HALF = (shifts - 1) / 2;
  GROUP = heads * (width + shifts + 3);
  P = 2 * GROUP + 2 * heads * width;
  const bh = batch * heads;
  let next = 0;
  for (let id = 0; id < FIELD_COUNT; id++) {
    let length = 0;
    const f = id < ERASE ? id % GROUP_FIELDS : id;
    if (f == KEYS || f == ERASE || f == ADD) length = batch * pad4(heads) * WP;
    else if (f == SHIFT) length = bh * shifts;
    else if (f >= SIMILARITY && f <= WEIGHTS) length = bh * NP;
    else if (f == MEMORY) length = batch * slots * WP;
    else if (f == SLOT_NORMS) length = batch * NP;
    else length = bh;
    store<i32>(FIELDS + (<usize>id << 2), next);
    next += pad4(length); // every field 16-byte aligned
  }
  RECORD_FLOATS = next;
  const rowBytes = <usize>NP << 2;
  const extBytes = <usize>(NP + 2 * HALF + 8) << 2;
  const blockBytes = <usize>(HP * WP) << 2;
  const dotBytes = <usize>(HP * NP) << 2;
  SLOT_MASK = 0;
  WIDTH_MASK = SLOT_MASK + rowBytes;
  TRANSPOSED = WIDTH_MASK + (<usize>WP << 2);
  DOTS = TRANSPOSED + (<usize>(HP * NP) << 2);
  D_DOTS = DOTS + dotBytes;
  ROW_A = D_DOTS + dotBytes;
  ROW_B = ROW_A + rowBytes;
  EXT_A = ROW_B + rowBytes;
  EXT_B = EXT_A + extBytes;
  D_SLOT_NORMS = EXT_B + extBytes;
  INVERSE_NORMS = D_SLOT_NORMS + rowBytes;
  BLOCK = INVERSE_NORMS + rowBytes;
  D_KEYS = BLOCK + blockBytes;
  D_ERASE = D_KEYS + blockBytes;
  D_ADD = D_ERASE + blockBytes;
  STARTS = D_ADD + blockBytes;
  SCRATCH_BYTES = <i32>(STARTS + blockBytes);
}

/** Floats in one record (a multiple of 4), for the sizes of the last `configure`. */
export function recordFloats(): i32 {
  return RECORD_FLOATS;
}

/** Floats of the carried gradients: dL/dM [B, N, Wp], then dL/dw^r and dL/dw^w [B, H, Np]. */
export function carryFloats(): i32 {
  return pad4(B * N * WP) + 2 * B * H * NP;
}

/** Bytes of scratch space `forward` and `backward` need. */
export function scratchBytes(): i32 {
  return SCRATCH_BYTES;
}

/** Float32 offset of a record field within a record (ids above; the caller reads records back for tests). */
export function fieldOffset(id: i32): i32 {
  return load<i32>(FIELDS + (<usize>id << 2));
}

/**
 * `ntm`'s initial state as a record at `record`: memory filled with `initialValue` (padding zero), its slot
 * norms, read and write weights one-hot on slot 0; every other field zero.
 */
export function initialRecord(record: usize, initialValue: f32): void {
  memory.fill(record, 0, <usize>RECORD_FLOATS << 2);
  const mem = field(record, MEMORY);
  for (let i = 0; i < B * N; i++) {
    for (let w = 0; w < W; w++) setF32(mem, i * WP + w, initialValue);
  }
  const v = <f64>initialValue;
  const norm = <f32>Math.sqrt(<f64>W * v * v + EPSILON_SQUARED);
  const norms = field(record, SLOT_NORMS);
  for (let b = 0; b < B; b++) {
    for (let n = 0; n < NP; n++) setF32(norms, b * NP + n, n < N ? norm : 1);
  }
  const read = field(record, READ + WEIGHTS);
  const write = field(record, WRITE + WEIGHTS);
  for (let row = 0; row < B * H; row++) {
    setF32(read, row * NP, 1);
    setF32(write, row * NP, 1);
  }
}

/** Zeroes the carried gradients at `carry` (a run's last step has none from a later step). */
export function zeroCarry(carry: usize): void {
  memory.fill(carry, 0, <usize>carryFloats() << 2);
}

/** INVERSE_NORMS = 1 / `slotNorms` ([Np]; the padding's norms are 1). */
function invertNorms(slotNorms: usize, scratch: usize): void {
  const inverse = scratch + INVERSE_NORMS;
  for (let c = 0; c < NP; c += 4) put(inverse, c, f32x4.div(splat(1), get(slotNorms, c)));
}

/**
 * The lanes of a [H, Np] array's blocks of four heads by slot: TRANSPOSED[g / 4, n, j] = rows[g + j, n] (0 past
 * H), four slots at a time (a 4 x 4 transpose of f32x4 lanes).
 */
function transposeBlocks(rows: usize, scratch: usize): void {
  const zero = splat(0);
  for (let g = 0; g < H; g += 4) {
    const r0 = at(rows, g * NP);
    const r1 = at(rows, (g + 1) * NP), r2 = at(rows, (g + 2) * NP), r3 = at(rows, (g + 3) * NP);
    for (let n = 0; n < NP; n += 4) {
      const a = get(r0, n);
      const b = g + 1 < H ? get(r1, n) : zero;
      const c = g + 2 < H ? get(r2, n) : zero;
      const d = g + 3 < H ? get(r3, n) : zero;
      const ab01 = v128.shuffle<f32>(a, b, 0, 4, 1, 5), cd01 = v128.shuffle<f32>(c, d, 0, 4, 1, 5);
      const ab23 = v128.shuffle<f32>(a, b, 2, 6, 3, 7), cd23 = v128.shuffle<f32>(c, d, 2, 6, 3, 7);
      const four = fourAt(scratch, g, n);
      v128.store(four, v128.shuffle<f32>(ab01, cd01, 0, 1, 4, 5));
      v128.store(four, v128.shuffle<f32>(ab01, cd01, 2, 3, 6, 7), 16);
      v128.store(four, v128.shuffle<f32>(ab23, cd23, 0, 1, 4, 5), 32);
      v128.store(four, v128.shuffle<f32>(ab23, cd23, 2, 3, 6, 7), 48);
    }
  }
}

/** The masks in scratch, and the dot rows' padding. */
function prepare(scratch: usize): void {
  for (let n = 0; n < NP; n++) store<i32>(at(scratch + SLOT_MASK, n), n < N ? -1 : 0);
  for (let w = 0; w < WP; w++) store<i32>(at(scratch + WIDTH_MASK, w), w < W ? -1 : 0);
  // The slot loops write the N columns of the dot rows: their padding stays 0 (a cosine of 0, masked anyway).
  memory.fill(scratch + DOTS, 0, <usize>(HP * NP) << 2);
}

/**
 * One group's numbers for episode b from its parameter row (`row`: keys [H, W], strengths, gates, shifts [H, S],
 * sharpenings, `ntm`'s layout), squashed into the record; and the keys' guarded norms.
 */
function readHeadParameters(row: usize, record: usize, group: i32, b: i32, scratch: usize): void {
  const keys = at(field(record, group + KEYS), b * HP * WP);
  const keySize = H * W;
  const widthMask = scratch + WIDTH_MASK;
  for (let h = H; h < HP; h++) {
    for (let c = 0; c < CH; c++) v128.store(chunkAt(keys, h, c), splat(0));
  }
  for (let h = 0; h < H; h++) {
    const hs = b * H + h;
    let squares = splat(0);
    for (let c = 0; c < CH; c++) {
      // Unaligned; the padding lanes read the next numbers of the row (or past it), masked to 0.
      const k = v128.and(tanh4(get(row, h * W + 4 * c)), get(widthMask, 4 * c));
      v128.store(chunkAt(keys, h, c), k);
      squares = f32x4.add(squares, f32x4.mul(k, k));
    }
    setF32(field(record, group + KEY_NORMS), hs, <f32>Math.sqrt(<f64>sumLanes(squares) + EPSILON_SQUARED));
    const beta = <f64>f32At(row, keySize + h);
    setF32(field(record, group + STRENGTH), hs, <f32>softplus(beta));
    setF32(field(record, group + STRENGTH_SLOPE), hs, <f32>sigmoid(beta));
    setF32(field(record, group + GATE), hs, <f32>sigmoid(<f64>f32At(row, keySize + H + h)));
    const so = keySize + 2 * H + h * S;
    let largest: f64 = -Infinity;
    for (let k = 0; k < S; k++) largest = Math.max(largest, <f64>f32At(row, so + k));
    let total: f64 = 0;
    for (let k = 0; k < S; k++) total += Math.exp(<f64>f32At(row, so + k) - largest);
    const shift = field(record, group + SHIFT);
    for (let k = 0; k < S; k++) setF32(shift, hs * S + k, <f32>(Math.exp(<f64>f32At(row, so + k) - largest) / total));
    const gamma = <f64>f32At(row, keySize + 2 * H + H * S + h);
    setF32(field(record, group + SHARPEN), hs, <f32>(1 + softplus(gamma)));
    setF32(field(record, group + SHARPEN_SLOPE), hs, <f32>sigmoid(gamma));
  }
}

/** rows[h, n] = k_h . M(n) for one episode's memory rows (`slots` [N, Wp]) and keys (`keys`, interleaved). */
function slotDots(slots: usize, keys: usize, rows: usize): void {
  const rowBytes = <usize>WP << 2;
  for (let g = 0; g < H; g += 4) {
    const block = blockAt(keys, g);
    for (let n = 0; n < N; n++) {
      const slot = at(slots, n * WP);
      let k = block;
      let d0 = splat(0), d1 = splat(0), d2 = splat(0), d3 = splat(0);
      for (let v: usize = 0; v < rowBytes; v += 16, k += 64) {
        const m = v128.load(slot + v);
        d0 = f32x4.add(d0, f32x4.mul(v128.load(k), m));
        d1 = f32x4.add(d1, f32x4.mul(v128.load(k, 16), m));
        d2 = f32x4.add(d2, f32x4.mul(v128.load(k, 32), m));
        d3 = f32x4.add(d3, f32x4.mul(v128.load(k, 48), m));
      }
      scatter4(rows, g, n, sums4(d0, d1, d2, d3));
    }
  }
}

/**
 * `row` wrapped around into `ext`: ext[i] = row[(i - half) mod N] for i < N + 2 half, then zeros to Np + 2 half + 4,
 * so that row[(i - o) mod N] = ext[i + half - o] for i < Np and |o| <= half, four slots per (unaligned) load.
 */
function wrap(row: usize, ext: usize): void {
  for (let i = 0; i < HALF; i++) setF32(ext, i, f32At(row, N - HALF + i));
  memory.copy(at(ext, HALF), row, <usize>N << 2);
  for (let i = 0; i < HALF; i++) setF32(ext, HALF + N + i, f32At(row, i));
  for (let i = N + 2 * HALF; i < NP + 2 * HALF + 4; i++) setF32(ext, i, 0);
}

/**
 * One head's weights from its dot products with the slots (`dots`, [Np]) and the slot norms (their inverses in
 * INVERSE_NORMS): cosine, content softmax(beta K), interpolation with the previous weights (`previous`, [Np]),
 * circular shift, sharpening.
 */
function addressForward(record: usize, group: i32, b: i32, h: i32, dots: usize, previous: usize, scratch: usize): void {
  const hs = b * H + h;
  const row = hs * NP;
  const similarity = at(field(record, group + SIMILARITY), row);
  const content = at(field(record, group + CONTENT), row);
  const interpolated = at(field(record, group + INTERPOLATED), row);
  const shifted = at(field(record, group + SHIFTED), row);
  const logShifted = at(field(record, group + LOG_SHIFTED), row);
  const weights = at(field(record, group + WEIGHTS), row);
  const mask = scratch + SLOT_MASK;
  const exps = scratch + ROW_A;
  const ext = scratch + EXT_A;
  const inverseNorms = scratch + INVERSE_NORMS;
  const inverseKeyNorm = splat(1 / f32At(field(record, group + KEY_NORMS), hs));
  const beta = splat(f32At(field(record, group + STRENGTH), hs));
  const negative = splat(-Infinity);
  // Content: softmax_n(beta * cos(k, M(n))).
  let largest = negative;
  for (let c = 0; c < NP; c += 4) {
    const cosine = f32x4.mul(f32x4.mul(get(dots, c), inverseKeyNorm), get(inverseNorms, c));
    put(similarity, c, cosine);
    largest = f32x4.pmax(largest, v128.bitselect(f32x4.mul(beta, cosine), negative, get(mask, c)));
  }
  let shiftBy = splat(maxLanes(largest));
  let total = splat(0);
  for (let c = 0; c < NP; c += 4) {
    const e = v128.and(exp4(f32x4.sub(f32x4.mul(beta, get(similarity, c)), shiftBy)), get(mask, c));
    put(exps, c, e);
    total = f32x4.add(total, e);
  }
  // Interpolation: g w^c + (1 - g) w_{t-1}.
  let scale = splat(1 / sumLanes(total));
  const g = f32At(field(record, group + GATE), hs);
  const gate = splat(g);
  const keep = splat(1 - g);
  for (let c = 0; c < NP; c += 4) {
    const w = f32x4.mul(get(exps, c), scale);
    put(content, c, w);
    put(interpolated, c, f32x4.add(f32x4.mul(gate, w), f32x4.mul(keep, get(previous, c))));
  }
  // Shift: w~(i) = sum_k s(k) w^g(i - o_k), o_k = k - half: ext[i + 2 half - k].
  wrap(interpolated, ext);
  // Sharpening (in the same pass): softmax(gamma * log(w~ + epsilon)); the logarithms are kept for the
  // derivative. (The padding's log(epsilon) is the smallest possible, so it needs no mask in the maximum.)
  const shift = at(field(record, group + SHIFT), hs * S);
  const gamma = splat(f32At(field(record, group + SHARPEN), hs));
  const epsilon = splat(SHARPEN_EPSILON);
  largest = negative;
  for (let c = 0; c < NP; c += 4) {
    let acc = splat(0);
    for (let k = 0; k < S; k++) acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(at(shift, k)), get(ext, c + 2 * HALF - k)));
    acc = v128.and(acc, get(mask, c));
    put(shifted, c, acc);
    const log = log4(f32x4.add(acc, epsilon));
    put(logShifted, c, log);
    const z = f32x4.mul(gamma, log);
    put(exps, c, z);
    largest = f32x4.pmax(largest, z);
  }
  shiftBy = splat(maxLanes(largest));
  total = splat(0);
  for (let c = 0; c < NP; c += 4) {
    const e = v128.and(exp4(f32x4.sub(get(exps, c), shiftBy)), get(mask, c));
    put(exps, c, e);
    total = f32x4.add(total, e);
  }
  scale = splat(1 / sumLanes(total));
  for (let c = 0; c < NP; c += 4) put(weights, c, f32x4.mul(get(exps, c), scale));
}

/**
 * One step forward for every episode: parameters [B, P] at `parameters` and the previous record -> the record
 * at `next` (every field written) and the read vectors [B, H, W] at `reads`.
 */
export function forward(parameters: usize, previous: usize, next: usize, reads: usize, scratch: usize): void {
  prepare(scratch);
  const dots = scratch + DOTS;
  const readBlock = scratch + BLOCK;
  const widthMask = scratch + WIDTH_MASK;
  const keySize = H * W;
  const rowBytes = <usize>WP << 2;
  const blockBytes = <usize>(HP * WP) << 2;
  const last = HP - 4; // the last block of four heads
  for (let b = 0; b < B; b++) {
    const row = at(parameters, b * P);
    readHeadParameters(row, next, READ, b, scratch);
    readHeadParameters(at(row, GROUP), next, WRITE, b, scratch);
    const ko = b * HP * WP;
    const erase = at(field(next, ERASE), ko);
    const add = at(field(next, ADD), ko);
    memory.fill(erase, 0, blockBytes);
    memory.fill(add, 0, blockBytes);
    for (let h = 0; h < H; h++) {
      for (let c = 0; c < CH; c++) {
        const mask = get(widthMask, 4 * c);
        v128.store(chunkAt(erase, h, c), v128.and(sigmoid4(get(row, 2 * GROUP + h * W + 4 * c)), mask));
        v128.store(chunkAt(add, h, c), v128.and(tanh4(get(row, 2 * GROUP + keySize + h * W + 4 * c)), mask));
      }
    }
    // Write heads address the previous memory (its slot norms were computed for the previous step's read heads).
    const mo = b * N * WP;
    const wo = b * H * NP;
    const previousSlots = at(field(previous, MEMORY), mo);
    const slots = at(field(next, MEMORY), mo);
    const previousNorms = at(field(previous, SLOT_NORMS), b * NP);
    const slotNorms = at(field(next, SLOT_NORMS), b * NP);
    slotDots(previousSlots, at(field(next, WRITE + KEYS), ko), dots);
    invertNorms(previousNorms, scratch);
    const previousWrite = at(field(previous, WRITE + WEIGHTS), wo);
    for (let h = 0; h < H; h++) addressForward(next, WRITE, b, h, at(dots, h * NP), at(previousWrite, h * NP), scratch);
    // Per slot: erase M(n) *= (1 - w_h(n) e_h), head after head, then add sum_h w_h(n) a_h, four heads per pass
    // (the last block's erase and every block's add in one pass: the adds come after every erase).
    transposeBlocks(at(field(next, WRITE + WEIGHTS), wo), scratch);
    for (let n = 0; n < N; n++) {
      const previousSlot = at(previousSlots, n * WP);
      const slot = at(slots, n * WP);
      for (let g = 0; g <= last; g += 4) {
        const four = fourAt(scratch, g, n);
        const w0 = v128.load32_splat(four), w1 = v128.load32_splat(four, 4), w2 = v128.load32_splat(four, 8), w3 = v128.load32_splat(four, 12);
        const source = g == 0 ? previousSlot : slot;
        let e = blockAt(erase, g);
        if (g < last) {
          for (let v: usize = 0; v < rowBytes; v += 16, e += 64) {
            let m = f32x4.mul(v128.load(source + v), f32x4.sub(splat(1), f32x4.mul(w0, v128.load(e))));
            m = f32x4.mul(m, f32x4.sub(splat(1), f32x4.mul(w1, v128.load(e, 16))));
            m = f32x4.mul(m, f32x4.sub(splat(1), f32x4.mul(w2, v128.load(e, 32))));
            v128.store(slot + v, f32x4.mul(m, f32x4.sub(splat(1), f32x4.mul(w3, v128.load(e, 48)))));
          }
        } else {
          let a = blockAt(add, g);
          for (let v: usize = 0; v < rowBytes; v += 16, e += 64, a += 64) {
            let m = f32x4.mul(v128.load(source + v), f32x4.sub(splat(1), f32x4.mul(w0, v128.load(e))));
            m = f32x4.mul(m, f32x4.sub(splat(1), f32x4.mul(w1, v128.load(e, 16))));
            m = f32x4.mul(m, f32x4.sub(splat(1), f32x4.mul(w2, v128.load(e, 32))));
            m = f32x4.mul(m, f32x4.sub(splat(1), f32x4.mul(w3, v128.load(e, 48))));
            const added = f32x4.add(f32x4.add(f32x4.mul(w0, v128.load(a)), f32x4.mul(w1, v128.load(a, 16))), f32x4.add(f32x4.mul(w2, v128.load(a, 32)), f32x4.mul(w3, v128.load(a, 48))));
            v128.store(slot + v, f32x4.add(m, added));
          }
        }
      }
      for (let g = 0; g < last; g += 4) {
        const four = fourAt(scratch, g, n);
        const w0 = v128.load32_splat(four), w1 = v128.load32_splat(four, 4), w2 = v128.load32_splat(four, 8), w3 = v128.load32_splat(four, 12);
        let a = blockAt(add, g);
        for (let v: usize = 0; v < rowBytes; v += 16, a += 64) {
          const added = f32x4.add(f32x4.add(f32x4.mul(w0, v128.load(a)), f32x4.mul(w1, v128.load(a, 16))), f32x4.add(f32x4.mul(w2, v128.load(a, 32)), f32x4.mul(w3, v128.load(a, 48))));
          v128.store(slot + v, f32x4.add(v128.load(slot + v), added));
        }
      }
      let squares = splat(0);
      for (let v: usize = 0; v < rowBytes; v += 16) {
        const m = v128.load(slot + v);
        squares = f32x4.add(squares, f32x4.mul(m, m));
      }
      setF32(slotNorms, n, <f32>Math.sqrt(<f64>sumLanes(squares) + EPSILON_SQUARED));
    }
    for (let n = N; n < NP; n++) setF32(slotNorms, n, 1);
    // Read heads address the new memory; r_h = sum_n w^r_h(n) M(n), four heads per pass over the slots.
    slotDots(slots, at(field(next, READ + KEYS), ko), dots);
    invertNorms(slotNorms, scratch);
    const previousRead = at(field(previous, READ + WEIGHTS), wo);
    for (let h = 0; h < H; h++) addressForward(next, READ, b, h, at(dots, h * NP), at(previousRead, h * NP), scratch);
    transposeBlocks(at(field(next, READ + WEIGHTS), wo), scratch);
    memory.fill(readBlock, 0, blockBytes);
    for (let g = 0; g < H; g += 4) {
      const block = blockAt(readBlock, g);
      for (let n = 0; n < N; n++) {
        const slot = at(slots, n * WP);
        const four = fourAt(scratch, g, n);
        const w0 = v128.load32_splat(four), w1 = v128.load32_splat(four, 4), w2 = v128.load32_splat(four, 8), w3 = v128.load32_splat(four, 12);
        let r = block;
        for (let v: usize = 0; v < rowBytes; v += 16, r += 64) {
          const m = v128.load(slot + v);
          v128.store(r, f32x4.add(v128.load(r), f32x4.mul(w0, m)));
          v128.store(r, f32x4.add(v128.load(r, 16), f32x4.mul(w1, m)), 16);
          v128.store(r, f32x4.add(v128.load(r, 32), f32x4.mul(w2, m)), 32);
          v128.store(r, f32x4.add(v128.load(r, 48), f32x4.mul(w3, m)), 48);
        }
      }
    }
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) setF32(reads, b * keySize + h * W + w, f32At(readBlock, interleaved(h, w)));
    }
  }
}

/**
 * The derivative of one head's `addressForward`: from dL/dw (`dWeights`, [Np], padding 0) to dL/d(its strength,
 * gate, shifts, sharpening) in `gradient` (this group's parameter row), dL/d(dot products) into `dDots` ([Np]),
 * dL/d||M(n)|| added to D_SLOT_NORMS, dL/dw_{t-1} into `dPrevious` (the carry's row), and dL/d||k|| k / ||k||
 * added to head h's row of D_KEYS.
 */
function addressBackward(
  record: usize, group: i32, b: i32, h: i32, dWeights: usize, previous: usize,
  dDots: usize, dPrevious: usize, gradient: usize, scratch: usize,
): void {
  const hs = b * H + h;
  const row = hs * NP;
  const keySize = H * W;
  const similarity = at(field(record, group + SIMILARITY), row);
  const content = at(field(record, group + CONTENT), row);
  const interpolated = at(field(record, group + INTERPOLATED), row);
  const shifted = at(field(record, group + SHIFTED), row);
  const logShifted = at(field(record, group + LOG_SHIFTED), row);
  const weights = at(field(record, group + WEIGHTS), row);
  const mask = scratch + SLOT_MASK;
  const dShifted = scratch + ROW_B;
  const dInterpolated = scratch + ROW_A;
  const extInterpolated = scratch + EXT_A;
  const extShifted = scratch + EXT_B;
  const dSlotNorms = scratch + D_SLOT_NORMS;
  const dKeys = scratch + D_KEYS;
  // Sharpening w = softmax(z), z = gamma log(w~ + eps): dz = w (dw - sum w dw); dgamma = sum dz log(w~ + eps);
  // dw~ = dz gamma / (w~ + eps).
  const gamma = splat(f32At(field(record, group + SHARPEN), hs));
  const epsilon = splat(SHARPEN_EPSILON);
  let acc = splat(0);
  for (let c = 0; c < NP; c += 4) acc = f32x4.add(acc, f32x4.mul(get(weights, c), get(dWeights, c)));
  const inner = splat(sumLanes(acc));
  acc = splat(0);
  for (let c = 0; c < NP; c += 4) {
    const dz = f32x4.mul(get(weights, c), f32x4.sub(get(dWeights, c), inner));
    acc = f32x4.add(acc, f32x4.mul(dz, get(logShifted, c)));
    put(dShifted, c, f32x4.div(f32x4.mul(dz, gamma), f32x4.add(get(shifted, c), epsilon)));
  }
  const dGamma = sumLanes(acc);
  // Shift w~(i) = sum_k s(k) w^g(i - o_k): ds(k) = sum_i dw~(i) w^g(i - o_k) (= ext[i + 2 half - k], the padding of
  // dw~ zero); dw^g(j) = sum_k s(k) dw~(j + o_k) (= dw~ wrapped at j + k).
  wrap(interpolated, extInterpolated);
  wrap(dShifted, extShifted);
  const shift = at(field(record, group + SHIFT), hs * S);
  const shiftGradients = at(gradient, keySize + 2 * H + h * S);
  let shiftInner: f32 = 0;
  for (let k = 0; k < S; k++) {
    acc = splat(0);
    for (let c = 0; c < NP; c += 4) acc = f32x4.add(acc, f32x4.mul(get(dShifted, c), get(extInterpolated, c + 2 * HALF - k)));
    const ds = sumLanes(acc);
    setF32(shiftGradients, k, ds); // dL/ds for now, the softmax's derivative below
    shiftInner += f32At(shift, k) * ds;
  }
  for (let k = 0; k < S; k++) setF32(shiftGradients, k, f32At(shift, k) * (f32At(shiftGradients, k) - shiftInner));
  for (let c = 0; c < NP; c += 4) {
    acc = splat(0);
    for (let k = 0; k < S; k++) acc = f32x4.add(acc, f32x4.mul(v128.load32_splat(at(shift, k)), get(extShifted, c + k)));
    put(dInterpolated, c, v128.and(acc, get(mask, c)));
  }
  // Interpolation w^g = g w^c + (1 - g) w_{t-1}: dg = sum dw^g (w^c - w_{t-1}); dw^c = g dw^g; dw_{t-1} = (1 - g) dw^g.
  const g = f32At(field(record, group + GATE), hs);
  const gate = splat(g);
  const keep = splat(1 - g);
  let dGate = splat(0);
  acc = splat(0);
  for (let c = 0; c < NP; c += 4) {
    const d = get(dInterpolated, c);
    const w = get(content, c);
    dGate = f32x4.add(dGate, f32x4.mul(d, f32x4.sub(w, get(previous, c))));
    put(dPrevious, c, f32x4.mul(keep, d));
    acc = f32x4.add(acc, f32x4.mul(f32x4.mul(w, gate), d));
  }
  const contentInner = splat(sumLanes(acc));
  // Content w^c = softmax(beta K): dlogit = w^c (dw^c - sum w^c dw^c); dbeta = sum dlogit K; dK = beta dlogit.
  // Cosine K = dot / (||k|| ||M(n)||): ddot = dK / (||k|| ||M(n)||); d||k|| = -sum dK K / ||k||;
  // d||M(n)|| = -dK K / ||M(n)||.
  const betaValue = f32At(field(record, group + STRENGTH), hs);
  const beta = splat(betaValue);
  const keyNormValue = f32At(field(record, group + KEY_NORMS), hs);
  const inverseKeyNorm = splat(1 / keyNormValue);
  const inverseNorms = scratch + INVERSE_NORMS;
  let dBeta = splat(0);
  acc = splat(0);
  for (let c = 0; c < NP; c += 4) {
    const dLogit = f32x4.mul(get(content, c), f32x4.sub(f32x4.mul(gate, get(dInterpolated, c)), contentInner));
    const cosine = get(similarity, c);
    dBeta = f32x4.add(dBeta, f32x4.mul(dLogit, cosine));
    const dCosine = f32x4.mul(beta, dLogit);
    const inverseNorm = get(inverseNorms, c);
    put(dDots, c, f32x4.mul(f32x4.mul(dCosine, inverseKeyNorm), inverseNorm));
    const scaled = f32x4.mul(dCosine, cosine);
    acc = f32x4.add(acc, scaled);
    put(dSlotNorms, c, f32x4.sub(get(dSlotNorms, c), f32x4.mul(scaled, inverseNorm)));
  }
  const dKeyNorm = -sumLanes(acc) / keyNormValue;
  const factor = splat(dKeyNorm / keyNormValue);
  const keys = at(field(record, group + KEYS), b * HP * WP);
  for (let c = 0; c < CH; c++) {
    const at = chunkAt(dKeys, h, c);
    v128.store(at, f32x4.add(v128.load(at), f32x4.mul(factor, v128.load(chunkAt(keys, h, c)))));
  }
  // Through the squashings: softplus' = sigmoid, sigmoid' = g (1 - g).
  setF32(gradient, keySize + h, sumLanes(dBeta) * f32At(field(record, group + STRENGTH_SLOPE), hs));
  setF32(gradient, keySize + H + h, sumLanes(dGate) * g * (1 - g));
  setF32(gradient, keySize + 2 * H + H * S + h, dGamma * f32At(field(record, group + SHARPEN_SLOPE), hs));
}

/**
 * Through the cosine's slot side for one episode (memory rows `slots` [N, Wp], their norms `slotNorms` [Np]):
 * dk_h += sum_n ddot(h, n) M(n) into D_KEYS, and dM(n) += sum_h ddot(h, n) k_h + (d||M(n)|| / ||M(n)||) M(n)
 * into `dSlots`; then the keys' parameter gradients dL/dk (1 - k^2) into `gradient` (this group's row).
 */
function cosineSlotsBackward(slots: usize, slotNorms: usize, dSlots: usize, keys: usize, gradient: usize, scratch: usize): void {
  const dKeys = scratch + D_KEYS;
  const dSlotNorms = scratch + D_SLOT_NORMS;
  const rowBytes = <usize>WP << 2;
  transposeBlocks(scratch + D_DOTS, scratch);
  for (let g = 0; g < H; g += 4) {
    const keyBlock = blockAt(keys, g);
    const dKeyBlock = blockAt(dKeys, g);
    for (let n = 0; n < N; n++) {
      const slot = at(slots, n * WP);
      const dSlot = at(dSlots, n * WP);
      const four = fourAt(scratch, g, n);
      const a0 = v128.load32_splat(four), a1 = v128.load32_splat(four, 4), a2 = v128.load32_splat(four, 8), a3 = v128.load32_splat(four, 12);
      const scale = splat(g == 0 ? f32At(dSlotNorms, n) / f32At(slotNorms, n) : 0);
      let k = keyBlock;
      let q = dKeyBlock;
      for (let v: usize = 0; v < rowBytes; v += 16, k += 64, q += 64) {
        const m = v128.load(slot + v);
        v128.store(q, f32x4.add(v128.load(q), f32x4.mul(a0, m)));
        v128.store(q, f32x4.add(v128.load(q, 16), f32x4.mul(a1, m)), 16);
        v128.store(q, f32x4.add(v128.load(q, 32), f32x4.mul(a2, m)), 32);
        v128.store(q, f32x4.add(v128.load(q, 48), f32x4.mul(a3, m)), 48);
        const fromKeys = f32x4.add(f32x4.add(f32x4.mul(a0, v128.load(k)), f32x4.mul(a1, v128.load(k, 16))), f32x4.add(f32x4.mul(a2, v128.load(k, 32)), f32x4.mul(a3, v128.load(k, 48))));
        v128.store(dSlot + v, f32x4.add(f32x4.add(v128.load(dSlot + v), f32x4.mul(scale, m)), fromKeys));
      }
    }
  }
  for (let h = 0; h < H; h++) {
    for (let w = 0; w < W; w++) {
      const k = f32At(keys, interleaved(h, w));
      setF32(gradient, h * W + w, f32At(dKeys, interleaved(h, w)) * (1 - k * k));
    }
  }
}

/**
 * The derivative of `forward`: dL/dreads [B, H, W] at `readGradient`, the step's record and the previous one ->
 * dL/dparameters [B, P] at `gradient`; the carry (dL/dM [B, N, Wp], dL/dw^r and dL/dw^w [B, H, Np] of this step)
 * becomes the previous step's in place.
 */
export function backward(readGradient: usize, record: usize, previous: usize, carry: usize, gradient: usize, scratch: usize): void {
  prepare(scratch);
  const dots = scratch + DOTS;
  const dDots = scratch + D_DOTS;
  const dWeights = scratch + ROW_A;
  const mask = scratch + SLOT_MASK;
  const readGradientBlock = scratch + BLOCK;
  const dKeys = scratch + D_KEYS;
  const dErase = scratch + D_ERASE;
  const dAdd = scratch + D_ADD;
  const starts = scratch + STARTS;
  const dSlotNorms = scratch + D_SLOT_NORMS;
  const carryMemory = carry;
  const carryRead = at(carry, pad4(B * N * WP));
  const carryWrite = at(carryRead, B * H * NP);
  const keySize = H * W;
  const rowBytes = <usize>WP << 2;
  const blockBytes = <usize>(HP * WP) << 2;
  const last = HP - 4;
  for (let b = 0; b < B; b++) {
    const row = at(gradient, b * P);
    const ko = b * HP * WP;
    const wo = b * H * NP;
    const mo = b * N * WP;
    const slots = at(field(record, MEMORY), mo);
    const slotNorms = at(field(record, SLOT_NORMS), b * NP);
    const previousSlots = at(field(previous, MEMORY), mo);
    const previousNorms = at(field(previous, SLOT_NORMS), b * NP);
    const dSlots = at(carryMemory, mo);
    memory.fill(readGradientBlock, 0, blockBytes);
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) setF32(readGradientBlock, interleaved(h, w), f32At(readGradient, b * keySize + h * W + w));
    }
    // Read r_h = sum_n w^r_h(n) M(n): dw^r(h, n) = dr_h . M(n); dM(n) += sum_h w^r(h, n) dr_h.
    transposeBlocks(at(field(record, READ + WEIGHTS), wo), scratch);
    for (let g = 0; g < H; g += 4) {
      const block = blockAt(readGradientBlock, g);
      for (let n = 0; n < N; n++) {
        const slot = at(slots, n * WP);
        const dSlot = at(dSlots, n * WP);
        const four = fourAt(scratch, g, n);
        const w0 = v128.load32_splat(four), w1 = v128.load32_splat(four, 4), w2 = v128.load32_splat(four, 8), w3 = v128.load32_splat(four, 12);
        let r = block;
        let d0 = splat(0), d1 = splat(0), d2 = splat(0), d3 = splat(0);
        for (let v: usize = 0; v < rowBytes; v += 16, r += 64) {
          const m = v128.load(slot + v);
          const x0 = v128.load(r), x1 = v128.load(r, 16), x2 = v128.load(r, 32), x3 = v128.load(r, 48);
          d0 = f32x4.add(d0, f32x4.mul(x0, m));
          d1 = f32x4.add(d1, f32x4.mul(x1, m));
          d2 = f32x4.add(d2, f32x4.mul(x2, m));
          d3 = f32x4.add(d3, f32x4.mul(x3, m));
          const fromReads = f32x4.add(f32x4.add(f32x4.mul(w0, x0), f32x4.mul(w1, x1)), f32x4.add(f32x4.mul(w2, x2), f32x4.mul(w3, x3)));
          v128.store(dSlot + v, f32x4.add(v128.load(dSlot + v), fromReads));
        }
        scatter4(dots, g, n, sums4(d0, d1, d2, d3));
      }
    }
    // Read heads' addressing (dw^r also gets step t + 1's interpolation, carried), then the cosine's slot side on
    // the new memory.
    memory.fill(dKeys, 0, blockBytes);
    memory.fill(dSlotNorms, 0, <usize>NP << 2);
    const previousRead = at(field(previous, READ + WEIGHTS), wo);
    invertNorms(slotNorms, scratch);
    for (let h = 0; h < H; h++) {
      const carried = at(carryRead, wo + h * NP);
      for (let c = 0; c < NP; c += 4) put(dWeights, c, v128.and(f32x4.add(get(dots, h * NP + c), get(carried, c)), get(mask, c)));
      addressBackward(record, READ, b, h, dWeights, at(previousRead, h * NP), at(dDots, h * NP), carried, row, scratch);
    }
    cosineSlotsBackward(slots, slotNorms, dSlots, at(field(record, READ + KEYS), ko), row, scratch);
    // Write: M = R_H + sum_h w_h a_h^T, R_0 = M_{t-1}, R_{h+1} = R_h * f_h, f_h = 1 - w_h e_h^T. Per slot n:
    // da_h += w_h(n) dM(n); dw_h(n) = dM(n) . a_h; then, last head first, from dR = dM(n) and with df_h = dR R_h:
    // dw_h(n) -= df_h . e_h, de_h -= w_h(n) df_h, dR *= f_h; dM_{t-1}(n) = dR (written over dM(n) in place).
    // Four heads per pass; R at the start of each block of four heads is kept per slot in STARTS (block 0's is
    // M_{t-1}(n) itself).
    const erase = at(field(record, ERASE), ko);
    const add = at(field(record, ADD), ko);
    transposeBlocks(at(field(record, WRITE + WEIGHTS), wo), scratch);
    memory.fill(dErase, 0, blockBytes);
    memory.fill(dAdd, 0, blockBytes);
    for (let n = 0; n < N; n++) {
      const previousSlot = at(previousSlots, n * WP);
      const dSlot = at(dSlots, n * WP);
      for (let g = 0; g < H; g += 4) {
        const four = fourAt(scratch, g, n);
        const w0 = v128.load32_splat(four), w1 = v128.load32_splat(four, 4), w2 = v128.load32_splat(four, 8), w3 = v128.load32_splat(four, 12);
        let a = blockAt(add, g);
        let q = blockAt(dAdd, g);
        let d0 = splat(0), d1 = splat(0), d2 = splat(0), d3 = splat(0);
        for (let v: usize = 0; v < rowBytes; v += 16, a += 64, q += 64) {
          const dm = v128.load(dSlot + v);
          d0 = f32x4.add(d0, f32x4.mul(dm, v128.load(a)));
          d1 = f32x4.add(d1, f32x4.mul(dm, v128.load(a, 16)));
          d2 = f32x4.add(d2, f32x4.mul(dm, v128.load(a, 32)));
          d3 = f32x4.add(d3, f32x4.mul(dm, v128.load(a, 48)));
          v128.store(q, f32x4.add(v128.load(q), f32x4.mul(w0, dm)));
          v128.store(q, f32x4.add(v128.load(q, 16), f32x4.mul(w1, dm)), 16);
          v128.store(q, f32x4.add(v128.load(q, 32), f32x4.mul(w2, dm)), 32);
          v128.store(q, f32x4.add(v128.load(q, 48), f32x4.mul(w3, dm)), 48);
        }
        scatter4(dots, g, n, sums4(d0, d1, d2, d3));
      }
      for (let g = 0; g < last; g += 4) {
        const four = fourAt(scratch, g, n);
        const w0 = v128.load32_splat(four), w1 = v128.load32_splat(four, 4), w2 = v128.load32_splat(four, 8), w3 = v128.load32_splat(four, 12);
        const source = g == 0 ? previousSlot : at(starts, (g >> 2) * WP);
        const target = at(starts, ((g >> 2) + 1) * WP);
        let e = blockAt(erase, g);
        for (let v: usize = 0; v < rowBytes; v += 16, e += 64) {
          let r = f32x4.mul(v128.load(source + v), f32x4.sub(splat(1), f32x4.mul(w0, v128.load(e))));
          r = f32x4.mul(r, f32x4.sub(splat(1), f32x4.mul(w1, v128.load(e, 16))));
          r = f32x4.mul(r, f32x4.sub(splat(1), f32x4.mul(w2, v128.load(e, 32))));
          v128.store(target + v, f32x4.mul(r, f32x4.sub(splat(1), f32x4.mul(w3, v128.load(e, 48)))));
        }
      }
      for (let g = last; g >= 0; g -= 4) {
        // Few live registers (V8 spills past 16): the weights are reloaded from TRANSPOSED (a broadcast load each)
        // and the erase vectors from the record, rather than kept.
        const four = fourAt(scratch, g, n);
        const source = g == 0 ? previousSlot : at(starts, (g >> 2) * WP);
        const one = splat(1);
        let e = blockAt(erase, g);
        let q = blockAt(dErase, g);
        let s0 = splat(0), s1 = splat(0), s2 = splat(0), s3 = splat(0);
        for (let v: usize = 0; v < rowBytes; v += 16, e += 64, q += 64) {
          const r0 = v128.load(source + v);
          const r1 = f32x4.mul(r0, f32x4.sub(one, f32x4.mul(v128.load32_splat(four), v128.load(e))));
          const r2 = f32x4.mul(r1, f32x4.sub(one, f32x4.mul(v128.load32_splat(four, 4), v128.load(e, 16))));
          const r3 = f32x4.mul(r2, f32x4.sub(one, f32x4.mul(v128.load32_splat(four, 8), v128.load(e, 32))));
          let dR = v128.load(dSlot + v);
          let x = v128.load(e, 48);
          let w = v128.load32_splat(four, 12);
          let dF = f32x4.mul(dR, r3);
          s3 = f32x4.add(s3, f32x4.mul(dF, x));
          v128.store(q, f32x4.sub(v128.load(q, 48), f32x4.mul(w, dF)), 48);
          dR = f32x4.mul(dR, f32x4.sub(one, f32x4.mul(w, x)));
          x = v128.load(e, 32);
          w = v128.load32_splat(four, 8);
          dF = f32x4.mul(dR, r2);
          s2 = f32x4.add(s2, f32x4.mul(dF, x));
          v128.store(q, f32x4.sub(v128.load(q, 32), f32x4.mul(w, dF)), 32);
          dR = f32x4.mul(dR, f32x4.sub(one, f32x4.mul(w, x)));
          x = v128.load(e, 16);
          w = v128.load32_splat(four, 4);
          dF = f32x4.mul(dR, r1);
          s1 = f32x4.add(s1, f32x4.mul(dF, x));
          v128.store(q, f32x4.sub(v128.load(q, 16), f32x4.mul(w, dF)), 16);
          dR = f32x4.mul(dR, f32x4.sub(one, f32x4.mul(w, x)));
          x = v128.load(e);
          w = v128.load32_splat(four);
          dF = f32x4.mul(dR, r0);
          s0 = f32x4.add(s0, f32x4.mul(dF, x));
          v128.store(q, f32x4.sub(v128.load(q), f32x4.mul(w, dF)));
          v128.store(dSlot + v, f32x4.mul(dR, f32x4.sub(one, f32x4.mul(w, x))));
        }
        const sums = sums4(s0, s1, s2, s3);
        setF32(dots, g * NP + n, f32At(dots, g * NP + n) - f32x4.extract_lane(sums, 0));
        setF32(dots, (g + 1) * NP + n, f32At(dots, (g + 1) * NP + n) - f32x4.extract_lane(sums, 1));
        setF32(dots, (g + 2) * NP + n, f32At(dots, (g + 2) * NP + n) - f32x4.extract_lane(sums, 2));
        setF32(dots, (g + 3) * NP + n, f32At(dots, (g + 3) * NP + n) - f32x4.extract_lane(sums, 3));
      }
    }
    // Write heads' addressing (dw^w: the write's, plus step t + 1's interpolation, carried), then the cosine's
    // slot side on the previous memory.
    memory.fill(dKeys, 0, blockBytes);
    memory.fill(dSlotNorms, 0, <usize>NP << 2);
    const writeRow = at(row, GROUP);
    const previousWrite = at(field(previous, WRITE + WEIGHTS), wo);
    invertNorms(previousNorms, scratch);
    for (let h = 0; h < H; h++) {
      const carried = at(carryWrite, wo + h * NP);
      for (let c = 0; c < NP; c += 4) put(dWeights, c, v128.and(f32x4.add(get(dots, h * NP + c), get(carried, c)), get(mask, c)));
      addressBackward(record, WRITE, b, h, dWeights, at(previousWrite, h * NP), at(dDots, h * NP), carried, writeRow, scratch);
    }
    cosineSlotsBackward(previousSlots, previousNorms, dSlots, at(field(record, WRITE + KEYS), ko), writeRow, scratch);
    // Erase e = sigmoid, add a = tanh.
    for (let h = 0; h < H; h++) {
      for (let w = 0; w < W; w++) {
        const i = interleaved(h, w);
        const e = f32At(erase, i);
        const a = f32At(add, i);
        setF32(row, 2 * GROUP + h * W + w, f32At(dErase, i) * e * (1 - e));
        setF32(row, 2 * GROUP + keySize + h * W + w, f32At(dAdd, i) * (1 - a * a));
      }
    }
  }
}

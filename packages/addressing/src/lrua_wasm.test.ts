import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectNormwiseClose, random, randomArray, refuseWasmCompilation } from './test_arrays';
import {
  lruaInitialRecord,
  lruaParameterSize,
  lruaStepBackward,
  lruaStepBackwardJs,
  lruaStepForward,
  lruaStepForwardJs,
  lruaZeroCarry,
  type LruaCarry,
  type LruaSizes,
  type LruaStepRecord,
} from './fast_lrua_cell';
import { lruaImplementation, setLruaImplementation } from './fast_lrua_wasm';
import { LRUA_WASM_BASE64 } from './lrua_wasm_bytes';

// Tolerance: the wasm step accumulates its sums in float32 (the JavaScript in float64, rounding once when it
// stores) and uses float32 exp and tanh, so each value may differ by a few float32 roundings (~6e-8 relative)
// of the terms summed into it: over 40-128 terms of order 1 that is ~1e-6. The error is measured against the
// largest value of each array (normwise), because dL/dM of a slot with a tiny norm (the unwritten slots of the
// initial memory, |m| ~ 6e-6) is a difference of nearly cancelling terms ~ 1/|m|: its error scales with those
// terms, not with the result (4e-4 on values ~100 at the paper's size). Worst measured: 8e-7; 2e-5 leaves a
// margin and is still far below any real mistake (a wrong index or sign changes values by order 1e-2 or more).
const TOLERANCE = 2e-5;

function expectClose(actual: Float32Array, expected: Float32Array, what: string): void {
  expectNormwiseClose(actual, expected, what, TOLERANCE);
}

function expectRecordsClose(actual: LruaStepRecord, expected: LruaStepRecord, what: string): void {
  expect(Array.from(actual.leastUsed), `${what} leastUsed`).toEqual(Array.from(expected.leastUsed));
  for (const field of Object.keys(expected) as Array<keyof LruaStepRecord>) expectClose(actual[field], expected[field], `${what} ${field}`);
}

function copyCarry(carry: LruaCarry): LruaCarry {
  return { memory: carry.memory.slice(), usage: carry.usage.slice(), readWeights: carry.readWeights.slice() };
}

// H not a multiple of 4 (1, 3, 5), N and W not multiples of 4, and the paper's sizes (H 4, N 128, W 40); heads
// that write separate add vectors, padded and at the paper's size; 4 heads (their own loops) on padded rows too.
const CASES: LruaSizes[] = [
  { batch: 2, heads: 1, slots: 5, width: 3, decay: 0.95 },
  { batch: 3, heads: 3, slots: 7, width: 6, decay: 0.9 },
  { batch: 2, heads: 5, slots: 9, width: 5, decay: 0.95 },
  { batch: 2, heads: 4, slots: 16, width: 8, decay: 0.99 },
  { batch: 2, heads: 4, slots: 128, width: 40, decay: 0.95 },
  { batch: 3, heads: 3, slots: 7, width: 6, decay: 0.9, writeVector: 'add' },
  { batch: 2, heads: 4, slots: 128, width: 40, decay: 0.95, writeVector: 'add' },
  { batch: 3, heads: 3, slots: 7, width: 6, decay: 0.9, writeVector: 'add', clearing: 'all-least-used' },
  { batch: 2, heads: 4, slots: 128, width: 40, decay: 0.95, clearing: 'all-least-used' },
  // 4 heads run the module's own slot loops (writeSlotsFourHeads and the three backward ones): here on padded rows.
  { batch: 2, heads: 4, slots: 9, width: 6, decay: 0.9, writeVector: 'add' },
];

// Mutation runs (vitest.mutation.config.ts sets MANN_MUTATION_RUN) leave out the paper-size cases: Stryker's
// instrumented JavaScript loops run them many times slower, and the smaller cases take the same branches.
const MUTATION_RUN = Boolean(process.env.MANN_MUTATION_RUN);
const RUN_PAPER_SIZE = !MUTATION_RUN;

describe('the WebAssembly LRUA step', () => {
  afterEach(() => setLruaImplementation('auto'));

  it('runs in Node by default, and setLruaImplementation switches it', () => {
    expect(lruaImplementation()).toBe('wasm');
    setLruaImplementation('js');
    expect(lruaImplementation()).toBe('js');
    setLruaImplementation('wasm');
    expect(lruaImplementation()).toBe('wasm');
    expect(() => setLruaImplementation('simd' as never)).toThrow(/expected 'auto', 'js' or 'wasm'/);
  });

  for (const sizes of CASES.filter((sizes) => RUN_PAPER_SIZE || sizes.slots < 128)) {
    it(`matches the JavaScript records and derivatives over 4 steps (B ${sizes.batch}, H ${sizes.heads}, N ${sizes.slots}, W ${sizes.width}, writing ${sizes.writeVector ?? 'key'}s, clearing ${sizes.clearing ?? 'least-used'})`, () => {
      const { batch, heads, slots, width } = sizes;
      const next = random(heads * 1000 + slots * 10 + width);
      const steps = 4;
      const parameters = Array.from({ length: steps }, () => randomArray(batch * lruaParameterSize(sizes), next, 3));
      setLruaImplementation('wasm');
      const start = lruaInitialRecord(sizes, 1e-6);
      if (sizes.clearing !== 'all-least-used') {
        // From the initial state, the slots the first step writes differ only by the 1e-6 the uncleared ones kept:
        // their usages tie to float rounding, and wasm and JavaScript may then rank them differently (both
        // right). A random memory and usage have no such ties. (Clearing the whole mask leaves exact ties, which
        // both break by the lower index, so those cases start from the initial state.)
        start.memory.set(randomArray(start.memory.length, next));
        start.usage.set(randomArray(start.usage.length, next).map((u) => u + 1));
      }
      const wasm = [start];
      const js = [start];
      for (let t = 0; t < steps; t++) {
        wasm.push(lruaStepForward(parameters[t], wasm[t], sizes));
        js.push(lruaStepForwardJs(parameters[t], js[t], sizes));
        expectRecordsClose(wasm[t + 1], js[t + 1], `step ${t}`);
      }
      // Backward from a random carry (as if later steps existed), through all steps.
      const carry = lruaZeroCarry(sizes);
      carry.memory.set(randomArray(carry.memory.length, next));
      carry.usage.set(randomArray(carry.usage.length, next));
      carry.readWeights.set(randomArray(carry.readWeights.length, next));
      const wasmCarry = copyCarry(carry);
      for (let t = steps - 1; t >= 0; t--) {
        const readGradient = randomArray(batch * heads * width, next);
        const wasmGradient = new Float32Array(parameters[t].length);
        const jsGradient = new Float32Array(parameters[t].length);
        lruaStepBackward(readGradient, wasm[t + 1], wasm[t], wasmCarry, sizes, wasmGradient);
        lruaStepBackwardJs(readGradient, js[t + 1], js[t], carry, sizes, jsGradient);
        expectClose(wasmGradient, jsGradient, `step ${t} dL/dparameters`);
        expectClose(wasmCarry.memory, carry.memory, `step ${t} dL/dM`);
        expectClose(wasmCarry.usage, carry.usage, `step ${t} dL/dw^u`);
        expectClose(wasmCarry.readWeights, carry.readWeights, `step ${t} dL/dw^r`);
      }
    });
  }

  it.each(['js', 'wasm'] as const)('%s: an episode whose usage is NaN (training diverged) marks slots of its own and no one else’s', (choice) => {
    // Episode 0: the two least used of [0.5, 0.1, 0.9, 0.3] are slots 1 and 3. Episode 1: no usage compares below
    // another, so the first free slots are taken, 0 and 1 (not an index before the episode's first slot).
    setLruaImplementation(choice);
    const sizes: LruaSizes = { batch: 2, heads: 2, slots: 4, width: 2, decay: 0.95 };
    const previous = lruaInitialRecord(sizes, 1e-6);
    previous.usage.set([0.5, 0.1, 0.9, 0.3, NaN, NaN, NaN, NaN]);
    const record = lruaStepForward(new Float32Array(2 * lruaParameterSize(sizes)), previous, sizes);
    expect(Array.from(record.leastUsed)).toEqual([0, 1, 0, 1, 1, 1, 0, 0]);
    expect(Array.from(record.cleared)).toEqual([0, 1, 0, 0, 1, 0, 0, 0]);
  });

  it('lays the module memory out anew when only what the heads write changes (keys, then add vectors, then keys)', () => {
    // Same B, H, N, W: the add vectors take parameters and a record field of their own, so the layout differs.
    const next = random(11);
    setLruaImplementation('wasm');
    for (const writeVector of ['key', 'add', 'key'] as const) {
      const sizes: LruaSizes = { batch: 2, heads: 2, slots: 5, width: 3, decay: 0.9, writeVector };
      const parameters = randomArray(sizes.batch * lruaParameterSize(sizes), next, 3);
      const start = lruaInitialRecord(sizes, 1e-6);
      expectRecordsClose(lruaStepForward(parameters, start, sizes), lruaStepForwardJs(parameters, start, sizes), `writing ${writeVector}s`);
    }
  });

  it("setLruaImplementation('wasm') runs the module forward and backward (its float32 sums round differently)", () => {
    const sizes = CASES[1];
    const parameters = randomArray(sizes.batch * lruaParameterSize(sizes), random(7), 3);
    const readGradient = randomArray(sizes.batch * sizes.heads * sizes.width, random(8));
    const differ = (a: Float32Array, b: Float32Array) => a.some((v, i) => v !== b[i]);
    setLruaImplementation('wasm');
    const wasm = lruaStepForward(parameters, lruaInitialRecord(sizes, 1e-6), sizes);
    const js = lruaStepForwardJs(parameters, lruaInitialRecord(sizes, 1e-6), sizes);
    expect(differ(wasm.reads, js.reads)).toBe(true);
    const wasmGradient = new Float32Array(parameters.length);
    const jsGradient = new Float32Array(parameters.length);
    lruaStepBackward(readGradient, wasm, lruaInitialRecord(sizes, 1e-6), lruaZeroCarry(sizes), sizes, wasmGradient);
    lruaStepBackwardJs(readGradient, wasm, lruaInitialRecord(sizes, 1e-6), lruaZeroCarry(sizes), sizes, jsGradient);
    expect(differ(wasmGradient, jsGradient)).toBe(true);
  });

  it('keeps no add vectors in the records of heads that write their keys', () => {
    expect(lruaInitialRecord(CASES[1], 1e-6).adds).toHaveLength(0);
    expect(lruaInitialRecord(CASES[5], 1e-6).adds).toHaveLength(3 * 3 * 6);
    for (const choice of ['js', 'wasm'] as const) {
      setLruaImplementation(choice);
      const sizes = CASES[1];
      const record = lruaStepForward(new Float32Array(sizes.batch * lruaParameterSize(sizes)), lruaInitialRecord(sizes, 1e-6), sizes);
      expect(record.adds, choice).toHaveLength(0);
    }
  });

  it("setLruaImplementation('js') runs the JavaScript loops (same numbers, bit for bit)", () => {
    const sizes = CASES[1];
    const parameters = randomArray(sizes.batch * (sizes.heads * sizes.width + sizes.heads), random(7), 3);
    setLruaImplementation('js');
    const viaSwitch = lruaStepForward(parameters, lruaInitialRecord(sizes, 1e-6), sizes);
    const direct = lruaStepForwardJs(parameters, lruaInitialRecord(sizes, 1e-6), sizes);
    expect(Array.from(viaSwitch.reads)).toEqual(Array.from(direct.reads));
    expect(Array.from(viaSwitch.memory)).toEqual(Array.from(direct.memory));
  });

  it('falls back to JavaScript where the module does not compile (as on a browser main thread)', async () => {
    refuseWasmCompilation();
    try {
      const cell = await import('./fast_lrua_cell');
      const choice = await import('./fast_lrua_wasm');
      const sizes = CASES[1];
      const parameters = randomArray(sizes.batch * (sizes.heads * sizes.width + sizes.heads), random(3), 3);
      expect(choice.lruaImplementation()).toBe('js');
      const fallback = cell.lruaStepForward(parameters, cell.lruaInitialRecord(sizes, 1e-6), sizes);
      expect(Array.from(fallback.reads)).toEqual(Array.from(lruaStepForwardJs(parameters, lruaInitialRecord(sizes, 1e-6), sizes).reads));
      choice.setLruaImplementation('wasm');
      expect(() => cell.lruaStepForward(parameters, cell.lruaInitialRecord(sizes, 1e-6), sizes)).toThrow(/'wasm', which cannot run here: RangeError/);
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });

  // Not in mutation runs: it compiles assembly/, which no mutant of src/ changes.
  it.skipIf(MUTATION_RUN)('is built from assembly/lrua.ts as committed (src/lrua_wasm_bytes.ts is up to date)', async () => {
    // Imported here, not at the top: the AssemblyScript compiler takes a second or more to load, which every other
    // test of this file (and every mutation run that includes it) would pay.
    // @ts-expect-error: a plain .mjs build script without types
    const { compileLruaWasm } = await import('../scripts/wasm.mjs');
    const binary: Uint8Array = await compileLruaWasm();
    expect(Buffer.from(binary).toString('base64')).toBe(LRUA_WASM_BASE64);
  });
});

import { afterEach, describe, expect, it, vi } from 'vitest';
import { normwiseError, random, randomArray, refuseWasmCompilation } from './test_arrays';
import { NtmJsRun, ntmFast, ntmSizes, type NtmCarry, type NtmSizes, type NtmStepRecord } from './fast_ntm';
import { activeNtmWasm, NtmWasm, ntmImplementation, setNtmImplementation, setNtmWasmMemoryBudget, type NtmWasmRun } from './fast_ntm_wasm';
import { NTM_WASM_BASE64 } from './ntm_wasm_bytes';

// Tolerance. The wasm run computes in float32 throughout, with f32x4 polynomials for exp, log and tanh (Cephes'
// expf, logf, tanhf: ~1e-7 relative), where the JavaScript works in float64 between its float32 arrays. Each value
// may then differ by a few float32 roundings (~6e-8 relative) of the terms summed into it, and the sharpening
// w^gamma multiplies a relative difference of w by gamma, so over steps of weights and memory feeding the next a
// difference of ~1e-6 of an array's largest value is expected, more in the gradients (dL/dw~ = dz gamma /
// (w~ + 1e-8) magnifies it where w~ is small). Measured against the largest value of each array (normwise: dL/dM
// of a slot whose norm is tiny, and the gradients of keys that are ~0, are differences of nearly cancelling terms
// whose rounding error scales with those terms, not with the result), as max |wasm - js| / (1 + max |js|): worst
// over these cases 4.5e-7 (records and reads) and 3.9e-6 (gradients and carries); over 15 seeds of each case and
// 8 steps, 1.2e-6 and 3.6e-6, and with parameters twice as large (sharper weights, larger gamma) 2.0e-6 and
// 1.4e-5. 2e-5 leaves a margin over these inputs and stays far below a real mistake: breaking one term of the
// wasm (the erase's gradient sign, the shift's direction backward, g for 1 - g in the carry, the slot norms'
// gradient, a head's read gradient) failed 7 to 20 of the tests here and in fast_ntm.test.ts.
const TOLERANCE = 2e-5;

let worst = { forward: 0, backward: 0 };

/** Compares normwise with TOLERANCE (and keeps the worst error for the report below), or with another `tolerance`. */
function expectClose(actual: Float32Array, expected: Float32Array, what: string, kind: 'forward' | 'backward', tolerance = TOLERANCE): void {
  const error = normwiseError(actual, expected, what);
  if (tolerance === TOLERANCE) worst[kind] = Math.max(worst[kind], error);
  expect(error, what).toBeLessThanOrEqual(tolerance);
}

function expectRecordsClose(actual: NtmStepRecord, expected: NtmStepRecord, what: string, tolerance = TOLERANCE): void {
  for (const group of ['read', 'write'] as const) {
    for (const [name, values] of Object.entries(expected[group])) {
      expectClose(actual[group][name as keyof NtmStepRecord['read']], values as Float32Array, `${what} ${group}.${name}`, 'forward', tolerance);
    }
  }
  for (const name of ['erase', 'add', 'memory', 'slotNorms'] as const) expectClose(actual[name], expected[name], `${what} ${name}`, 'forward', tolerance);
}

function expectCarriesClose(actual: NtmCarry | null, expected: NtmCarry | null, what: string): void {
  expect(actual, what).not.toBeNull();
  for (const name of ['memory', 'readWeights', 'writeWeights'] as const) expectClose(actual![name], expected![name], `${what} carry.${name}`, 'backward');
}

function wasmRun(sizes: NtmSizes, initialValue: number): NtmWasmRun {
  setNtmImplementation('wasm');
  return activeNtmWasm()!.start(sizes, initialValue);
}

interface Case {
  batch: number;
  heads: number;
  slots: number;
  width: number;
  shifts: number;
  initialValue: number;
}

// Heads not a multiple of 4 (1, 2, 3, 5, 7: a padded block of four, or a full one and a padded one), slots and
// width not multiples of 4, S = 1, 3, 5, memory starting at 1e-6 (the models' default), 0.5 or 0 (every first
// cosine 0 / the epsilon-guarded norms), and the paper's sizes (H 4, N 128, W 40, S 3).
const CASES: Case[] = [
  { batch: 2, heads: 1, slots: 5, width: 3, shifts: 1, initialValue: 1e-6 },
  { batch: 3, heads: 3, slots: 7, width: 6, shifts: 3, initialValue: 1e-6 },
  { batch: 2, heads: 5, slots: 9, width: 5, shifts: 5, initialValue: 0.5 },
  { batch: 2, heads: 2, slots: 6, width: 4, shifts: 5, initialValue: 0 },
  { batch: 2, heads: 7, slots: 11, width: 9, shifts: 3, initialValue: 1e-6 },
  { batch: 2, heads: 4, slots: 16, width: 8, shifts: 1, initialValue: 1e-6 },
  { batch: 2, heads: 4, slots: 128, width: 40, shifts: 3, initialValue: 1e-6 },
];

// Mutation runs (vitest.mutation.config.ts sets MANN_MUTATION_RUN) leave out the paper-size cases: Stryker's
// instrumented JavaScript loops run them many times slower, and the smaller cases take the same branches.
const MUTATION_RUN = Boolean(process.env.MANN_MUTATION_RUN);
const RUN_PAPER_SIZE = !MUTATION_RUN;
const STEPS = 5;

/** Parameters (uniform, +-1.5 * scale) and read gradients for every step of a case. */
function inputs(sizes: NtmSizes, seed: number, scale = 3) {
  const next = random(seed);
  return {
    parameters: Array.from({ length: STEPS }, () => randomArray(sizes.batch * sizes.parameterSize, next, scale)),
    readGradients: Array.from({ length: STEPS }, () => randomArray(sizes.batch * sizes.heads * sizes.width, next)),
  };
}

describe('the WebAssembly NTM addressing run', () => {
  afterEach(() => {
    setNtmImplementation('auto');
    setNtmWasmMemoryBudget(256 * 1024 * 1024);
  });

  it('runs in Node by default, and setNtmImplementation switches it', () => {
    expect(ntmImplementation()).toBe('wasm');
    setNtmImplementation('js');
    expect(ntmImplementation()).toBe('js');
    expect(activeNtmWasm()).toBeNull();
    setNtmImplementation('wasm');
    expect(ntmImplementation()).toBe('wasm');
    expect(() => setNtmImplementation('simd' as never)).toThrow(/expected 'auto', 'js' or 'wasm'/);
  });

  for (const c of CASES.filter((c) => RUN_PAPER_SIZE || c.slots < 128)) {
    it(`matches the JavaScript records, reads and derivatives over ${STEPS} steps (B ${c.batch}, H ${c.heads}, N ${c.slots}, W ${c.width}, S ${c.shifts}, memory from ${c.initialValue})`, () => {
      const sizes = ntmSizes(c.batch, c.heads, c.slots, c.width, c.shifts);
      const { parameters, readGradients } = inputs(sizes, c.heads * 1000 + c.slots * 10 + c.width);
      const wasm = wasmRun(sizes, c.initialValue);
      const js = new NtmJsRun(sizes, c.initialValue);
      expectRecordsClose(wasm.record(0), js.records[0], 'initial');
      for (let t = 0; t < STEPS; t++) {
        expectClose(wasm.forward(parameters[t]), js.forward(parameters[t]), `step ${t} reads`, 'forward');
        expectRecordsClose(wasm.record(t + 1), js.records[t + 1], `step ${t}`);
      }
      // Not vacuous: the memory was written, and the weights are far from uniform.
      const memory = js.records[STEPS].memory;
      expect(Math.max(...memory.map(Math.abs))).toBeGreaterThan(0.05);
      const weights = js.records[STEPS].read.weights;
      expect(Math.max(...weights) - Math.min(...weights)).toBeGreaterThan(0.02);
      for (let t = STEPS - 1; t >= 0; t--) {
        expectClose(wasm.backward(readGradients[t], t), js.backward(readGradients[t], t), `step ${t} dL/dparameters`, 'backward');
        if (t > 0) expectCarriesClose(wasm.carry(), js.carry, `step ${t}`);
      }
    });
  }

  it('matches the JavaScript with zero keys, where the cosine’s epsilon sets the gradient', () => {
    // tanh(0) = 0: the key's norm is sqrt(0 + 1e-16) = 1e-8 and its gradient ~1e7 (see fast_ntm.test.ts).
    const sizes = ntmSizes(2, 2, 6, 3, 3);
    const { parameters, readGradients } = inputs(sizes, 61);
    for (const p of parameters) {
      for (let b = 0; b < sizes.batch; b++) {
        for (const at of [0, sizes.groupSize + 3]) p.fill(0, b * sizes.parameterSize + at, b * sizes.parameterSize + at + 3);
      }
    }
    const wasm = wasmRun(sizes, 1e-6);
    const js = new NtmJsRun(sizes, 1e-6);
    for (let t = 0; t < STEPS; t++) expectClose(wasm.forward(parameters[t]), js.forward(parameters[t]), `step ${t} reads`, 'forward');
    for (let t = STEPS - 1; t >= 0; t--) {
      const expected = js.backward(readGradients[t], t);
      if (t > 0) expect(Math.max(...expected.map(Math.abs))).toBeGreaterThan(1e5);
      expectClose(wasm.backward(readGradients[t], t), expected, `step ${t} dL/dparameters`, 'backward');
    }
  });

  it('matches the JavaScript with saturated parameters (up to +-750), where a naive softplus or softmax overflows', () => {
    // Strengths and sharpenings up to 750: softplus(x) must be x + log1p(exp(-x)) for x > 0 and log1p(exp(x)) below
    // (exp(750) is Infinity in float64), and each softmax must subtract its largest logit (beta * cos spans 1500,
    // gamma * log(w~ + 1e-8) down to -14000). Every value stays finite. The forward matches to 2e-4: a strength beta
    // multiplies the cosine's float32 rounding (~1e-7) in the content softmax's logits, so at beta ~ 750 the content
    // weights differ by ~1e-4 relative (measured max |difference| / (1 + max |js|): 1.3e-5, in write.content). The
    // gradients are only checked finite: dL/dw~ = dz gamma / (w~ + 1e-8) multiplies the rounding of a w~ near 1e-8 by
    // up to ~1e11 (wasm and JavaScript differ by 3.4e-5 here). A naive softplus or softmax gives Infinity or NaN.
    const SATURATED_TOLERANCE = 2e-4;
    const sizes = ntmSizes(2, 3, 7, 4, 3);
    const { parameters, readGradients } = inputs(sizes, 5, 1500);
    const wasm = wasmRun(sizes, 1e-6);
    const js = new NtmJsRun(sizes, 1e-6);
    for (let t = 0; t < STEPS; t++) {
      const reads = js.forward(parameters[t]);
      expect(reads.every(Number.isFinite), `step ${t} reads finite`).toBe(true);
      expectClose(wasm.forward(parameters[t]), reads, `step ${t} reads`, 'forward', SATURATED_TOLERANCE);
      expectRecordsClose(wasm.record(t + 1), js.records[t + 1], `step ${t}`, SATURATED_TOLERANCE);
    }
    // Not vacuous: strength and sharpening parameters beyond +709 and below -709, where exp overflows.
    const { heads, width, shifts, groupSize, parameterSize } = sizes;
    const softplusInputs = parameters.flatMap((p) =>
      [0, 1].flatMap((b) =>
        [0, groupSize].flatMap((group) =>
          Array.from({ length: heads }, (_, h) => {
            const base = b * parameterSize + group + heads * width;
            return [p[base + h], p[base + 2 * heads + heads * shifts + h]];
          }).flat(),
        ),
      ),
    );
    expect(Math.max(...softplusInputs)).toBeGreaterThan(709);
    expect(Math.min(...softplusInputs)).toBeLessThan(-709);
    for (let t = STEPS - 1; t >= 0; t--) {
      expect(js.backward(readGradients[t], t).every(Number.isFinite), `step ${t} gradient finite (JavaScript)`).toBe(true);
      expect(wasm.backward(readGradients[t], t).every(Number.isFinite), `step ${t} gradient finite (wasm)`).toBe(true);
    }
  });

  it('runs interleaved runs of different sizes, and gives the same numbers with its blocks spilled out of the module and back', () => {
    const small = ntmSizes(2, 3, 7, 6, 3);
    const large = ntmSizes(2, 4, 16, 8, 3);
    const a = inputs(small, 5);
    const b = inputs(large, 6);
    const reference = (sizes: NtmSizes, data: ReturnType<typeof inputs>) => {
      const run = wasmRun(sizes, 1e-6);
      const reads = data.parameters.map((p) => run.forward(p));
      const gradients = data.readGradients.map((_, i) => run.backward(data.readGradients[STEPS - 1 - i], STEPS - 1 - i));
      return { reads, gradients };
    };
    const expectedA = reference(small, a);
    const expectedB = reference(large, b);
    // Two runs step by step in turn, with everything spilled to JavaScript now and then; and a budget of 0 bytes,
    // so that every allocation first spills the other run.
    setNtmWasmMemoryBudget(0);
    const runA = wasmRun(small, 1e-6);
    const runB = wasmRun(large, 1e-6);
    for (let t = 0; t < STEPS; t++) {
      expect(Array.from(runA.forward(a.parameters[t]))).toEqual(Array.from(expectedA.reads[t]));
      if (t === 2) runA.spill();
      expect(Array.from(runB.forward(b.parameters[t]))).toEqual(Array.from(expectedB.reads[t]));
    }
    runB.spill();
    for (let i = 0; i < STEPS; i++) {
      const t = STEPS - 1 - i;
      expect(Array.from(runB.backward(b.readGradients[t], t))).toEqual(Array.from(expectedB.gradients[i]));
      if (t === 3) runA.spill();
      expect(Array.from(runA.backward(a.readGradients[t], t))).toEqual(Array.from(expectedA.gradients[i]));
    }
  });

  it('frees a run’s memory as backward goes, and reuses it: training runs do not grow the module', () => {
    const sizes = ntmSizes(2, 4, 32, 8, 3);
    const data = inputs(sizes, 9);
    const wasm = activeNtmWasm()!;
    const train = () => {
      const run = wasmRun(sizes, 1e-6);
      for (const p of data.parameters) run.forward(p);
      for (let t = STEPS - 1; t >= 0; t--) run.backward(data.readGradients[t], t);
    };
    const before = wasm.memoryUse(); // runs of other tests may still hold blocks
    train();
    const after = wasm.memoryUse();
    expect(after.held).toBe(before.held);
    expect(after.runs).toBe(before.runs);
    for (let i = 0; i < 5; i++) train();
    expect(wasm.memoryUse().bytes).toBe(after.bytes);
    // An abandoned run (forward only) keeps its blocks until it is collected, or until the budget spills it.
    const abandoned = wasmRun(sizes, 1e-6);
    for (const p of data.parameters) abandoned.forward(p);
    expect(wasm.memoryUse().runs).toBe(after.runs + 1);
    setNtmWasmMemoryBudget(0);
    train(); // spills every other run first
    expect(wasm.memoryUse().runs).toBe(0);
    expect(wasm.memoryUse().held).toBe(0);
    // And the abandoned run still works, from its spilled blocks.
    const js = new NtmJsRun(sizes, 1e-6);
    for (const p of data.parameters) js.forward(p);
    expectClose(abandoned.backward(data.readGradients[STEPS - 1], STEPS - 1), js.backward(data.readGradients[STEPS - 1], STEPS - 1), 'abandoned run', 'backward');
  });

  it('where the memory cannot grow, spills a run’s older records to go on, and says what to do when even that is not enough', () => {
    // A module of its own, whose memory (64 KB to start with) refuses to grow, as at the 4 GB limit.
    const bytes = Uint8Array.from(atob(NTM_WASM_BASE64), (c) => c.charCodeAt(0));
    const exports = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports as unknown as ConstructorParameters<typeof NtmWasm>[0];
    const refusal = 'WebAssembly.Memory.grow(): Maximum memory size exceeded';
    Object.defineProperty(exports.memory, 'grow', {
      value: () => {
        throw new RangeError(refusal);
      },
    });
    const cramped = new NtmWasm(exports);
    const initialBytes = cramped.memoryUse().bytes;
    // 30 steps of 4.4 KB records: more than fit, so older records go to JavaScript arrays and come back for backward.
    const sizes = ntmSizes(2, 3, 7, 6, 3);
    const steps = 30;
    const next = random(21);
    const parameters = Array.from({ length: steps }, () => randomArray(sizes.batch * sizes.parameterSize, next, 3));
    const readGradients = Array.from({ length: steps }, () => randomArray(sizes.batch * sizes.heads * sizes.width, next));
    const reference = wasmRun(sizes, 1e-6);
    const run = cramped.start(sizes, 1e-6);
    for (let t = 0; t < steps; t++) expect(Array.from(run.forward(parameters[t])), `step ${t}`).toEqual(Array.from(reference.forward(parameters[t])));
    expect(cramped.memoryUse().bytes).toBe(initialBytes);
    expect(steps * cramped.configure(sizes).recordFloats * 4).toBeGreaterThan(initialBytes);
    for (let t = steps - 1; t >= 0; t--) {
      expect(Array.from(run.backward(readGradients[t], t)), `step ${t} backward`).toEqual(Array.from(reference.backward(readGradients[t], t)));
    }
    // A record larger than the whole memory: nothing to spill.
    const paper = ntmSizes(2, 4, 128, 40, 3);
    const base = Math.ceil(exports.heapBase() / 16) * 4;
    const missing = (base + cramped.configure(paper).recordFloats) * 4 - initialBytes;
    expect(() => cramped.start(paper, 1e-6)).toThrow(
      `ntm.fast (wasm): cannot grow the WebAssembly memory by ${missing} bytes (RangeError: ${refusal}); use setNtmImplementation('js') or MANN_NTM=js.`,
    );
  });

  it("ntm.fast with setNtmImplementation('js') runs the JavaScript loops (same numbers, bit for bit)", () => {
    const options = { memory: { slots: 7, width: 6, initialValue: 1e-6 }, heads: 3, shifts: 3 };
    const sizes = ntmSizes(2, 3, 7, 6, 3);
    const { parameters, readGradients } = inputs(sizes, 17);
    setNtmImplementation('js');
    const viaSwitch = ntmFast(options).start(2);
    const direct = new NtmJsRun(sizes, 1e-6);
    for (const p of parameters) expect(Array.from(viaSwitch.forward(p))).toEqual(Array.from(direct.forward(p)));
    for (let t = STEPS - 1; t >= 0; t--) expect(Array.from(viaSwitch.backward(readGradients[t]))).toEqual(Array.from(direct.backward(readGradients[t], t)));
    // A run keeps the implementation it started with.
    setNtmImplementation('wasm');
    const wasmStarted = ntmFast(options).start(2);
    setNtmImplementation('js');
    const reads = wasmStarted.forward(parameters[0]);
    expect(Array.from(reads)).not.toEqual(Array.from(new NtmJsRun(sizes, 1e-6).forward(parameters[0]))); // float32 vs float64 rounding
  });

  it('falls back to JavaScript where the module does not compile (as on a browser main thread)', async () => {
    refuseWasmCompilation();
    try {
      const fast = await import('./fast_ntm');
      const choice = await import('./fast_ntm_wasm');
      const options = { memory: { slots: 7, width: 6, initialValue: 1e-6 }, heads: 3, shifts: 3 };
      const sizes = fast.ntmSizes(2, 3, 7, 6, 3);
      const { parameters } = inputs(sizes, 3);
      expect(choice.ntmImplementation()).toBe('js');
      const fallback = fast.ntmFast(options).start(2).forward(parameters[0]);
      expect(Array.from(fallback)).toEqual(Array.from(new NtmJsRun(sizes, 1e-6).forward(parameters[0])));
      choice.setNtmImplementation('wasm');
      expect(() => fast.ntmFast(options).start(2)).toThrow(/'wasm', which cannot run here: RangeError/);
    } finally {
      vi.unstubAllGlobals();
      vi.resetModules();
    }
  });

  it('reads MANN_NTM from the environment, and refuses an unknown value', async () => {
    try {
      for (const [value, expected] of [['js', 'js'], ['wasm', 'wasm'], ['auto', 'wasm'], ['', 'wasm']] as const) {
        vi.resetModules();
        vi.stubEnv('MANN_NTM', value);
        const choice = await import('./fast_ntm_wasm');
        expect(choice.ntmImplementation(), `MANN_NTM=${value}`).toBe(expected);
      }
      vi.resetModules();
      vi.stubEnv('MANN_NTM', 'simd');
      await expect(import('./fast_ntm_wasm')).rejects.toThrow('MANN_NTM must be one of auto, js, wasm; got "simd".');
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });

  // Not in mutation runs: it compiles assembly/, which no mutant of src/ changes.
  it.skipIf(MUTATION_RUN)('is built from assembly/ntm.ts as committed (src/ntm_wasm_bytes.ts is up to date)', async () => {
    // Imported here, not at the top: the AssemblyScript compiler takes a second or more to load, which every other
    // test of this file (and every mutation run that includes it) would pay.
    // @ts-expect-error: a plain .mjs build script without types
    const { compileNtmWasm } = await import('../scripts/wasm.mjs');
    const binary: Uint8Array = await compileNtmWasm();
    expect(Buffer.from(binary).toString('base64')).toBe(NTM_WASM_BASE64);
  });

  it('reports the worst differences it measured (for the tolerance above)', () => {
    console.log(`ntm wasm vs js, max |difference| / (1 + max |js|): forward ${worst.forward.toExponential(2)}, backward ${worst.backward.toExponential(2)}`);
    worst = { forward: 0, backward: 0 };
  });
});

import { loadavg } from 'node:os';
import { describe, expect, it } from 'vitest';
import { lruaInitialRecord, lruaStepBackward, lruaStepBackwardJs, lruaStepForward, lruaStepForwardJs, lruaZeroCarry, type LruaSizes } from './fast_lrua_cell';
import { setLruaImplementation } from './fast_lrua_wasm';

// Times the LRUA step alone, JavaScript against WebAssembly, at the paper's sizes (docs/benchmarks.md). Skipped
// unless MANN_LRUA_TIMING=1, since it only measures:
//   cd packages/addressing && MANN_LRUA_TIMING=1 npx vitest run src/lrua_step.timing.test.ts
// The four calls alternate within each repetition, so a machine's changing load hits them alike; the first
// fifth of the repetitions (JIT warm-up) is dropped and the median of the rest reported.
const REPETITIONS = Number(process.env.MANN_LRUA_TIMING_REPS ?? 300);

function median(values: number[]): number {
  return values.slice().sort((a, b) => a - b)[values.length >> 1];
}

describe.skipIf(!process.env.MANN_LRUA_TIMING)('LRUA step timing', () => {
  it('JavaScript against WebAssembly SIMD, B 16, H 4, N 128, W 40', () => {
    setLruaImplementation('wasm');
    const sizes: LruaSizes = { batch: 16, heads: 4, slots: 128, width: 40, decay: 0.95 };
    let state = 5;
    const next = () => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return state / 2 ** 32 - 0.5;
    };
    const parameterSize = sizes.batch * (sizes.heads * sizes.width + sizes.heads);
    const parameters = () => Float32Array.from({ length: parameterSize }, () => 3 * next());
    let previous = lruaInitialRecord(sizes, 1e-6);
    for (let t = 0; t < 5; t++) previous = lruaStepForwardJs(parameters(), previous, sizes); // a used memory
    const input = parameters();
    const record = lruaStepForwardJs(input, previous, sizes);
    const readGradient = Float32Array.from({ length: sizes.batch * sizes.heads * sizes.width }, next);
    const start = lruaZeroCarry(sizes);
    start.memory.forEach((_, i) => (start.memory[i] = next()));
    const carry = lruaZeroCarry(sizes);
    const gradient = new Float32Array(parameterSize);
    const time = (run: () => void, samples: number[]) => {
      carry.memory.set(start.memory);
      carry.usage.set(start.usage);
      carry.readWeights.set(start.readWeights);
      const t0 = performance.now();
      run();
      samples.push(performance.now() - t0);
    };
    const ms = { forwardJs: [] as number[], forwardWasm: [] as number[], backwardJs: [] as number[], backwardWasm: [] as number[] };
    for (let i = 0; i < REPETITIONS; i++) {
      time(() => lruaStepForwardJs(input, previous, sizes), ms.forwardJs);
      time(() => lruaStepForward(input, previous, sizes), ms.forwardWasm);
      time(() => lruaStepBackwardJs(readGradient, record, previous, carry, sizes, gradient), ms.backwardJs);
      time(() => lruaStepBackward(readGradient, record, previous, carry, sizes, gradient), ms.backwardWasm);
    }
    const m = Object.fromEntries(Object.entries(ms).map(([name, samples]) => [name, median(samples.slice(REPETITIONS / 5))])) as Record<keyof typeof ms, number>;
    const both = (js: number, wasm: number) => `js ${js.toFixed(3)} ms, wasm ${wasm.toFixed(3)} ms (${(js / wasm).toFixed(2)}x)`;
    console.log(
      `LRUA step, median of ${REPETITIONS - REPETITIONS / 5} repetitions: forward ${both(m.forwardJs, m.forwardWasm)}; ` +
        `backward ${both(m.backwardJs, m.backwardWasm)}; both ${both(m.forwardJs + m.backwardJs, m.forwardWasm + m.backwardWasm)}; ` +
        `load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    );
    setLruaImplementation('auto');
    expect(m.forwardWasm).toBeGreaterThan(0);
  });
});

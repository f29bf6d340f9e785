// The README's "Fast implementation" example, run: the code between the README markers below must appear in
// README.md word for word (checked by the first test), so the README cannot drift from code that works.
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { differentiatedController, glorotUniform, type Controller, type ControllerRun } from './index';
import { expectSameRollout, fastRollout, makeProblem, plainRollout } from './fast_test_helpers';

// README:begin
/** A tanh RNN, h_t = tanh([x_t, h_{t-1}] · kernel + bias), with a hand-written fast path. */
function tanhRnn(inputSize: number, units: number, seed = 0): Controller<{ h: tf.Tensor2D }> {
  const initial = glorotUniform([inputSize + units, units], seed);
  const variables = { kernel: tf.variable(initial, true), bias: tf.variable(tf.zeros([units]), true) };
  initial.dispose();
  const rows = inputSize + units; // kernel rows: [x; h]
  return {
    name: 'tanh-rnn',
    inputSize,
    outputSize: units,
    variables,
    initialState: (batchSize) => ({ h: tf.zeros([batchSize, units]) }),
    step: (input, { h }) => {
      const next = tf.tanh(tf.add(tf.matMul(tf.concat([input, h], 1), variables.kernel), variables.bias)) as tf.Tensor2D;
      return { output: next, state: { h: next } };
    },
    dispose: () => Object.values(variables).forEach((v) => v.dispose()),
    fast: {
      start(known, steps, batch): ControllerRun {
        const knownSize = known.shape[1];
        const fedSize = inputSize - knownSize;
        const kernel = variables.kernel.dataSync(); // read once: the run sees the weights of its start
        const bias = variables.bias.dataSync();
        const knownValues = known.dataSync();
        const xs: Float32Array[] = []; // xs[t]: [x_t, h_{t-1}], [B, rows]
        const hs: Float32Array[] = []; // hs[t]: h_t, [B, units]
        const dKernel = new Float32Array(rows * units);
        const dBias = new Float32Array(units);
        const dhCarried = new Float32Array(batch * units); // dL/dh_t through step t + 1
        return {
          forward(fed) {
            const t = hs.length;
            const x = new Float32Array(batch * rows);
            const h = new Float32Array(batch * units);
            for (let b = 0; b < batch; b++) {
              x.set(knownValues.subarray((t * batch + b) * knownSize, (t * batch + b + 1) * knownSize), b * rows);
              x.set(fed.subarray(b * fedSize, (b + 1) * fedSize), b * rows + knownSize);
              if (t > 0) x.set(hs[t - 1].subarray(b * units, (b + 1) * units), b * rows + inputSize);
              for (let j = 0; j < units; j++) {
                let z = bias[j];
                for (let i = 0; i < rows; i++) z += x[b * rows + i] * kernel[i * units + j];
                h[b * units + j] = Math.tanh(z);
              }
            }
            xs.push(x);
            hs.push(h);
            return h.slice();
          },
          backward(outputGradient) {
            const t = xs.length - 1;
            const x = xs.pop()!;
            const h = hs[t];
            const dx = new Float32Array(batch * rows);
            for (let b = 0; b < batch; b++) {
              for (let j = 0; j < units; j++) {
                const k = b * units + j;
                const dz = (outputGradient[k] + dhCarried[k]) * (1 - h[k] * h[k]);
                dBias[j] += dz;
                for (let i = 0; i < rows; i++) {
                  dKernel[i * units + j] += x[b * rows + i] * dz;
                  dx[b * rows + i] += kernel[i * units + j] * dz;
                }
              }
            }
            const fedGradient = new Float32Array(batch * fedSize);
            for (let b = 0; b < batch; b++) {
              fedGradient.set(dx.subarray(b * rows + knownSize, b * rows + inputSize), b * fedSize);
              dhCarried.set(dx.subarray(b * rows + inputSize, (b + 1) * rows), b * units);
            }
            return fedGradient;
          },
          gradients: () => ({ kernel: tf.tensor2d(dKernel, [rows, units]), bias: tf.tensor1d(dBias) }),
        };
      },
    },
  };
}
// README:end

describe('the README example', () => {
  it('appears in README.md word for word', () => {
    const source = readFileSync(new URL('./readme_fast_rnn.test.ts', import.meta.url), 'utf8');
    const example = source.split('// README:begin\n')[1].split('// README:end')[0];
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(example);
  });

  describe.each(['cpu', 'wasm'] as const)('on %s', (backend) => {
    beforeAll(async () => {
      await useBackend(backend);
    });
    afterAll(async () => {
      await useBackend('cpu');
    });

    it.each([
      ['known 3 + fed 2', 3],
      ['known 5, fed 0', 5],
    ])('its fast path agrees with its own step and tfjs autodiff, and so with differentiatedController (%s)', (_, knownSize) => {
      const rnn = tanhRnn(5, 4, 1);
      tf.tidy(() => rnn.variables.bias.assign(tf.linspace(-0.4, 0.4, 4)));
      const problem = makeProblem(rnn, 8, 3, knownSize, 31);
      const plain = plainRollout(rnn, problem);
      const before = tf.memory().numTensors;
      expectSameRollout(fastRollout(rnn.fast!, problem), plain, ['kernel', 'bias']);
      expectSameRollout(fastRollout(differentiatedController(rnn), problem), plain, ['kernel', 'bias']);
      expect(tf.memory().numTensors).toBe(before);
      rnn.dispose();
    });

    it('runs as the README shows', () => {
      // README:usage-begin
      const rnn = tanhRnn(3, 4, 1);
      const steps = 2;
      const batch = 5;
      const known = tf.randomUniform([steps * batch, 2]) as tf.Tensor2D; // input columns 0-1 of every step
      const run = rnn.fast!.start(known, steps, batch);
      const h0 = run.forward(new Float32Array(batch).fill(0.5)); // input column 2 of step 0 -> h_0 [5, 4]
      const h1 = run.forward(new Float32Array(batch).fill(-0.5)); // ... of step 1, which may depend on h_0
      const dFed1 = run.backward(new Float32Array(batch * 4).fill(1)); // L = sum(h_0) + sum(h_1): dL/dh_1 = 1
      const dFed0 = run.backward(new Float32Array(batch * 4).fill(1)); // dL/dh_0 = 1 (+ through h_1, carried)
      const grads = run.gradients(known); // { kernel, bias }: dL/d(each variable), new tensors
      tf.dispose([known, ...Object.values(grads)]);
      rnn.dispose();
      // README:usage-end
      expect([h0.length, h1.length, dFed0.length, dFed1.length]).toEqual([20, 20, 5, 5]);
      const source = readFileSync(new URL('./readme_fast_rnn.test.ts', import.meta.url), 'utf8');
      const usage = source.split('// README:usage-begin\n')[1].split('      // README:usage-end')[0].replace(/^ {6}/gm, '');
      expect(readFileSync(new URL('../README.md', import.meta.url), 'utf8')).toContain(usage);
    });
  });
});

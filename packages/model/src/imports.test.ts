// What a user meets who imports only @mann/model and a tfjs backend package, in fresh Node processes (the
// registrations under test are process-wide, so they cannot be tested inside vitest's own process).
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));

function run(source: string, type: 'module' | 'commonjs'): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(process.execPath, [`--input-type=${type}`, '-e', source], {
      cwd: packageDir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return { code: 0, stdout, stderr: '' };
  } catch (error) {
    const e = error as { status: number; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

const trainOneStep = `
const model = new MemoryAugmentedNetwork({ controllerUnits: 8, memorySlots: 4, memoryWidth: 3, heads: 1, ways: 2, imageSize: 2 });
const trainer = new Trainer(model, { fastPath: false });
const dataset = syntheticPatterns({ classes: 4, samplesPerClass: 3, sampleShape: [2, 2], seed: 1 });
const batch = sampleEpisodes(dataset, { ways: 2, shots: 2, batchSize: 2, labels: labelEncodingFor(model.config), random: createRandom(1) });
const report = trainer.trainStep(batch);
console.log('loss', report.loss, tf.getBackend());
`;

describe('importing @mann/model', () => {
  it('registers the gradients training needs, in ES modules (no import of @mann/backend)', () => {
    const result = run(
      `import * as tf from '@tensorflow/tfjs-core';
       import '@tensorflow/tfjs-backend-cpu';
       import { MemoryAugmentedNetwork, Trainer, labelEncodingFor } from '@mann/model';
       import { createRandom, sampleEpisodes, syntheticPatterns } from '@mann/episodes';
       ${trainOneStep}`,
      'module',
    );
    expect(result.stderr).not.toMatch(/gradient function not found/);
    expect(result.stdout).toMatch(/^loss \d+\.\d+ cpu$/m);
  });

  it('registers the gradients training needs, in CommonJS', () => {
    const result = run(
      `const tf = require('@tensorflow/tfjs-core');
       require('@tensorflow/tfjs-backend-cpu');
       const { MemoryAugmentedNetwork, Trainer, labelEncodingFor } = require('@mann/model');
       const { createRandom, sampleEpisodes, syntheticPatterns } = require('@mann/episodes');
       ${trainOneStep}`,
      'commonjs',
    );
    expect(result.stdout).toMatch(/^loss \d+\.\d+ cpu$/m);
  });

  it('says what to call when a model is built before any backend is loaded', () => {
    const result = run(
      `import { MemoryAugmentedNetwork } from '@mann/model';
       try { new MemoryAugmentedNetwork(); } catch (e) { console.log(e.message); }`,
      'module',
    );
    expect(result.stdout.trim()).toBe(
      "MemoryAugmentedNetwork needs a TensorFlow.js backend, and none is loaded: call `await useBackend('wasm')` " +
        "(or 'cpu', 'webgl') from @mann/backend first, or import a backend package such as @tensorflow/tfjs-backend-cpu.",
    );
  });
});

// Writes an untrained but real checkpoint (paper-sized model, seed 7) with the same code `mann train` uses, so
// the end-to-end test exercises the page's checkpoint loading without a long training run. The output layer is
// scaled up 30x: fresh weights give near-uniform probabilities (about 0.2 each), which would make the test's
// webgl / wasm / cpu comparison nearly vacuous; confident, step-dependent outputs make it a real check.
//   node scripts/make-checkpoint.mjs <folder>
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '@mann/backend';
import { MemoryAugmentedNetwork } from '@mann/model';
import { saveCheckpoint } from '@mann/model/node';

const dir = process.argv[2];
if (!dir) {
  console.error('usage: node scripts/make-checkpoint.mjs <folder>');
  process.exit(2);
}
await useBackend('cpu');
const model = new MemoryAugmentedNetwork({ seed: 7 });
const kernel = model.variables['output/kernel'];
kernel.assign(tf.tidy(() => tf.mul(kernel, 30)));
await saveCheckpoint(dir, model, { step: 0, note: 'untrained (output layer x30), written by examples/browser/scripts/make-checkpoint.mjs for the e2e test' });
console.log(`wrote an untrained checkpoint (${model.parameterCount()} parameters) to ${dir}`);
model.dispose();

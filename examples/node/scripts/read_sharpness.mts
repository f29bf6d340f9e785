// How peaked are a trained MANN's read weights? Mean over 16 held-out episodes (seed 1) of each head's largest read
// weight, and of its 5 largest summed, at a few steps. Uniform over N slots would be 1/N. Usage, after `npm run build`:
//   OMNIGLOT_DIR=/path/to/omniglot npx vite-node examples/node/scripts/read_sharpness.mts checkpoints/omniglot-mann
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { loadCheckpoint } from '@mann/model/node';
import { episodeTensors } from '@mann/model';
import { createRandom, oneHotLabels, sampleEpisodes } from '@mann/episodes';
import { loadTask } from '../src/data';

await tf.setBackend('wasm');
const { model } = await loadCheckpoint(process.argv[2]);
const task = await loadTask({ dir: process.env.OMNIGLOT_DIR, imageSize: 20, split: 'paper', splitSeed: 0, augment: false, log: () => {} });
const batch = sampleEpisodes(task.test, { ways: 5, shots: 10, batchSize: 16, labels: oneHotLabels(5), random: createRandom(1) });
const input = episodeTensors(batch);
let state = model.initialState(16);
const byStep: string[] = [];
for (let t = 0; t < 50; t++) {
  const { logits, state: next } = tf.tidy(() => {
    const x = tf.squeeze(tf.slice(input.images, [t, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D;
    const y = tf.squeeze(tf.slice(input.previousLabels, [t, 0, 0], [1, -1, -1]), [0]) as tf.Tensor2D;
    return model.step(x, y, state) as any;
  });
  tf.dispose(state as any);
  state = next;
  logits.dispose();
  if ([0, 9, 24, 49].includes(t)) {
    const w = (state.addressing as any).readWeights as tf.Tensor3D; // [B, H, N]
    const max = tf.tidy(() => tf.mean(tf.max(w, 2), 0).arraySync() as number[]);
    const top5 = tf.tidy(() => tf.mean(tf.sum(tf.topk(w, 5).values, 2), 0).arraySync() as number[]);
    byStep.push(`step ${t + 1}: max read weight per head ${max.map((v) => v.toFixed(3)).join(' ')}; top-5 mass ${top5.map((v) => v.toFixed(3)).join(' ')}`);
  }
}
console.log(byStep.join('\n'));

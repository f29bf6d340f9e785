// Time to sample a batch of 16 five-way, ten-shot episodes (800 images) from Omniglot's 1200 training characters:
// plain, and with the training augmentation (x4 rotated classes, random affine per drawing).
// Usage (after `npx tsup` here and in ../episodes): OMNIGLOT_DIR=/path/to/zips node bench/sample.mjs
import { createRandom, oneHotLabels, sampleEpisodes } from '@mann/episodes';
import { OmniglotDataset, paperSplit, withRandomAffine, withRotatedClasses } from '../dist/index.js';
import { loadOmniglot } from '../dist/node.js';

const { background, evaluation } = await loadOmniglot();
const { train } = paperSplit(background, evaluation);
const plain = new OmniglotDataset(train);
const augmented = withRandomAffine(withRotatedClasses(plain));
const labels = oneHotLabels(5);
for (const [name, dataset] of [['plain', plain], ['augmented', augmented]]) {
  const random = createRandom(0);
  const sample = () => sampleEpisodes(dataset, { ways: 5, shots: 10, batchSize: 16, labels, random });
  for (let i = 0; i < 20; i++) sample(); // warm-up
  const times = [];
  for (let i = 0; i < 200; i++) {
    const start = performance.now();
    sample();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(10)} median ${times[100].toFixed(2)} ms per batch of 16 episodes (min ${times[0].toFixed(2)}, 200 batches)`);
}

import * as tf from '@tensorflow/tfjs-core';
import { createRandom, sampleEpisodes, type ClassDataset } from '@mann/episodes';
import { labelEncodingFor, outputGroups, type MemoryAugmentedNetwork } from '@mann/model';

const SHADES = [' ', '░', '▒', '▓', '█'];

/** A square image as text, two characters per pixel so it keeps its aspect. */
export function imageAsText(pixels: ArrayLike<number>, side: number): string[] {
  const lines: string[] = [];
  for (let r = 0; r < side; r++) {
    let line = '';
    for (let c = 0; c < side; c++) {
      const v = Math.max(0, Math.min(1, pixels[r * side + c]));
      const shade = SHADES[Math.min(SHADES.length - 1, Math.round(v * (SHADES.length - 1)))];
      line += shade + shade;
    }
    lines.push(line);
  }
  return lines;
}

/**
 * Plays one held-out episode through the model and prints it step by step: what it saw (the first appearance
 * of each class drawn as text), what it guessed and how sure it was, the true label, and whether it was right.
 */
export function showEpisode(model: MemoryAugmentedNetwork, dataset: ClassDataset, options: { seed: number; shots: number; print: (line: string) => void }): void {
  const { print } = options;
  const labels = labelEncodingFor(model.config);
  const { groups, choices } = outputGroups(model.config);
  const batch = sampleEpisodes(dataset, { ways: model.config.ways, shots: options.shots, batchSize: 1, labels, random: createRandom(options.seed) });
  const side = model.config.imageSize;
  const d = batch.sampleSize;
  let state = model.initialState(1);
  const shownClasses = new Set<number>();
  let right = 0;
  print(`One held-out episode: ${batch.ways} new characters, ${options.shots} drawings each, ${batch.steps} steps. Labels are shuffled per episode,`);
  print('so the first time a character appears the model can only guess; after that it must recall it from memory.\n');
  print(' step  label  instance  guess (confidence)');
  for (let t = 0; t < batch.steps; t++) {
    const image = tf.tensor2d(batch.inputs.subarray(t * d, (t + 1) * d), [1, d]);
    const previous = tf.tensor2d(batch.previousLabels.subarray(t * groups * choices, (t + 1) * groups * choices), [1, groups * choices]);
    const result = tf.tidy(() => {
      const out = model.step(image, previous, state);
      const probabilities = tf.softmax(tf.reshape(out.logits, [groups, choices]));
      return { state: out.state, probabilities } as unknown as tf.TensorContainer;
    }) as unknown as { state: typeof state; probabilities: tf.Tensor2D };
    tf.dispose([image, previous, state] as unknown as tf.TensorContainer);
    state = result.state;
    const p = result.probabilities.arraySync();
    result.probabilities.dispose();
    const guess = p.map((row) => row.indexOf(Math.max(...row)));
    const confidence = p.reduce((acc, row, g) => acc * row[guess[g]], 1);
    const label = batch.labels[t];
    const correct = labels.decode(guess) === label;
    if (correct) right++;
    const instance = batch.instances[t];
    print(
      `${String(t + 1).padStart(5)}  ${labels.describe(label).padStart(5)}  ${String(instance).padStart(8)}  ${labels.describe(labels.decode(guess)).padStart(5)} (${(100 * confidence).toFixed(0).padStart(3)}%)  ${correct ? 'right' : 'wrong'}${instance === 1 ? '  <- first sight: a guess' : ''}`,
    );
    if (instance === 1 && !shownClasses.has(label)) {
      shownClasses.add(label);
      for (const line of imageAsText(batch.inputs.subarray(t * d, (t + 1) * d), side)) print(`         ${line}`);
    }
  }
  tf.dispose(state as unknown as tf.TensorContainer);
  print(`\n${right} of ${batch.steps} right in this episode.`);
}

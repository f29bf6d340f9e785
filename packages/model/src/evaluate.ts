import * as tf from '@tensorflow/tfjs-core';
import { ErrorBreakdown, InstanceAccuracy, createRandom, oneHotLabels, sampleEpisodes, stringLabels, type ClassDataset, type LabelEncoding } from '@mann/episodes';
import { outputGroups, STRING_LABEL_ALPHABET, STRING_LABEL_LENGTH, type ModelConfig } from './config';
import { episodeLoss, predictChoices } from './loss';
import type { MemoryAugmentedNetwork } from './model';
import { nearestNeighbourPredictions } from './knn';
import { episodeTensors } from './tensors';
import { checkEpisodeBatch } from './batch_checks';
import { fastForward } from './fast_forward';

/** The label encoding a model configuration implies (one-hot over `ways`, or the paper's strings). */
export function labelEncodingFor(config: Pick<ModelConfig, 'labels' | 'ways'>): LabelEncoding {
  return config.labels === 'one-hot' ? oneHotLabels(config.ways) : stringLabels({ length: STRING_LABEL_LENGTH, alphabet: STRING_LABEL_ALPHABET });
}

/** Options of {@link evaluateModel} and {@link evaluateNearestNeighbour}: which episodes, how many, how batched. */
export interface EvaluationOptions {
  /** Held-out classes to draw episodes from. */
  dataset: ClassDataset;
  /** Number of episodes (the paper's table: at least 1,000). */
  episodes: number;
  /** Instances per class in an episode (paper: 10). */
  shots?: number;
  /** Episodes per batch (default 16). */
  batchSize?: number;
  /** Seed of the episode sampler: the same seed evaluates on the same episodes. */
  seed?: number;
  /** Run the forward pass on the fast path (same maths, several times faster; see `fastForward`). Default true. */
  fastPath?: boolean;
  /** Called after each batch with the number of episodes done. */
  onProgress?: (done: number, total: number) => void;
}

/** What an evaluation measured over its episodes. */
export interface EvaluationResult {
  /** Accuracy by instance (the paper's Table 1): `accuracy.summary()` gives the 1st, 2nd, ... 10th. */
  accuracy: InstanceAccuracy;
  /** Why the wrong answers were wrong: confusions between shown classes, 2nd-instance accuracy by gap. */
  errors: ErrorBreakdown;
  /** Mean loss over batches (NaN for the kNN baseline). */
  loss: number;
}

function* evaluationBatches(ways: number, labels: LabelEncoding, options: EvaluationOptions) {
  const { dataset, episodes, shots = 10, batchSize = 16, seed = 0 } = options;
  if (!Number.isInteger(episodes) || episodes < 1) throw new Error(`evaluate: episodes must be a positive integer, got ${episodes}.`);
  // A batchSize of 0 would loop forever; shots of 0 would make empty episodes.
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`evaluate: batchSize must be a positive integer, got ${batchSize}.`);
  if (!Number.isInteger(shots) || shots < 1) throw new Error(`evaluate: shots must be a positive integer, got ${shots}.`);
  const random = createRandom(seed);
  for (let done = 0; done < episodes; ) {
    const size = Math.min(batchSize, episodes - done);
    yield sampleEpisodes(dataset, { ways, shots, batchSize: size, labels, random });
    done += size;
    options.onProgress?.(done, episodes);
  }
}

/**
 * Accuracy by instance (1st, 2nd, ... presentation of a class) of a model on episodes drawn from `dataset`, the
 * paper's protocol. Use held-out classes for the paper's table.
 */
export function evaluateModel(model: MemoryAugmentedNetwork, options: EvaluationOptions): EvaluationResult {
  const { groups } = outputGroups(model.config);
  const labels = labelEncodingFor(model.config);
  const accuracy = new InstanceAccuracy();
  const errors = new ErrorBreakdown();
  const fast = options.fastPath ?? true;
  let lossSum = 0;
  let batches = 0;
  for (const batch of evaluationBatches(model.config.ways, labels, options)) {
    // The dataset's images may not be the size the model was trained on.
    checkEpisodeBatch('evaluateModel', model, batch);
    const input = episodeTensors(batch);
    const logits = tf.tidy(() => (fast ? fastForward(model, input.images, input.previousLabels) : model.forward(input.images, input.previousLabels)));
    const loss = episodeLoss(logits, input.targets, groups);
    lossSum += loss.dataSync()[0];
    batches++;
    const predictions = predictChoices(logits, groups);
    accuracy.add(batch, predictions);
    errors.add(batch, predictions);
    tf.dispose([logits, loss, input] as unknown as tf.TensorContainer);
  }
  return { accuracy, errors, loss: lossSum / batches };
}

/** The k-nearest-neighbour baseline under the same protocol (same seed, same episodes as `evaluateModel`). */
export function evaluateNearestNeighbour(
  config: Pick<ModelConfig, 'labels' | 'ways'>,
  options: EvaluationOptions & { k?: number },
): EvaluationResult {
  const labels = labelEncodingFor(config);
  const accuracy = new InstanceAccuracy();
  const errors = new ErrorBreakdown();
  for (const batch of evaluationBatches(config.ways, labels, options)) {
    const predictions = nearestNeighbourPredictions(batch, options.k ?? 1);
    accuracy.add(batch, predictions);
    errors.add(batch, predictions);
  }
  return { accuracy, errors, loss: NaN };
}

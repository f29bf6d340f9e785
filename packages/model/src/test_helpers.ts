// Shared set-up for this package's tests: small models and synthetic episodes that run in milliseconds.
import { createRandom, sampleEpisodes, syntheticPatterns, type EpisodeBatch, type Random } from '@mann/episodes';
import type { ModelConfig } from './config';
import { labelEncodingFor } from './evaluate';

/** A small MANN configuration on 6x6 inputs. */
export const SMALL: Partial<ModelConfig> = {
  controllerUnits: 24,
  memorySlots: 12,
  memoryWidth: 8,
  heads: 2,
  ways: 3,
  imageSize: 6,
};

export const PATTERNS = syntheticPatterns({ classes: 40, samplesPerClass: 10, sampleShape: [6, 6], noise: 0.05, seed: 7 });

export function smallBatch(config: Partial<ModelConfig> = SMALL, random: Random = createRandom(1), shots = 4, batchSize = 4): EpisodeBatch {
  const labels = labelEncodingFor({ labels: config.labels ?? 'one-hot', ways: config.ways ?? 3 });
  return sampleEpisodes(PATTERNS, { ways: config.ways ?? 3, shots, batchSize, labels, random });
}

import type { EpisodeBatch } from './types';

/** Throws, naming `caller`, unless `predictions` has one choice per step, episode and label group ([T, B, G]). */
export function checkPredictions(caller: string, batch: EpisodeBatch, predictions: ArrayLike<number>): void {
  const { steps, batchSize, groups } = batch;
  if (predictions.length !== steps * batchSize * groups) {
    throw new Error(
      `${caller}: predictions must be [T, B, G] = [${steps}, ${batchSize}, ${groups}] ` +
        `(${steps * batchSize * groups} numbers), got ${predictions.length}`,
    );
  }
}

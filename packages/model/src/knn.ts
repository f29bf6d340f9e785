import type { EpisodeBatch } from '@mann/episodes';

/**
 * The paper's k-nearest-neighbour baseline on raw pixels, within each episode: at step t it predicts the label of
 * the closest earlier sample (squared Euclidean distance over the pixels; k = 1 gives the nearest sample, larger k a
 * majority vote among the k nearest, ties to the nearest). With no earlier sample it predicts choice 0 in every group.
 * Returns predictions [T, B, G] like the model's, so the same metrics apply.
 *
 * ```js
 * const predictions = nearestNeighbourPredictions(batch);
 * accuracy.add(batch, predictions);
 * ```
 */
export function nearestNeighbourPredictions(batch: EpisodeBatch, k = 1): Int32Array {
  if (!Number.isInteger(k) || k < 1) throw new Error(`nearestNeighbourPredictions: k must be a positive integer, got ${k}.`);
  const { steps, batchSize, sampleSize: d, groups: g, inputs, targets } = batch;
  const predictions = new Int32Array(steps * batchSize * g);
  const distances: { distance: number; step: number }[] = [];
  for (let b = 0; b < batchSize; b++) {
    for (let t = 1; t < steps; t++) {
      distances.length = 0;
      const x = (t * batchSize + b) * d;
      for (let s = 0; s < t; s++) {
        const y = (s * batchSize + b) * d;
        let distance = 0;
        for (let i = 0; i < d; i++) {
          const diff = inputs[x + i] - inputs[y + i];
          distance += diff * diff;
        }
        distances.push({ distance, step: s });
      }
      distances.sort((p, q) => p.distance - q.distance || q.step - p.step);
      const nearest = distances.slice(0, k);
      // Majority vote over the neighbours' full labels (all G groups); ties go to the nearest neighbour.
      const votes = new Map<string, { count: number; step: number }>();
      for (const n of nearest) {
        const key = targets.subarray((n.step * batchSize + b) * g, (n.step * batchSize + b + 1) * g).join(',');
        const entry = votes.get(key);
        if (entry) entry.count++;
        else votes.set(key, { count: 1, step: n.step });
      }
      let best = { count: 0, step: nearest[0].step };
      for (const v of votes.values()) if (v.count > best.count) best = v;
      predictions.set(targets.subarray((best.step * batchSize + b) * g, (best.step * batchSize + b + 1) * g), (t * batchSize + b) * g);
    }
  }
  return predictions;
}

/**
 * A set of classes, each with a few samples: what episodes are drawn from. Omniglot implements it
 * (`@mann/omniglot`), and so can a test with synthetic patterns; episodes need nothing else.
 */
export interface ClassDataset {
  /** Number of classes. */
  readonly numClasses: number;
  /** Shape of one sample, e.g. [20, 20]; a sample is `product(sampleShape)` float32 numbers. */
  readonly sampleShape: readonly number[];
  /** Number of samples of class `classIndex`. */
  samplesIn(classIndex: number): number;
  /**
   * Copies sample `sampleIndex` of class `classIndex` into `out` starting at `offset`. `random` is the episode
   * sampler's seeded generator, for datasets that augment samples on the fly (random rotations, shifts).
   */
  read(classIndex: number, sampleIndex: number, out: Float32Array, offset: number, random: () => number): void;
}

/**
 * A batch of B episodes of T steps, time-major as the model consumes it ([T, B, ...] flattened row-major).
 * Step t of episode b shows sample `inputs[t, b]` with the previous step's label `previousLabels[t, b]`
 * (zeros at t = 0) and asks for `targets[t, b]`.
 */
export interface EpisodeBatch {
  /** T: steps per episode (ways x shots). */
  readonly steps: number;
  /** B: episodes in the batch. */
  readonly batchSize: number;
  /** N: classes per episode. */
  readonly ways: number;
  /** D: numbers per sample. */
  readonly sampleSize: number;
  /** G: softmax groups of a label (1 for one-hot, 5 for five-character strings). */
  readonly groups: number;
  /** C: choices per group (N for one-hot, 5 for strings). */
  readonly choices: number;
  /** [T, B, D] samples. */
  readonly inputs: Float32Array;
  /** [T, B, G * C] encoded label of the previous step, zeros at t = 0. */
  readonly previousLabels: Float32Array;
  /** [T, B, G] index of the right choice in each group at this step. */
  readonly targets: Int32Array;
  /** [T, B] label id shown at this step (0..N-1 for one-hot; a string's id for strings). */
  readonly labels: Int32Array;
  /** [T, B] how many times this step's class has been shown so far in its episode, this step included (1-based). */
  readonly instances: Int32Array;
  /** [B, N] dataset class index behind episode label slot n of each episode. */
  readonly classes: Int32Array;
}

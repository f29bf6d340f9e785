/**
 * Episodic meta-learning tasks: episodes sampled from any class dataset, one-hot and five-character string labels,
 * and the paper's accuracy by instance. No tfjs: plain typed arrays.
 *
 * @module @mann/episodes
 */
export type * from './types';
export { createRandom, restoreRandom, pickDistinct, type Random } from './random';
export type { LabelEncoding } from './label_encoding';
export { oneHotLabels } from './one_hot_labels';
export { stringLabels, type StringLabelsOptions } from './string_labels';
export {
  nWays,
  kShots,
  shuffleSteps,
  remapLabels,
  loadSamples,
  episodeTask,
  type EpisodePlan,
  type EpisodeStep,
  type EpisodeContext,
  type EpisodeTransform,
} from './transforms';
export { sampleEpisodes, type SampleEpisodesOptions } from './sample_episodes';
export { syntheticPatterns, type SyntheticPatternsOptions } from './synthetic_patterns';
export {
  InstanceAccuracy,
  type InstanceAccuracySummary,
  type InstanceAccuracyJSON,
} from './instance_accuracy';
export { ErrorBreakdown, type ErrorBreakdownSummary } from './error_breakdown';
export { formatAccuracyTable, ordinal } from './format_accuracy_table';
export { curriculum, type CurriculumOptions } from './curriculum';

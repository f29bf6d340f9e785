/**
 * The memory-augmented neural network of Santoro et al. (2016), composed from the `@mann` parts: the model and its
 * memoryless baselines, training, evaluation, a nearest-neighbour baseline and checkpoints. Checkpoint files and the
 * multi-threaded trainer, which need Node, are in `@mann/model/node`.
 *
 * Shapes: T = steps per episode, B = episodes in the batch, D = pixels per image, G = label groups, C = choices per
 * group.
 *
 * @module @mann/model
 */
export { DEFAULT_CONFIG, resolveConfig, outputGroups, STRING_LABEL_LENGTH, STRING_LABEL_ALPHABET } from './config';
export type { ModelConfig, ModelKind, ControllerFactory, ControllerSizes, AddressingFactory, AddressingSizes, CustomPart } from './config';
export { MemoryAugmentedNetwork } from './model';
export type { ModelState, StepResult } from './model';
export { episodeLoss, predictChoices } from './loss';
export { episodeTensors } from './tensors';
export type { EpisodeTensors } from './tensors';
export { Adam, RmsProp, createOptimizer, clipByGlobalNorm } from './optimizers';
export type { Optimizer, OptimizerName, AdamOptions, RmsPropOptions } from './optimizers';
export { Trainer, DivergenceError } from './trainer';
export { fastForward, fastPathParts } from './fast_forward';
export type { FastPathParts } from './fast_forward';
export { cutMemoryReads } from './cut_memory_reads';
export type { TrainerOptions, StepReport } from './trainer';
export { splitEpisodes, sliceEpisodes } from './shard_episodes';
export type { EpisodeShard } from './shard_episodes';
export { evaluateModel, evaluateNearestNeighbour, labelEncodingFor } from './evaluate';
export type { EvaluationOptions, EvaluationResult } from './evaluate';
export { nearestNeighbourPredictions } from './knn';
export {
  CHECKPOINT_FORMAT,
  CHECKPOINT_VERSION,
  WEIGHTS_FILE,
  fnv1a32,
  restoreCheckpoint,
  serializeCheckpoint,
  validateCheckpoint,
} from './checkpoint';
export type { CheckpointManifest, CheckpointParts, RestoredCheckpoint, SavedModelConfig, TrainingState } from './checkpoint';

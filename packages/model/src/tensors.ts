import * as tf from '@tensorflow/tfjs-core';
import type { EpisodeBatch } from '@mann/episodes';

/** An episode batch as the tensors the model consumes, all time-major. */
export interface EpisodeTensors {
  /** [T, B, D] images. */
  images: tf.Tensor3D;
  /** [T, B, G * C] previous step's encoded label (zeros at t = 0). */
  previousLabels: tf.Tensor3D;
  /** [T, B, G] int32 target choice per group. */
  targets: tf.Tensor3D;
}

/** Builds the model's input and target tensors from an `EpisodeBatch`. The caller disposes them. */
export function episodeTensors(batch: EpisodeBatch): EpisodeTensors {
  const { steps, batchSize, sampleSize, groups, choices } = batch;
  return {
    images: tf.tensor3d(batch.inputs, [steps, batchSize, sampleSize]),
    previousLabels: tf.tensor3d(batch.previousLabels, [steps, batchSize, groups * choices]),
    targets: tf.tensor3d(batch.targets, [steps, batchSize, groups], 'int32'),
  };
}

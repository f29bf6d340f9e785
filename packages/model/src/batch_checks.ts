import type * as tf from '@tensorflow/tfjs-core';
import type { EpisodeBatch } from '@mann/episodes';
import { outputGroups } from './config';
import type { MemoryAugmentedNetwork } from './model';

/*
 * Checks at the library's edges (trainStep, evaluateBatch, evaluateModel, forward, fastForward). Without them a
 * batch that does not fit the model fails deep inside tfjs with a message about some kernel, or worse does not
 * fail: an empty batch trains on a loss of 0 and targets outside [0, choices) one-hot to zeros. Each check runs
 * before any tensor is made, so a refused call allocates nothing.
 */

/**
 * Throws one line naming what is wrong unless `batch` fits `model`: at least one step and one episode, samples of
 * the model's image size, the model's label groups and choices, arrays of the sizes the shape says, and integer
 * targets in [0, choices) and labels >= 0.
 */
export function checkEpisodeBatch(caller: string, model: MemoryAugmentedNetwork, batch: EpisodeBatch): void {
  const { steps, batchSize, sampleSize, groups, choices } = batch;
  checkCount(caller, 'steps (T)', steps, 'sample episodes with ways >= 1 and shots >= 1');
  checkCount(caller, 'batchSize (B: episodes)', batchSize, 'sample at least one episode');
  if (sampleSize !== model.imageSize) {
    const side = model.config.imageSize;
    throw new Error(
      `${caller}: the batch's samples have ${sampleSize} numbers (sampleSize) but the model takes ${model.imageSize} ` +
        `(imageSize ${side}^2); resize the images to ${side}x${side} or build the model with their imageSize.`,
    );
  }
  const expected = outputGroups(model.config);
  if (groups !== expected.groups || choices !== expected.choices) {
    throw new Error(
      `${caller}: the batch's labels are ${groups} group(s) of ${choices} choices but the model outputs ${expected.groups} of ` +
        `${expected.choices} (labels '${model.config.labels}', ways ${model.config.ways}); sample episodes with labelEncodingFor(model.config).`,
    );
  }
  checkLength(caller, 'inputs', batch.inputs, [steps, batchSize, sampleSize], '[T, B, D]');
  checkLength(caller, 'previousLabels', batch.previousLabels, [steps, batchSize, groups * choices], '[T, B, G * C]');
  checkLength(caller, 'targets', batch.targets, [steps, batchSize, groups], '[T, B, G]');
  checkLength(caller, 'labels', batch.labels, [steps, batchSize], '[T, B]');
  checkIndices(caller, 'targets', batch.targets, choices, `each step's right choice in each group, 0..${choices - 1}`);
  checkIndices(caller, 'labels', batch.labels, Infinity, "each step's label id, an integer >= 0");
}

/**
 * Throws unless images [T, B, D] and previousLabels [T, B, G * C] fit `model` (D = imageSize^2, G * C its label
 * width) with T, B >= 1: the inputs of `model.forward` and `fastForward`.
 */
export function checkInputShapes(caller: string, model: MemoryAugmentedNetwork, images: tf.Tensor, previousLabels: tf.Tensor): void {
  if (images.rank !== 3 || previousLabels.rank !== 3 || images.shape[0] !== previousLabels.shape[0] || images.shape[1] !== previousLabels.shape[1]) {
    throw new Error(`${caller}: images [${images.shape}] and previousLabels [${previousLabels.shape}] must both be [T, B, ...] with the same T and B.`);
  }
  if (images.shape[2] !== model.imageSize || previousLabels.shape[2] !== model.labelSize) {
    throw new Error(
      `${caller}: images [${images.shape}] and previousLabels [${previousLabels.shape}] must be [T, B, ${model.imageSize}] and [T, B, ${model.labelSize}] ` +
        `(imageSize ${model.config.imageSize}^2 numbers per image, ${model.labelSize} per label).`,
    );
  }
  if (!((images.shape[0] ?? 0) >= 1 && (images.shape[1] ?? 0) >= 1)) {
    throw new Error(`${caller}: images [${images.shape}] hold no steps or no episodes; T and B must be at least 1.`);
  }
}

/** A size of the batch that must be a positive integer. */
function checkCount(caller: string, name: string, value: number, fix: string): void {
  if (!Number.isInteger(value) || value < 1) throw new Error(`${caller}: the batch has ${name} ${value}; it must be a positive integer: ${fix}.`);
}

/** An array of the batch that must hold exactly the numbers its shape says. */
function checkLength(caller: string, name: string, values: ArrayLike<number> | undefined, shape: number[], layout: string): void {
  const expected = shape.reduce((a, b) => a * b, 1);
  if (values?.length !== expected) {
    throw new Error(`${caller}: batch.${name} has ${values?.length ?? 'no'} numbers, expected ${layout} = [${shape}] = ${expected}; the batch's sizes and arrays disagree.`);
  }
}

/** An array of the batch that must hold integers in [0, limit). */
function checkIndices(caller: string, name: string, values: ArrayLike<number>, limit: number, meaning: string): void {
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!Number.isInteger(value) || value < 0 || value >= limit) {
      const range = Number.isFinite(limit) ? `[0, ${limit})` : '[0, ...)';
      throw new Error(`${caller}: batch.${name}[${i}] is ${value}, not an integer in ${range}; ${name} hold ${meaning}.`);
    }
  }
}

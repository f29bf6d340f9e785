// Shared set-up for this package's tests: small models and synthetic episodes that run in milliseconds.
import { createRandom, sampleEpisodes, syntheticPatterns, type EpisodeBatch, type Random } from '@mann/episodes';
import * as tf from '@tensorflow/tfjs-core';
import type { AddressingState } from '@mann/addressing';
import { glorotUniform, type Controller } from '@mann/controller';
import type { AddressingFactory, ControllerFactory, ModelConfig } from './config';
import { labelEncodingFor } from './evaluate';
import type { MemoryAugmentedNetwork } from './model';

/**
 * True in StrykerJS's runs (vitest.mutation.config.ts sets MANN_MUTATION_RUN): the few slow tests whose checks
 * faster tests pin by value skip themselves there (`it.skipIf(MUTATION_RUN)`).
 */
export const MUTATION_RUN = process.env.MANN_MUTATION_RUN === '1';

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

/**
 * A MANN small enough to compute by hand: 1 pixel, 2 ways, 1 unit, a memory of 1 slot x 1 number, 1 head. With one
 * slot every LRUA weighting is 1, so a read is the slot's content (model_values.test.ts).
 */
export const TINY: Partial<ModelConfig> = { imageSize: 1, ways: 2, controllerUnits: 1, memorySlots: 1, memoryWidth: 1, heads: 1 };

/** Sets every variable of `model` to the given values, row-major; throws unless all are given, at their sizes. */
export function setWeights(model: MemoryAugmentedNetwork, weights: Record<string, number[]>): void {
  const names = Object.keys(model.variables).sort();
  if (Object.keys(weights).sort().join() !== names.join()) throw new Error(`setWeights: give exactly ${names.join(', ')}`);
  for (const [name, values] of Object.entries(weights)) {
    const variable = model.variables[name];
    if (values.length !== variable.size) throw new Error(`setWeights: ${name} has ${variable.size} numbers, got ${values.length}`);
    variable.assign(tf.tensor(values, variable.shape));
  }
}

export function smallBatch(config: Partial<ModelConfig> = SMALL, random: Random = createRandom(1), shots = 4, batchSize = 4): EpisodeBatch {
  const labels = labelEncodingFor({ labels: config.labels ?? 'one-hot', ways: config.ways ?? 3 });
  return sampleEpisodes(PATTERNS, { ways: config.ways ?? 3, shots, batchSize, labels, random });
}

/**
 * A controller of a user's own, with no fast implementation: a tanh RNN, h_t = tanh([x_t, h_{t-1}] W + b).
 * What a reader of the @mann/controller README would write.
 */
export const simpleRnn: ControllerFactory = ({ inputSize, units, seed }) => {
  const kernel = tf.variable(glorotUniform([inputSize + units, units], seed));
  const bias = tf.variable(tf.zeros([units]));
  return {
    name: 'simple-rnn',
    inputSize,
    outputSize: units,
    variables: { kernel, bias },
    initialState: (batch: number) => ({ h: tf.zeros([batch, units]) as tf.Tensor2D }),
    step(input: tf.Tensor2D, state: { h: tf.Tensor2D }) {
      const h = tf.tidy(() => tf.tanh(tf.add(tf.matMul(tf.concat([input, state.h], 1), kernel), bias)) as tf.Tensor2D);
      return { output: h, state: { h } };
    },
    dispose: () => tf.dispose([kernel, bias]),
  } as Controller;
};

/**
 * An addressing scheme of a user's own, with no fast implementation: each head reads by content (softmax of dot
 * products) and adds its key where it read, before reading.
 */
export const contentOnly: AddressingFactory = ({ memory, heads }) => ({
  name: 'content-only',
  heads,
  memory: { ...memory, initialValue: 0.1 },
  parameterSize: heads * memory.width,
  initialState: (batch: number) => ({ memory: tf.fill([batch, memory.slots, memory.width], 0.1) as tf.Tensor3D }),
  step(parameters: tf.Tensor2D, state: AddressingState) {
    return tf.tidy(() => {
      const keys = tf.tanh(tf.reshape(parameters, [-1, heads, memory.width])) as tf.Tensor3D;
      const weights = tf.softmax(tf.matMul(keys, state.memory, false, true)) as tf.Tensor3D; // [B, H, N]
      const written = tf.add(state.memory, tf.matMul(weights, keys, true, false)) as tf.Tensor3D;
      const reads = tf.matMul(tf.softmax(tf.matMul(keys, written, false, true)), written) as tf.Tensor3D;
      return { reads, state: { memory: written } };
    });
  },
});

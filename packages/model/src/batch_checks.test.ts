import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import type { EpisodeBatch } from '@mann/episodes';
import { checkEpisodeBatch, checkInputShapes } from './batch_checks';
import { MemoryAugmentedNetwork } from './model';

let model: MemoryAugmentedNetwork;
let strings: MemoryAugmentedNetwork;

beforeAll(async () => {
  await useBackend('cpu');
});
afterAll(() => {
  model?.dispose();
  strings?.dispose();
});

/** A model on 2x2 images with one-hot labels over 3 ways (G = 1, C = 3), made in the test that needs it. */
function tiny(): MemoryAugmentedNetwork {
  model ??= new MemoryAugmentedNetwork({ imageSize: 2, ways: 3, controllerUnits: 2, memorySlots: 2, memoryWidth: 2, heads: 1 });
  return model;
}

/** A batch that fits `tiny()`: T = 2 steps, B = 1 episode, D = 4, G = 1, C = 3. */
function fitting(): EpisodeBatch {
  return {
    steps: 2,
    batchSize: 1,
    ways: 3,
    sampleSize: 4,
    groups: 1,
    choices: 3,
    inputs: new Float32Array(8),
    previousLabels: new Float32Array(6),
    // The largest target and label allowed, and the smallest.
    targets: Int32Array.from([2, 0]),
    labels: Int32Array.from([0, 1_000_000]),
    instances: Int32Array.from([1, 1]),
    classes: Int32Array.from([0, 1, 2]),
  };
}

const check = (batch: Partial<EpisodeBatch>) => () => checkEpisodeBatch('caller', tiny(), { ...fitting(), ...batch });

describe('checkEpisodeBatch', () => {
  it('accepts a batch that fits the model, with targets 0..C-1 and any label id >= 0', () => {
    expect(check({})).not.toThrow();
  });

  it('names steps or episodes that are not positive integers', () => {
    expect(check({ steps: 0 })).toThrow(
      'caller: the batch has steps (T) 0; it must be a positive integer: sample episodes with ways >= 1 and shots >= 1.',
    );
    expect(check({ steps: 1.5 })).toThrow('caller: the batch has steps (T) 1.5; it must be a positive integer');
    expect(check({ batchSize: 0 })).toThrow('caller: the batch has batchSize (B: episodes) 0; it must be a positive integer: sample at least one episode.');
    expect(check({ batchSize: -1 })).toThrow('caller: the batch has batchSize (B: episodes) -1;');
  });

  it('names a sample size other than the model takes', () => {
    expect(check({ sampleSize: 5 })).toThrow(
      "caller: the batch's samples have 5 numbers (sampleSize) but the model takes 4 (imageSize 2^2); resize the images to 2x2 or build the model with their imageSize.",
    );
  });

  it('names label groups or choices other than the model outputs', () => {
    const message = (groups: number, choices: number) =>
      `caller: the batch's labels are ${groups} group(s) of ${choices} choices but the model outputs 1 of 3 (labels 'one-hot', ways 3); ` +
      'sample episodes with labelEncodingFor(model.config).';
    expect(check({ choices: 2 })).toThrow(message(1, 2));
    expect(check({ groups: 5 })).toThrow(message(5, 3));
    strings ??= new MemoryAugmentedNetwork({ imageSize: 2, ways: 3, labels: 'string', controllerUnits: 2, memorySlots: 2, memoryWidth: 2, heads: 1 });
    expect(() => checkEpisodeBatch('caller', strings, fitting())).toThrow(
      "caller: the batch's labels are 1 group(s) of 3 choices but the model outputs 5 of 5 (labels 'string', ways 3);",
    );
  });

  it('names an array whose length is not what the sizes say, or a missing one', () => {
    const disagree = "; the batch's sizes and arrays disagree.";
    expect(check({ inputs: new Float32Array(7) })).toThrow(`caller: batch.inputs has 7 numbers, expected [T, B, D] = [2,1,4] = 8${disagree}`);
    expect(check({ previousLabels: new Float32Array(7) })).toThrow(
      `caller: batch.previousLabels has 7 numbers, expected [T, B, G * C] = [2,1,3] = 6${disagree}`,
    );
    expect(check({ targets: new Int32Array(1) })).toThrow(`caller: batch.targets has 1 numbers, expected [T, B, G] = [2,1,1] = 2${disagree}`);
    expect(check({ labels: new Int32Array(3) })).toThrow(`caller: batch.labels has 3 numbers, expected [T, B] = [2,1] = 2${disagree}`);
    expect(check({ labels: undefined })).toThrow(`caller: batch.labels has no numbers, expected [T, B] = [2,1] = 2${disagree}`);
  });

  it('names the first target outside [0, C) or not an integer, and the first label below 0 or not an integer', () => {
    expect(check({ targets: Int32Array.from([1, 3]) })).toThrow(
      "caller: batch.targets[1] is 3, not an integer in [0, 3); targets hold each step's right choice in each group, 0..2.",
    );
    expect(check({ targets: Int32Array.from([-1, 5]) })).toThrow('caller: batch.targets[0] is -1, not an integer in [0, 3);');
    expect(check({ targets: Float32Array.from([0, 0.5]) as unknown as Int32Array })).toThrow('caller: batch.targets[1] is 0.5, not an integer');
    expect(check({ labels: Float32Array.from([0.5, 0]) as unknown as Int32Array })).toThrow(
      "caller: batch.labels[0] is 0.5, not an integer in [0, ...); labels hold each step's label id, an integer >= 0.",
    );
    expect(check({ labels: Int32Array.from([4, -2]) })).toThrow('caller: batch.labels[1] is -2, not an integer in [0, ...);');
  });
});

describe('checkInputShapes', () => {
  /** Runs the check on zeros of the given shapes, freeing them. */
  function shapes(images: number[], previousLabels: number[]): () => void {
    return () => {
      const x = tf.zeros(images);
      const y = tf.zeros(previousLabels);
      try {
        checkInputShapes('caller', tiny(), x, y);
      } finally {
        tf.dispose([x, y]);
      }
    };
  }

  it('accepts [T, B, D] images and [T, B, G * C] labels with T, B >= 1', () => {
    expect(shapes([1, 1, 4], [1, 1, 3])).not.toThrow();
    expect(shapes([3, 2, 4], [3, 2, 3])).not.toThrow();
  });

  it('names inputs that are not both rank 3 with the same T and B', () => {
    const message = (a: string, b: string) => `caller: images [${a}] and previousLabels [${b}] must both be [T, B, ...] with the same T and B.`;
    expect(shapes([2, 4], [2, 1, 3])).toThrow(message('2,4', '2,1,3'));
    expect(shapes([2, 1, 4], [2, 3])).toThrow(message('2,1,4', '2,3'));
    expect(shapes([2, 1, 4], [3, 1, 3])).toThrow(message('2,1,4', '3,1,3'));
    expect(shapes([2, 1, 4], [2, 2, 3])).toThrow(message('2,1,4', '2,2,3'));
  });

  it('names an image or label width other than the model’s', () => {
    const message = (a: string, b: string) =>
      `caller: images [${a}] and previousLabels [${b}] must be [T, B, 4] and [T, B, 3] (imageSize 2^2 numbers per image, 3 per label).`;
    expect(shapes([2, 1, 5], [2, 1, 3])).toThrow(message('2,1,5', '2,1,3'));
    expect(shapes([2, 1, 4], [2, 1, 2])).toThrow(message('2,1,4', '2,1,2'));
  });

  it('names inputs with no steps or no episodes', () => {
    expect(shapes([0, 1, 4], [0, 1, 3])).toThrow('caller: images [0,1,4] hold no steps or no episodes; T and B must be at least 1.');
    expect(shapes([2, 0, 4], [2, 0, 3])).toThrow('caller: images [2,0,4] hold no steps or no episodes; T and B must be at least 1.');
  });
});

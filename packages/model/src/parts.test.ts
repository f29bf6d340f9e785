import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { lrua, type AddressingScheme } from '@mann/addressing';
import { lstm, type Controller } from '@mann/controller';
import type { AddressingFactory, ControllerFactory } from './config';
import { MemoryAugmentedNetwork } from './model';
import { SMALL, contentOnly, simpleRnn } from './test_helpers';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('parts built by factories', () => {
  it('get the sizes the model computed, and are used as built', () => {
    const seen: unknown[] = [];
    const model = new MemoryAugmentedNetwork({
      ...SMALL,
      controller: (sizes) => (seen.push(sizes), simpleRnn(sizes)),
      addressing: (sizes) => (seen.push(sizes), contentOnly(sizes)),
    });
    // 6 x 6 image + 3 labels + 2 heads x 8 = 55.
    expect(seen).toEqual([{ memory: { slots: 12, width: 8 }, heads: 2 }, { inputSize: 55, units: 24, forgetBias: 1, seed: 0 }]);
    expect(model.controller.name).toBe('simple-rnn');
    expect(model.addressing!.name).toBe('content-only');
    expect(Object.keys(model.variables).sort()).toEqual(['controller/bias', 'controller/kernel', 'memory/bias', 'memory/kernel', 'output/bias', 'output/kernel']);
    model.dispose();
  });

  const brokenControllers: [string, ControllerFactory, string][] = [
    ['returns nothing', () => undefined as never, 'the controller factory returned a controller that is not an object (got undefined).'],
    ['has no step', (sizes) => ({ ...simpleRnn(sizes), name: 'half', step: undefined }) as never, "the controller factory returned a controller 'half' that has no step() method."],
    [
      'takes the wrong input width',
      (sizes) => lstm({ ...sizes, inputSize: sizes.inputSize - 1 }),
      "the controller factory returned a controller 'lstm' that takes inputs of width 54, but the model feeds it 55 (sizes.inputSize).",
    ],
    [
      'steps to the wrong width',
      (sizes) => ({ ...simpleRnn(sizes), outputSize: 7 }) as Controller,
      "the controller factory returned a controller 'simple-rnn' that stepped a [1, 55] input to an output of shape [1,24], expected [1, 7] (outputSize).",
    ],
    ['throws', () => { throw new Error('out of ideas'); }, 'Model config: the controller factory threw: out of ideas'],
  ];
  it.each(brokenControllers)('refuse a controller that %s, naming the part', (_, controller, message) => {
    expect(() => new MemoryAugmentedNetwork({ ...SMALL, controller })).toThrow(message);
  });

  const brokenSchemes: [string, AddressingFactory, string][] = [
    [
      'has the wrong number of heads',
      ({ memory }) => lrua({ memory, heads: 3 }),
      "the addressing factory returned a scheme 'lrua' that has 3 heads, but the config asks for 2 (sizes.heads).",
    ],
    [
      'reads vectors of the wrong width',
      (sizes) => {
        const scheme = contentOnly(sizes);
        return { ...scheme, step: (p, s) => ({ ...scheme.step(p, s), reads: tf.zeros([1, 2, 5]) as tf.Tensor3D }) } as AddressingScheme;
      },
      "the addressing factory returned a scheme 'content-only' that stepped to reads of shape [1,2,5], expected [1,2,8] (one read vector of the memory's width per head).",
    ],
    ['has no name', (sizes) => ({ ...contentOnly(sizes), name: '' }), 'the addressing factory returned a scheme that has no name (a non-empty string, stored in checkpoints).'],
  ];
  it.each(brokenSchemes)('refuse a scheme that %s, naming the part', (_, addressing, message) => {
    expect(() => new MemoryAugmentedNetwork({ ...SMALL, addressing })).toThrow(message);
  });
});

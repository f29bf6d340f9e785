import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { lrua, type AddressingScheme, type AddressingState } from '@mann/addressing';
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
    ['throws a string', () => { throw 'nothing'; }, 'Model config: the controller factory threw: nothing'],
    ['is not an object', () => 7 as never, 'Model config: the controller factory returned a controller that is not an object (got 7).'],
    ['is null', () => null as never, 'Model config: the controller factory returned a controller that is not an object (got null).'],
    [
      'has no name',
      (sizes) => ({ ...simpleRnn(sizes), name: 3 }) as never,
      'Model config: the controller factory returned a controller that has no name (a non-empty string, stored in checkpoints).',
    ],
    ['has an empty name', (sizes) => ({ ...simpleRnn(sizes), name: '' }), 'the controller factory returned a controller that has no name'],
    ['has no initialState', (sizes) => ({ ...simpleRnn(sizes), initialState: 1 }) as never, "a controller 'simple-rnn' that has no initialState() method."],
    ['has no dispose', (sizes) => ({ ...simpleRnn(sizes), dispose: undefined }) as never, "a controller 'simple-rnn' that has no dispose() method."],
    [
      'has no outputSize',
      (sizes) => ({ ...simpleRnn(sizes), outputSize: 0 }),
      "Model config: the controller factory returned a controller 'simple-rnn' that has outputSize 0, not a positive integer.",
    ],
    ['has a fractional outputSize', (sizes) => ({ ...simpleRnn(sizes), outputSize: 2.5 }), "'simple-rnn' that has outputSize 2.5, not a positive integer."],
    ['has a string outputSize', (sizes) => ({ ...simpleRnn(sizes), outputSize: '24' }) as never, "'simple-rnn' that has outputSize 24, not a positive integer."],
    ['has no variables', (sizes) => ({ ...simpleRnn(sizes), variables: null }) as never, "a controller 'simple-rnn' that has no variables record."],
    [
      'has a variable that is not a tf.Variable',
      (sizes) => ({ ...simpleRnn(sizes), variables: { ...simpleRnn(sizes).variables, scale: tf.scalar(1) } }) as never,
      "a controller 'simple-rnn' that has variables.scale that is not a tf.Variable.",
    ],
    [
      'has a fast implementation without start()',
      (sizes) => ({ ...simpleRnn(sizes), fast: {} }) as never,
      "a controller 'simple-rnn' that has a fast implementation without start().",
    ],
  ];
  it.each(brokenControllers)('refuse a controller that %s, naming the part', (_, controller, message) => {
    expect(() => new MemoryAugmentedNetwork({ ...SMALL, controller })).toThrow(message);
  });

  it('accept a controller with a fast implementation, and one whose output width is not controllerUnits', () => {
    const fast = new MemoryAugmentedNetwork({ ...SMALL, controller: (sizes) => lstm(sizes) });
    expect(fast.controller.fast).toBeDefined();
    fast.dispose();
    // The model takes the controller's outputSize; controllerUnits is a suggestion.
    const wider = new MemoryAugmentedNetwork({ ...SMALL, controller: (sizes) => simpleRnn({ ...sizes, units: 5 }) });
    expect(wider.controller.outputSize).toBe(5);
    expect(wider.variables['output/kernel'].shape).toEqual([5 + 16, 3]);
    wider.dispose();
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
    ['is not an object', () => 'lrua' as never, 'Model config: the addressing factory returned a scheme that is not an object (got lrua).'],
    ['has no step', (sizes) => ({ ...contentOnly(sizes), step: undefined }) as never, "Model config: the addressing factory returned a scheme 'content-only' that has no step() method."],
    ['has no initialState', (sizes) => ({ ...contentOnly(sizes), initialState: {} }) as never, "a scheme 'content-only' that has no initialState() method."],
    [
      'addresses another memory',
      (sizes) => ({ ...contentOnly(sizes), memory: { ...sizes.memory, slots: 11, initialValue: 0 } }),
      "Model config: the addressing factory returned a scheme 'content-only' that addresses a memory of 11 x 8, but the config asks for 12 x 8 (sizes.memory).",
    ],
    [
      'addresses memory of another width',
      (sizes) => ({ ...contentOnly(sizes), memory: { ...sizes.memory, width: 9, initialValue: 0 } }),
      "'content-only' that addresses a memory of 12 x 9, but the config asks for 12 x 8 (sizes.memory).",
    ],
    ['has no memory', (sizes) => ({ ...contentOnly(sizes), memory: undefined }) as never, "'content-only' that addresses a memory of undefined x undefined, but"],
    [
      'has no parameterSize',
      (sizes) => ({ ...contentOnly(sizes), parameterSize: 0 }),
      "Model config: the addressing factory returned a scheme 'content-only' that has parameterSize 0, not a positive integer.",
    ],
    ['has a fast implementation without start()', (sizes) => ({ ...contentOnly(sizes), fast: { start: 1 } }) as never, "'content-only' that has a fast implementation without start()."],
    [
      'starts without a memory tensor',
      (sizes) => ({ ...contentOnly(sizes), initialState: () => ({ memory: [0] }) }) as never,
      "Model config: the addressing factory returned a scheme 'content-only' that has an initialState(1) without a memory tensor.",
    ],
    [
      'steps to no reads',
      (sizes) => ({ ...contentOnly(sizes), step: (_: tf.Tensor2D, state: AddressingState) => ({ state }) }) as never,
      "'content-only' that stepped to reads of shape [none], expected [1,2,8] (one read vector of the memory's width per head).",
    ],
    ['throws', () => { throw new Error('no memory today'); }, 'Model config: the addressing factory threw: no memory today'],
  ];
  it.each(brokenSchemes)('refuse a scheme that %s, naming the part', (_, addressing, message) => {
    expect(() => new MemoryAugmentedNetwork({ ...SMALL, addressing })).toThrow(message);
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { maxAbsDifference, tensorCountAfterSteps } from '@mann/backend/testing';
import type { ModelConfig } from './config';
import { setLruaImplementation, setNtmImplementation } from '@mann/addressing';
import { fastForward, fastPathParts } from './fast_forward';
import { MemoryAugmentedNetwork } from './model';
import { episodeTensors } from './tensors';
import { Trainer } from './trainer';
import { SMALL, contentOnly, simpleRnn, smallBatch } from './test_helpers';

// Tolerance for fast vs plain: both compute in float32, the same maths in a different order (the fast path sums
// in JavaScript doubles and rounds to float32 per array, the plain path rounds after every tfjs kernel). Over
// T = 12 steps the rounding differences (~6e-8 relative per operation) accumulate to a few 1e-7 relative; the
// gradients below are of order 1e-2..1e-1, so an absolute 1e-5 (and 1e-4 relative to the largest entry) is
// ~100x the expected float32 noise, yet 1000x smaller than any real mistake (a dropped term, a wrong sign or
// a wrong step's state changes a gradient by the size of that term; checked by dropping the write gate's
// gradient carried to the previous read weights, which moved controller/kernel's gradient by 3.4e-4, 34x the
// tolerance, and failed these tests on cpu and wasm).
const TOLERANCE = 1e-5;

const configs: [string, Partial<ModelConfig>][] = [
  ['one-hot labels, 2 heads', SMALL],
  // 5 heads: one full block of four and a padded one; 3 heads: a single padded block.
  ['string labels, 5 heads', { ...SMALL, labels: 'string', heads: 5 }],
  ['3 heads, usage decay 0.5, forget bias 0', { ...SMALL, heads: 3, usageDecay: 0.5, forgetBias: 0 }],
  ['separate add vectors, 5 heads', { ...SMALL, heads: 5, writeVector: 'add' }],
  // The others clear the least-used slot alone (the default); here all 3 marked slots, 36 clears in 12 steps
  // of 12 slots, so written slots are cleared too.
  ['every least-used slot cleared (the PyTorch reference), 3 heads', { ...SMALL, heads: 3, clearing: 'all-least-used' }],
  ['the LSTM baseline (no memory)', { ...SMALL, kind: 'lstm' }],
  ['feed-forward controller, LRUA', { ...SMALL, controller: 'feed-forward' }],
  ['LSTM controller, NTM addressing', { ...SMALL, addressing: 'ntm' }],
  ['feed-forward controller, NTM addressing, string labels', { ...SMALL, controller: 'feed-forward', addressing: 'ntm', labels: 'string' }],
  ['the feed-forward baseline (no memory)', { ...SMALL, kind: 'feed-forward' }],
  // Parts of a user's own without fast implementations: their steps are differentiated by tfjs inside the recurrence.
  ["a custom controller (no fast implementation), LRUA", { ...SMALL, controller: simpleRnn }],
  ["LSTM, a custom addressing scheme (no fast implementation)", { ...SMALL, addressing: contentOnly }],
  ['both parts custom', { ...SMALL, controller: simpleRnn, addressing: contentOnly }],
];

describe.each(['cpu', 'wasm'] as const)('fastForward on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });
  afterAll(async () => {
    await useBackend('cpu');
  });

  it.each(configs)('gives the plain path’s loss, logits and every gradient (%s)', (_, config) => {
    const model = new MemoryAugmentedNetwork({ ...config, seed: 3 });
    const fast = new Trainer(model, { fastPath: true });
    const plain = new Trainer(model, { fastPath: false });
    expect(fast.fastPath).toBe(true);
    expect(plain.fastPath).toBe(false);
    const batch = smallBatch(config);
    const input = episodeTensors(batch);
    const groups = config.labels === 'string' ? 5 : 1;
    const a = plain.gradients(input.images, input.previousLabels, input.targets, groups);
    const b = fast.gradients(input.images, input.previousLabels, input.targets, groups);
    expect(Math.abs(a.value.dataSync()[0] - b.value.dataSync()[0])).toBeLessThan(TOLERANCE);
    expect(maxAbsDifference(a.logits, b.logits)).toBeLessThan(TOLERANCE);
    expect(Object.keys(b.grads).sort()).toEqual(Object.keys(model.variables).sort());
    for (const name of Object.keys(model.variables)) {
      const largest = tf.tidy(() => tf.max(tf.abs(a.grads[name])).dataSync()[0]);
      expect(largest, `${name} has a non-trivial gradient`).toBeGreaterThan(1e-6);
      const difference = maxAbsDifference(a.grads[name], b.grads[name]);
      expect(difference, name).toBeLessThan(TOLERANCE);
      expect(difference, name).toBeLessThan(1e-4 * largest);
    }
    tf.dispose([a, b, input] as unknown as tf.TensorContainer);
    plain.optimizer.dispose();
    fast.optimizer.dispose();
    model.dispose();
  });

  it('trains the same weights as the plain path over 3 updates, without leaking tensors', () => {
    const fastModel = new MemoryAugmentedNetwork({ ...SMALL, seed: 4 });
    const plainModel = new MemoryAugmentedNetwork({ ...SMALL, seed: 4 });
    const fast = new Trainer(fastModel, { optimizer: 'rmsprop', learningRate: 1e-3, fastPath: true });
    const plain = new Trainer(plainModel, { optimizer: 'rmsprop', learningRate: 1e-3, fastPath: false });
    const batch = smallBatch(SMALL);
    const losses: [number, number][] = [];
    const { afterFirst, afterLast } = tensorCountAfterSteps(() => {
      losses.push([fast.trainStep(batch).loss, plain.trainStep(batch).loss]);
    }, 3);
    expect(afterLast).toBe(afterFirst);
    for (const [f, p] of losses) expect(Math.abs(f - p)).toBeLessThan(TOLERANCE);
    // RMSProp's first steps move each weight by ~lr / sqrt(1 - decay) regardless of the gradient's size, so
    // the weights agree to ~1e-5 only if every gradient had the same sign and similar size.
    for (const name of Object.keys(fastModel.variables)) {
      expect(maxAbsDifference(fastModel.variables[name], plainModel.variables[name]), name).toBeLessThan(1e-4);
    }
    fast.optimizer.dispose();
    plain.optimizer.dispose();
    fastModel.dispose();
    plainModel.dispose();
  });
});

describe('the fast path', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });

  it('is on by default, in Trainer and in evaluation', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    const trainer = new Trainer(model);
    expect(trainer.fastPath).toBe(true);
    expect(new Trainer(model, { fastPath: false }).fastPath).toBe(false);
    trainer.dispose();
    model.dispose();
  });

  it("says which parts run their own fast implementation and which are differentiated by tfjs", () => {
    const paper = new MemoryAugmentedNetwork(SMALL);
    expect(fastPathParts(paper).description).toMatch(/^controller 'lstm' fast, addressing 'lrua' fast \((WebAssembly SIMD|JavaScript)\)$/);
    const custom = new MemoryAugmentedNetwork({ ...SMALL, controller: simpleRnn, addressing: 'ntm' });
    expect(fastPathParts(custom).description).toBe(
      "controller 'simple-rnn' has no fast implementation, its step differentiated by tfjs (slower), addressing 'ntm' fast (WebAssembly SIMD)",
    );
    expect(fastPathParts(new MemoryAugmentedNetwork({ ...SMALL, kind: 'feed-forward' })).description).toBe("controller 'feed-forward' fast");
    const scheme = new MemoryAugmentedNetwork({ ...SMALL, addressing: contentOnly });
    const parts = fastPathParts(scheme);
    expect(parts.description).toBe(
      "controller 'lstm' fast, addressing 'content-only' has no fast implementation, its step differentiated by tfjs (slower)",
    );
    expect(parts.controller).toBe(scheme.controller.fast);
    expect(parts.addressing).not.toBeNull();
    expect(fastPathParts(paper).addressing).toBe(paper.addressing!.fast);
    expect(fastPathParts(new MemoryAugmentedNetwork({ ...SMALL, kind: 'lstm' })).addressing).toBeNull();
    // Which implementation the built-in schemes run is named: JavaScript when WebAssembly is turned off.
    setLruaImplementation('js');
    setNtmImplementation('js');
    try {
      expect(fastPathParts(paper).description).toBe("controller 'lstm' fast, addressing 'lrua' fast (JavaScript)");
      const ntm = new MemoryAugmentedNetwork({ ...SMALL, addressing: 'ntm' });
      expect(fastPathParts(ntm).description).toBe("controller 'lstm' fast, addressing 'ntm' fast (JavaScript)");
      ntm.dispose();
    } finally {
      setLruaImplementation('auto');
      setNtmImplementation('auto');
    }
    expect(fastPathParts(paper).description).toBe("controller 'lstm' fast, addressing 'lrua' fast (WebAssembly SIMD)");
    paper.dispose();
    custom.dispose();
    scheme.dispose();
  });

  it('validates input shapes', () => {
    const model = new MemoryAugmentedNetwork(SMALL);
    expect(() => fastForward(model, tf.zeros([2, 1, 35]) as tf.Tensor3D, tf.zeros([2, 1, 3]) as tf.Tensor3D)).toThrow(/\[T, B, 36\]/);
    expect(() => fastForward(model, tf.zeros([2, 1, 36]) as tf.Tensor3D, tf.zeros([3, 1, 3]) as tf.Tensor3D)).toThrow(/same T and B/);
    const empty = [tf.zeros([0, 2, 36]) as tf.Tensor3D, tf.zeros([0, 2, 3]) as tf.Tensor3D] as const;
    const before = tf.memory().numTensors;
    expect(() => fastForward(model, ...empty)).toThrow('fastForward: images [0,2,36] hold no steps or no episodes; T and B must be at least 1.');
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...empty]);
    model.dispose();
  });
});

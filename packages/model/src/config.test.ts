import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, outputGroups, resolveConfig } from './config';

describe('resolveConfig', () => {
  it("fills in the paper's defaults", () => {
    const config = resolveConfig();
    expect(config).toEqual(DEFAULT_CONFIG);
    // Santoro et al. 2016: an LSTM of 200 units, 128 x 40 memory, 4 heads, LRUA with decay 0.95 writing its key,
    // 5-way one-hot labels, 20 x 20 images.
    expect(config).toEqual({
      kind: 'mann',
      controller: 'lstm',
      controllerUnits: 200,
      forgetBias: 1,
      addressing: 'lrua',
      memorySlots: 128,
      memoryWidth: 40,
      heads: 4,
      usageDecay: 0.95,
      writeVector: 'key',
      clearing: 'least-used',
      shifts: 3,
      labels: 'one-hot',
      ways: 5,
      imageSize: 20,
      seed: 0,
    });
    expect(Object.isFrozen(DEFAULT_CONFIG)).toBe(true);
    expect(resolveConfig({ ways: 3 })).toEqual({ ...DEFAULT_CONFIG, ways: 3 });
  });

  it('accepts the edges of every range', () => {
    const edges = [
      { usageDecay: 0 },
      { usageDecay: 1 },
      { heads: 8, memorySlots: 8 },
      { ways: 2 },
      { labels: 'string', ways: 1 },
      { labels: 'string', ways: 3125 },
      { seed: -3 },
      { forgetBias: -2.5 },
      { kind: 'lstm', controller: 'feed-forward', addressing: 'ntm' },
      { controller: () => null, addressing: () => null },
      { writeVector: 'add', clearing: 'all-least-used' },
    ] as const;
    for (const partial of edges) expect(() => resolveConfig(partial as never), JSON.stringify(partial)).not.toThrow();
  });

  it('names the output groups of each label encoding', () => {
    expect(outputGroups(resolveConfig({ ways: 5 }))).toEqual({ groups: 1, choices: 5 });
    expect(outputGroups(resolveConfig({ labels: 'string', ways: 15 }))).toEqual({ groups: 5, choices: 5 });
  });

  it.each([
    [{ memoryWidth: 0 }, 'Model config: memoryWidth must be a positive integer, got 0.'],
    [{ heads: 9, memorySlots: 8 }, 'Model config: 9 heads cannot address a memory of 8 slots; use at most 8 heads.'],
    [{ usageDecay: 1.5 }, 'Model config: usageDecay must be in [0, 1], got 1.5.'],
    [{ addressing: 'hash' }, "Model config: addressing must be one of 'lrua', 'ntm', or a factory function (sizes) => AddressingScheme; got \"hash\"."],
    [
      { controller: { name: 'simple-rnn', step: () => null } },
      "Model config: controller must be one of 'lstm', 'feed-forward', or a factory function (sizes) => Controller; got an object (name 'simple-rnn'). " +
        'To plug in your own controller, pass a function that builds it: { controller: (sizes) => yours }.',
    ],
    [{ kind: 'lstm', controller: () => null }, "Model config: a controller factory needs kind 'mann' (the lstm baseline builds its own network)."],
    [{ ways: 1 }, 'Model config: one-hot labels need at least 2 ways, got 1.'],
    [{ labels: 'string', ways: 4000 }, 'Model config: 4000 ways exceed the 3125 distinct string labels.'],
    [
      { slots: 4, seeds: 1 },
      "Model config: unknown option 'slots', 'seeds'; known options are kind, controller, controllerUnits, forgetBias, addressing, " +
        'memorySlots, memoryWidth, heads, usageDecay, writeVector, clearing, shifts, labels, ways, imageSize, seed.',
    ],
    [{ kind: 'rnn' }, "Model config: kind must be one of 'mann', 'lstm', 'feed-forward', got \"rnn\"."],
    [{ writeVector: 'erase' }, "Model config: writeVector must be one of 'key', 'add', got \"erase\"."],
    [{ clearing: 'none' }, "Model config: clearing must be one of 'all-least-used', 'least-used', got \"none\"."],
    [{ labels: 'binary' }, "Model config: labels must be one of 'one-hot', 'string', got \"binary\"."],
    [{ controllerUnits: 1.5 }, 'Model config: controllerUnits must be a positive integer, got 1.5.'],
    [{ memorySlots: '8' }, 'Model config: memorySlots must be a positive integer, got "8".'],
    [{ heads: -1 }, 'Model config: heads must be a positive integer, got -1.'],
    [{ shifts: 0 }, 'Model config: shifts must be a positive integer, got 0.'],
    [{ ways: null }, 'Model config: ways must be a positive integer, got null.'],
    [{ imageSize: 0 }, 'Model config: imageSize must be a positive integer, got 0.'],
    [{ seed: 0.5 }, 'Model config: seed must be an integer, got 0.5.'],
    [{ usageDecay: -0.1 }, 'Model config: usageDecay must be in [0, 1], got -0.1.'],
    [{ usageDecay: NaN }, 'Model config: usageDecay must be in [0, 1], got NaN.'],
    [{ forgetBias: Infinity }, 'Model config: forgetBias must be a number, got Infinity.'],
    [{ heads: 9, memorySlots: 8, memoryWidth: 0 }, 'Model config: memoryWidth must be a positive integer, got 0.'],
    [
      { controller: null },
      "Model config: controller must be one of 'lstm', 'feed-forward', or a factory function (sizes) => Controller; got null.",
    ],
    [
      { addressing: { read: 1, write: 2, a: 3, b: 4, c: 5, d: 6 } },
      "Model config: addressing must be one of 'lrua', 'ntm', or a factory function (sizes) => AddressingScheme; got an object (keys read, write, a, b, c). " +
        'To plug in your own addressing, pass a function that builds it: { addressing: (sizes) => yours }.',
    ],
    [{ kind: 'feed-forward', controller: () => null }, "Model config: a controller factory needs kind 'mann' (the feed-forward baseline builds its own network)."],
    [{ labels: 'string', ways: 3126 }, 'Model config: 3126 ways exceed the 3125 distinct string labels.'],
  ])('rejects %j', (partial, message) => {
    expect(() => resolveConfig(partial as never)).toThrow(message);
  });
});

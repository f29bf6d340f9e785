import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, outputGroups, resolveConfig } from './config';

describe('resolveConfig', () => {
  it("fills in the paper's defaults", () => {
    const config = resolveConfig();
    expect(config).toEqual(DEFAULT_CONFIG);
    expect(config).toMatchObject({ controllerUnits: 200, memorySlots: 128, memoryWidth: 40, heads: 4, usageDecay: 0.95, imageSize: 20 });
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
    [{ slots: 4 }, "Model config: unknown option 'slots'"],
  ])('rejects %j', (partial, message) => {
    expect(() => resolveConfig(partial as never)).toThrow(message);
  });
});

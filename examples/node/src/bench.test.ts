import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { MemoryAugmentedNetwork } from '@mann/model';
import { countFlops } from './bench';

beforeAll(async () => {
  await useBackend('cpu');
});

describe('countFlops', () => {
  it("counts the paper's MANN batch by hand: 2.88 GFLOP", () => {
    // LSTM 200 on [x 400, y 5, r 160]: forward and weight gradient (565 + 200) x 800 each, input gradient of the
    // fed part (reads 160 + h 200) x 800; memory projection 200 x 164 (4 heads x (key 40 + gate 1)) three times;
    // memory step 3 products x 4 heads x 128 x 40, backward twice; output layer (200 + 160) x 5 three times.
    const perRow = 765 * 800 * 2 + 360 * 800 + 200 * 164 * 3 + 3 * 4 * 128 * 40 * 3 + 360 * 5 * 3;
    const model = new MemoryAugmentedNetwork();
    expect(model.addressing!.parameterSize).toBe(164);
    expect(countFlops(model, 50, 16)).toBe(2 * 800 * perRow);
    expect(countFlops(model, 50, 16) / 1e9).toBeCloseTo(2.88, 2);
    model.dispose();
  });

  it('counts the feed-forward baseline: no memory, nothing fed back', () => {
    const model = new MemoryAugmentedNetwork({ kind: 'feed-forward', controllerUnits: 10 });
    // one layer on [x 400, y 5]: forward and weight gradient; the output layer 10 x 5 three times
    const perRow = 405 * 10 * 2 + 10 * 5 * 3;
    expect(countFlops(model, 2, 3)).toBe(2 * 6 * perRow);
    model.dispose();
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import type { ModelConfig } from './config';
import { episodeLoss } from './loss';
import { MemoryAugmentedNetwork } from './model';
import { episodeTensors } from './tensors';
import { smallBatch } from './test_helpers';

beforeAll(async () => {
  await useBackend('cpu');
});

// The composed model's gradients, end to end through T steps of controller, addressing and memory, against central
// finite differences of the loss in every weight of a tiny model. float32 throughout: with epsilon 1e-2 and a loss
// of order 1 the numeric derivative carries errors of a few 1e-4 (rounding ~1e-7 / 1e-2 per evaluation, truncation
// ~epsilon^2); a wrong gradient is off by far more than the 5e-3 allowed.
describe.each<[string, Partial<ModelConfig>]>([
  ['LSTM + LRUA', {}],
  ['LSTM + NTM', { addressing: 'ntm' }],
  ['feed-forward + LRUA, string labels', { controller: 'feed-forward', labels: 'string' }],
])('gradients of the whole model, %s', (_, variant) => {
  it('match finite differences in every weight', () => {
    const config: Partial<ModelConfig> = { controllerUnits: 3, memorySlots: 4, memoryWidth: 3, heads: 1, ways: 2, imageSize: 2, seed: 3, ...variant };
    const model = new MemoryAugmentedNetwork(config);
    const batch = smallBatch({ ...config, imageSize: 6 }, undefined, 2, 2);
    // Downsample the 6x6 test patterns to 2x2 so the model stays tiny.
    const images = tf.tidy(() => {
      const x = tf.reshape(tf.tensor(batch.inputs), [batch.steps * batch.batchSize, 6, 6, 1]) as tf.Tensor4D;
      return tf.reshape(tf.avgPool(x, 3, 3, 'valid'), [batch.steps, batch.batchSize, 4]) as tf.Tensor3D;
    });
    const input = episodeTensors(batch);
    const groups = config.labels === 'string' ? 5 : 1;
    const loss = () => episodeLoss(model.forward(images, input.previousLabels), input.targets, groups);
    const { grads } = tf.variableGrads(loss, Object.values(model.variables));
    const epsilon = 1e-2;
    let worst = 0;
    for (const [name, variable] of Object.entries(model.variables)) {
      const analytic = grads[variable.name].dataSync();
      const values = Float32Array.from(variable.dataSync());
      for (let i = 0; i < values.length; i++) {
        const at = (v: number) => {
          const copy = values.slice();
          copy[i] = v;
          return tf.tidy(() => {
            variable.assign(tf.tensor(copy, variable.shape));
            return loss().dataSync()[0];
          });
        };
        const numeric = (at(values[i] + epsilon) - at(values[i] - epsilon)) / (2 * epsilon);
        tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
        const error = Math.abs(numeric - analytic[i]);
        if (error > worst) worst = error;
        expect(error, `${name}[${i}]: analytic ${analytic[i]}, numeric ${numeric}`).toBeLessThan(5e-3);
      }
    }
    expect(worst).toBeLessThan(5e-3);
    model.dispose();
  }, 120_000);
});

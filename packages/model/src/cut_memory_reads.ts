import * as tf from '@tensorflow/tfjs-core';
import type { MemoryAugmentedNetwork } from './model';

/**
 * Cuts a MANN off from its memory, in place: zeroes the weights through which read vectors enter the model, the
 * r_{t-1} rows of the controller's input kernel and the r_t rows of the output kernel. Evaluating the model
 * afterwards shows how much its answers depend on what it reads. The controller was trained with its reads, so
 * this measures reliance on the memory, not what a model without memory could learn (the LSTM baseline does that).
 * Works for the built-in controllers (`lstm`: `controller/kernel`; `feed-forward`: `controller/kernel0`), whose
 * input kernels take `[x_t, y_{t-1}, r_{t-1}]` in that order.
 *
 * ```ts
 * const { model } = await loadCheckpoint('checkpoints/omniglot-mann');
 * cutMemoryReads(model);
 * evaluateModel(model, { dataset: heldOut, episodes: 1000 }); // accuracy without the memory's reads
 * ```
 */
export function cutMemoryReads(model: MemoryAugmentedNetwork): void {
  const { config, variables } = model;
  if (!model.addressing) throw new Error(`cutMemoryReads: a ${config.kind} model has no memory to cut.`);
  const inputKernel = variables['controller/kernel'] ?? variables['controller/kernel0'];
  const outputKernel = variables['output/kernel'];
  const readSize = config.heads * config.memoryWidth;
  const readsFrom = model.imageSize + model.labelSize;
  const controllerUnits = model.controller.outputSize;
  if (!inputKernel || inputKernel.shape[0] < readsFrom + readSize || outputKernel.shape[0] !== controllerUnits + readSize) {
    throw new Error(
      'cutMemoryReads: expected a built-in controller whose input kernel takes [x_t, y_{t-1}, r_{t-1}] first ' +
        `(${readsFrom + readSize} rows or more) and an output kernel over [h_t, r_t] (${controllerUnits + readSize} rows).`,
    );
  }
  const zeroRows = (variable: tf.Variable, from: number): void => {
    tf.tidy(() => {
      const [rows, columns] = variable.shape as [number, number];
      const keep = tf.concat([tf.ones([from, columns]), tf.zeros([readSize, columns]), tf.ones([rows - from - readSize, columns])]);
      variable.assign(tf.mul(variable, keep) as tf.Tensor);
    });
  };
  zeroRows(inputKernel, readsFrom);
  zeroRows(outputKernel, controllerUnits);
}

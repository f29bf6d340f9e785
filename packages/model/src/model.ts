import * as tf from '@tensorflow/tfjs-core';
// Also registers tfjs' gradients and chained ops, which training needs and tfjs-core's Node entry does not load.
import { requireBackend } from '@mann/backend';
import type { AddressingScheme, AddressingState } from '@mann/addressing';
import { glorotUniform, type Controller, type ControllerState } from '@mann/controller';
import { outputGroups, resolveConfig, type ModelConfig } from './config';
import { buildAddressing, buildController } from './parts';
import { checkInputShapes } from './batch_checks';

/** Everything a model carries from one step of an episode to the next. */
export interface ModelState {
  /** The controller's recurrent state (`h` and `c` for an LSTM). */
  controller: ControllerState;
  /** The memory and its weightings; absent for the memoryless baselines. */
  addressing?: AddressingState;
  /** The previous step's read vectors, concatenated: [B, R * W] (absent for the baselines). */
  reads?: tf.Tensor2D;
}

/** What one step returns: the output logits [B, G * C] and the state for the next step. */
export interface StepResult {
  /** The output logits [B, G * C]. */
  logits: tf.Tensor2D;
  /** The state for the next step. */
  state: ModelState;
}

/**
 * A Memory-Augmented Neural Network (Santoro et al. 2016), or one of its memoryless baselines, built from a
 * `Controller` and an `AddressingScheme`.
 *
 * At step t the controller sees [x_t, y_{t-1}, r_{t-1}]; its output h_t is projected linearly to the addressing
 * scheme's parameters (keys, gates...), the scheme writes and reads memory, and the output is
 * o_t = W_o [h_t, r_t] + b_o. The baselines drop the memory: the controller sees [x_t, y_{t-1}] and o_t = W_o h_t + b_o.
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import { useBackend } from '@mann/backend';
 * import { MemoryAugmentedNetwork } from '@mann/model';
 * await useBackend('wasm');
 * const model = new MemoryAugmentedNetwork({ controllerUnits: 64, memorySlots: 32, memoryWidth: 16, heads: 2 });
 * const logits = tf.tidy(() => model.forward(tf.zeros([10, 4, 400]), tf.zeros([10, 4, 5])));
 * console.log(logits.shape); // [10, 4, 5]
 * ```
 */
export class MemoryAugmentedNetwork {
  /** The model's configuration, defaults filled in ({@link resolveConfig}). */
  readonly config: ModelConfig;
  /** The controller network, built from `config`. */
  readonly controller: Controller;
  /** The addressing scheme over the memory; null for the memoryless baselines. */
  readonly addressing: AddressingScheme | null;
  /** Trainable variables by stable name; checkpoints store them under these names. */
  readonly variables: Readonly<Record<string, tf.Variable>>;
  /** Numbers per input image (imageSize^2). */
  readonly imageSize: number;
  /** Width of the encoded label input y_{t-1} (G * C). */
  readonly labelSize: number;
  /** Width of the output logits (G * C). */
  readonly outputSize: number;
  /** Width of the concatenated read vectors r_t (heads x memory width; 0 for the baselines). */
  readonly readSize: number;
  private disposed = false;

  constructor(config: Partial<ModelConfig> = {}) {
    this.config = resolveConfig(config);
    requireBackend('MemoryAugmentedNetwork');
    const c = this.config;
    const { groups, choices } = outputGroups(c);
    this.imageSize = c.imageSize * c.imageSize;
    this.labelSize = groups * choices;
    this.outputSize = groups * choices;
    this.addressing = buildAddressing(c);
    this.readSize = this.addressing ? c.heads * c.memoryWidth : 0;
    this.controller = buildController(c, this.imageSize + this.labelSize + this.readSize);
    const h = this.controller.outputSize;
    const variables: Record<string, tf.Variable> = {};
    for (const [name, v] of Object.entries(this.controller.variables)) variables[`controller/${name}`] = v;
    // Variables survive tidy; the initial values they were made from do not.
    tf.tidy(() => {
      if (this.addressing) {
        const p = this.addressing.parameterSize;
        variables['memory/kernel'] = tf.variable(glorotUniform([h, p], c.seed + 1), true);
        variables['memory/bias'] = tf.variable(tf.zeros([p]), true);
      }
      variables['output/kernel'] = tf.variable(glorotUniform([h + this.readSize, this.outputSize], c.seed + 2), true);
      variables['output/bias'] = tf.variable(tf.zeros([this.outputSize]), true);
    });
    this.variables = variables;
  }

  /** The state at the start of an episode (memory and controller reset), for `batchSize` episodes. */
  initialState(batchSize: number): ModelState {
    this.assertAlive();
    return tf.tidy(() => {
      const state: ModelState = { controller: this.controller.initialState(batchSize) };
      if (this.addressing) {
        state.addressing = this.addressing.initialState(batchSize);
        state.reads = tf.zeros([batchSize, this.readSize]);
      }
      return state as unknown as tf.TensorContainer;
    }) as unknown as ModelState;
  }

  /**
   * One step: image x_t [B, D] and previous label y_{t-1} [B, G * C] -> logits [B, G * C] and the next state.
   * Pure: call inside `tf.tidy` (or a gradient function) and keep what you need.
   */
  step(image: tf.Tensor2D, previousLabel: tf.Tensor2D, state: ModelState): StepResult {
    this.assertAlive();
    if (image.rank !== 2 || image.shape[1] !== this.imageSize) {
      throw new Error(`MemoryAugmentedNetwork.step: image has shape [${image.shape}], expected [B, ${this.imageSize}] (imageSize ${this.config.imageSize}^2).`);
    }
    if (previousLabel.rank !== 2 || previousLabel.shape[1] !== this.labelSize || previousLabel.shape[0] !== image.shape[0]) {
      throw new Error(`MemoryAugmentedNetwork.step: previousLabel has shape [${previousLabel.shape}], expected [${image.shape[0]}, ${this.labelSize}].`);
    }
    const parts: tf.Tensor2D[] = [image, previousLabel];
    if (this.addressing) parts.push(state.reads!);
    const { output, state: controllerState } = this.controller.step(tf.concat(parts, 1), state.controller);
    if (!this.addressing) {
      const logits = tf.add(tf.matMul(output, this.variables['output/kernel']), this.variables['output/bias']) as tf.Tensor2D;
      return { logits, state: { controller: controllerState } };
    }
    const parameters = tf.add(tf.matMul(output, this.variables['memory/kernel']), this.variables['memory/bias']) as tf.Tensor2D;
    const { reads, state: addressingState } = this.addressing.step(parameters, state.addressing!);
    const flatReads = tf.reshape(reads, [image.shape[0], this.readSize]) as tf.Tensor2D;
    const logits = tf.add(
      tf.matMul(tf.concat([output, flatReads], 1), this.variables['output/kernel']),
      this.variables['output/bias'],
    ) as tf.Tensor2D;
    return { logits, state: { controller: controllerState, addressing: addressingState, reads: flatReads } };
  }

  /**
   * A whole batch of episodes: images [T, B, D] and previous labels [T, B, G * C] -> logits [T, B, G * C].
   * State starts fresh (memory reset), as every episode must. Call inside `tf.tidy` or a gradient function.
   */
  forward(images: tf.Tensor3D, previousLabels: tf.Tensor3D): tf.Tensor3D {
    this.assertAlive();
    // Checked before unstack and initialState: a refused call allocates nothing.
    checkInputShapes('MemoryAugmentedNetwork.forward', this, images, previousLabels);
    const [steps, batchSize] = images.shape;
    const xs = tf.unstack(images) as tf.Tensor2D[];
    const ys = tf.unstack(previousLabels) as tf.Tensor2D[];
    let state = this.initialState(batchSize);
    const logits: tf.Tensor2D[] = [];
    for (let t = 0; t < steps; t++) {
      const result = this.step(xs[t], ys[t], state);
      logits.push(result.logits);
      state = result.state;
    }
    return tf.stack(logits) as tf.Tensor3D;
  }

  /** Number of trainable numbers. */
  parameterCount(): number {
    return Object.values(this.variables).reduce((n, v) => n + v.size, 0);
  }

  /** Frees every variable. The model cannot be used afterwards. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.controller.dispose();
    for (const [name, v] of Object.entries(this.variables)) if (!name.startsWith('controller/')) v.dispose();
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error('MemoryAugmentedNetwork: this model was disposed.');
  }
}

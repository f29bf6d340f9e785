import * as tf from '@tensorflow/tfjs-core';
// Registers tfjs' gradients, which training needs (tfjs-core's Node entry does not).
import '@mann/backend';
import type { EpisodeBatch } from '@mann/episodes';
import { outputGroups } from './config';
import { fastForward } from './fast_forward';
import { episodeLoss, predictChoices } from './loss';
import type { MemoryAugmentedNetwork } from './model';
import { clipByGlobalNorm, createOptimizer, type Optimizer, type OptimizerName } from './optimizers';
import { episodeTensors } from './tensors';
import { checkEpisodeBatch } from './batch_checks';
import type { RestoredCheckpoint, TrainingState } from './checkpoint';

/** Options of a {@link Trainer}: the optimiser, its learning rate, gradient clipping and the forward path. */
export interface TrainerOptions {
  /** 'adam' (default: the fastest to train here) or 'rmsprop' (the paper's). */
  optimizer?: OptimizerName;
  /** Default 1e-3 for Adam, 1e-4 for RMSProp. */
  learningRate?: number;
  /** Clip gradients to this global L2 norm (default 10); 0 or Infinity turns clipping off. */
  clipNorm?: number;
  /**
   * Default true: `fastForward`, the whole recurrence as one op with a hand-written gradient, composed from each
   * part's fast implementation (a part without one has its step differentiated by tfjs inside it; see
   * `fastPathParts`). false: the plain `model.forward` path, every op differentiated by tfjs. The two agree to
   * float32 rounding (fast_forward.test.ts), but rounding makes long training runs drift apart, so the choice
   * changes a seeded run's exact trajectory.
   */
  fastPath?: boolean;
}

/** What one training step ({@link Trainer.trainStep}) reports. */
export interface StepReport {
  /** Mean cross-entropy of the batch before the update. */
  loss: number;
  /** Global gradient norm before clipping. */
  gradientNorm: number;
  /** [T, B, G] the model's choices for the batch (before the update). */
  predictions: Int32Array;
}

/** Thrown when a step produces a non-finite loss or gradient; the weights were left as they were. */
export class DivergenceError extends Error {}

/**
 * Trains a model on batches of episodes: forward, loss, gradients, clipping and the optimiser's update, all in
 * `tf.tidy`, so that `tf.memory().numTensors` stays flat from step to step.
 */
export class Trainer {
  /** The model being trained (the caller's: `dispose()` leaves it alone). */
  readonly model: MemoryAugmentedNetwork;
  /** The optimiser that updates the model's variables; its state is the trainer's. */
  readonly optimizer: Optimizer;
  /** The global L2 norm gradients are clipped to (0 or Infinity: no clipping). */
  readonly clipNorm: number;
  /** True when this trainer computes the forward pass and gradients with `fastForward`. */
  readonly fastPath: boolean;
  /** Updates applied so far. */
  step = 0;

  constructor(model: MemoryAugmentedNetwork, options: TrainerOptions = {}) {
    const name = options.optimizer ?? 'adam';
    this.model = model;
    this.clipNorm = options.clipNorm ?? 10;
    if (!(this.clipNorm >= 0)) throw new Error(`Trainer: clipNorm must be >= 0 (0 = no clipping), got ${this.clipNorm}.`);
    this.optimizer = createOptimizer(name, options.learningRate ?? (name === 'adam' ? 1e-3 : 1e-4));
    this.fastPath = options.fastPath ?? true;
  }

  /** The optimiser's step size for the next updates. */
  get learningRate(): number {
    return this.optimizer.learningRate;
  }

  /**
   * Changes the step size from the next update on, keeping the optimiser's state (a learning-rate schedule:
   * `mann train --lr-schedule`). Checkpoints store the new rate.
   */
  setLearningRate(learningRate: number): void {
    this.optimizer.setLearningRate(learningRate);
  }

  /** The model's logits for a batch, by the fast or the plain path. Call inside `tf.tidy` or a gradient function. */
  forward(images: tf.Tensor3D, previousLabels: tf.Tensor3D): tf.Tensor3D {
    return this.fastPath ? fastForward(this.model, images, previousLabels) : this.model.forward(images, previousLabels);
  }

  /**
   * A trainer that continues a restored checkpoint: same optimiser, learning rate, clipping, state and step. It takes
   * `restored.optimizerState` over: the tensors are freed here (the trainer keeps its own slots, freed by
   * `dispose()`), so a resumed run leaks nothing even if the caller never disposes them; the model stays the
   * caller's. A checkpoint's optimiser state serves one trainer: restore the checkpoint again for another.
   */
  static fromCheckpoint(restored: RestoredCheckpoint, overrides: TrainerOptions = {}): Trainer {
    const trainer = new Trainer(restored.model, checkpointOptions(restored, overrides));
    trainer.restoreProgress(restored, overrides);
    return trainer;
  }

  /**
   * Takes the optimiser state (unless the optimiser was changed) and the step count from a checkpoint, and frees
   * the restored optimiser tensors, used or not: they are the trainer's from `fromCheckpoint` on.
   */
  protected restoreProgress(restored: RestoredCheckpoint, overrides: TrainerOptions): void {
    const saved = restored.training.optimizer;
    const state = restored.optimizerState;
    try {
      if (!overrides.optimizer || overrides.optimizer === saved?.name) this.optimizer.setState(state);
    } finally {
      tf.dispose(Object.values(state));
    }
    this.step = restored.training.step;
  }

  /** What a checkpoint stores about this trainer, plus `extra` (RNG state, metrics...). */
  trainingState(extra: Omit<TrainingState, 'step' | 'optimizer'> = {}): TrainingState {
    return {
      ...extra,
      step: this.step,
      optimizer: { name: this.optimizer.name, learningRate: this.learningRate, clipNorm: this.clipNorm },
    };
  }

  /** One update from one batch of episodes. Throws `DivergenceError` (without updating) on NaN or Infinity. */
  trainStep(batch: EpisodeBatch): StepReport {
    checkEpisodeBatch('Trainer.trainStep', this.model, batch);
    const { groups } = outputGroups(this.model.config);
    const input = episodeTensors(batch);
    try {
      const { value, grads, logits } = this.gradients(input.images, input.previousLabels, input.targets, groups);
      try {
        const loss = value.dataSync()[0];
        const predictions = predictChoices(logits, groups);
        const gradientNorm = this.applyGradients(loss, grads);
        return { loss, gradientNorm, predictions };
      } finally {
        tf.dispose([value, logits, grads] as unknown as tf.TensorContainer);
      }
    } finally {
      tf.dispose(input as unknown as tf.TensorContainer);
    }
  }

  /**
   * The update shared by every trainer: clips `gradients` (by model variable name, of the batch's mean loss
   * `loss`) to `clipNorm`, checks that the loss and the norm are finite, applies the optimiser and counts the
   * step. Returns the global gradient norm before clipping. Throws `DivergenceError` without touching the weights
   * or the optimiser state. `gradients` stay the caller's to dispose.
   */
  applyGradients(loss: number, gradients: Record<string, tf.Tensor>): number {
    // clipNorm 0 means no clipping, as Infinity does.
    const { gradients: clipped, norm } = clipByGlobalNorm(gradients, this.clipNorm > 0 ? this.clipNorm : Infinity);
    try {
      const gradientNorm = norm.dataSync()[0];
      if (!Number.isFinite(loss) || !Number.isFinite(gradientNorm)) {
        throw new DivergenceError(
          `Training diverged at step ${this.step + 1}: loss ${loss}, gradient norm ${gradientNorm}. The weights were not ` +
            `updated; resume from the last checkpoint with a lower learning rate or a smaller clipNorm.`,
        );
      }
      this.optimizer.apply(this.model.variables, clipped);
      this.step++;
      return gradientNorm;
    } finally {
      tf.dispose([norm, clipped] as unknown as tf.TensorContainer);
    }
  }

  /** Frees the optimiser's state, restored or built here (the model stays the caller's). */
  dispose(): void {
    this.optimizer.dispose();
  }

  /** Loss and predictions of a batch without updating (for evaluation). */
  evaluateBatch(batch: EpisodeBatch): {
    /** Mean cross-entropy of the batch. */
    loss: number;
    /** [T, B, G] the model's choices for the batch. */
    predictions: Int32Array;
  } {
    checkEpisodeBatch('Trainer.evaluateBatch', this.model, batch);
    const { groups } = outputGroups(this.model.config);
    const input = episodeTensors(batch);
    const logits = tf.tidy(() => this.forward(input.images, input.previousLabels));
    const lossTensor = episodeLoss(logits, input.targets, groups);
    const loss = lossTensor.dataSync()[0];
    const predictions = predictChoices(logits, groups);
    tf.dispose([logits, lossTensor, input] as unknown as tf.TensorContainer);
    return { loss, predictions };
  }

  /** Loss, gradients by model variable name, and logits of a batch, without updating (for tests and benchmarks). */
  gradients(images: tf.Tensor3D, previousLabels: tf.Tensor3D, targets: tf.Tensor3D, groups: number) {
    return tf.tidy(() => {
      let logits: tf.Tensor3D | null = null;
      const { value, grads } = tf.variableGrads(() => {
        // Kept: the gradient engine disposes whatever the forward pass made except its result.
        logits = tf.keep(this.forward(images, previousLabels));
        return episodeLoss(logits, targets, groups);
      }, Object.values(this.model.variables));
      // variableGrads keys gradients by the engine's variable names; map them back to the model's names.
      const named: Record<string, tf.Tensor> = {};
      for (const [name, variable] of Object.entries(this.model.variables)) named[name] = grads[variable.name];
      return { value, grads: named, logits: logits! } as unknown as tf.TensorContainer;
    }) as unknown as {
      /** The batch's mean cross-entropy. */
      value: tf.Scalar;
      /** Gradient of the loss for each model variable, by the variable's name. */
      grads: Record<string, tf.Tensor>;
      /** The logits [T, B, G * C]. */
      logits: tf.Tensor3D;
    };
  }
}

/** A restored checkpoint's trainer options, each overridable. */
export function checkpointOptions(restored: RestoredCheckpoint, overrides: TrainerOptions): TrainerOptions {
  // Checked before a trainer is built (both fromCheckpoint call this first), so a refusal leaves nothing behind.
  const taken = Object.keys(restored.optimizerState).find((name) => restored.optimizerState[name].isDisposed);
  if (taken !== undefined) {
    throw new Error(
      `fromCheckpoint: the restored optimiser slot '${taken}' is disposed (a trainer already took this checkpoint's ` +
        `optimiser state); restore the checkpoint again for another trainer.`,
    );
  }
  const saved = restored.training.optimizer;
  return {
    optimizer: overrides.optimizer ?? saved?.name,
    learningRate: overrides.learningRate ?? saved?.learningRate,
    clipNorm: overrides.clipNorm ?? saved?.clipNorm,
    fastPath: overrides.fastPath,
  };
}

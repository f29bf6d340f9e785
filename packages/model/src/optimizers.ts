import * as tf from '@tensorflow/tfjs-core';

/**
 * An optimiser with explicit, named state: its slots are plain tensors keyed by the variable names the model
 * uses, so a checkpoint stores them by name and a resumed run continues exactly.
 */
export interface Optimizer {
  /** Which optimiser this is, as checkpoints record it. */
  readonly name: 'rmsprop' | 'adam';
  /** The step size of the next updates. */
  readonly learningRate: number;
  /** Changes the step size from the next update on (a schedule), keeping the state: a positive number. */
  setLearningRate(learningRate: number): void;
  /** Applies one update to `variables` from `gradients` (same keys). */
  apply(variables: Readonly<Record<string, tf.Variable>>, gradients: Record<string, tf.Tensor>): void;
  /** The optimiser's state tensors by name (e.g. `output/kernel/rms`), for checkpoints. */
  state(): Record<string, tf.Tensor>;
  /**
   * Replaces the state with copies of the given tensors; the given tensors stay the caller's (dispose them when
   * done: the copies do not depend on them).
   */
  setState(state: Record<string, tf.Tensor>): void;
  /** Frees the state tensors. */
  dispose(): void;
}

/** Options of {@link RmsProp}; the defaults are the paper's. */
export interface RmsPropOptions {
  /** Step size, a positive number (the paper's: 1e-4). */
  learningRate: number;
  /** Discount of the running mean of squared gradients (the paper's setting: 0.95). */
  decay?: number;
  /** Discount of the running update, the momentum (default 0.9). */
  momentum?: number;
  /** Added to the mean of squared gradients under the square root, against division by zero (default 1e-8). */
  epsilon?: number;
}

/** Options of {@link Adam}; the defaults are Kingma & Ba's. */
export interface AdamOptions {
  /** Step size, a positive number. */
  learningRate: number;
  /** Discount of the running mean of gradients (default 0.9). */
  beta1?: number;
  /** Discount of the running mean of squared gradients (default 0.999). */
  beta2?: number;
  /** Added to the root of the squared-gradient mean, against division by zero (default 1e-8). */
  epsilon?: number;
}

abstract class SlotOptimizer implements Optimizer {
  abstract readonly name: 'rmsprop' | 'adam';
  abstract readonly options: { learningRate: number };
  /** The state tensors by name (e.g. `output/kernel/rms`), created on first use. */
  protected slots = new Map<string, tf.Variable>();

  get learningRate(): number {
    return this.options.learningRate;
  }

  setLearningRate(learningRate: number): void {
    validateRate(learningRate);
    this.options.learningRate = learningRate;
  }

  abstract apply(variables: Readonly<Record<string, tf.Variable>>, gradients: Record<string, tf.Tensor>): void;

  /** The state slot `name`, created as zeros of `shape` the first time it is asked for. */
  protected slot(name: string, shape: number[]): tf.Variable {
    let slot = this.slots.get(name);
    if (!slot) {
      // In tidy: a variable shares its initial value's data, and an untracked zeros tensor would outlive dispose().
      slot = tf.tidy(() => tf.variable(tf.zeros(shape), false));
      this.slots.set(name, slot);
    }
    return slot;
  }

  state(): Record<string, tf.Tensor> {
    return Object.fromEntries(this.slots);
  }

  setState(state: Record<string, tf.Tensor>): void {
    this.dispose();
    // tf.variable shares the value's data and counts a reference to it: no clone is needed (one would leak), and
    // the caller may dispose `value` at once.
    for (const [name, value] of Object.entries(state)) this.slots.set(name, tf.variable(value, false));
  }

  /** Frees the state tensors. */
  dispose(): void {
    for (const slot of this.slots.values()) slot.dispose();
    this.slots.clear();
  }
}

/**
 * RMSProp with momentum, as in TensorFlow: ms = decay ms + (1 - decay) g^2; mom = momentum mom + lr g / sqrt(ms + eps);
 * v -= mom. The paper's optimiser (lr 1e-4, decay 0.95, momentum 0.9).
 */
export class RmsProp extends SlotOptimizer {
  /** `'rmsprop'`. */
  readonly name = 'rmsprop' as const;
  /** The options with their defaults filled in; `learningRate` follows `setLearningRate`. */
  readonly options: Required<RmsPropOptions>;

  constructor(options: RmsPropOptions) {
    super();
    this.options = { decay: 0.95, momentum: 0.9, epsilon: 1e-8, ...options };
    validateRate(this.options.learningRate);
  }

  /** Applies one RMSProp update to `variables` from `gradients` (same keys). */
  apply(variables: Readonly<Record<string, tf.Variable>>, gradients: Record<string, tf.Tensor>): void {
    const { learningRate, decay, momentum, epsilon } = this.options;
    for (const name of Object.keys(gradients).sort()) {
      const variable = variables[name];
      const g = gradients[name];
      const ms = this.slot(`${name}/rms`, variable.shape);
      const mom = this.slot(`${name}/momentum`, variable.shape);
      tf.tidy(() => {
        const newMs = tf.add(tf.mul(ms, decay), tf.mul(tf.square(g), 1 - decay));
        const newMom = tf.add(tf.mul(mom, momentum), tf.div(tf.mul(g, learningRate), tf.sqrt(tf.add(newMs, epsilon))));
        ms.assign(newMs);
        mom.assign(newMom);
        variable.assign(tf.sub(variable, newMom));
      });
    }
  }
}

/** Adam (Kingma & Ba 2015) with bias correction. */
export class Adam extends SlotOptimizer {
  /** `'adam'`. */
  readonly name = 'adam' as const;
  /** The options with their defaults filled in; `learningRate` follows `setLearningRate`. */
  readonly options: Required<AdamOptions>;

  constructor(options: AdamOptions) {
    super();
    this.options = { beta1: 0.9, beta2: 0.999, epsilon: 1e-8, ...options };
    validateRate(this.options.learningRate);
  }

  /** Applies one Adam update to `variables` from `gradients` (same keys). */
  apply(variables: Readonly<Record<string, tf.Variable>>, gradients: Record<string, tf.Tensor>): void {
    const { learningRate, beta1, beta2, epsilon } = this.options;
    const step = this.slot('step', []);
    tf.tidy(() => step.assign(tf.add(step, 1)));
    const t = step.dataSync()[0];
    // Bias corrections folded into the step size, as TensorFlow does.
    const rate = (learningRate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
    for (const name of Object.keys(gradients).sort()) {
      const variable = variables[name];
      const g = gradients[name];
      const m = this.slot(`${name}/m`, variable.shape);
      const v = this.slot(`${name}/v`, variable.shape);
      tf.tidy(() => {
        const newM = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
        const newV = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
        m.assign(newM);
        v.assign(newV);
        variable.assign(tf.sub(variable, tf.div(tf.mul(newM, rate), tf.add(tf.sqrt(newV), epsilon))));
      });
    }
  }
}

function validateRate(learningRate: number): void {
  if (!(learningRate > 0 && Number.isFinite(learningRate))) {
    throw new Error(`Optimiser: learningRate must be a positive number, got ${learningRate}.`);
  }
}

/** The optimisers {@link createOptimizer} builds by name. */
export type OptimizerName = 'rmsprop' | 'adam';

/** An optimiser by name with the given learning rate and its defaults. */
export function createOptimizer(name: OptimizerName, learningRate: number): Optimizer {
  if (name === 'rmsprop') return new RmsProp({ learningRate });
  if (name === 'adam') return new Adam({ learningRate });
  throw new Error(`Unknown optimiser '${String(name)}': choose 'rmsprop' or 'adam'.`);
}

/**
 * Scales gradients so that their global L2 norm is at most `maxNorm` (Pascanu et al. 2013); `maxNorm` Infinity
 * leaves them as they are. Returns the new gradients and the norm before clipping.
 */
export function clipByGlobalNorm(
  gradients: Record<string, tf.Tensor>,
  maxNorm: number,
): {
  /** The scaled gradients, by the same names. */
  gradients: Record<string, tf.Tensor>;
  /** The global norm before clipping. */
  norm: tf.Scalar;
} {
  return tf.tidy(() => {
    const names = Object.keys(gradients).sort();
    const norm = tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(gradients[n]))))) as tf.Scalar;
    // min(1, maxNorm / norm): for a finite maxNorm the same number as maxNorm / max(norm, maxNorm), and 1 for
    // maxNorm = Infinity (or anything beyond float32, such as Number.MAX_VALUE), where that is Infinity / Infinity = NaN.
    const scale = tf.minimum(1, tf.div(maxNorm, norm));
    const clipped: Record<string, tf.Tensor> = {};
    for (const n of names) clipped[n] = tf.mul(gradients[n], scale);
    return { gradients: clipped, norm } as unknown as tf.TensorContainer;
  }) as unknown as { gradients: Record<string, tf.Tensor>; norm: tf.Scalar };
}

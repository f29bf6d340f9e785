import * as tf from '@tensorflow/tfjs-core';
import type { LabelEncoding } from '@mann/episodes';
import { outputGroups, type MemoryAugmentedNetwork, type ModelState } from '@mann/model';

/** The memory's state after a step, copied out of the tensors for drawing (episode 0 of the batch). */
export interface MemoryView {
  slots: number;
  width: number;
  heads: number;
  /** M_t, [N, W] row-major. */
  memory: Float32Array;
  /** w^u_t, [N] (LRUA only). */
  usage?: Float32Array;
  /** w^r_t, [H, N]. */
  readWeights?: Float32Array;
  /** w^w_t, [H, N]. */
  writeWeights?: Float32Array;
}

/** What the model made of one image. */
export interface StepOutcome {
  /** Softmax probabilities, G groups of C choices (G = 1 for one-hot labels). */
  probabilities: Float32Array;
  /** The label id it guesses (the most probable choice in every group). */
  guess: number;
  /** Probability of that guess (the product over groups). */
  confidence: number;
  memory: MemoryView | null;
  /** Milliseconds the step took, read-back of the results included. */
  milliseconds: number;
}

/**
 * Runs a model one step at a time on one episode and keeps its state (controller and memory) between steps. A
 * step is first *proposed* (computed from the current state, which is kept), then *accepted* (its state becomes
 * the current one): the teach-it mode recomputes a proposal while the user redraws, and only the drawing the user
 * labels enters the memory.
 */
export class StepRunner {
  private state: ModelState;
  private pending: ModelState | null = null;
  private readonly groups: number;
  private readonly choices: number;

  constructor(
    readonly model: MemoryAugmentedNetwork,
    readonly labels: LabelEncoding,
  ) {
    const { groups, choices } = outputGroups(model.config);
    this.groups = groups;
    this.choices = choices;
    this.state = model.initialState(1);
  }

  /**
   * Computes the model's output for `image` (D numbers) given the previous step's label (G * C numbers).
   * `allowed`: for one-hot labels, the labels it may answer (an episode's classes, when it plays fewer classes than
   * the model has outputs); the probabilities of the others are set to 0 and the rest renormalised.
   */
  async propose(image: Float32Array, previousLabel: Float32Array, allowed?: readonly number[]): Promise<StepOutcome> {
    const started = performance.now();
    this.discardPending();
    const { model, groups, choices } = this;
    const result = tf.tidy(() => {
      const { logits, state } = model.step(
        tf.tensor2d(image, [1, image.length]),
        tf.tensor2d(previousLabel, [1, previousLabel.length]),
        this.state,
      );
      const probabilities = tf.softmax(tf.reshape(logits, [groups, choices]));
      return { state, probabilities } as unknown as tf.TensorContainer;
    }) as unknown as { state: ModelState; probabilities: tf.Tensor2D };
    this.pending = result.state;
    const addressing = result.state.addressing;
    const [probabilities, memory, usage, readWeights, writeWeights] = (await Promise.all([
      result.probabilities.data(),
      addressing?.memory.data(),
      addressing?.usage?.data(),
      addressing?.readWeights?.data(),
      addressing?.writeWeights?.data(),
    ])) as (Float32Array | undefined)[];
    result.probabilities.dispose();
    if (allowed && groups === 1) restrictTo(probabilities!, allowed);
    const choicesByGroup: number[] = [];
    let confidence = 1;
    for (let g = 0; g < groups; g++) {
      let best = 0;
      for (let c = 1; c < choices; c++) if (probabilities![g * choices + c] > probabilities![g * choices + best]) best = c;
      choicesByGroup.push(best);
      confidence *= probabilities![g * choices + best];
    }
    const config = model.config;
    return {
      probabilities: probabilities!,
      guess: this.labels.decode(choicesByGroup),
      confidence,
      memory: addressing
        ? { slots: config.memorySlots, width: config.memoryWidth, heads: config.heads, memory: memory!, usage, readWeights, writeWeights }
        : null,
      milliseconds: performance.now() - started,
    };
  }

  /** Makes the last proposal's state the current one (its image is now in memory). */
  accept(): void {
    if (!this.pending) throw new Error('StepRunner.accept: no step was proposed since the last accept.');
    disposeExcept(this.state, this.pending);
    this.state = this.pending;
    this.pending = null;
  }

  /** Forgets everything: the memory and controller start afresh, as at the start of an episode. */
  reset(): void {
    this.discardPending();
    tf.dispose(tensorsOf(this.state));
    this.state = this.model.initialState(1);
  }

  dispose(): void {
    this.discardPending();
    tf.dispose(tensorsOf(this.state));
  }

  /** Drops the last proposal, if any (the drawing it was made for was cleared); the current state stays. */
  discardPending(): void {
    if (this.pending) disposeExcept(this.pending, this.state);
    this.pending = null;
  }
}

/** Zeroes the probabilities of labels not in `allowed` and renormalises the others to sum to 1, in place. */
export function restrictTo(probabilities: Float32Array, allowed: readonly number[]): void {
  const keep = new Set(allowed);
  let total = 0;
  for (const label of keep) total += probabilities[label] ?? 0;
  for (let label = 0; label < probabilities.length; label++) {
    probabilities[label] = keep.has(label) && total > 0 ? probabilities[label] / total : 0;
  }
}

/** All tensors of a state (controller, memory, reads), found by walking it. */
function tensorsOf(state: ModelState): tf.Tensor[] {
  const found: tf.Tensor[] = [];
  const walk = (value: unknown): void => {
    if (value instanceof tf.Tensor) found.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(state);
  return found;
}

/** Disposes `state` but not the tensors it shares with `keep` (a step may pass a tensor through unchanged). */
function disposeExcept(state: ModelState, keep: ModelState): void {
  const kept = new Set(tensorsOf(keep));
  tf.dispose(tensorsOf(state).filter((tensor) => !kept.has(tensor)));
}

import * as tf from '@tensorflow/tfjs-core';
import { checkLength } from './check_length';
import type { AddressingRun, AddressingScheme, AddressingState, FastAddressing } from './types';

/** One state tensor kept as values between steps: the run holds no tensors. */
interface SavedTensor {
  shape: number[];
  dtype: tf.DataType;
  values: tf.TypedArray;
}
type SavedState = Record<string, SavedTensor>;

/**
 * A {@link FastAddressing} for any scheme, built from its `step` alone: what a model's fast recurrence runs for a
 * scheme that has no `fast` of its own (a scheme of yours, say). Forward runs `step` on tensors and keeps the
 * state's values; backward runs that step again under tfjs' tape and takes its vector-Jacobian product. Correct
 * for any step tfjs can differentiate, and as slow as the plain path's step (twice its forward, once its
 * gradient); give the scheme a `fast` implementation to make it fast (see the package README).
 *
 * ```js
 * const run = differentiatedAddressing(lrua({ memory: { slots: 8, width: 4 }, heads: 1 })).start(2);
 * const reads = run.forward(new Float32Array(2 * 5)); // [2, 1 * 4]
 * const parameterGradient = run.backward(new Float32Array(2 * 4).fill(1)); // [2, 5]
 * ```
 */
export function differentiatedAddressing(scheme: AddressingScheme): FastAddressing {
  return {
    start(batch: number): AddressingRun {
      const { heads, parameterSize } = scheme;
      const readSize = heads * scheme.memory.width;
      const parameters: Float32Array[] = [];
      // states[t] is the state before step t.
      const states: SavedState[] = [];
      tf.tidy(() => {
        states.push(saveState(scheme.initialState(batch)));
      });
      let carried: Record<string, Float32Array> = {}; // dL/d(state after the step being differentiated)
      return {
        forward(stepParameters: Float32Array): Float32Array {
          checkLength(`${scheme.name} (differentiated) forward`, 'parameters', stepParameters, batch * parameterSize);
          let reads = new Float32Array(0);
          let next: SavedState = {};
          tf.tidy(() => {
            const result = scheme.step(tf.tensor2d(stepParameters, [batch, parameterSize]), restoreState(states[states.length - 1]));
            reads = Float32Array.from(result.reads.dataSync());
            next = saveState(result.state);
          });
          checkLength(`${scheme.name}.step`, 'reads (flattened)', reads, batch * readSize);
          parameters.push(stepParameters.slice());
          states.push(next);
          return reads;
        },
        backward(readGradient: Float32Array): Float32Array {
          const t = parameters.length - 1;
          if (t < 0) throw new Error(`${scheme.name} (differentiated) backward: called more often than forward.`);
          checkLength(`${scheme.name} (differentiated) backward`, 'readGradient', readGradient, batch * readSize);
          const previous = states[t];
          const differentiable = Object.keys(previous).filter((name) => previous[name].dtype === 'float32');
          const produced = Object.keys(states[t + 1]).filter((name) => states[t + 1][name].dtype === 'float32');
          let parameterGradient = new Float32Array(0);
          const nextCarried: Record<string, Float32Array> = {};
          tf.tidy(() => {
            const inputs = tf.tensor2d(parameters[t], [batch, parameterSize]);
            const state = restoreState(previous);
            const xs = [inputs, ...differentiable.map((name) => state[name])];
            // One output tensor: the reads and every float state entry, flattened; dy likewise.
            const f = () => {
              const result = scheme.step(inputs, state as AddressingState);
              return tf.concat([tf.reshape(result.reads, [-1]), ...produced.map((name) => tf.reshape(result.state[name], [-1]))]);
            };
            const dy = tf.concat([
              tf.tensor1d(readGradient),
              ...produced.map((name) => tf.tensor1d(carried[name] ?? new Float32Array(states[t + 1][name].values.length))),
            ]);
            const grads = vectorJacobianProduct(f, xs, dy, `${scheme.name}.step`);
            parameterGradient = grads[0] ? Float32Array.from(grads[0].dataSync()) : new Float32Array(batch * parameterSize);
            differentiable.forEach((name, i) => {
              const grad = grads[i + 1];
              if (grad) nextCarried[name] = Float32Array.from(grad.dataSync());
            });
          });
          carried = nextCarried;
          parameters.pop();
          states.pop();
          return parameterGradient;
        },
      };
    },
  };
}

/**
 * dy^T df/dx for each x in `xs` (undefined where f does not depend on x), by tfjs' tape. Safe to call inside
 * another gradient's backward pass (a model's recurrence is one op whose gradient runs this): tfjs' engine
 * drops its active tape when an inner gradient computation ends, so the outer one is put back.
 */
export function vectorJacobianProduct(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor, what: string): Array<tf.Tensor | undefined> {
  const engine = tf.engine() as unknown as { state: { activeTape: unknown } };
  const outerTape = engine.state.activeTape;
  try {
    return tf.engine().gradients(f, xs, dy, true).grads;
  } catch (error) {
    throw new Error(`${what} could not be differentiated by tfjs: ${error instanceof Error ? error.message : String(error)}`);
  } finally {
    engine.state.activeTape = outerTape;
  }
}

/** The values of a state's tensors (called inside a tidy, which disposes the tensors). */
function saveState(state: AddressingState): SavedState {
  if (state == null || typeof state !== 'object') throw new Error(`addressing state must be an object of tensors, got ${String(state)}.`);
  const saved: SavedState = {};
  for (const [name, tensor] of Object.entries(state)) {
    if (!(tensor instanceof tf.Tensor)) throw new Error(`addressing state entry '${name}' must be a tensor, got ${String(tensor)}.`);
    saved[name] = { shape: tensor.shape.slice(), dtype: tensor.dtype, values: tensor.dataSync().slice() };
  }
  return saved;
}

function restoreState(saved: SavedState): AddressingState {
  const state: Record<string, tf.Tensor> = {};
  for (const [name, { shape, dtype, values }] of Object.entries(saved)) state[name] = tf.tensor(values, shape, dtype);
  return state as AddressingState;
}

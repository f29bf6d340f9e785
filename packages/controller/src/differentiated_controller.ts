import * as tf from '@tensorflow/tfjs-core';
import { checkLength, checkSameShape, checkStart, readValues, RunOrder, tidyValue } from './fast_run';
import type { Controller, ControllerRun, ControllerState, FastController } from './types';

/** A state saved as typed arrays: each tensor's name, shape and values, in the order `step` returned them. */
interface SavedState {
  names: string[];
  shapes: [number, number][];
  values: Float32Array[];
}

/**
 * A {@link FastController} for any {@link Controller}, from its `step` alone: the fallback a model uses for a
 * controller without `fast` of its own. Correct gradients, at the speed of the plain path.
 *
 * - `forward` runs `step` on tensors (input = [known_t, fed_t]) inside `tf.tidy`, reads the output and the new
 *   state back into typed arrays and frees every tensor.
 * - `backward` runs that step again on tensors made from the saved arrays and takes its vector-Jacobian product
 *   with tfjs' autodiff (`tf.engine().gradients`) with respect to the fed input, the previous state and every
 *   variable; the vector is [dL/d(output), dL/d(new state)], the second part carried from the later step.
 *   A state tensor or variable with no path to the step's results gets a zero gradient.
 * - `gradients` returns the variable gradients summed over the steps.
 *
 * Needs tfjs' gradients registered (import `@mann/backend`, or `@tensorflow/tfjs`).
 *
 * ```js
 * import * as tf from '@tensorflow/tfjs-core';
 * import '@mann/backend';
 * import { differentiatedController, lstm } from '@mann/controller';
 * const controller = lstm({ inputSize: 5, units: 4 });
 * const run = differentiatedController(controller).start(tf.zeros([1 * 2, 3]), 1, 2); // T = 1, B = 2, fed width 2
 * run.forward(new Float32Array(2 * 2)); // h_0, [2, 4]
 * run.backward(new Float32Array(2 * 4).fill(1)); // dL/d(fed) [2, 2] for L = sum(h_0)
 * const { kernel, bias } = run.gradients(tf.zeros([2, 3])); // new tensors: dispose them
 * ```
 */
export function differentiatedController(controller: Controller): FastController {
  const caller = `differentiatedController(${controller?.name})`;
  if (controller == null || typeof controller.step !== 'function' || typeof controller.initialState !== 'function') {
    throw new Error(`differentiatedController: expects a Controller (with step and initialState), got ${String(controller)}.`);
  }
  return {
    start(known: tf.Tensor2D, steps: number, batch: number): ControllerRun {
      const { inputSize, outputSize } = controller;
      const knownSize = checkStart(`${caller} start`, known, steps, batch, inputSize);
      const fedSize = inputSize - knownSize;
      const knownValues = readValues(known);
      const variableNames = Object.keys(controller.variables);
      const order = new RunOrder(caller, steps, []);

      // states[t]: the state before step t (states[0]: initialState(batch)); feds[t]: step t's fed input.
      const states: SavedState[] = [tidyValue(() => saveState(controller.initialState(batch), `${caller} start`, batch))];
      const feds: Float32Array[] = [];
      let carried: Float32Array[] | null = null; // dL/d(state after step t), in states[t + 1]'s order
      const variableGradients = variableNames.map((name) => new Float32Array(controller.variables[name].size));

      /** Step t's input [known_t, fed_t] from the saved arrays (a known part of width 0 is left out). */
      const input = (t: number, fed: tf.Tensor2D | null): tf.Tensor2D => {
        const knownPart = knownSize > 0 ? tf.tensor2d(knownValues.subarray(t * batch * knownSize, (t + 1) * batch * knownSize), [batch, knownSize]) : null;
        if (knownPart && fed) return tf.concat([knownPart, fed], 1) as tf.Tensor2D;
        return (knownPart ?? fed)!;
      };
      const stateTensors = (saved: SavedState): ControllerState => {
        const state: ControllerState = {};
        saved.names.forEach((name, i) => (state[name] = tf.tensor2d(saved.values[i], saved.shapes[i])));
        return state;
      };

      return {
        forward(fed: Float32Array): Float32Array {
          return order.forward((t) => {
            checkLength(`${caller} forward`, 'fed', fed, batch * fedSize);
            const fedValues = fed.slice();
            const output = tidyValue(() => {
              const fedTensor = fedSize > 0 ? tf.tensor2d(fedValues, [batch, fedSize]) : null;
              const result = controller.step(input(t, fedTensor), stateTensors(states[t]));
              checkOutput(`${caller} forward`, result?.output, batch, outputSize);
              states[t + 1] = saveState(result.state, `${caller} forward`, batch);
              return readValues(result.output);
            });
            feds[t] = fedValues;
            return output;
          });
        },

        backward(outputGradient: Float32Array): Float32Array {
          return order.backward((t) => {
            checkLength(`${caller} backward`, 'outputGradient', outputGradient, batch * outputSize);
            const previous = states[t];
            const next = states[t + 1];
            const nextGradient = carried ?? next.values.map((values) => new Float32Array(values.length)); // none after the last step
            const fedGradient = new Float32Array(batch * fedSize);
            const stateGradient = previous.values.map((values) => new Float32Array(values.length));
            tf.tidy(() => {
              const fedTensor = fedSize > 0 ? tf.tensor2d(feds[t], [batch, fedSize]) : null;
              const state = stateTensors(previous);
              const variables = variableNames.map((name) => controller.variables[name]);
              const xs: tf.Tensor[] = [...(fedTensor ? [fedTensor] : []), ...previous.names.map((name) => state[name]), ...variables];
              if (xs.length === 0) return;
              // The step's results as one vector: [output, new state in `next`'s order], flattened.
              const f = (): tf.Tensor1D => {
                const result = controller.step(input(t, fedTensor), state);
                const parts = [result.output, ...next.names.map((name) => result.state[name])];
                return tf.concat(parts.map((part) => tf.reshape(part, [-1]))) as tf.Tensor1D;
              };
              const dy = tf.tensor1d(concatValues([outputGradient, ...nextGradient]));
              const grads = gradientsKeepingOuterTape(f, xs, dy);
              let k = 0;
              if (fedTensor) addValues(fedGradient, grads[k++]);
              for (let i = 0; i < previous.names.length; i++) addValues(stateGradient[i], grads[k++]);
              // Stryker disable next-line EqualityOperator: `<=` adds i = variables.length, where grads[k] is undefined, which addValues skips
              for (let i = 0; i < variables.length; i++) addValues(variableGradients[i], grads[k++]);
            });
            carried = stateGradient;
            return fedGradient;
          });
        },

        gradients(knownAgain: tf.Tensor2D): Record<string, tf.Tensor> {
          return order.gradients(() => {
            checkSameShape(`${caller} gradients`, knownAgain, known);
            const grads: Record<string, tf.Tensor> = {};
            variableNames.forEach((name, i) => (grads[name] = tf.tensor(variableGradients[i], controller.variables[name].shape, 'float32')));
            return grads;
          });
        },
      };
    },
  };
}

/** Reads a state's tensors back (call inside `tf.tidy`: the tensors are the caller's to free). */
function saveState(state: ControllerState, caller: string, batch: number): SavedState {
  if (state == null || typeof state !== 'object') throw new Error(`${caller}: the controller's state must be an object of tensors, got ${String(state)}.`);
  const names = Object.keys(state);
  const shapes = names.map((name) => {
    const tensor = state[name];
    if (!(tensor instanceof tf.Tensor) || tensor.rank !== 2 || tensor.shape[0] !== batch) {
      throw new Error(`${caller}: state.${name} must be a [${batch}, n] tensor, got ${tensor instanceof tf.Tensor ? `shape [${tensor.shape}]` : String(tensor)}.`);
    }
    return [tensor.shape[0], tensor.shape[1]] as [number, number];
  });
  return { names, shapes, values: names.map((name) => readValues(state[name])) };
}

function checkOutput(caller: string, output: tf.Tensor | undefined, batch: number, outputSize: number): void {
  if (!(output instanceof tf.Tensor) || output.rank !== 2 || output.shape[0] !== batch || output.shape[1] !== outputSize) {
    throw new Error(`${caller}: step's output must be [${batch}, ${outputSize}] (outputSize), got ${output instanceof tf.Tensor ? `shape [${output.shape}]` : String(output)}.`);
  }
}

/**
 * `tf.engine().gradients(f, xs, dy, true)`, safe to call from inside another gradient's backward pass (a model's
 * `tf.customGrad` gradFunc runs this run's `backward`): tfjs keeps one active tape, which a top-level `gradients`
 * replaces and then clears, and the outer pass reads it again after its gradFuncs return. Undefined gradients
 * (no path from that x to the result) come back as `null`.
 */
function gradientsKeepingOuterTape(f: () => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): Array<tf.Tensor | null> {
  const engine = tf.engine();
  const outerTape = engine.state.gradientDepth === 0 ? engine.state.activeTape : null;
  try {
    return engine.gradients(f, xs, dy, true).grads.map((grad) => grad ?? null);
  } finally {
    if (outerTape != null) engine.state.activeTape = outerTape;
  }
}

function concatValues(arrays: Float32Array[]): Float32Array {
  const out = new Float32Array(arrays.reduce((n, a) => n + a.length, 0));
  let offset = 0;
  for (const a of arrays) {
    out.set(a, offset);
    offset += a.length;
  }
  return out;
}

function addValues(target: Float32Array, grad: tf.Tensor | null): void {
  if (grad == null) return;
  const values = grad.dataSync() as Float32Array;
  // Stryker disable next-line EqualityOperator: `<=` only adds a write past the end of a typed array, which is dropped
  for (let i = 0; i < target.length; i++) target[i] += values[i];
}

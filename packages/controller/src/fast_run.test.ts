// The argument and call-order checks of the fast runs (fast_run.ts, used by lstm.fast, feedForward(...).fast and
// differentiatedController), with their exact messages: a model calls these several layers up, so the message is
// what a user sees.
import * as tf from '@tensorflow/tfjs-core';
import { residentMemory } from '@mann/kernels';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { differentiatedController } from './differentiated_controller';
import { feedForward } from './feed_forward';
import { lstm } from './lstm';
import { fastRollout, makeProblem } from './fast_test_helpers';
import type { Controller, ControllerRun, ControllerState, FastController } from './types';

beforeAll(async () => {
  await useBackend('cpu');
});

const STEPS = 2;
const BATCH = 3;

/** An lstm with inputSize 12 (known 7 + fed 5) and 4 units, and a run of it started, ready for its first forward. */
function started(): { controller: Controller; known: tf.Tensor2D; run: ReturnType<NonNullable<Controller['fast']>['start']> } {
  const controller = lstm({ inputSize: 12, units: 4, seed: 1 });
  const known = tf.zeros([STEPS * BATCH, 7]) as tf.Tensor2D;
  return { controller, known, run: controller.fast!.start(known, STEPS, BATCH) };
}

const fed = (): Float32Array => new Float32Array(BATCH * 5).fill(0.5);
const outputGradient = (): Float32Array => new Float32Array(BATCH * 4).fill(1);

describe('start', () => {
  it('checks steps, batch and the known part, naming the run', () => {
    const controller = lstm({ inputSize: 12, units: 4 });
    const fast = controller.fast!;
    const known = tf.zeros([6, 7]) as tf.Tensor2D;
    expect(() => fast.start(known, 0, 3)).toThrow('lstm.fast start: steps must be a positive integer, got 0.');
    expect(() => fast.start(known, 2, 1.5)).toThrow('lstm.fast start: batch must be a positive integer, got 1.5.');
    expect(() => fast.start(known, '2' as never, 3)).toThrow('lstm.fast start: steps must be a positive integer, got 2.');
    expect(() => fast.start(null as never, 2, 3)).toThrow(
      'lstm.fast start: known must be a tf.Tensor of shape [steps * batch, knownSize], got null.',
    );
    expect(() => fast.start(tf.zeros([6]) as never, 2, 3)).toThrow(
      'lstm.fast start: known has shape [6] but must be [steps * batch, knownSize] = [6, knownSize] with knownSize <= inputSize 12.',
    );
    expect(() => fast.start(tf.zeros([6, 13]) as tf.Tensor2D, 2, 3)).toThrow(
      'lstm.fast start: known has shape [6,13] but must be [steps * batch, knownSize] = [6, knownSize] with knownSize <= inputSize 12.',
    );
    // knownSize = inputSize (nothing fed) and knownSize = 0 (everything fed) are both allowed.
    expect(() => fast.start(tf.zeros([6, 12]) as tf.Tensor2D, 2, 3)).not.toThrow();
    expect(() => fast.start(tf.zeros([6, 0]) as tf.Tensor2D, 2, 3)).not.toThrow();
    controller.dispose();
    expect(() => fast.start(known, 2, 3)).toThrow('lstm.fast start: the controller has been disposed.');
    const stack = feedForward({ inputSize: 12, units: 4 });
    stack.dispose();
    expect(() => stack.fast!.start(known, 2, 3)).toThrow('feed-forward.fast start: the controller has been disposed.');
  });
});

describe('the order of calls', () => {
  it('refuses a backward beyond steps and a second gradients', () => {
    const { controller, known, run } = started();
    run.forward(fed());
    run.forward(fed());
    run.backward(outputGradient());
    expect(() => run.gradients(known)).toThrow('lstm.fast gradients: the backward pass is not finished (1 of 2 steps).');
    run.backward(outputGradient());
    expect(() => run.backward(outputGradient())).toThrow('lstm.fast backward: called more than steps = 2 times.');
    tf.dispose(Object.values(run.gradients(known)));
    expect(() => run.gradients(known)).toThrow('lstm.fast gradients: already taken for this run.');
    controller.dispose();
  });

  it('after a failed call, says which call failed and why', () => {
    const { controller, run } = started();
    run.forward(fed());
    expect(() => run.forward(new Float32Array(4))).toThrow('lstm.fast forward: fed must be a Float32Array of length 15, got length 4.');
    expect(() => run.forward(fed())).toThrow(
      'lstm.fast: an earlier call of this run failed (lstm.fast forward: fed must be a Float32Array of length 15, got length 4.); start a new run.',
    );
    controller.dispose();
  });
});

describe('array and tensor arguments', () => {
  it('takes Float32Arrays only, of the right length', () => {
    const { controller, run } = started();
    expect(() => run.forward(Array.from(fed()) as never)).toThrow(
      'lstm.fast forward: fed must be a Float32Array of length 15, got 0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5.',
    );
    controller.dispose();
  });

  it('gradients wants a known part of the shape start had', () => {
    const attempt = (knownAgain: unknown): (() => void) => {
      const { controller, run } = started();
      run.forward(fed());
      run.forward(fed());
      run.backward(outputGradient());
      run.backward(outputGradient());
      return () => {
        try {
          run.gradients(knownAgain as tf.Tensor2D);
        } finally {
          controller.dispose();
        }
      };
    };
    const message = 'lstm.fast gradients: known must be the tensor start had, of shape [6,7], got';
    expect(attempt(tf.zeros([7, 7]))).toThrow(`${message} [7,7].`);
    expect(attempt(tf.zeros([6, 8]))).toThrow(`${message} [6,8].`);
    expect(attempt(tf.zeros([6]))).toThrow(`${message} [6].`);
    expect(attempt(tf.zeros([6, 7, 1]))).toThrow(`${message} [6,7,1].`);
    expect(attempt(null)).toThrow(`${message} null.`);
    expect(attempt({})).toThrow(`${message} [object Object].`);
  });
});

// The three fast implementations, each named as its messages name it.
const runs: [caller: string, make: () => { controller: Controller; fast: FastController }][] = [
  ['lstm.fast', () => { const c = lstm({ inputSize: 12, units: 4, seed: 1 }); return { controller: c, fast: c.fast! }; }],
  ['feed-forward.fast', () => { const c = feedForward({ inputSize: 12, units: 4, layers: 2, seed: 1 }); return { controller: c, fast: c.fast! }; }],
  ['differentiatedController(lstm)', () => { const c = lstm({ inputSize: 12, units: 4, seed: 1 }); return { controller: c, fast: differentiatedController(c) }; }],
];

describe.each(runs)('%s', (caller, make) => {
  it('names itself and the call in every message', () => {
    const { controller, fast } = make();
    const known = tf.zeros([STEPS * BATCH, 7]) as tf.Tensor2D;
    expect(() => fast.start(known, 0, BATCH)).toThrow(`${caller} start: steps must be a positive integer, got 0.`);
    expect(() => fast.start(known, STEPS, BATCH).forward(new Float32Array(1))).toThrow(
      `${caller} forward: fed must be a Float32Array of length 15, got length 1.`,
    );
    const finished = (): ControllerRun => {
      const run = fast.start(known, STEPS, BATCH);
      run.forward(fed());
      run.forward(fed());
      return run;
    };
    expect(() => finished().backward(new Float32Array(1))).toThrow(
      `${caller} backward: outputGradient must be a Float32Array of length 12, got length 1.`,
    );
    const run = finished();
    run.backward(outputGradient());
    run.backward(outputGradient());
    expect(() => run.gradients(tf.zeros([STEPS * BATCH, 6]) as tf.Tensor2D)).toThrow(
      `${caller} gradients: known must be the tensor start had, of shape [6,7], got [6,6].`,
    );
    controller.dispose();
  });

  it('copies the arrays passed in and hands out arrays of its own', () => {
    // Two runs of the same problem; in the second the caller overwrites every array right after handing it over
    // or getting it back. Outputs, fed gradients and variable gradients must not change.
    const { controller, fast } = make();
    tf.tidy(() => Object.values(controller.variables).forEach((v, i) => v.assign(tf.add(v, tf.scalar(0.1 * (i + 1))))));
    const problem = makeProblem(controller, 3, BATCH, 7, 41);
    const clean = fastRollout(fast, problem);
    const known = tf.tensor2d(problem.known, [3 * BATCH, 7]);
    const run = fast.start(known, 3, BATCH);
    const outputs = problem.feds.map((f) => {
      const input = f.slice();
      const output = run.forward(input);
      const copy = output.slice();
      input.fill(NaN);
      output.fill(NaN);
      return copy;
    });
    const fedGradients: Float32Array[] = [];
    for (let t = 2; t >= 0; t--) {
      const gradient = problem.weights[t].slice();
      const fedGradient = run.backward(gradient);
      fedGradients[t] = fedGradient.slice();
      gradient.fill(NaN);
      fedGradient.fill(NaN);
    }
    const grads = run.gradients(known);
    outputs.forEach((output, t) => expect(Array.from(output), `output ${t}`).toEqual(Array.from(clean.outputs[t])));
    fedGradients.forEach((grad, t) => expect(Array.from(grad), `fed gradient ${t}`).toEqual(Array.from(clean.fedGradients[t])));
    for (const [name, grad] of Object.entries(grads)) expect(Array.from(grad.dataSync()), name).toEqual(Array.from(clean.variableGradients[name]));
    tf.dispose([known, ...Object.values(grads)]);
    controller.dispose();
  });
});

describe.each([
  ['lstm.fast: the [fed; h] kernel rows, then their transpose', () => lstm({ inputSize: 12, units: 4 }), 1, 1],
  ['feed-forward.fast: the fed rows and kernel1, then their transposes', () => feedForward({ inputSize: 12, units: 4, layers: 2 }), 2, 2],
] as const)('%s', (_, make, duringForward, duringBackward) => {
  it('keeps its weight matrices resident for a whole pass: made at its first call, freed at its last; no tensors kept', () => {
    const controller = make();
    const known = tf.zeros([3 * BATCH, 7]) as tf.Tensor2D;
    const tensorsBefore = tf.memory().numTensors;
    const before = residentMemory().matrices;
    const run = controller.fast!.start(known, 3, BATCH);
    const counts: number[] = [];
    for (let t = 0; t < 3; t++) {
      run.forward(fed());
      counts.push(residentMemory().matrices - before);
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    }
    for (let t = 0; t < 3; t++) {
      run.backward(outputGradient());
      counts.push(residentMemory().matrices - before);
      expect(tf.memory().numTensors).toBe(tensorsBefore);
    }
    expect(counts).toEqual([duringForward, duringForward, 0, duringBackward, duringBackward, 0]);
    tf.dispose([known, ...Object.values(run.gradients(known))]);
    controller.dispose();
  });
});

/** A one-unit controller whose step and initial state a test chooses: inputSize 1, outputSize 2, nothing to train. */
function custom(name: string, initialState: (batch: number) => ControllerState, output: (input: tf.Tensor2D) => unknown): Controller {
  return {
    name,
    inputSize: 1,
    outputSize: 2,
    variables: {},
    initialState,
    step: (input, state) => ({ output: output(input) as tf.Tensor2D, state }),
    dispose: () => {},
  };
}

describe('differentiatedController checks', () => {
  const twoWide = (input: tf.Tensor2D): tf.Tensor => tf.concat([input, input], 1);

  it('rejects what is not a controller', () => {
    expect(() => differentiatedController(null as never)).toThrow(
      'differentiatedController: expects a Controller (with step and initialState), got null.',
    );
    const noInitialState = { ...custom('x', () => ({}), twoWide), initialState: undefined };
    expect(() => differentiatedController(noInitialState as never)).toThrow(
      'differentiatedController: expects a Controller (with step and initialState), got [object Object].',
    );
    const noStep = { ...custom('x', () => ({}), twoWide), step: 'step' };
    expect(() => differentiatedController(noStep as never)).toThrow(
      'differentiatedController: expects a Controller (with step and initialState), got [object Object].',
    );
  });

  it('names the controller and the check at start, forward and in the state', () => {
    const known = tf.zeros([2, 1]) as tf.Tensor2D; // T = 1, B = 2, everything known
    const start = (controller: Controller) => differentiatedController(controller).start(known, 1, 2);
    expect(() => start(custom('c', () => ({}), twoWide)).forward(new Float32Array(0))).not.toThrow();
    expect(() => start(custom('c', () => ({}), twoWide)).forward(new Float32Array(1))).toThrow(
      'differentiatedController(c) forward: fed must be a Float32Array of length 0, got length 1.',
    );
    expect(() => differentiatedController(custom('c', () => ({}), twoWide)).start(known, 0, 2)).toThrow(
      'differentiatedController(c) start: steps must be a positive integer, got 0.',
    );
    expect(() => start(custom('c', () => null as never, twoWide))).toThrow(
      "differentiatedController(c) start: the controller's state must be an object of tensors, got null.",
    );
    expect(() => start(custom('c', () => 'h' as never, twoWide))).toThrow(
      "differentiatedController(c) start: the controller's state must be an object of tensors, got h.",
    );
    // A good initial state, but the step returns a bad one.
    const badStep: Controller = { ...custom('c', () => ({}), twoWide), step: (input) => ({ output: twoWide(input) as tf.Tensor2D, state: { h: 5 as never } }) };
    expect(() => start(badStep).forward(new Float32Array(0))).toThrow('differentiatedController(c) forward: state.h must be a [2, n] tensor, got 5.');
    const noResult: Controller = { ...custom('c', () => ({}), twoWide), step: () => undefined as never };
    expect(() => start(noResult).forward(new Float32Array(0))).toThrow(
      "differentiatedController(c) forward: step's output must be [2, 2] (outputSize), got undefined.",
    );
    expect(() => start(custom('c', () => ({ h: 5 as never }), twoWide))).toThrow(
      'differentiatedController(c) start: state.h must be a [2, n] tensor, got 5.',
    );
    // Right batch but rank 1, then rank 2 with the wrong batch.
    expect(() => start(custom('c', () => ({ h: tf.zeros([2]) as never }), twoWide))).toThrow(
      'differentiatedController(c) start: state.h must be a [2, n] tensor, got shape [2].',
    );
    expect(() => start(custom('c', () => ({ h: tf.zeros([3, 4]) as tf.Tensor2D }), twoWide))).toThrow(
      'differentiatedController(c) start: state.h must be a [2, n] tensor, got shape [3,4].',
    );
  });

  it("checks the step's output against batch and outputSize", () => {
    const known = tf.zeros([2, 1]) as tf.Tensor2D;
    const forward = (output: (input: tf.Tensor2D) => unknown) =>
      () => differentiatedController(custom('c', () => ({}), output)).start(known, 1, 2).forward(new Float32Array(0));
    const message = "differentiatedController(c) forward: step's output must be [2, 2] (outputSize), got";
    expect(forward(() => undefined)).toThrow(`${message} undefined.`);
    expect(forward(() => tf.zeros([2, 2, 1]))).toThrow(`${message} shape [2,2,1].`);
    expect(forward(() => tf.zeros([3, 2]))).toThrow(`${message} shape [3,2].`);
    expect(forward(() => tf.zeros([2, 3]))).toThrow(`${message} shape [2,3].`);
  });

  it('remembers a failure that is not an Error', () => {
    const known = tf.zeros([2, 1]) as tf.Tensor2D;
    const failing = (thrown: unknown): string => {
      const run = differentiatedController(
        custom('c', () => ({}), () => {
          throw thrown;
        }),
      ).start(known, 2, 1);
      let first: unknown = 'nothing thrown';
      try {
        run.forward(new Float32Array(0));
      } catch (error) {
        first = error;
      }
      expect(first).toBe(thrown);
      try {
        run.forward(new Float32Array(0));
      } catch (error) {
        return (error as Error).message;
      }
      return 'nothing thrown';
    };
    expect(failing('boom')).toBe('differentiatedController(c): an earlier call of this run failed (boom); start a new run.');
    expect(failing(undefined)).toBe('differentiatedController(c): an earlier call of this run failed (unknown error); start a new run.');
  });
});

describe('differentiatedController gradients', () => {
  it('gives a variable with no path to the output a zero gradient instead of failing', () => {
    // output_t = 2 * known_t; `unused` never enters the step, and nothing else is differentiable (no state, nothing
    // fed), so tfjs finds no path at all from the xs to the result.
    const unused = tf.variable(tf.tensor1d([1, 2, 3]), true);
    const double: Controller<{}> = {
      name: 'double',
      inputSize: 1,
      outputSize: 1,
      variables: { unused },
      initialState: () => ({}),
      step: (input) => ({ output: tf.mul(input, 2) as tf.Tensor2D, state: {} }),
      dispose: () => unused.dispose(),
    };
    const known = tf.tensor2d([[1.5], [-2]]);
    const run = differentiatedController(double).start(known, 2, 1);
    expect(Array.from(run.forward(new Float32Array(0)))).toEqual([3]);
    expect(Array.from(run.forward(new Float32Array(0)))).toEqual([-4]);
    expect(run.backward(Float32Array.of(1)).length).toBe(0);
    expect(run.backward(Float32Array.of(1)).length).toBe(0);
    const grads = run.gradients(known);
    expect(Object.keys(grads)).toEqual(['unused']);
    expect(Array.from(grads.unused.dataSync())).toEqual([0, 0, 0]);
    tf.dispose([known, grads.unused]);
    double.dispose();
  });
});

import * as tf from '@tensorflow/tfjs-core';
import { lrua, ntm, type AddressingScheme } from '@mann/addressing';
import { feedForward, lstm, type Controller } from '@mann/controller';
import type { ModelConfig } from './config';

// Builds a model's controller and addressing scheme from its config: a built-in part by name, or the user's
// factory. A factory's part is checked here, at construction, so that a part that does not implement its
// interface fails with one line naming it, not deep inside the first training step.

/** The addressing scheme of a MANN's config (null for the memoryless baselines). */
export function buildAddressing(config: ModelConfig): AddressingScheme | null {
  if (config.kind !== 'mann') return null;
  const memory = { slots: config.memorySlots, width: config.memoryWidth };
  const heads = config.heads;
  if (config.addressing === 'lrua') {
    return lrua({ memory, heads, decay: config.usageDecay, writeVector: config.writeVector, clearing: config.clearing });
  }
  if (config.addressing === 'ntm') return ntm({ memory, heads, shifts: config.shifts });
  const scheme = callFactory('addressing', () => config.addressing !== 'lrua' && config.addressing !== 'ntm' && config.addressing({ memory, heads }));
  checkAddressing(scheme, config);
  return scheme as AddressingScheme;
}

/** The controller (or the baseline's network) for inputs of width `inputSize`. */
export function buildController(config: ModelConfig, inputSize: number): Controller {
  const kind = config.kind === 'mann' ? config.controller : config.kind;
  const { controllerUnits: units, forgetBias, seed } = config;
  if (kind === 'lstm') return lstm({ inputSize, units, forgetBias, seed });
  if (kind === 'feed-forward') return feedForward({ inputSize, units, seed });
  const controller = callFactory('controller', () => kind({ inputSize, units, forgetBias, seed }));
  checkController(controller, inputSize);
  return controller as Controller;
}

function callFactory(key: 'controller' | 'addressing', build: () => unknown): unknown {
  try {
    return build();
  } catch (error) {
    throw new Error(`Model config: the ${key} factory threw: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A thrower for what a factory's part gets wrong: one line naming the factory, the part and the problem. */
function failure(factory: string, what: string, part: unknown): (problem: string) => never {
  const name = (part as { name?: unknown } | null)?.name;
  const named = typeof name === 'string' && name !== '' ? ` '${name}'` : '';
  return (problem) => {
    throw new Error(`Model config: the ${factory} factory returned ${what}${named} that ${problem}.`);
  };
}

const isPositiveInteger = (value: unknown): value is number => typeof value === 'number' && Number.isInteger(value) && value > 0;

/** What a factory's controller must be: the `Controller` interface, sized for this model, stepping as it says. */
function checkController(part: unknown, inputSize: number): void {
  const fail = failure('controller', 'a controller', part);
  if (part === null || typeof part !== 'object') fail(`is not an object (got ${String(part)})`);
  const controller = part as Partial<Controller>;
  if (typeof controller.name !== 'string' || controller.name === '') fail('has no name (a non-empty string, stored in checkpoints)');
  for (const method of ['initialState', 'step', 'dispose'] as const) {
    if (typeof controller[method] !== 'function') fail(`has no ${method}() method`);
  }
  if (controller.inputSize !== inputSize) fail(`takes inputs of width ${String(controller.inputSize)}, but the model feeds it ${inputSize} (sizes.inputSize)`);
  if (!isPositiveInteger(controller.outputSize)) fail(`has outputSize ${String(controller.outputSize)}, not a positive integer`);
  const variables = controller.variables;
  if (variables === null || typeof variables !== 'object') fail('has no variables record');
  for (const [name, variable] of Object.entries(variables!)) {
    if (!(variable instanceof tf.Variable)) fail(`has variables.${name} that is not a tf.Variable`);
  }
  if (controller.fast !== undefined && typeof controller.fast?.start !== 'function') fail('has a fast implementation without start()');
  const outputShape = tf.tidy(() => {
    const { output } = controller.step!(tf.zeros([1, inputSize]), controller.initialState!(1));
    return output?.shape;
  });
  if (outputShape?.length !== 2 || outputShape[0] !== 1 || outputShape[1] !== controller.outputSize) {
    fail(`stepped a [1, ${inputSize}] input to an output of shape [${outputShape ?? 'none'}], expected [1, ${controller.outputSize}] (outputSize)`);
  }
}

/** What a factory's scheme must be: the `AddressingScheme` interface, for the config's memory and heads. */
function checkAddressing(part: unknown, config: ModelConfig): void {
  const fail = failure('addressing', 'a scheme', part);
  if (part === null || typeof part !== 'object') fail(`is not an object (got ${String(part)})`);
  const scheme = part as Partial<AddressingScheme>;
  if (typeof scheme.name !== 'string' || scheme.name === '') fail('has no name (a non-empty string, stored in checkpoints)');
  for (const method of ['initialState', 'step'] as const) {
    if (typeof scheme[method] !== 'function') fail(`has no ${method}() method`);
  }
  if (scheme.heads !== config.heads) fail(`has ${String(scheme.heads)} heads, but the config asks for ${config.heads} (sizes.heads)`);
  if (scheme.memory?.slots !== config.memorySlots || scheme.memory?.width !== config.memoryWidth) {
    fail(`addresses a memory of ${scheme.memory?.slots} x ${scheme.memory?.width}, but the config asks for ${config.memorySlots} x ${config.memoryWidth} (sizes.memory)`);
  }
  if (!isPositiveInteger(scheme.parameterSize)) fail(`has parameterSize ${String(scheme.parameterSize)}, not a positive integer`);
  if (scheme.fast !== undefined && typeof scheme.fast?.start !== 'function') fail('has a fast implementation without start()');
  const readShape = tf.tidy(() => {
    const state = scheme.initialState!(1);
    if (!(state?.memory instanceof tf.Tensor)) fail('has an initialState(1) without a memory tensor');
    return scheme.step!(tf.zeros([1, scheme.parameterSize!]), state).reads?.shape;
  });
  const expected = [1, config.heads, config.memoryWidth];
  if (!readShape || !tf.util.arraysEqual(readShape, expected)) {
    fail(`stepped to reads of shape [${readShape ?? 'none'}], expected [${expected}] (one read vector of the memory's width per head)`);
  }
}

import type { AddressingScheme } from '@mann/addressing';
import type { Controller } from '@mann/controller';

/** Which network: the memory-augmented one, or one of the paper's memoryless baselines. */
export type ModelKind = 'mann' | 'lstm' | 'feed-forward';

/**
 * Everything that defines a model's shape. Defaults are the paper's (Santoro et al. 2016, SPEC section 2):
 * LSTM controller of 200 units, memory of 128 slots x 40, 4 read heads, LRUA with usage decay 0.95, 5-way
 * one-hot labels, 20x20 inputs.
 */
export interface ModelConfig {
  /** 'mann' (controller + memory), or a baseline without memory: 'lstm' or 'feed-forward'. */
  kind: ModelKind;
  /**
   * The MANN's controller: a built-in one by name, or a factory that builds your own {@link Controller} from the
   * sizes the model computed (see {@link ControllerFactory}). The baselines' network is named by `kind`.
   */
  controller: 'lstm' | 'feed-forward' | ControllerFactory;
  /** Units of the controller (or of the baseline network). */
  controllerUnits: number;
  /** LSTM forget-gate bias, added at every step. */
  forgetBias: number;
  /**
   * 'lrua' (the paper's) or 'ntm' (Graves et al. 2014), or a factory that builds your own
   * {@link AddressingScheme} for the memory and heads of this config (see {@link AddressingFactory}).
   */
  addressing: 'lrua' | 'ntm' | AddressingFactory;
  /** Memory slots N. */
  memorySlots: number;
  /** Memory slot width W. */
  memoryWidth: number;
  /** Read heads R (LRUA writes with one write head per read head). */
  heads: number;
  /** LRUA usage decay gamma. */
  usageDecay: number;
  /** LRUA: write the key itself (the paper) or a separate add vector. */
  writeVector: 'key' | 'add';
  /**
   * LRUA: zero only the least-used slot before writing ('least-used', the paper) or every slot of the H-slot
   * least-used mask ('all-least-used', as the PyTorch reference). Checkpoints saved before this option existed
   * cleared the whole mask, and load that way.
   */
  clearing: 'all-least-used' | 'least-used';
  /** NTM addressing: number of shift offsets (3 = -1, 0, +1). */
  shifts: number;
  /** 'one-hot' (N-way softmax) or 'string' (five 5-way softmaxes, the paper's Table 2). */
  labels: 'one-hot' | 'string';
  /** Classes per episode N. With one-hot labels this fixes the output size. */
  ways: number;
  /** Side of the square input image (the paper: 20, so 400 inputs). */
  imageSize: number;
  /** Seed of the weight initialisation. */
  seed: number;
}

/** What a {@link ControllerFactory} is given: the sizes and settings the model computed for its controller. */
export interface ControllerSizes {
  /** Width of the controller's input: image + previous label + previous reads (heads x width of the scheme). */
  inputSize: number;
  /** `controllerUnits` of the config (a suggestion: the model takes the controller's own `outputSize`). */
  units: number;
  /** `forgetBias` of the config (for LSTM-like controllers). */
  forgetBias: number;
  /** `seed` of the config, for the controller's weight initialisation. */
  seed: number;
}

/**
 * Builds a controller of your own for a model: called once, by the model's constructor. The controller's input is
 * `[x_t, y_{t-1}, r_{t-1}]` of width `sizes.inputSize`, and its variables are trained and checkpointed as
 * `controller/<name>`. Its `name` is stored in checkpoints; loading one needs the same factory passed in.
 */
export type ControllerFactory = (sizes: ControllerSizes) => Controller;

/** What an {@link AddressingFactory} is given: the memory and heads of the config. */
export interface AddressingSizes {
  /** `memorySlots` x `memoryWidth` of the config. */
  memory: {
    /** Number of memory slots N (`memorySlots`). */
    slots: number;
    /** Width W of each slot (`memoryWidth`). */
    width: number;
  };
  /** `heads` of the config: the scheme must return this many read vectors a step. */
  heads: number;
}

/**
 * Builds an addressing scheme of your own for a model: called once, by the model's constructor. The model projects
 * its controller's output linearly to the scheme's `parameterSize` numbers a step. Its `name` is stored in
 * checkpoints; loading one needs the same factory passed in.
 */
export type AddressingFactory = (sizes: AddressingSizes) => AddressingScheme;

/** How a checkpoint's manifest records a part built by a factory: by the part's name. */
export interface CustomPart {
  /** The `name` of the controller or addressing scheme the factory built. */
  custom: string;
}

/** The paper's model (Santoro et al. 2016): what {@link resolveConfig} fills in for every option not given. */
export const DEFAULT_CONFIG: Readonly<ModelConfig> = Object.freeze({
  kind: 'mann',
  controller: 'lstm',
  controllerUnits: 200,
  forgetBias: 1,
  addressing: 'lrua',
  memorySlots: 128,
  memoryWidth: 40,
  heads: 4,
  usageDecay: 0.95,
  writeVector: 'key',
  clearing: 'least-used',
  shifts: 3,
  labels: 'one-hot',
  ways: 5,
  imageSize: 20,
  seed: 0,
});

/** Length of a string label: five characters (the paper's Table 2). */
export const STRING_LABEL_LENGTH = 5;
/** Size of a string label's alphabet: each character is one of five (the paper's Table 2). */
export const STRING_LABEL_ALPHABET = 5;

function positiveInteger(config: ModelConfig, key: keyof ModelConfig): void {
  const value = config[key];
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new Error(`Model config: ${key} must be a positive integer, got ${JSON.stringify(value)}.`);
  }
}

function oneOf<K extends keyof ModelConfig>(config: ModelConfig, key: K, choices: readonly ModelConfig[K][]): void {
  if (!choices.includes(config[key])) {
    throw new Error(`Model config: ${key} must be one of ${choices.map((c) => `'${c}'`).join(', ')}, got ${JSON.stringify(config[key])}.`);
  }
}

/** A part is a built-in name or a factory; anything else is refused with the names and a word on factories. */
function partChoice(config: ModelConfig, key: 'controller' | 'addressing', names: readonly string[]): void {
  const value = config[key];
  if (typeof value === 'function' || names.includes(value as string)) return;
  const interfaceName = key === 'controller' ? 'Controller' : 'AddressingScheme';
  const shown = value !== null && typeof value === 'object' ? `an object (${describeObject(value)})` : JSON.stringify(value);
  throw new Error(
    `Model config: ${key} must be one of ${names.map((c) => `'${c}'`).join(', ')}, or a factory function (sizes) => ${interfaceName}; ` +
      `got ${shown}.${value !== null && typeof value === 'object' ? ` To plug in your own ${key}, pass a function that builds it: { ${key}: (sizes) => yours }.` : ''}`,
  );
}

function describeObject(value: object): string {
  const name = (value as { name?: unknown }).name;
  return typeof name === 'string' ? `name '${name}'` : `keys ${Object.keys(value).slice(0, 5).join(', ')}`;
}

/** Fills in the paper's defaults and checks that the result describes a model that can exist. */
export function resolveConfig(partial: Partial<ModelConfig> = {}): ModelConfig {
  const unknown = Object.keys(partial).filter((key) => !(key in DEFAULT_CONFIG));
  if (unknown.length > 0) {
    throw new Error(`Model config: unknown option ${unknown.map((k) => `'${k}'`).join(', ')}; known options are ${Object.keys(DEFAULT_CONFIG).join(', ')}.`);
  }
  const config: ModelConfig = { ...DEFAULT_CONFIG, ...partial };
  oneOf(config, 'kind', ['mann', 'lstm', 'feed-forward']);
  partChoice(config, 'controller', ['lstm', 'feed-forward']);
  partChoice(config, 'addressing', ['lrua', 'ntm']);
  if (config.kind !== 'mann' && typeof config.controller === 'function') {
    throw new Error(`Model config: a controller factory needs kind 'mann' (the ${config.kind} baseline builds its own network).`);
  }
  oneOf(config, 'writeVector', ['key', 'add']);
  oneOf(config, 'clearing', ['all-least-used', 'least-used']);
  oneOf(config, 'labels', ['one-hot', 'string']);
  for (const key of ['controllerUnits', 'memorySlots', 'memoryWidth', 'heads', 'shifts', 'ways', 'imageSize'] as const) {
    positiveInteger(config, key);
  }
  if (!Number.isInteger(config.seed)) throw new Error(`Model config: seed must be an integer, got ${config.seed}.`);
  if (!(config.usageDecay >= 0 && config.usageDecay <= 1)) {
    throw new Error(`Model config: usageDecay must be in [0, 1], got ${config.usageDecay}.`);
  }
  if (!Number.isFinite(config.forgetBias)) throw new Error(`Model config: forgetBias must be a number, got ${config.forgetBias}.`);
  if (config.heads > config.memorySlots) {
    throw new Error(`Model config: ${config.heads} heads cannot address a memory of ${config.memorySlots} slots; use at most ${config.memorySlots} heads.`);
  }
  if (config.labels === 'one-hot' && config.ways < 2) {
    throw new Error(`Model config: one-hot labels need at least 2 ways, got ${config.ways}.`);
  }
  if (config.labels === 'string' && config.ways > STRING_LABEL_ALPHABET ** STRING_LABEL_LENGTH) {
    throw new Error(`Model config: ${config.ways} ways exceed the ${STRING_LABEL_ALPHABET ** STRING_LABEL_LENGTH} distinct string labels.`);
  }
  return config;
}

/** Softmax groups G and choices per group C of the model's output: [1, ways] for one-hot, [5, 5] for strings. */
export function outputGroups(config: ModelConfig): {
  /** Softmax groups G: 1 for one-hot labels, 5 (characters) for string labels. */
  groups: number;
  /** Choices C per group: `ways` for one-hot labels, 5 (the alphabet) for string labels. */
  choices: number;
} {
  return config.labels === 'one-hot'
    ? { groups: 1, choices: config.ways }
    : { groups: STRING_LABEL_LENGTH, choices: STRING_LABEL_ALPHABET };
}

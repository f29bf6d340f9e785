import * as tf from '@tensorflow/tfjs-core';
import { resolveConfig, type AddressingFactory, type ControllerFactory, type CustomPart, type ModelConfig } from './config';
import { MemoryAugmentedNetwork } from './model';
import type { Optimizer } from './optimizers';

/** The format version this code writes and reads; any other version is refused with a clear message. */
export const CHECKPOINT_VERSION = 1;
/** The manifest's `format` field, which marks a folder as a mann checkpoint. */
export const CHECKPOINT_FORMAT = 'mann-checkpoint';
/** Default name of the binary weights file the manifest references (tfjs's convention: any relative path). */
export const WEIGHTS_FILE = 'weights.bin';

/** Training progress stored beside the weights, so a resumed run continues exactly where it stopped. */
export interface TrainingState {
  /** Updates applied so far. */
  step: number;
  /** The optimiser of the run and its settings at `step`, so a resumed run uses the same ones. */
  optimizer?: {
    /** The optimiser's name ({@link OptimizerName}). */
    name: 'adam' | 'rmsprop';
    /** Its learning rate at `step`. */
    learningRate: number;
    /** The global gradient-norm limit (0: no clipping). */
    clipNorm: number;
  };
  /** The episode sampler's RNG state. */
  random?: number[];
  /** Anything the trainer wants back (latest metrics, options of the run...). JSON only. */
  [key: string]: unknown;
}

/**
 * A checkpoint's manifest: the tfjs weights convention (`weightsManifest` with groups of `paths` and `weights`
 * specs, as `model.json` has) plus the model configuration, training state and a checksum of the weights.
 */
export interface CheckpointManifest {
  /** Always {@link CHECKPOINT_FORMAT}. */
  format: typeof CHECKPOINT_FORMAT;
  /** The format version that wrote it ({@link CHECKPOINT_VERSION}). */
  version: number;
  /** The model's configuration, factory-built parts recorded by name. */
  config: SavedModelConfig;
  /** Training progress at the time of saving. */
  training: TrainingState;
  /** Where the weights are and what they are, as in tfjs's `model.json`: one group. */
  weightsManifest: {
    /** The weights file, relative to the manifest. */
    paths: string[];
    /** Name, shape and dtype of each tensor, in the order of the file. */
    weights: tf.io.WeightsManifestEntry[];
  }[];
  /** Size and checksum of the weights file, to detect a damaged or mismatched one. */
  weightsChecksum: {
    /** Length of the weights file in bytes. */
    bytes: number;
    /** {@link fnv1a32} of the weights file. */
    fnv1a32: string;
  };
  /**
   * FNV-1a of the config's canonical JSON (`canonicalJson`): a config change that no weight shape reveals
   * (`memorySlots`, `usageDecay`...) would otherwise load silently. Absent in checkpoints written before it existed.
   */
  configChecksum?: {
    /** {@link fnv1a32} of the config's canonical JSON. */
    fnv1a32: string;
  };
}

/** A model config as a manifest stores it: a part built by a factory is recorded by its name, `{ custom: name }`. */
export type SavedModelConfig = Omit<ModelConfig, 'controller' | 'addressing'> & {
  /** The controller's name (`'lstm'`, `'feed-forward'`), or `{ custom: name }` for one built by a factory. */
  controller: Exclude<ModelConfig['controller'], ControllerFactory> | CustomPart;
  /** The addressing scheme's name (`'lrua'`, `'ntm'`), or `{ custom: name }` for one built by a factory. */
  addressing: Exclude<ModelConfig['addressing'], AddressingFactory> | CustomPart;
};

/** The factories of a checkpoint's custom parts, to rebuild them: the same ones the model was built with. */
export interface CheckpointParts {
  /** The factory of a custom controller (`config.controller` of the saved model). */
  controller?: ControllerFactory;
  /** The factory of a custom addressing scheme (`config.addressing` of the saved model). */
  addressing?: AddressingFactory;
}

/** The model's config with its factory-built parts replaced by their names, for the manifest. */
function savedConfig(model: MemoryAugmentedNetwork): SavedModelConfig {
  const { controller, addressing } = model.config;
  return {
    ...model.config,
    controller: typeof controller === 'function' ? { custom: model.controller.name } : controller,
    addressing: typeof addressing === 'function' ? { custom: model.addressing!.name } : addressing,
  };
}

/** The config to rebuild a saved model: each `{ custom: name }` part replaced by the factory given for it. */
function configWithParts(saved: SavedModelConfig, parts: CheckpointParts, where: string): Partial<ModelConfig> {
  const config = { ...saved } as unknown as Record<string, unknown>;
  for (const key of ['controller', 'addressing'] as const) {
    const value = saved[key];
    const factory = parts[key];
    if (value !== null && typeof value === 'object') {
      const name = (value as CustomPart).custom;
      if (typeof factory !== 'function') {
        throw new Error(
          `${where}: the model's ${key} is a custom part '${name}', built by a factory; pass the same factory to load it: ` +
            `restoreCheckpoint(manifest, weights, where, { ${key}: yourFactory }) or loadCheckpoint(dir, { ${key}: yourFactory }).`,
        );
      }
      config[key] = factory;
    } else if (factory !== undefined) {
      const article = key === 'addressing' ? 'an' : 'a';
      throw new Error(
        `${where}: ${article} ${key} factory was passed, but the checkpoint's ${key} is the built-in '${String(value)}'; ` +
          `leave ${key} out to load it.`,
      );
    }
  }
  return config as Partial<ModelConfig>;
}

/** 32-bit FNV-1a of a byte array: cheap, dependency-free damage detection for the weights file. */
export function fnv1a32(bytes: Uint8Array): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) {
    hash ^= bytes[i];
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/**
 * JSON with every object's keys sorted, so that the same value always gives the same text whatever order its keys
 * were written in (undefined fields dropped, as JSON.stringify does): what `configChecksum` hashes.
 */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v,
  );
}

/** The checksum of a saved config as the manifest stores it: FNV-1a of its canonical JSON's UTF-8 bytes. */
export function configChecksum(config: SavedModelConfig): string {
  return fnv1a32(new TextEncoder().encode(canonicalJson(config)));
}

/**
 * Throws when a manifest's config does not match its `configChecksum` (someone edited manifest.json, or it was
 * damaged); manifests written before the checksum existed have none and pass.
 */
export function checkConfigChecksum(manifest: Pick<CheckpointManifest, 'config' | 'configChecksum'>, where: string): void {
  const expected = manifest.configChecksum?.fnv1a32;
  if (expected === undefined) return;
  const actual = configChecksum(manifest.config);
  if (actual !== expected) {
    throw new Error(
      `${where}: the manifest's config (checksum ${actual}) does not match its configChecksum ${expected}: the config in ` +
        `manifest.json was edited or damaged; restore the manifest as it was saved, or use an earlier checkpoint.`,
    );
  }
}

/** Index and value of the first NaN or ±Infinity in a float tensor, or null when every value is finite. */
function firstNonFinite(tensor: tf.Tensor): { index: number; value: number } | null {
  if (tensor.dtype !== 'float32') return null;
  const values = tensor.dataSync() as Float32Array;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) return { index: i, value: values[i] };
  return null;
}

/**
 * Throws, naming the tensor, when a weight or optimiser slot holds NaN or Infinity: such a checkpoint (saved
 * after training diverged, or damaged before its checksum was computed) would otherwise evaluate to chance.
 */
function checkFinite(tensors: tf.NamedTensorMap, where: string): void {
  for (const [name, tensor] of Object.entries(tensors)) {
    const bad = firstNonFinite(tensor);
    if (bad) {
      throw new Error(`${where}: ${name} holds ${bad.value} (first at index ${bad.index}); the checkpoint is damaged: use an earlier one.`);
    }
  }
}

/**
 * Serialises a model (and optionally its optimiser's state) into a manifest and one binary buffer. Model variables
 * are stored as `model/<name>`, optimiser slots as `optimizer/<name>`.
 */
export async function serializeCheckpoint(
  model: MemoryAugmentedNetwork,
  training: TrainingState,
  optimizer?: Optimizer,
  weightsFile: string = WEIGHTS_FILE,
): Promise<{
  /** The manifest, to store as JSON (`manifest.json`). */
  manifest: CheckpointManifest;
  /** The weights file's bytes, to store as `weightsFile`. */
  weights: Uint8Array;
}> {
  const named: tf.NamedTensorMap = {};
  for (const [name, v] of Object.entries(model.variables)) named[`model/${name}`] = v;
  if (optimizer) for (const [name, t] of Object.entries(optimizer.state())) named[`optimizer/${name}`] = t;
  const { data, specs } = await tf.io.encodeWeights(named);
  const weights = new Uint8Array(data);
  const config = savedConfig(model);
  const manifest: CheckpointManifest = {
    format: CHECKPOINT_FORMAT,
    version: CHECKPOINT_VERSION,
    config,
    training: { ...training, optimizer: training.optimizer ?? undefined },
    weightsManifest: [{ paths: [weightsFile], weights: specs }],
    weightsChecksum: { bytes: weights.byteLength, fnv1a32: fnv1a32(weights) },
    // Of the config as JSON will store it (a JSON round trip drops undefined fields, as canonicalJson does).
    configChecksum: { fnv1a32: configChecksum(config) },
  };
  return { manifest, weights };
}

/**
 * Checks a manifest's format and version, its config against its config checksum (when it has one) and the weights
 * against their checksum; throws what is wrong.
 */
export function validateCheckpoint(manifest: unknown, weights: Uint8Array, where = 'checkpoint'): CheckpointManifest {
  const m = manifest as Partial<CheckpointManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== CHECKPOINT_FORMAT) {
    throw new Error(`${where}: not a mann checkpoint (the manifest has no "format": "${CHECKPOINT_FORMAT}").`);
  }
  if (m.version !== CHECKPOINT_VERSION) {
    throw new Error(
      `${where}: checkpoint format version ${m.version} is not supported by this @mann/model (it reads version ${CHECKPOINT_VERSION}). ` +
        `Use the @mann/model version that wrote it, or retrain.`,
    );
  }
  if (!m.config || !m.training || !Array.isArray(m.weightsManifest) || !m.weightsChecksum) {
    throw new Error(`${where}: the manifest is incomplete (config, training, weightsManifest and weightsChecksum are required).`);
  }
  checkConfigChecksum(m as CheckpointManifest, where);
  if (weights.byteLength !== m.weightsChecksum.bytes || fnv1a32(weights) !== m.weightsChecksum.fnv1a32) {
    throw new Error(
      `${where}: the weights file is damaged (${weights.byteLength} bytes, checksum ${fnv1a32(weights)}; the manifest expects ` +
        `${m.weightsChecksum.bytes} bytes, checksum ${m.weightsChecksum.fnv1a32}).`,
    );
  }
  return m as CheckpointManifest;
}

/** What {@link restoreCheckpoint} and `loadCheckpoint` give back. */
export interface RestoredCheckpoint {
  /** The model, its weights restored. */
  model: MemoryAugmentedNetwork;
  /** The training progress saved with it. */
  training: TrainingState;
  /**
   * Optimiser slots by name (without the `optimizer/` prefix). `Trainer.fromCheckpoint` takes them over and frees
   * them; if no trainer is built from this checkpoint, the caller owns them: `tf.dispose(Object.values(optimizerState))`.
   */
  optimizerState: Record<string, tf.Tensor>;
  /** The manifest it was read from. */
  manifest: CheckpointManifest;
}

/**
 * Rebuilds a model from a manifest and its weights buffer (read from files in Node, fetched in a browser):
 *
 * ```js
 * const manifest = await (await fetch('checkpoint/manifest.json')).json();
 * const weights = new Uint8Array(await (await fetch('checkpoint/weights.bin')).arrayBuffer());
 * const { model } = restoreCheckpoint(manifest, weights);
 * ```
 *
 * A model with a custom part (a controller or addressing scheme built by a factory) is saved with the part's name;
 * pass the same factory to load it: `restoreCheckpoint(manifest, weights, 'checkpoint', { controller: yourFactory })`.
 */
export function restoreCheckpoint(manifest: unknown, weights: Uint8Array, where = 'checkpoint', parts: CheckpointParts = {}): RestoredCheckpoint {
  const m = validateCheckpoint(manifest, weights, where);
  const specs = m.weightsManifest.flatMap((group) => group.weights);
  const buffer = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  const tensors = tf.io.decodeWeights(buffer, specs);
  try {
    checkFinite(tensors, where);
  } catch (error) {
    tf.dispose(Object.values(tensors));
    throw error;
  }
  // Checkpoints saved before the `clearing` option existed cleared every least-used slot.
  let model: MemoryAugmentedNetwork;
  try {
    model = new MemoryAugmentedNetwork(resolveConfig({ clearing: 'all-least-used', ...configWithParts(m.config, parts, where) }));
  } catch (error) {
    tf.dispose(Object.values(tensors));
    throw error;
  }
  for (const key of ['controller', 'addressing'] as const) {
    const saved = m.config[key];
    const built = key === 'controller' ? model.controller.name : model.addressing?.name;
    if (saved !== null && typeof saved === 'object' && saved.custom !== built) {
      model.dispose();
      tf.dispose(Object.values(tensors));
      throw new Error(`${where}: the ${key} factory built '${built}', but the checkpoint was saved with '${saved.custom}'; pass the factory of '${saved.custom}'.`);
    }
  }
  const optimizerState: Record<string, tf.Tensor> = {};
  try {
    for (const [name, variable] of Object.entries(model.variables)) {
      const value = tensors[`model/${name}`];
      if (!value) throw new Error(`${where}: the weights have no entry for model/${name}; the checkpoint does not match its configuration.`);
      if (!tf.util.arraysEqual(value.shape, variable.shape)) {
        throw new Error(`${where}: model/${name} has shape [${value.shape}] but the configuration needs [${variable.shape}].`);
      }
      variable.assign(value);
    }
  } catch (error) {
    model.dispose();
    tf.dispose(Object.values(tensors));
    throw error;
  }
  for (const [name, tensor] of Object.entries(tensors)) {
    if (name.startsWith('optimizer/')) optimizerState[name.slice('optimizer/'.length)] = tensor;
    else tensor.dispose();
  }
  return { model, training: m.training, optimizerState, manifest: m };
}

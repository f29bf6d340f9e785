import * as tf from '@tensorflow/tfjs-core';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { createRandom, restoreRandom } from '@mann/episodes';
import {
  CHECKPOINT_VERSION,
  canonicalJson,
  configChecksum,
  fnv1a32,
  restoreCheckpoint,
  serializeCheckpoint,
  validateCheckpoint,
  type CheckpointManifest,
} from './checkpoint';
import { MemoryAugmentedNetwork } from './model';
import { loadCheckpoint, MANIFEST_FILE, readCheckpointManifest, saveCheckpoint } from './node';
import { Trainer } from './trainer';
import { SMALL, contentOnly, simpleRnn, smallBatch } from './test_helpers';

beforeAll(async () => {
  await useBackend('cpu');
});

/** The repository's checkpoints/ folder: the nearest above this file (also found from StrykerJS's sandbox copy). */
function shippedCheckpoints(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dirname(dir) !== dir; dir = dirname(dir)) {
    if (existsSync(join(dir, 'checkpoints'))) return join(dir, 'checkpoints');
  }
  throw new Error(`no checkpoints/ folder above ${fileURLToPath(import.meta.url)}`);
}

async function trainedTrainer(steps: number) {
  const model = new MemoryAugmentedNetwork(SMALL);
  const trainer = new Trainer(model, { optimizer: 'adam', learningRate: 3e-3 });
  const random = createRandom(5);
  for (let i = 0; i < steps; i++) trainer.trainStep(smallBatch(SMALL, random));
  return { model, trainer, random };
}

describe('checkpoints', () => {
  it('round-trip weights and optimiser state bit for bit', async () => {
    const { model, trainer, random } = await trainedTrainer(2);
    const { manifest, weights } = await serializeCheckpoint(model, trainer.trainingState({ random: random.state() }), trainer.optimizer);
    const restored = restoreCheckpoint(JSON.parse(JSON.stringify(manifest)), weights);
    for (const [name, variable] of Object.entries(model.variables)) {
      expect(Array.from(restored.model.variables[name].dataSync())).toEqual(Array.from(variable.dataSync()));
    }
    const state = trainer.optimizer.state();
    expect(Object.keys(restored.optimizerState).sort()).toEqual(Object.keys(state).sort());
    for (const [name, tensor] of Object.entries(state)) {
      expect(Array.from(restored.optimizerState[name].dataSync())).toEqual(Array.from(tensor.dataSync()));
    }
    expect(restored.training.step).toBe(2);
    expect(restored.model.config).toEqual(model.config);
  });

  it('loads a checkpoint saved before the clearing option as clearing every least-used slot, and keeps a saved choice', async () => {
    const { model, trainer, random } = await trainedTrainer(1);
    expect(model.config.clearing).toBe('least-used');
    const { manifest, weights } = await serializeCheckpoint(model, trainer.trainingState({ random: random.state() }), trainer.optimizer);
    expect(restoreCheckpoint(JSON.parse(JSON.stringify(manifest)), weights).model.config.clearing).toBe('least-used');
    const older = JSON.parse(JSON.stringify(manifest));
    delete older.config.clearing;
    delete older.configChecksum; // as written then
    expect(restoreCheckpoint(older, weights).model.config.clearing).toBe('all-least-used');
  });

  it('resuming gives the same next loss as an uninterrupted run', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mann-ckpt-'));
    const { trainer, random } = await trainedTrainer(3);
    await saveCheckpoint(dir, trainer.model, trainer.trainingState({ random: random.state() }), trainer.optimizer);
    const uninterrupted = [trainer.trainStep(smallBatch(SMALL, random)).loss, trainer.trainStep(smallBatch(SMALL, random)).loss];

    const restored = await loadCheckpoint(dir);
    const resumed = Trainer.fromCheckpoint(restored);
    const resumedRandom = restoreRandom(restored.training.random as number[]);
    expect(resumed.step).toBe(3);
    const after = [resumed.trainStep(smallBatch(SMALL, resumedRandom)).loss, resumed.trainStep(smallBatch(SMALL, resumedRandom)).loss];
    expect(after).toEqual(uninterrupted);
  });

  it('keeps exactly one weights file, named by the manifest, after repeated saves', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mann-ckpt-'));
    const { trainer } = await trainedTrainer(1);
    await saveCheckpoint(dir, trainer.model, trainer.trainingState());
    trainer.trainStep(smallBatch());
    await saveCheckpoint(dir, trainer.model, trainer.trainingState());
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
    expect((await readdir(dir)).sort()).toEqual([MANIFEST_FILE, manifest.weightsManifest[0].paths[0]].sort());
    expect((await loadCheckpoint(dir)).training.step).toBe(2);
  });

  it('rejects a damaged weights file, a damaged manifest, another version and a missing folder', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mann-ckpt-'));
    const { trainer } = await trainedTrainer(1);
    await saveCheckpoint(dir, trainer.model, trainer.trainingState());
    const manifestText = await readFile(join(dir, MANIFEST_FILE), 'utf8');
    const manifest = JSON.parse(manifestText);
    const weightsPath = join(dir, manifest.weightsManifest[0].paths[0]);
    const weights = await readFile(weightsPath);

    const flipped = Buffer.from(weights);
    flipped[10] ^= 0xff;
    await writeFile(weightsPath, flipped);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/the weights file is damaged/);
    await writeFile(weightsPath, weights.subarray(0, 100));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/the weights file is damaged \(100 bytes/);
    await writeFile(weightsPath, weights);

    await writeFile(join(dir, MANIFEST_FILE), manifestText.slice(0, 50));
    await expect(loadCheckpoint(dir)).rejects.toThrow(/manifest.json is not valid JSON .*the file is damaged/);
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ ...manifest, version: CHECKPOINT_VERSION + 1 }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(
      `checkpoint format version ${CHECKPOINT_VERSION + 1} is not supported by this @mann/model (it reads version ${CHECKPOINT_VERSION})`,
    );
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ hello: 1 }));
    await expect(loadCheckpoint(dir)).rejects.toThrow('not a mann checkpoint');
    await expect(loadCheckpoint(join(dir, 'nope'))).rejects.toThrow(/Cannot read the checkpoint in .*nope/);
  });

  it('rejects weights that do not fit the configuration', async () => {
    const { model, trainer } = await trainedTrainer(1);
    const { manifest, weights } = await serializeCheckpoint(model, trainer.trainingState());
    // A manifest from before configChecksum, edited: the weights' shapes reveal the change.
    const tampered = { ...manifest, config: { ...manifest.config, controllerUnits: 25 }, configChecksum: undefined };
    const before = tf.memory().numTensors;
    expect(() => restoreCheckpoint(tampered, weights)).toThrow(/model\/controller\/kernel has shape \[.*\] but the configuration needs/);
    // The half-built model and the decoded tensors are freed on failure.
    expect(tf.memory().numTensors).toBe(before);
  });

  it("record a custom part's name, and need its factory to load", async () => {
    const model = new MemoryAugmentedNetwork({ ...SMALL, controller: simpleRnn, addressing: contentOnly, seed: 9 });
    const { manifest, weights } = await serializeCheckpoint(model, { step: 0 });
    const saved = JSON.parse(JSON.stringify(manifest));
    expect(saved.config.controller).toEqual({ custom: 'simple-rnn' });
    expect(saved.config.addressing).toEqual({ custom: 'content-only' });
    expect(() => restoreCheckpoint(saved, weights, 'ckpt')).toThrow(
      "ckpt: the model's controller is a custom part 'simple-rnn', built by a factory; pass the same factory to load it: " +
        'restoreCheckpoint(manifest, weights, where, { controller: yourFactory }) or loadCheckpoint(dir, { controller: yourFactory }).',
    );
    expect(() => restoreCheckpoint(saved, weights, 'ckpt', { controller: simpleRnn })).toThrow("ckpt: the model's addressing is a custom part 'content-only'");
    const renamed = (sizes: Parameters<typeof simpleRnn>[0]) => ({ ...simpleRnn(sizes), name: 'other-rnn' });
    expect(() => restoreCheckpoint(saved, weights, 'ckpt', { controller: renamed, addressing: contentOnly })).toThrow(
      "ckpt: the controller factory built 'other-rnn', but the checkpoint was saved with 'simple-rnn'; pass the factory of 'simple-rnn'.",
    );
    expect(() => restoreCheckpoint(saved, weights, 'ckpt', { controller: simpleRnn, addressing: contentOnly }).model.dispose()).not.toThrow();
    const restored = restoreCheckpoint(saved, weights, 'ckpt', { controller: simpleRnn, addressing: contentOnly });
    for (const [name, variable] of Object.entries(model.variables)) {
      expect(Array.from(restored.model.variables[name].dataSync()), name).toEqual(Array.from(variable.dataSync()));
    }
    const otherScheme = (sizes: Parameters<typeof contentOnly>[0]) => ({ ...contentOnly(sizes), name: 'other-scheme' });
    expect(() => restoreCheckpoint(saved, weights, 'ckpt', { controller: simpleRnn, addressing: otherScheme })).toThrow(
      "ckpt: the addressing factory built 'other-scheme', but the checkpoint was saved with 'content-only'; pass the factory of 'content-only'.",
    );
    const builtIn = new MemoryAugmentedNetwork(SMALL);
    const plain = await serializeCheckpoint(builtIn, { step: 0 });
    expect(plain.manifest.config.controller).toBe('lstm');
    expect(plain.manifest.config.addressing).toBe('lrua');
    expect(() => restoreCheckpoint(JSON.parse(JSON.stringify(plain.manifest)), plain.weights, 'ckpt', { controller: simpleRnn })).toThrow(
      "ckpt: a controller factory was passed, but the checkpoint's controller is the built-in 'lstm'; leave controller out to load it.",
    );
    expect(() => restoreCheckpoint(JSON.parse(JSON.stringify(plain.manifest)), plain.weights, 'ckpt', { addressing: contentOnly })).toThrow(
      "ckpt: an addressing factory was passed, but the checkpoint's addressing is the built-in 'lrua'; leave addressing out to load it.",
    );
    // Only the controller custom: the addressing stays the built-in one, no factory needed for it.
    const half = new MemoryAugmentedNetwork({ ...SMALL, controller: simpleRnn });
    const halfSaved = await serializeCheckpoint(half, { step: 0 });
    expect(halfSaved.manifest.config.addressing).toBe('lrua');
    const halfRestored = restoreCheckpoint(JSON.parse(JSON.stringify(halfSaved.manifest)), halfSaved.weights, 'ckpt', { controller: simpleRnn });
    expect(halfRestored.model.addressing!.name).toBe('lrua');
    halfRestored.model.dispose();
    half.dispose();
    model.dispose();
    restored.model.dispose();
    builtIn.dispose();
  });

  it('refuses weights or optimiser slots holding NaN or Infinity, naming the tensor, and frees what it made', async () => {
    const { model, trainer } = await trainedTrainer(1);
    const kernel = model.variables['controller/kernel'];
    const good = kernel.clone();
    const values = kernel.dataSync().slice();
    values[123] = NaN;
    values[200] = Infinity;
    kernel.assign(tf.tensor(values, kernel.shape));
    const nan = await serializeCheckpoint(model, trainer.trainingState(), trainer.optimizer);
    let before = tf.memory().numTensors;
    expect(() => restoreCheckpoint(nan.manifest, nan.weights)).toThrow(
      'checkpoint: model/controller/kernel holds NaN (first at index 123); the checkpoint is damaged: use an earlier one.',
    );
    expect(tf.memory().numTensors).toBe(before);

    kernel.assign(good);
    const slot = trainer.optimizer.state()['output/bias/m'] as tf.Variable;
    slot.assign(tf.tensor([0, -Infinity, 0]));
    const infinite = await serializeCheckpoint(model, trainer.trainingState(), trainer.optimizer);
    before = tf.memory().numTensors;
    expect(() => restoreCheckpoint(infinite.manifest, infinite.weights, 'ckpt')).toThrow(
      'ckpt: optimizer/output/bias/m holds -Infinity (first at index 1); the checkpoint is damaged: use an earlier one.',
    );
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose(good);
    trainer.dispose();
    model.dispose();
  });

  it('covers the config with configChecksum: an edit no weight shape reveals is refused, key order is not', async () => {
    const { model, trainer } = await trainedTrainer(1);
    const { manifest, weights } = await serializeCheckpoint(model, trainer.trainingState(), trainer.optimizer);
    const saved = JSON.parse(JSON.stringify(manifest));
    expect(saved.configChecksum).toEqual({ fnv1a32: configChecksum(saved.config) });
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"e":2,"f":1}]},"b":1}');

    const reordered = { ...saved, config: Object.fromEntries(Object.entries(saved.config).reverse()) };
    const restored = restoreCheckpoint(reordered, weights);
    tf.dispose(Object.values(restored.optimizerState));
    restored.model.dispose();

    const message = /^checkpoint: the manifest's config \(checksum [0-9a-f]{8}\) does not match its configChecksum [0-9a-f]{8}: the config in manifest.json was edited or damaged; restore the manifest as it was saved, or use an earlier checkpoint.$/;
    for (const edit of [{ memorySlots: 13 }, { usageDecay: 0.5 }, { seed: 99 }]) {
      const edited = { ...saved, config: { ...saved.config, ...edit } };
      const before = tf.memory().numTensors;
      expect(() => restoreCheckpoint(edited, weights), JSON.stringify(edit)).toThrow(message);
      expect(() => validateCheckpoint(edited, weights)).toThrow(message);
      expect(tf.memory().numTensors).toBe(before);
    }
    // A manifest written before configChecksum existed still loads, edited or not: nothing to compare with.
    const older = { ...saved, config: { ...saved.config, memorySlots: 13 } };
    delete older.configChecksum;
    const old = restoreCheckpoint(older, weights);
    expect(old.model.config.memorySlots).toBe(13);
    tf.dispose(Object.values(old.optimizerState));
    old.model.dispose();

    const dir = await mkdtemp(join(tmpdir(), 'mann-ckpt-'));
    await saveCheckpoint(dir, model, trainer.trainingState(), trainer.optimizer);
    const onDisk = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ ...onDisk, config: { ...onDisk.config, memorySlots: 64 } }, null, 1));
    await expect(readCheckpointManifest(dir)).rejects.toThrow(/^Checkpoint .*: the manifest's config .* the config in manifest.json was edited or damaged/);
    await expect(loadCheckpoint(dir)).rejects.toThrow(/the config in manifest.json was edited or damaged/);
    trainer.dispose();
    model.dispose();
  });

  it('loads every checkpoint the repository ships (written before configChecksum) with finite weights', async () => {
    const shipped = shippedCheckpoints();
    const folders = (await readdir(shipped, { withFileTypes: true })).filter((entry) => entry.isDirectory());
    expect(folders.length).toBeGreaterThan(0);
    for (const folder of folders) {
      const before = tf.memory().numTensors;
      const { model, optimizerState } = await loadCheckpoint(join(shipped, folder.name));
      tf.dispose(Object.values(optimizerState));
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

describe('checkpoint checks', () => {
  /** A tiny model's checkpoint as JSON would store it, and its weights. */
  async function tinyCheckpoint() {
    const model = new MemoryAugmentedNetwork({ imageSize: 1, ways: 2, controllerUnits: 1, memorySlots: 1, memoryWidth: 1, heads: 1 });
    const { manifest, weights } = await serializeCheckpoint(model, { step: 4 });
    model.dispose();
    return { manifest: JSON.parse(JSON.stringify(manifest)) as CheckpointManifest, weights };
  }

  it('fnv1a32 is the 32-bit FNV-1a hash, as 8 hex digits', () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    // Reference values of FNV-1a (offset basis 0x811c9dc5, prime 0x01000193).
    expect(fnv1a32(bytes(''))).toBe('811c9dc5');
    expect(fnv1a32(bytes('a'))).toBe('e40c292c');
    expect(fnv1a32(bytes('foobar'))).toBe('bf9cf968');
    expect(fnv1a32(bytes('k2225'))).toBe('006da193'); // leading zeros kept
  });

  it('canonicalJson sorts the keys of nested objects, keeps arrays in order, and null as null', () => {
    expect(canonicalJson({ z: null, y: [{ b: 1, a: 2 }, 3], x: 'x' })).toBe('{"x":"x","y":[{"a":2,"b":1},3],"z":null}');
    expect(canonicalJson([2, 1])).toBe('[2,1]');
  });

  it('the manifest records the format, version, config, training, weights and their checksums', async () => {
    const model = new MemoryAugmentedNetwork({ imageSize: 1, ways: 2, controllerUnits: 1, memorySlots: 1, memoryWidth: 1, heads: 1 });
    const { manifest, weights } = await serializeCheckpoint(model, { step: 4, random: [1, 2] }, undefined, 'w.bin');
    expect(manifest.format).toBe('mann-checkpoint');
    expect(manifest.version).toBe(1);
    expect(manifest.config).toEqual(model.config);
    expect(manifest.training).toEqual({ step: 4, random: [1, 2], optimizer: undefined });
    expect(manifest.weightsManifest).toHaveLength(1);
    expect(manifest.weightsManifest[0].paths).toEqual(['w.bin']);
    expect(manifest.weightsManifest[0].weights.map((w) => w.name).sort()).toEqual(Object.keys(model.variables).map((name) => `model/${name}`).sort());
    // 34 float32 weights: LSTM kernel 5 x 4 + bias 4, memory 1 x 2 + 2, output 2 x 2 + 2.
    expect(weights.byteLength).toBe(34 * 4);
    expect(manifest.weightsChecksum).toEqual({ bytes: 136, fnv1a32: fnv1a32(weights) });
    expect(manifest.configChecksum).toEqual({ fnv1a32: configChecksum(manifest.config) });
    expect((await serializeCheckpoint(model, { step: 0 })).manifest.weightsManifest[0].paths).toEqual(['weights.bin']);
    model.dispose();
  });

  it('validateCheckpoint names what is wrong with a manifest or its weights', async () => {
    const { manifest, weights } = await tinyCheckpoint();
    expect(validateCheckpoint(manifest, weights)).toBe(manifest);
    const notOurs = 'checkpoint: not a mann checkpoint (the manifest has no "format": "mann-checkpoint").';
    expect(() => validateCheckpoint(null, weights)).toThrow(notOurs);
    expect(() => validateCheckpoint('mann-checkpoint', weights)).toThrow(notOurs);
    expect(() => validateCheckpoint({ ...manifest, format: 'tfjs' }, weights, 'here')).toThrow(
      'here: not a mann checkpoint (the manifest has no "format": "mann-checkpoint").',
    );
    expect(() => validateCheckpoint({ ...manifest, version: 2 }, weights)).toThrow(
      'checkpoint: checkpoint format version 2 is not supported by this @mann/model (it reads version 1). Use the @mann/model version that wrote it, or retrain.',
    );
    const incomplete = 'checkpoint: the manifest is incomplete (config, training, weightsManifest and weightsChecksum are required).';
    for (const key of ['config', 'training', 'weightsManifest', 'weightsChecksum'] as const) {
      expect(() => validateCheckpoint({ ...manifest, [key]: undefined }, weights), key).toThrow(incomplete);
    }
    expect(() => validateCheckpoint({ ...manifest, weightsManifest: {} }, weights)).toThrow(incomplete);
    const sum = fnv1a32(weights);
    const shorter = weights.subarray(0, 132);
    expect(() => validateCheckpoint(manifest, shorter)).toThrow(
      `checkpoint: the weights file is damaged (132 bytes, checksum ${fnv1a32(shorter)}; the manifest expects 136 bytes, checksum ${sum}).`,
    );
    const flipped = weights.slice();
    flipped[0] ^= 1;
    expect(() => validateCheckpoint(manifest, flipped)).toThrow(`(136 bytes, checksum ${fnv1a32(flipped)}; the manifest expects 136 bytes, checksum ${sum})`);
  });

  it('restoreCheckpoint names a weight the file lacks, and frees what it made', async () => {
    const { manifest, weights } = await tinyCheckpoint();
    // Drop model/output/bias from the manifest's list: the file is intact, its checksum still matches.
    const specs = manifest.weightsManifest[0].weights;
    const last = specs[specs.length - 1];
    expect(last.name).toBe('model/output/bias');
    const lacking = { ...manifest, weightsManifest: [{ ...manifest.weightsManifest[0], weights: specs.slice(0, -1) }] };
    const before = tf.memory().numTensors;
    expect(() => restoreCheckpoint(lacking, weights, 'ckpt')).toThrow(
      'ckpt: the weights have no entry for model/output/bias; the checkpoint does not match its configuration.',
    );
    expect(tf.memory().numTensors).toBe(before);
    const { model, optimizerState, training } = restoreCheckpoint(manifest, weights);
    expect(training).toEqual({ step: 4 });
    expect(optimizerState).toEqual({});
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('checkpoint folders', () => {
  const tinyModel = () => new MemoryAugmentedNetwork({ imageSize: 1, ways: 2, controllerUnits: 1, memorySlots: 1, memoryWidth: 1, heads: 1 });

  it('saveCheckpoint writes manifest.json (1-space JSON and a newline) and weights-<step>-<random>.bin, replacing only older weights files', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mann-ckpt-'));
    await writeFile(join(dir, 'weights.bin'), 'old');
    await writeFile(join(dir, 'my-weights.bin'), 'keep');
    await writeFile(join(dir, 'weights.txt'), 'keep');
    const model = tinyModel();
    await saveCheckpoint(join(dir, 'new'), model, { step: 0 }); // creates the folder
    await saveCheckpoint(dir, model, { step: 42 });
    const text = await readFile(join(dir, MANIFEST_FILE), 'utf8');
    expect(text.startsWith('{\n "format": "mann-checkpoint",\n')).toBe(true);
    expect(text.endsWith('}\n')).toBe(true);
    const weightsFile = JSON.parse(text).weightsManifest[0].paths[0];
    expect(weightsFile).toMatch(/^weights-00000042-[0-9a-f]{6}\.bin$/);
    expect((await readdir(dir)).sort()).toEqual([MANIFEST_FILE, 'my-weights.bin', 'new', weightsFile, 'weights.txt'].sort());
    expect((await readCheckpointManifest(dir)).training.step).toBe(42);
    model.dispose();
  });

  it('saveCheckpoint leaves no temporary file behind when a write fails', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mann-ckpt-'));
    await mkdir(join(dir, MANIFEST_FILE)); // a folder where the manifest should go: the rename fails
    const model = tinyModel();
    await expect(saveCheckpoint(dir, model, { step: 1 })).rejects.toThrow();
    expect((await readdir(dir)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    model.dispose();
  });

  it('readCheckpointManifest names a folder that holds no mann checkpoint or another version, and creates no tensors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mann-ckpt-'));
    const model = tinyModel();
    await saveCheckpoint(dir, model, { step: 3 });
    model.dispose();
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
    const before = tf.memory().numTensors;
    expect((await readCheckpointManifest(dir)).config).toEqual(manifest.config);
    expect(tf.memory().numTensors).toBe(before);
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ ...manifest, format: 'other' }));
    await expect(readCheckpointManifest(dir)).rejects.toThrow(`Checkpoint ${dir}: not a mann checkpoint (the manifest has no "format": "mann-checkpoint").`);
    await writeFile(join(dir, MANIFEST_FILE), 'null');
    await expect(readCheckpointManifest(dir)).rejects.toThrow(`Checkpoint ${dir}: not a mann checkpoint`);
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ ...manifest, version: 0 }));
    await expect(readCheckpointManifest(dir)).rejects.toThrow(
      `Checkpoint ${dir}: checkpoint format version 0 is not supported by this @mann/model (it reads version 1).`,
    );
    // Without a config there is nothing to check against configChecksum here (loadCheckpoint refuses it).
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ ...manifest, config: undefined }));
    expect((await readCheckpointManifest(dir)).configChecksum).toEqual(manifest.configChecksum);
  });

  it('loadCheckpoint reads weights only from inside the folder, and names a weights file it cannot read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mann-ckpt-'));
    const model = tinyModel();
    await saveCheckpoint(dir, model, { step: 3 });
    model.dispose();
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST_FILE), 'utf8'));
    const withPath = (path: unknown) => ({ ...manifest, weightsManifest: [{ ...manifest.weightsManifest[0], paths: [path] }] });
    // A path outside the folder is never read: the weights count as empty.
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(withPath(`../${manifest.weightsManifest[0].paths[0]}`)));
    await expect(loadCheckpoint(dir)).rejects.toThrow(`Checkpoint ${dir}: the weights file is damaged (0 bytes, checksum 811c9dc5; the manifest expects 136 bytes`);
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(withPath(7)));
    await expect(loadCheckpoint(dir)).rejects.toThrow(`Checkpoint ${dir}: the weights file is damaged (0 bytes`);
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify(withPath('gone.bin')));
    await expect(loadCheckpoint(dir)).rejects.toThrow(`Checkpoint ${dir}: cannot read its weights file gone.bin (ENOENT`);
    await writeFile(join(dir, MANIFEST_FILE), JSON.stringify({ format: 'mann-checkpoint', version: 1 }));
    await expect(loadCheckpoint(dir)).rejects.toThrow(`Checkpoint ${dir}: the manifest is incomplete`);
    await expect(loadCheckpoint(join(dir, 'none'))).rejects.toThrow(
      `Cannot read the checkpoint in ${join(dir, 'none')}: ENOENT: no such file or directory, open '${join(dir, 'none', MANIFEST_FILE)}'. ` +
        `A checkpoint folder holds ${MANIFEST_FILE} and the weights file it names.`,
    );
    await writeFile(join(dir, MANIFEST_FILE), '{ "format":');
    await expect(loadCheckpoint(dir)).rejects.toThrow(`Checkpoint ${join(dir, MANIFEST_FILE)} is not valid JSON (`);
  });
});

import { describe, expect, it } from 'vitest';
import { OmniglotDataset } from './omniglot_dataset';
import { mulberry32, seededShuffle } from './seeded_shuffle';
import { characterKey, officialSplit, paperSplit, validationSplit } from './splits';
import type { OmniglotCharacter, OmniglotSet } from './types';

function character(set: string, alphabet: string, index: number, imageSize = 2, drawers = [1, 2]): OmniglotCharacter {
  const pixels = new Uint8Array(drawers.length * imageSize * imageSize).map((_, p) => (index * 7 + p) % 256);
  return { set, alphabet, character: `character${String(index).padStart(2, '0')}`, drawers, pixels };
}

function syntheticSet(set: string, count: number, imageSize = 2): OmniglotSet {
  const characters = Array.from({ length: count }, (_, k) => character(set, `A${k % 3}`, k + 1, imageSize));
  return { source: `${set}.zip`, imageSize, characters };
}

describe('OmniglotDataset', () => {
  it('reads bytes as floats in [0, 1], ink 255 -> 1', () => {
    const characters: OmniglotCharacter[] = [
      { set: 's', alphabet: 'A', character: 'character01', drawers: [1, 2], pixels: Uint8Array.of(0, 255, 51, 102, 1, 2, 3, 4) },
    ];
    const dataset = new OmniglotDataset(characters);
    expect(dataset.numClasses).toBe(1);
    expect(dataset.sampleShape).toEqual([2, 2]);
    expect(dataset.samplesIn(0)).toBe(2);
    const out = new Float32Array(6);
    dataset.read(0, 0, out, 1, Math.random);
    // 51 / 255 = 0.2, 102 / 255 = 0.4.
    expect(Array.from(out)).toEqual([0, 0, 1, Math.fround(0.2), Math.fround(0.4), 0]);
  });

  it('validates', () => {
    expect(() => new OmniglotDataset([])).toThrow('OmniglotDataset: needs at least one character');
    const dataset = new OmniglotDataset([character('s', 'A', 1)]);
    expect(() => dataset.read(1, 0, new Float32Array(4), 0, Math.random)).toThrow('class 1 out of range [0, 1)');
    expect(() => dataset.read(0, 2, new Float32Array(4), 0, Math.random)).toThrow('sample 2 out of range [0, 2)');
    expect(() => dataset.read(0, 0, new Float32Array(4), 1, Math.random)).toThrow('4 values at offset 1 do not fit');
    expect(() => new OmniglotDataset([character('s', 'A', 1), character('s', 'A', 2, 3)])).toThrow(
      /A\/character02 has 18 pixels for 2 drawings; expected 2x2 images/,
    );
  });
});

describe('seededShuffle', () => {
  it('is a permutation, the same for the same seed', () => {
    const a = seededShuffle(Array.from({ length: 50 }, (_, k) => k), 3);
    expect([...a].sort((x, y) => x - y)).toEqual(Array.from({ length: 50 }, (_, k) => k));
    expect(seededShuffle(Array.from({ length: 50 }, (_, k) => k), 3)).toEqual(a);
    expect(seededShuffle(Array.from({ length: 50 }, (_, k) => k), 4)).not.toEqual(a);
  });

  it('pins mulberry32 (changing it would change every paper split)', () => {
    // Regression pin of this implementation's first words for seed 0 and 1. The first word for seed 0,
    // 1144304738 / 2^32 = 0.2664292086..., is the value commonly quoted for the reference JavaScript mulberry32(0).
    const zero = mulberry32(0);
    const one = mulberry32(1);
    expect([zero(), zero(), zero()]).toEqual(PINNED_SEED_0);
    expect([one(), one()]).toEqual(PINNED_SEED_1);
  });
});

const PINNED_SEED_0 = [1144304738, 1416247, 958946056];
const PINNED_SEED_1 = [2693262067, 11749833];
const PINNED_VALIDATION_KEYS = [
  'background/A0/character25',
  'background/A1/character23',
  'evaluation/A0/character07',
  'evaluation/A1/character05',
  'evaluation/A2/character12',
];

describe('splits on synthetic sets', () => {
  const background = syntheticSet('background', 30);
  const evaluation = syntheticSet('evaluation', 20);

  it('officialSplit keeps the sets apart', () => {
    const { train, test } = officialSplit(background, evaluation);
    expect(train.map(characterKey)).toEqual(background.characters.map(characterKey));
    expect(test.map(characterKey)).toEqual(evaluation.characters.map(characterKey));
  });

  it('paperSplit is disjoint and complete, sorted, and independent of input order', () => {
    const { train, test } = paperSplit(background, evaluation, { trainClasses: 35 });
    expect(train.length).toBe(35);
    expect(test.length).toBe(15);
    const keys = [...train, ...test].map(characterKey);
    expect(new Set(keys).size).toBe(50);
    const sortedTrain = train.map(characterKey);
    expect([...sortedTrain].sort()).toEqual(sortedTrain);
    const shuffledInput = { ...background, characters: [...background.characters].reverse() };
    expect(paperSplit(shuffledInput, evaluation, { trainClasses: 35 }).test.map(characterKey)).toEqual(test.map(characterKey));
    expect(paperSplit(background, evaluation, { trainClasses: 35, seed: 1 }).test.map(characterKey)).not.toEqual(
      test.map(characterKey),
    );
  });

  it('validationSplit takes count characters out of the training ones: disjoint, complete, sorted, seeded', () => {
    const { train } = paperSplit(background, evaluation, { trainClasses: 35 });
    const { train: fit, validation } = validationSplit(train, { count: 5 });
    expect([fit.length, validation.length]).toEqual([30, 5]);
    const keys = [...fit, ...validation].map(characterKey);
    expect(new Set(keys).size).toBe(35);
    expect([...keys].sort()).toEqual(train.map(characterKey).sort());
    for (const list of [fit, validation]) expect([...list.map(characterKey)].sort()).toEqual(list.map(characterKey));
    // Independent of the input order; another seed picks others; the default count is 100.
    expect(validationSplit([...train].reverse(), { count: 5 }).validation.map(characterKey)).toEqual(validation.map(characterKey));
    expect(validationSplit(train, { count: 5, seed: 1 }).validation.map(characterKey)).not.toEqual(validation.map(characterKey));
    const many = syntheticSet('background', 150).characters;
    expect(validationSplit(many).validation.length).toBe(100);
    // Pinned: the same characters validate in every version (a change would mix validation into training).
    expect(validation.map(characterKey)).toEqual(PINNED_VALIDATION_KEYS);
  });

  it('validates', () => {
    expect(() => validationSplit(background.characters, { count: 30 })).toThrow(
      'validationSplit: count must be an integer in [1, 29] (there are 30 training characters), got 30',
    );
    expect(() => validationSplit(background.characters, { count: 0 })).toThrow(/count must be an integer in \[1, 29\]/);
    expect(() => validationSplit(background.characters, { count: 2.5 })).toThrow(/got 2\.5/);
    expect(() => validationSplit([...background.characters, background.characters[0]], { count: 2 })).toThrow(
      'validationSplit: character background/A0/character01 appears twice',
    );
    expect(() => paperSplit(background, background)).toThrow(/paperSplit: character background\/A0\/character01 appears twice/);
    expect(() => paperSplit(background, evaluation, { trainClasses: 50 })).toThrow(/trainClasses must be an integer in \[1, 49\]/);
    expect(() => officialSplit(background, syntheticSet('evaluation', 2, 3))).toThrow(/has 2px images but evaluation\.zip has 3px/);
  });
});

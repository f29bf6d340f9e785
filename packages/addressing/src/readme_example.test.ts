import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { differentiatedAddressing } from './differentiated_addressing';
import { fastRollout, plainRollout, randomValues, relativeDifference } from './test_utils';
import type { AddressingScheme } from './types';

// The README's own-scheme example, taken from the README itself so that the two cannot drift apart: its `fast`
// must agree with its `step` (and so with differentiatedAddressing) in outputs and gradients.
const packageDir = fileURLToPath(new URL('..', import.meta.url));
let folder = '';
let leakyTrace: (sizes: { memory: { slots: number; width: number }; heads: number }) => AddressingScheme;

beforeAll(async () => {
  await useBackend('cpu');
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const block = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]).find((code) => code.includes('export function leakyTrace'));
  expect(block, 'the README has the leakyTrace example').toBeDefined();
  folder = mkdtempSync(join(packageDir, '.readme-example-'));
  writeFileSync(join(folder, 'example.mjs'), block!);
  ({ leakyTrace } = await import(/* @vite-ignore */ pathToFileURL(join(folder, 'example.mjs')).href));
});

afterAll(() => {
  if (folder) rmSync(folder, { recursive: true, force: true });
});

describe("the README's own scheme", () => {
  it('has a fast implementation that agrees with its step, values and gradients', () => {
    const scheme = leakyTrace({ memory: { slots: 5, width: 3 }, heads: 2 });
    const batch = 2;
    const parameters = Array.from({ length: 6 }, (_, t) => randomValues(batch * scheme.parameterSize, 10 + t, 2));
    const readGradients = Array.from({ length: 6 }, (_, t) => randomValues(batch * 6, 30 + t));
    const plain = plainRollout(scheme, batch, parameters, readGradients);
    const fast = fastRollout(scheme.fast!, batch, parameters, readGradients);
    expect(relativeDifference(fast.reads, plain.reads)).toBeLessThan(1e-5);
    expect(relativeDifference(fast.parameterGradients, plain.parameterGradients)).toBeLessThan(1e-5);
    const differentiated = fastRollout(differentiatedAddressing(scheme), batch, parameters, readGradients);
    expect(relativeDifference(differentiated.parameterGradients, plain.parameterGradients)).toBeLessThan(1e-5);
  });
});

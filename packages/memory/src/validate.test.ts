import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { assertPositiveInteger, assertRank, assertShape, assertShapeMatches, shapeString } from './index';

// The shape checks are exported for @mann/addressing, so their messages are part of this package's API; the
// memory functions only reach some of their branches (they check the rank before the sizes).

beforeAll(async () => {
  await useBackend('cpu');
});

describe('shapeString', () => {
  it('prints a shape without spaces', () => {
    expect(shapeString([2, 128, 40])).toBe('[2,128,40]');
    expect(shapeString([])).toBe('[]');
  });
});

describe('assertRank', () => {
  it('passes a tensor of the rank and names what is not a tensor or has another rank', () => {
    expect(() => assertRank('f', 'x', tf.zeros([2, 3]), 2, '[B, N]')).not.toThrow();
    expect(() => assertRank('f', 'x', undefined as never, 2, '[B, N]')).toThrow('f: x must be a tensor [B, N], got undefined');
    expect(() => assertRank('f', 'x', { shape: 'oops' } as never, 2, '[B, N]')).toThrow('f: x must be a tensor [B, N], got [object Object]');
    expect(() => assertRank('f', 'x', tf.zeros([2, 3, 1]), 2, '[B, N]')).toThrow(
      'f: x must be a rank-2 tensor [B, N], got shape [2,3,1] (rank 3)',
    );
  });
});

describe('assertShapeMatches', () => {
  const memory = (): tf.Tensor => tf.zeros([2, 3, 4]);

  it('passes when every numbered axis matches; a letter matches any size', () => {
    expect(() => assertShapeMatches('f', 'weights', tf.zeros([2, 7, 3]), 'memory', memory(), [2, 'H', 3])).not.toThrow();
    expect(() => assertShapeMatches('f', 'mask', tf.zeros([2, 3]), 'memory', memory(), [2, 3])).not.toThrow();
  });

  it('fails on a size, or on a rank even when the common axes match ("does" for a singular name)', () => {
    expect(() => assertShapeMatches('f', 'weights', tf.zeros([2, 7, 5]), 'memory', memory(), [2, 'H', 3])).toThrow(
      'f: weights [2,7,5] do not match memory [2,3,4]: expected [2,H,3]',
    );
    // Axes 0 and 1 match [2, 3]; the extra axis alone must fail the check.
    expect(() => assertShapeMatches('f', 'mask', tf.zeros([2, 3, 1]), 'memory', memory(), [2, 3])).toThrow(
      'f: mask [2,3,1] does not match memory [2,3,4]: expected [2,3]',
    );
    expect(() => assertShapeMatches('f', 'mask', tf.zeros([2]), 'memory', memory(), [2, 3])).toThrow(
      'f: mask [2] does not match memory [2,3,4]: expected [2,3]',
    );
  });
});

describe('assertShape', () => {
  it('passes the exact shape only', () => {
    expect(() => assertShape('f', 'key', tf.zeros([2, 3]), [2, 3], 'for 2 heads')).not.toThrow();
    // One axis right, one wrong: every axis must match.
    expect(() => assertShape('f', 'key', tf.zeros([2, 4]), [2, 3], 'for 2 heads')).toThrow('f: key [2,4] for 2 heads: expected [2,3]');
    expect(() => assertShape('f', 'key', tf.zeros([5, 3]), [2, 3], 'for 2 heads')).toThrow('f: key [5,3] for 2 heads: expected [2,3]');
    // Leading axes right but another rank, longer or shorter.
    expect(() => assertShape('f', 'key', tf.zeros([2, 3, 1]), [2, 3], 'for 2 heads')).toThrow(
      'f: key [2,3,1] for 2 heads: expected [2,3]',
    );
    expect(() => assertShape('f', 'key', tf.zeros([2]), [2, 3], 'for 2 heads')).toThrow('f: key [2] for 2 heads: expected [2,3]');
  });
});

describe('assertPositiveInteger', () => {
  it('passes 1 and rejects 0, fractions and non-numbers', () => {
    expect(() => assertPositiveInteger('f', 'n', 1)).not.toThrow();
    expect(() => assertPositiveInteger('f', 'n', 0)).toThrow('f: n must be a positive integer, got 0');
    expect(() => assertPositiveInteger('f', 'n', 2.5)).toThrow('f: n must be a positive integer, got 2.5');
    expect(() => assertPositiveInteger('f', 'n', '3' as never)).toThrow('f: n must be a positive integer, got 3');
  });
});

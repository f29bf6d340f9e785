import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '@mann/backend';
import { maxAbsDifference, randomTensor } from '@mann/backend/testing';
import {
  clearSlots,
  eraseMemory,
  initialMemory,
  initialUsage,
  initialWeights,
  readMemory,
  resolveMemoryConfig,
  updateUsage,
  writeMemory,
} from './index';

beforeAll(async () => {
  await useBackend('cpu');
});

const close = (actual: tf.Tensor, expected: number[] | number[][] | number[][][], tolerance = 1e-6) =>
  expect(maxAbsDifference(actual, (expected as number[]).flat(3) as number[])).toBeLessThan(tolerance);

describe('resolveMemoryConfig', () => {
  it('fills in the default initial value', () => {
    expect(resolveMemoryConfig({ slots: 128, width: 40 })).toEqual({ slots: 128, width: 40, initialValue: 1e-6 });
    expect(resolveMemoryConfig({ slots: 2, width: 3, initialValue: 0 })).toEqual({ slots: 2, width: 3, initialValue: 0 });
  });

  it('says what is wrong with an impossible config', () => {
    expect(() => resolveMemoryConfig({ slots: 128, width: 0 })).toThrow('memory width must be a positive integer, got 0');
    expect(() => resolveMemoryConfig({ slots: 1.5, width: 4 })).toThrow('memory slots must be a positive integer, got 1.5');
    expect(() => resolveMemoryConfig({ slots: -2, width: 4 })).toThrow('memory slots must be a positive integer, got -2');
    expect(() => resolveMemoryConfig({ slots: 2, width: 4, initialValue: NaN })).toThrow(
      'memory initialValue must be a finite number, got NaN',
    );
    // 0 is the boundary of "positive": rejected for both sizes; 1 is the smallest accepted.
    expect(() => resolveMemoryConfig({ slots: 0, width: 4 })).toThrow('memory slots must be a positive integer, got 0');
    expect(resolveMemoryConfig({ slots: 1, width: 1 })).toEqual({ slots: 1, width: 1, initialValue: 1e-6 });
    expect(() => resolveMemoryConfig({ slots: 2, width: 4, initialValue: Infinity })).toThrow(
      'memory initialValue must be a finite number, got Infinity',
    );
    expect(() => resolveMemoryConfig({ slots: 2, width: 4, initialValue: '0.5' as never })).toThrow(
      'memory initialValue must be a finite number, got 0.5',
    );
  });

  it('says what it got when the config is not an object', () => {
    expect(() => resolveMemoryConfig(null as never)).toThrow('memory config must be an object { slots, width, initialValue? }, got null');
    expect(() => resolveMemoryConfig(undefined as never)).toThrow(
      'memory config must be an object { slots, width, initialValue? }, got undefined',
    );
    expect(() => resolveMemoryConfig(128 as never)).toThrow('memory config must be an object { slots, width, initialValue? }, got 128');
  });
});

describe('initial state', () => {
  it('initialMemory is [B, N, W] filled with the initial value', () => {
    const memory = initialMemory(2, { slots: 3, width: 4 });
    expect(memory.shape).toEqual([2, 3, 4]);
    close(memory, new Array(24).fill(1e-6), 1e-12);
    close(initialMemory(1, { slots: 1, width: 2, initialValue: 0.5 }), [0.5, 0.5]);
  });

  it('initialMemory rejects a zero-width memory and a bad batch size', () => {
    expect(() => initialMemory(2, { slots: 3, width: 0 })).toThrow('memory width must be a positive integer, got 0');
    expect(() => initialMemory(0, { slots: 3, width: 2 })).toThrow('initialMemory: batchSize must be a positive integer, got 0');
  });

  it('usage and weights start at zero', () => {
    const usage = initialUsage(2, 3);
    expect(usage.shape).toEqual([2, 3]);
    close(usage, [0, 0, 0, 0, 0, 0]);
    const weights = initialWeights(2, 4, 3);
    expect(weights.shape).toEqual([2, 4, 3]);
    close(weights, new Array(24).fill(0));
    expect(() => initialWeights(2, 0, 3)).toThrow('initialWeights: heads must be a positive integer, got 0');
  });

  it('usage and weights name the argument that is not a positive integer', () => {
    expect(() => initialUsage(0, 3)).toThrow('initialUsage: batchSize must be a positive integer, got 0');
    expect(() => initialUsage(2, 1.5)).toThrow('initialUsage: slots must be a positive integer, got 1.5');
    expect(() => initialWeights(-1, 2, 3)).toThrow('initialWeights: batchSize must be a positive integer, got -1');
    expect(() => initialWeights(2, 2, 0)).toThrow('initialWeights: slots must be a positive integer, got 0');
    // The smallest sizes are accepted.
    expect(initialUsage(1, 1).shape).toEqual([1, 1]);
    expect(initialWeights(1, 1, 1).shape).toEqual([1, 1, 1]);
  });
});

describe('readMemory', () => {
  it('computes r = w M', () => {
    const memory = tf.tensor3d([[[1, 2], [3, 4], [5, 6]]]); // B=1, N=3, W=2
    const weights = tf.tensor3d([[[0.5, 0.5, 0], [0, 0.25, 0.75]]]); // R=2
    // r0 = 0.5*[1,2] + 0.5*[3,4] = [2, 3]
    // r1 = 0.25*[3,4] + 0.75*[5,6] = [0.75+3.75, 1+4.5] = [4.5, 5.5]
    const reads = readMemory(memory, weights);
    expect(reads.shape).toEqual([1, 2, 2]);
    close(reads, [[[2, 3], [4.5, 5.5]]]);
  });

  it('reads each episode from its own memory, with as many heads as slots', () => {
    const memory = tf.tensor3d([
      [[1, 2], [3, 4]],
      [[10, 20], [30, 40]],
    ]); // B=2, N=2, W=2
    const weights = tf.tensor3d([
      [[1, 0], [0, 1]], // episode 0: the identity, so the reads are the slots themselves
      [[0, 1], [0.5, 0.5]],
    ]); // R=2=N
    // episode 1: r0 = 1*[30,40] = [30, 40]; r1 = 0.5*[10,20] + 0.5*[30,40] = [20, 30]
    const reads = readMemory(memory, weights);
    expect(reads.shape).toEqual([2, 2, 2]);
    close(reads, [[[1, 2], [3, 4]], [[30, 40], [20, 30]]]);
  });

  it('names the shapes when they do not fit', () => {
    const memory = tf.zeros([2, 128, 40]) as tf.Tensor3D;
    expect(() => readMemory(memory, tf.zeros([2, 4, 64]) as tf.Tensor3D)).toThrow(
      'readMemory: weights [2,4,64] do not match memory [2,128,40]: expected [2,R,128]',
    );
    expect(() => readMemory(memory, tf.zeros([3, 4, 128]) as tf.Tensor3D)).toThrow(
      'readMemory: weights [3,4,128] do not match memory [2,128,40]: expected [2,R,128]',
    );
    expect(() => readMemory(tf.zeros([128, 40]) as unknown as tf.Tensor3D, tf.zeros([2, 4, 128]) as tf.Tensor3D)).toThrow(
      'readMemory: memory must be a rank-3 tensor [B, N, W], got shape [128,40] (rank 2)',
    );
    expect(() => readMemory(memory, tf.zeros([4, 128]) as unknown as tf.Tensor3D)).toThrow(
      'readMemory: weights must be a rank-3 tensor [B, R, N], got shape [4,128] (rank 2)',
    );
    expect(() => readMemory(null as never, tf.zeros([2, 4, 128]) as tf.Tensor3D)).toThrow(
      'readMemory: memory must be a tensor [B, N, W], got null',
    );
    expect(() => readMemory(memory, [[[1]]] as never)).toThrow('readMemory: weights must be a tensor [B, R, N], got 1');
  });
});

describe('writeMemory', () => {
  it('adds sum_h w_h^T v_h', () => {
    const memory = tf.tensor3d([[[1, 1], [0, 0], [2, 0]]]); // N=3, W=2
    const weights = tf.tensor3d([[[1, 0, 0.5], [0, 1, 0.5]]]); // H=2
    const values = tf.tensor3d([[[2, 4], [-1, 3]]]);
    // slot 0: [1,1] + 1*[2,4]                 = [3, 5]
    // slot 1: [0,0] + 1*[-1,3]                = [-1, 3]
    // slot 2: [2,0] + 0.5*[2,4] + 0.5*[-1,3]  = [2+1-0.5, 0+2+1.5] = [2.5, 3.5]
    close(writeMemory(memory, weights, values), [[[3, 5], [-1, 3], [2.5, 3.5]]]);
  });

  it('writes each episode with its own weights and values', () => {
    const memory = tf.tensor3d([
      [[0, 0], [0, 0]],
      [[1, 1], [1, 1]],
    ]); // B=2, N=2, W=2
    const weights = tf.tensor3d([[[1, 0]], [[0.5, 0.25]]]); // H=1
    const values = tf.tensor3d([[[2, 3]], [[4, -8]]]);
    // episode 0: slot 0 = [0,0] + 1*[2,3] = [2, 3];        slot 1 = [0,0] + 0*[2,3] = [0, 0]
    // episode 1: slot 0 = [1,1] + 0.5*[4,-8] = [3, -3];    slot 1 = [1,1] + 0.25*[4,-8] = [2, -1]
    const written = writeMemory(memory, weights, values);
    expect(written.shape).toEqual([2, 2, 2]);
    close(written, [[[2, 3], [0, 0]], [[3, -3], [2, -1]]]);
  });

  it('rejects values for another batch size instead of broadcasting them over the episodes', () => {
    // Without the check, tf.matMul broadcasts a batch of 1 over the 2 episodes and the write "succeeds".
    const memory = tf.zeros([2, 3, 2]) as tf.Tensor3D;
    const weights = tf.ones([2, 1, 3]) as tf.Tensor3D;
    expect(() => writeMemory(memory, weights, tf.ones([1, 1, 2]) as tf.Tensor3D)).toThrow(
      'writeMemory: values [1,1,2] do not match weights [2,1,3] and memory [2,3,2]: expected [2,1,2]',
    );
    expect(() => writeMemory(memory, weights, tf.ones([2, 2, 2]) as tf.Tensor3D)).toThrow(
      'writeMemory: values [2,2,2] do not match weights [2,1,3] and memory [2,3,2]: expected [2,1,2]',
    );
  });

  it('rejects tensors of the wrong rank, naming the argument', () => {
    const memory = tf.zeros([1, 3, 2]) as tf.Tensor3D;
    const weights = tf.zeros([1, 2, 3]) as tf.Tensor3D;
    const values = tf.zeros([1, 2, 2]) as tf.Tensor3D;
    expect(() => writeMemory(tf.zeros([3, 2]) as never, weights, values)).toThrow(
      'writeMemory: memory must be a rank-3 tensor [B, N, W], got shape [3,2] (rank 2)',
    );
    expect(() => writeMemory(memory, tf.zeros([2, 3]) as never, values)).toThrow(
      'writeMemory: weights must be a rank-3 tensor [B, H, N], got shape [2,3] (rank 2)',
    );
    expect(() => writeMemory(memory, weights, tf.zeros([2, 2]) as never)).toThrow(
      'writeMemory: values must be a rank-3 tensor [B, H, W], got shape [2,2] (rank 2)',
    );
  });

  it('rejects values of the wrong width or head count', () => {
    const memory = tf.zeros([1, 3, 2]) as tf.Tensor3D;
    const weights = tf.zeros([1, 2, 3]) as tf.Tensor3D;
    expect(() => writeMemory(memory, weights, tf.zeros([1, 2, 5]) as tf.Tensor3D)).toThrow(
      'writeMemory: values [1,2,5] do not match weights [1,2,3] and memory [1,3,2]: expected [1,2,2]',
    );
    expect(() => writeMemory(memory, tf.zeros([1, 2, 4]) as tf.Tensor3D, tf.zeros([1, 2, 2]) as tf.Tensor3D)).toThrow(
      'writeMemory: weights [1,2,4] do not match memory [1,3,2]: expected [1,H,3]',
    );
  });
});

describe('eraseMemory', () => {
  it('multiplies by prod_h (1 - w_h e_h^T)', () => {
    const memory = tf.tensor3d([[[2, 4], [6, 8]]]);
    const weights = tf.tensor3d([[[1, 0.5], [0, 1]]]); // w0 = [1, 0.5], w1 = [0, 1]
    const erase = tf.tensor3d([[[0.5, 1], [1, 0]]]); // e0 = [0.5, 1], e1 = [1, 0]
    // slot 0: (1 - 1*[0.5,1]) * (1 - 0*[1,0]) = [0.5, 0] * [1, 1] = [0.5, 0]  -> [2*0.5, 4*0] = [1, 0]
    // slot 1: (1 - 0.5*[0.5,1]) * (1 - 1*[1,0]) = [0.75, 0.5] * [0, 1] = [0, 0.5] -> [6*0, 8*0.5] = [0, 4]
    close(eraseMemory(memory, weights, erase), [[[1, 0], [0, 4]]]);
  });

  it('erases each episode with its own weights, with as many heads as slots', () => {
    const memory = tf.tensor3d([
      [[2, 4], [6, 8]],
      [[1, 1], [1, 1]],
    ]); // B=2, N=2, W=2
    const weights = tf.tensor3d([
      [[1, 0], [0, 1]], // episode 0: head h erases slot h only
      [[0.5, 0.5], [1, 0]],
    ]); // H=2=N
    const erase = tf.tensor3d([
      [[0.5, 0], [0, 0.25]],
      [[1, 0], [0.5, 0.5]],
    ]);
    // episode 0, slot 0: (1 - 1*[0.5,0]) * (1 - 0*[0,0.25]) = [0.5, 1]              -> [2*0.5, 4*1] = [1, 4]
    //            slot 1: (1 - 0*[0.5,0]) * (1 - 1*[0,0.25]) = [1, 0.75]             -> [6*1, 8*0.75] = [6, 6]
    // episode 1, slot 0: (1 - 0.5*[1,0]) * (1 - 1*[0.5,0.5]) = [0.5,1] * [0.5,0.5] = [0.25, 0.5] -> [0.25, 0.5]
    //            slot 1: (1 - 0.5*[1,0]) * (1 - 0*[0.5,0.5]) = [0.5, 1]             -> [0.5, 1]
    const erased = eraseMemory(memory, weights, erase);
    expect(erased.shape).toEqual([2, 2, 2]);
    close(erased, [[[1, 4], [6, 6]], [[0.25, 0.5], [0.5, 1]]]);
  });

  it('rejects erase vectors of the wrong shape', () => {
    expect(() =>
      eraseMemory(tf.zeros([1, 2, 2]) as tf.Tensor3D, tf.zeros([1, 2, 2]) as tf.Tensor3D, tf.zeros([1, 1, 2]) as tf.Tensor3D),
    ).toThrow('eraseMemory: erase [1,1,2] does not match weights [1,2,2] and memory [1,2,2]: expected [1,2,2]');
  });

  it('rejects erase vectors for another batch size or width instead of broadcasting or truncating them', () => {
    // Without these checks a batch-1 erase would be sliced for 2 episodes and a wider one silently cut to W.
    expect(() =>
      eraseMemory(tf.ones([2, 2, 2]) as tf.Tensor3D, tf.ones([2, 1, 2]) as tf.Tensor3D, tf.ones([1, 1, 2]) as tf.Tensor3D),
    ).toThrow('eraseMemory: erase [1,1,2] does not match weights [2,1,2] and memory [2,2,2]: expected [2,1,2]');
    expect(() =>
      eraseMemory(tf.ones([1, 2, 2]) as tf.Tensor3D, tf.ones([1, 1, 2]) as tf.Tensor3D, tf.ones([1, 1, 3]) as tf.Tensor3D),
    ).toThrow('eraseMemory: erase [1,1,3] does not match weights [1,1,2] and memory [1,2,2]: expected [1,1,2]');
  });

  it('rejects weights that do not fit the memory and tensors of the wrong rank, naming the argument', () => {
    const memory = tf.zeros([1, 2, 2]) as tf.Tensor3D;
    const weights = tf.zeros([1, 1, 2]) as tf.Tensor3D;
    const erase = tf.zeros([1, 1, 2]) as tf.Tensor3D;
    expect(() => eraseMemory(memory, tf.zeros([1, 1, 3]) as tf.Tensor3D, erase)).toThrow(
      'eraseMemory: weights [1,1,3] do not match memory [1,2,2]: expected [1,H,2]',
    );
    expect(() => eraseMemory(tf.zeros([2, 2]) as never, weights, erase)).toThrow(
      'eraseMemory: memory must be a rank-3 tensor [B, N, W], got shape [2,2] (rank 2)',
    );
    expect(() => eraseMemory(memory, tf.zeros([1, 2]) as never, erase)).toThrow(
      'eraseMemory: weights must be a rank-3 tensor [B, H, N], got shape [1,2] (rank 2)',
    );
    expect(() => eraseMemory(memory, weights, tf.zeros([1, 2]) as never)).toThrow(
      'eraseMemory: erase must be a rank-3 tensor [B, H, W], got shape [1,2] (rank 2)',
    );
  });
});

describe('clearSlots', () => {
  it('zeroes the masked rows of each episode', () => {
    const memory = tf.tensor3d([
      [[1, 2], [3, 4]],
      [[1, 2], [3, 4]],
    ]);
    const mask = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    // episode 0 clears slot 0, episode 1 clears slot 1; the other rows are multiplied by 1 - 0 = 1.
    close(clearSlots(memory, mask), [[[0, 0], [3, 4]], [[1, 2], [0, 0]]]);
  });

  it('scales a slot by 1 - mask for a mask between 0 and 1', () => {
    // slot 0: [2,4] * (1 - 0.25) = [1.5, 3]; slot 1: [6,8] * (1 - 1) = [0, 0]
    close(clearSlots(tf.tensor3d([[[2, 4], [6, 8]]]), tf.tensor2d([[0.25, 1]])), [[[1.5, 3], [0, 0]]]);
  });

  it('rejects a mask of the wrong size', () => {
    expect(() => clearSlots(tf.zeros([2, 3, 4]) as tf.Tensor3D, tf.zeros([2, 4]) as tf.Tensor2D)).toThrow(
      'clearSlots: mask [2,4] does not match memory [2,3,4]: expected [2,3]',
    );
  });

  it('rejects tensors of the wrong rank, naming the argument', () => {
    expect(() => clearSlots(tf.zeros([3, 4]) as never, tf.zeros([1, 3]) as tf.Tensor2D)).toThrow(
      'clearSlots: memory must be a rank-3 tensor [B, N, W], got shape [3,4] (rank 2)',
    );
    expect(() => clearSlots(tf.zeros([1, 3, 4]) as tf.Tensor3D, tf.zeros([3]) as never)).toThrow(
      'clearSlots: mask must be a rank-2 tensor [B, N], got shape [3] (rank 1)',
    );
  });
});

describe('updateUsage', () => {
  it('decays the old usage and adds read and write weights', () => {
    const usage = tf.tensor2d([[1, 2, 0]]);
    const reads = tf.tensor3d([[[0.5, 0.5, 0], [0, 0, 1]]]); // sum over R = [0.5, 0.5, 1]
    const writes = tf.tensor3d([[[0.2, 0, 0.8]]]); // sum over H = [0.2, 0, 0.8]
    // 0.5*[1,2,0] + [0.5,0.5,1] + [0.2,0,0.8] = [0.5+0.5+0.2, 1+0.5+0, 0+1+0.8] = [1.2, 1.5, 1.8]
    close(updateUsage(usage, 0.5, reads, writes), [[1.2, 1.5, 1.8]]);
  });

  it('takes decay 0 (forget the old usage) and 1 (keep all of it), per episode, summing over heads', () => {
    const usage = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]); // B=2, N=2
    const reads = tf.tensor3d([
      [[0.5, 0.5], [1, 0]], // sum over R: [1.5, 0.5]
      [[0, 1], [0, 1]], // sum over R: [0, 2]
    ]);
    const writes = tf.tensor3d([
      [[0, 1], [0.25, 0]], // sum over H: [0.25, 1]
      [[1, 0], [1, 0]], // sum over H: [2, 0]
    ]);
    // decay 0: episode 0 = [1.5+0.25, 0.5+1] = [1.75, 1.5]; episode 1 = [0+2, 2+0] = [2, 2]
    close(updateUsage(usage, 0, reads, writes), [[1.75, 1.5], [2, 2]]);
    // decay 1: episode 0 = [1+1.75, 2+1.5] = [2.75, 3.5]; episode 1 = [3+2, 4+2] = [5, 6]
    close(updateUsage(usage, 1, reads, writes), [[2.75, 3.5], [5, 6]]);
  });

  it('rejects a decay outside [0, 1] and mismatched weights', () => {
    const usage = tf.zeros([1, 3]) as tf.Tensor2D;
    const w = tf.zeros([1, 2, 3]) as tf.Tensor3D;
    expect(() => updateUsage(usage, 1.5, w, w)).toThrow('updateUsage: decay must be a number in [0, 1], got 1.5');
    expect(() => updateUsage(usage, -0.1, w, w)).toThrow('updateUsage: decay must be a number in [0, 1], got -0.1');
    expect(() => updateUsage(usage, NaN, w, w)).toThrow('updateUsage: decay must be a number in [0, 1], got NaN');
    // A numeric string would pass a bare range check (JavaScript compares '0.5' as 0.5).
    expect(() => updateUsage(usage, '0.5' as never, w, w)).toThrow('updateUsage: decay must be a number in [0, 1], got 0.5');
    expect(() => updateUsage(usage, 0.9, tf.zeros([1, 2, 4]) as tf.Tensor3D, w)).toThrow(
      'updateUsage: readWeights [1,2,4] do not match usage [1,3]: expected [1,R,3]',
    );
    expect(() => updateUsage(usage, 0.9, w, tf.zeros([1, 1, 4]) as tf.Tensor3D)).toThrow(
      'updateUsage: writeWeights [1,1,4] do not match usage [1,3]: expected [1,H,3]',
    );
  });

  it('rejects tensors of the wrong rank, naming the argument', () => {
    const usage = tf.zeros([1, 3]) as tf.Tensor2D;
    const w = tf.zeros([1, 2, 3]) as tf.Tensor3D;
    expect(() => updateUsage(tf.zeros([3]) as never, 0.9, w, w)).toThrow(
      'updateUsage: usage must be a rank-2 tensor [B, N], got shape [3] (rank 1)',
    );
    expect(() => updateUsage(usage, 0.9, tf.zeros([2, 3]) as never, w)).toThrow(
      'updateUsage: readWeights must be a rank-3 tensor [B, R, N], got shape [2,3] (rank 2)',
    );
    expect(() => updateUsage(usage, 0.9, w, tf.zeros([2, 3]) as never)).toThrow(
      'updateUsage: writeWeights must be a rank-3 tensor [B, H, N], got shape [2,3] (rank 2)',
    );
  });
});

describe('leaks', () => {
  it('no function leaves intermediate tensors behind', () => {
    const memory = randomTensor([2, 4, 3], 1) as tf.Tensor3D;
    const weights = randomTensor([2, 2, 4], 2, 0, 1) as tf.Tensor3D;
    const values = randomTensor([2, 2, 3], 3) as tf.Tensor3D;
    const before = tf.memory().numTensors;
    const outputs = [
      readMemory(memory, weights),
      writeMemory(memory, weights, values),
      eraseMemory(memory, weights, values),
      clearSlots(memory, tf.tidy(() => tf.sum(weights, 1)) as tf.Tensor2D),
      updateUsage(tf.tidy(() => tf.sum(weights, 1)) as tf.Tensor2D, 0.9, weights, weights),
    ];
    // Each call returns exactly one new tensor (the two tf.sum inputs above add two more).
    expect(tf.memory().numTensors - before).toBe(outputs.length + 2);
  });
});

import { describe, expect, it } from 'vitest';
import { LinearMemory } from './linear_memory';

describe('LinearMemory', () => {
  it('hands out aligned blocks first fit, grows when none fits, and reuses freed gaps', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const space = new LinearMemory(memory, 100); // heap base 100: blocks start at 112
    const a = space.allocate(10); // 16 bytes
    const b = space.allocate(40_000); // 40,000
    expect(a).toBe(112);
    expect(b).toBe(128);
    expect(space.bytesInUse()).toBe(16 + 40_000);
    const c = space.allocate(40_000); // past the first page: the memory grows
    expect(c).toBe(128 + 40_000);
    expect(memory.buffer.byteLength).toBe(2 * 65536);
    space.free(b);
    expect(space.allocate(30_000)).toBe(128); // the freed gap, first fit
    expect(space.allocate(20_000)).toBe(c + 40_000); // too big for what is left of the gap
    expect(space.allocate(0)).toBe(128 + 30_000); // at least one aligned unit, in the gap
    expect(() => space.free(12345)).toThrow('LinearMemory.free: no block at 12345.');
    expect(space.floats().length).toBe(memory.buffer.byteLength / 4);
    expect(space.byteLength()).toBe(memory.buffer.byteLength);
  });

  it('fits a block into a gap of exactly its size', () => {
    const space = new LinearMemory(new WebAssembly.Memory({ initial: 1 }), 0);
    space.allocate(16);
    const middle = space.allocate(100); // 112 bytes
    const last = space.allocate(16);
    space.free(middle);
    expect(space.allocate(112)).toBe(middle);
    expect(last).toBe(middle + 112);
  });
});

// Space in a WebAssembly module's linear memory for the matrices of its calls: first fit among the gaps between the
// blocks in use, growing the memory when none fits. Blocks are 16-byte aligned (v128 loads).

const ALIGN = 16;
const PAGE = 65536;

export class LinearMemory {
  private readonly blocks: Array<{ offset: number; bytes: number }> = []; // in use, by offset
  private readonly start: number;

  constructor(
    private readonly memory: WebAssembly.Memory,
    heapBase: number,
  ) {
    this.start = Math.ceil(heapBase / ALIGN) * ALIGN;
  }

  /** A block of at least `bytes` bytes; returns its byte address. */
  allocate(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    let offset = this.start;
    let at = 0;
    for (; at < this.blocks.length; at++) {
      if (this.blocks[at].offset - offset >= size) break;
      offset = this.blocks[at].offset + this.blocks[at].bytes;
    }
    const missing = offset + size - this.memory.buffer.byteLength;
    // Stryker disable next-line EqualityOperator: `>= 0` adds grow(0) when the block ends at the memory's end, a no-op
    if (missing > 0) this.memory.grow(Math.ceil(missing / PAGE));
    this.blocks.splice(at, 0, { offset, bytes: size });
    return offset;
  }

  /** Frees the block at `offset` (from `allocate`). */
  free(offset: number): void {
    const at = this.blocks.findIndex((block) => block.offset === offset);
    if (at < 0) throw new Error(`LinearMemory.free: no block at ${offset}.`);
    this.blocks.splice(at, 1);
  }

  /** Bytes in blocks now in use. */
  bytesInUse(): number {
    return this.blocks.reduce((sum, block) => sum + block.bytes, 0);
  }

  /** Bytes of the memory now (it only grows). */
  byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** A float32 view of the whole memory (made anew each time: growing the memory detaches earlier views). */
  floats(): Float32Array {
    return new Float32Array(this.memory.buffer);
  }
}

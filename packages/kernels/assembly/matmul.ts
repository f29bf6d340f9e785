// Matrix products in WebAssembly SIMD for the packages' fast paths: C = A x B on float32 row-major matrices in
// this module's linear memory. Built twice by scripts/wasm.mjs: RELAXED = 1 uses relaxed SIMD's fused
// multiply-add (f32x4.relaxed_madd, one instruction where the CPU has FMA), RELAXED = 0 plain SIMD (mul then add)
// for runtimes without relaxed SIMD. Both give the same sums up to rounding.

@inline function madd(acc: v128, a: v128, b: v128): v128 {
  // @ts-ignore: RELAXED is a compile-time constant given by `asc --use RELAXED=0|1` (a dead branch is not compiled)
  if (RELAXED) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

// Rows of A per block: the block of A (64 x k floats) stays in L2 cache while B streams through once per block.
const ROW_BLOCK = 64;

/**
 * B [k, n] row-major, rewritten as panels of 8 columns: panel q holds rows 0 .. k - 1 of columns 8q .. 8q + 7, each
 * row's 8 numbers side by side (the last panel padded with zeros). `multiply` reads B this way: one panel is k x 32
 * contiguous bytes, so the kernel streams it instead of touching k cache lines n * 4 bytes apart (which thrashes the
 * L1 cache once k is in the hundreds). dst needs packedFloats(k, n) * 4 bytes.
 */
export function pack(src: usize, dst: usize, k: i32, n: i32): void {
  const n8 = n & ~7;
  const rowCytes = <usize>n << 2;
  for (let j = 0; j < n8; j += 8) {
    let from = src + (<usize>j << 2);
    let to = dst + ((<usize>j * k) << 2);
    for (let p = 0; p < k; p++) {
      v128.store(to, v128.load(from));
      v128.store(to, v128.load(from, 16), 16);
      from += rowCytes;
      to += 32;
    }
  }
  if (n8 < n) {
    let to = dst + ((<usize>n8 * k) << 2);
    for (let p = 0; p < k; p++) {
      for (let q = 0; q < 8; q++) {
        const j = n8 + q;
        store<f32>(to + (<usize>q << 2), j < n ? load<f32>(src + ((<usize>p * n + j) << 2)) : 0);
      }
      to += 32;
    }
  }
}

/** Floats of B [k, n] packed by `pack`: k rows of every 8-column panel, the last one padded. */
export function packedFloats(k: i32, n: i32): i32 {
  return ((n + 7) & ~7) * k;
}

/**
 * C[m, n] = A x B (accumulate = 0) or C + A x B (accumulate = 1); B [k, n] packed by `pack`, C [m, n] row-major.
 * A's element (i, p) is at a + i * aRowBytes + p * aColBytes, so A can be read transposed: [m, k] row-major is
 * (k * 4, 4); the transpose of a [k, m] row-major matrix is (4, m * 4). All pointers are byte addresses.
 * Columns go 8 at a time (two f32x4), rows 4 at a time; the last n % 8 columns and m % 4 rows run narrower loops.
 */
export function multiply(a: usize, aRowBytes: usize, aColBytes: usize, b: usize, c: usize, m: i32, k: i32, n: i32, accumulate: i32): void {
  const rowC = <usize>n << 2;
  const n8 = n & ~7;
  for (let i0 = 0; i0 < m; i0 += ROW_BLOCK) {
    const iEnd = min(i0 + ROW_BLOCK, m);
    for (let j = 0; j < n8; j += 8) {
      let i = i0;
      for (; i + 4 <= iEnd; i += 4) {
        let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c10 = f32x4.splat(0), c11 = f32x4.splat(0);
        let c20 = f32x4.splat(0), c21 = f32x4.splat(0), c30 = f32x4.splat(0), c31 = f32x4.splat(0);
        let pa = a + <usize>i * aRowBytes;
        let pb = b + ((<usize>j * k) << 2);
        for (let p = 0; p < k; p++) {
          const b0 = v128.load(pb);
          const b1 = v128.load(pb, 16);
          const a0 = f32x4.splat(load<f32>(pa));
          const a1 = f32x4.splat(load<f32>(pa + aRowBytes));
          const a2 = f32x4.splat(load<f32>(pa + 2 * aRowBytes));
          const a3 = f32x4.splat(load<f32>(pa + 3 * aRowBytes));
          c00 = madd(c00, a0, b0);
          c01 = madd(c01, a0, b1);
          c10 = madd(c10, a1, b0);
          c11 = madd(c11, a1, b1);
          c20 = madd(c20, a2, b0);
          c21 = madd(c21, a2, b1);
          c30 = madd(c30, a3, b0);
          c31 = madd(c31, a3, b1);
          pa += aColBytes;
          pb += 32;
        }
        const pc = c + ((<usize>i * n + j) << 2);
        if (accumulate) {
          c00 = f32x4.add(c00, v128.load(pc));
          c01 = f32x4.add(c01, v128.load(pc, 16));
          c10 = f32x4.add(c10, v128.load(pc + rowC));
          c11 = f32x4.add(c11, v128.load(pc + rowC, 16));
          c20 = f32x4.add(c20, v128.load(pc + 2 * rowC));
          c21 = f32x4.add(c21, v128.load(pc + 2 * rowC, 16));
          c30 = f32x4.add(c30, v128.load(pc + 3 * rowC));
          c31 = f32x4.add(c31, v128.load(pc + 3 * rowC, 16));
        }
        v128.store(pc, c00);
        v128.store(pc, c01, 16);
        v128.store(pc + rowC, c10);
        v128.store(pc + rowC, c11, 16);
        v128.store(pc + 2 * rowC, c20);
        v128.store(pc + 2 * rowC, c21, 16);
        v128.store(pc + 3 * rowC, c30);
        v128.store(pc + 3 * rowC, c31, 16);
      }
      for (; i < iEnd; i++) {
        let c0 = f32x4.splat(0), c1 = f32x4.splat(0);
        let pa = a + <usize>i * aRowBytes;
        let pb = b + ((<usize>j * k) << 2);
        for (let p = 0; p < k; p++) {
          const a0 = f32x4.splat(load<f32>(pa));
          c0 = madd(c0, a0, v128.load(pb));
          c1 = madd(c1, a0, v128.load(pb, 16));
          pa += aColBytes;
          pb += 32;
        }
        const pc = c + ((<usize>i * n + j) << 2);
        if (accumulate) {
          c0 = f32x4.add(c0, v128.load(pc));
          c1 = f32x4.add(c1, v128.load(pc, 16));
        }
        v128.store(pc, c0);
        v128.store(pc, c1, 16);
      }
    }
    for (let j = n8; j < n; j++) {
      for (let i = i0; i < iEnd; i++) {
        let sum: f32 = 0;
        let pa = a + <usize>i * aRowBytes;
        // Column j of the last, padded panel.
        let pb = b + ((<usize>n8 * k + j - n8) << 2);
        for (let p = 0; p < k; p++) {
          sum += load<f32>(pa) * load<f32>(pb);
          pa += aColBytes;
          pb += 32;
        }
        const pc = c + ((<usize>i * n + j) << 2);
        store<f32>(pc, accumulate ? load<f32>(pc) + sum : sum);
      }
    }
  }
}

/**
 * dst [cols, rows] = the transpose of src [rows, cols] (row-major, byte addresses; the two must not overlap), in
 * blocks of 16 x 16 so that both sides stay in cache.
 */
export function transpose(src: usize, dst: usize, rows: i32, cols: i32): void {
  for (let i0 = 0; i0 < rows; i0 += 16) {
    const iEnd = min(i0 + 16, rows);
    for (let j0 = 0; j0 < cols; j0 += 16) {
      const jEnd = min(j0 + 16, cols);
      for (let i = i0; i < iEnd; i++) {
        for (let j = j0; j < jEnd; j++) {
          store<f32>(dst + ((<usize>j * rows + i) << 2), load<f32>(src + ((<usize>i * cols + j) << 2)));
        }
      }
    }
  }
}

/** The first byte after the module's static data: where the caller may place its matrices. */
export function heapBase(): usize {
  return __heap_base;
}

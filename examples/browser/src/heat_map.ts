/** A colour for a value in [0, 1]: a perceptually ordered ramp from near-black through purple to yellow. */
function sequential(v: number): [number, number, number] {
  // Five stops of the "magma"-like ramp, linearly interpolated.
  const stops: [number, number, number][] = [
    [8, 6, 30],
    [80, 18, 123],
    [183, 55, 121],
    [251, 136, 97],
    [252, 253, 191],
  ];
  const x = Math.max(0, Math.min(1, v)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  const f = x - i;
  const [a, b] = [stops[i], stops[i + 1]];
  return [a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2])];
}

/** Blue for negative, white for zero, red for positive; v in [-1, 1]. */
function diverging(v: number): [number, number, number] {
  const x = Math.max(-1, Math.min(1, v));
  return x >= 0 ? [255, 255 * (1 - x), 255 * (1 - x)] : [255 * (1 + x), 255 * (1 + x), 255];
}

export interface HeatMapOptions {
  /** 'sequential' for weights and usage (>= 0), 'diverging' for memory contents. */
  scale: 'sequential' | 'diverging';
  /** The value drawn at full colour; default the largest absolute value (so faint weightings stay visible). */
  maximum?: number;
}

/**
 * Draws a [rows, columns] row-major matrix on a canvas, one canvas pixel per cell (CSS scales it up with
 * `image-rendering: pixelated`). Returns the maximum it scaled by, for the legend.
 *
 * ```ts
 * drawHeatMap(canvas, usage, 1, 128, { scale: 'sequential' });
 * ```
 */
export function drawHeatMap(canvas: HTMLCanvasElement, values: ArrayLike<number>, rows: number, columns: number, options: HeatMapOptions): number {
  if (values.length !== rows * columns) {
    throw new Error(`drawHeatMap: ${values.length} values do not make a [${rows}, ${columns}] matrix.`);
  }
  if (canvas.width !== columns || canvas.height !== rows) {
    canvas.width = columns;
    canvas.height = rows;
  }
  let maximum = options.maximum ?? 0;
  if (options.maximum === undefined) for (let i = 0; i < values.length; i++) maximum = Math.max(maximum, Math.abs(values[i]));
  const scale = maximum > 0 ? 1 / maximum : 0;
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(columns, rows);
  const colour = options.scale === 'sequential' ? sequential : diverging;
  for (let i = 0; i < values.length; i++) {
    const [r, g, b] = colour(values[i] * scale);
    image.data[4 * i] = r;
    image.data[4 * i + 1] = g;
    image.data[4 * i + 2] = b;
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
  return maximum;
}

/** Transposes a [rows, columns] row-major matrix (memory [N, W] -> [W, N], so slots line up with the weights). */
export function transpose(values: ArrayLike<number>, rows: number, columns: number): Float32Array {
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = values[r * columns + c];
  return out;
}

/** Draws a 20x20 (or any square) ink image, ink = 1 dark on white paper. */
export function drawInk(canvas: HTMLCanvasElement, ink: ArrayLike<number>): void {
  const side = Math.round(Math.sqrt(ink.length));
  if (canvas.width !== side || canvas.height !== side) {
    canvas.width = side;
    canvas.height = side;
  }
  const context = canvas.getContext('2d')!;
  const image = context.createImageData(side, side);
  for (let i = 0; i < ink.length; i++) {
    const shade = 255 * (1 - Math.max(0, Math.min(1, ink[i])));
    image.data[4 * i] = shade;
    image.data[4 * i + 1] = shade;
    image.data[4 * i + 2] = shade;
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

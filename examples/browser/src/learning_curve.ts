// The Train mode's learning curve: accuracy by instance against batches, from the periodic evaluations on the
// validation characters (never trained on). Pure geometry and bookkeeping; train_mode.ts draws it as SVG.

/** One evaluation: accuracy (0..1) at each instance 1..shots over the same episodes, after `step` batches. */
export interface CurvePoint {
  step: number;
  /** accuracy[k - 1]: the k-th instance (NaN where an episode has no k-th instance). */
  accuracy: number[];
  /** Episodes it was measured on. */
  episodes: number;
}

/** The instances the curve draws, with their colours (the 1st grey: it is a guess; the 2nd the one to watch). */
export const CURVE_INSTANCES: readonly { instance: number; colour: string }[] = [
  { instance: 1, colour: '#8a8a8a' },
  { instance: 2, colour: '#d0453a' },
  { instance: 5, colour: '#3b6fd8' },
  { instance: 10, colour: '#2e9d4f' },
];

/** The plot's size and margins, in SVG user units. */
export interface CurveFrame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const DEFAULT_FRAME: CurveFrame = { width: 640, height: 260, left: 44, right: 24, top: 10, bottom: 34 };

/** A round number of batches at least `steps` for the x axis: 100, 200, 500, 1000, 2000, 5000... */
export function axisEnd(steps: number): number {
  for (let scale = 100; ; scale *= 10) for (const m of [1, 2, 5]) if (m * scale >= steps) return m * scale;
}

/** The x-axis ticks for an axis ending at `end` (from {@link axisEnd}): 0 and 4 or 5 round steps. */
export function axisTicks(end: number): number[] {
  const leading = end / 10 ** Math.floor(Math.log10(end));
  const step = end / (Math.round(leading) === 2 ? 4 : 5);
  return Array.from({ length: Math.round(end / step) + 1 }, (_, i) => i * step);
}

/** `points` attribute of an SVG polyline for `instance` (points where that accuracy is NaN are skipped). */
export function polylinePoints(points: readonly CurvePoint[], instance: number, frame: CurveFrame = DEFAULT_FRAME): string {
  const end = axisEnd(points.length ? points[points.length - 1].step : 0);
  const plotWidth = frame.width - frame.left - frame.right;
  const plotHeight = frame.height - frame.top - frame.bottom;
  return points
    .filter((p) => !Number.isNaN(p.accuracy[instance - 1]))
    .map((p) => {
      const x = frame.left + (plotWidth * p.step) / end;
      const y = frame.top + plotHeight * (1 - p.accuracy[instance - 1]);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

/** How far the 2nd instance must be above the 1st to count as passing it: 3 points (96 episodes' noise is ~3). */
export const PASS_MARGIN = 0.03;

/**
 * The first evaluation at which the 2nd instance is more accurate than the 1st by more than `margin` and at least
 * `floor` (default 30%, 10 points above chance with 5 classes): the model recalls what it wrote one sight earlier.
 * The floor keeps noise at chance, where both instances sit before training, from counting. Null while it has not.
 */
export function secondPassesFirst(points: readonly CurvePoint[], { margin = PASS_MARGIN, floor = 0.3 }: { margin?: number; floor?: number } = {}): CurvePoint | null {
  return points.find((p) => p.accuracy[1] - p.accuracy[0] > margin && p.accuracy[1] >= floor) ?? null;
}

/** `97%`-style text of an accuracy, '–' for NaN. */
export function percent(accuracy: number): string {
  return Number.isNaN(accuracy) ? '–' : `${(100 * accuracy).toFixed(0)}%`;
}

/** One line for screen readers and the e2e test: the latest evaluation, instance by instance. */
export function describePoint(point: CurvePoint): string {
  const parts = CURVE_INSTANCES.map(({ instance }) => `${ordinal(instance)} ${percent(point.accuracy[instance - 1])}`);
  return `After ${point.step.toLocaleString('en')} batches, on ${point.episodes} episodes of characters it never trained on: ${parts.join(', ')}.`;
}

export function ordinal(k: number): string {
  const suffix = k % 10 === 1 && k % 100 !== 11 ? 'st' : k % 10 === 2 && k % 100 !== 12 ? 'nd' : k % 10 === 3 && k % 100 !== 13 ? 'rd' : 'th';
  return `${k}${suffix}`;
}

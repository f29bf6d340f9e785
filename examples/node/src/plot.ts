import { readFile, writeFile } from 'node:fs/promises';
import { UsageError, parse } from './args';

export const PLOT_HELP = `mann plot --metrics FILE [--out FILE.svg] [--title TEXT]: learning curves as an SVG image

  --metrics FILE    a run's metrics.jsonl (written by mann train)
  --out FILE        where to write the SVG (beside the metrics: learning-curve.svg)
  --title TEXT      a title for the figure`;

interface MetricRecord {
  kind: 'train' | 'eval';
  step: number;
  episodes: number;
  loss: number;
  accuracy: Record<string, number>;
  /** Of an eval record: 'validation' or 'test' (absent in runs from before the validation split: test). */
  set?: string;
}

const LEGEND_Y = 412;
const INSTANCE_COLOURS: Record<string, string> = { '1': '#9e9e9e', '2': '#d62728', '3': '#ff7f0e', '5': '#2ca02c', '10': '#1f77b4' };

/**
 * Parses metrics.jsonl, naming the line of any record that is not JSON. A last line without its newline that does
 * not parse is a record cut short (a run killed while writing it, or a full disk): it is skipped, and `onSkip` told.
 */
export function parseMetrics(text: string, file = 'metrics', onSkip: (message: string) => void = () => {}): MetricRecord[] {
  const lines = text.split('\n');
  return lines
    .map((line, i) => ({ line, i }))
    .filter(({ line }) => line.trim() !== '')
    .flatMap(({ line, i }) => {
      try {
        return [JSON.parse(line) as MetricRecord];
      } catch {
        if (i === lines.length - 1) {
          onSkip(`${file}:${i + 1} is a record cut short (no newline, not JSON); skipped it.`);
          return [];
        }
        throw new UsageError(`${file}:${i + 1} is not a JSON record; was the file cut short? Remove that line and plot again.`);
      }
    });
}

/** Round ticks from 0 whose last one is at or above `max`, so that every point falls inside the axis. */
export function niceTicks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks = [0];
  while (ticks[ticks.length - 1] < max - 1e-9 * step) ticks.push(Number((ticks.length * step).toPrecision(12)));
  return ticks;
}

function formatEpisodes(n: number): string {
  return n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : `${n}`;
}

/** Renders two panels: accuracy by instance (training batches as thin lines, evaluations as dots) and loss. */
export function learningCurveSvg(records: MetricRecord[], title = 'MANN learning curves'): string {
  const train = averageRuns(records.filter((r) => r.kind === 'train'), MAX_LINE_POINTS);
  const evals = records.filter((r) => r.kind === 'eval');
  if (train.length === 0) throw new UsageError('No training records to plot: the metrics file has no "kind": "train" line yet.');
  const width = 960;
  const height = 430;
  const panel = { top: 50, bottom: 340, left: [70, 560], width: 360 };
  const maxEpisodes = Math.max(...records.map((r) => r.episodes));
  const xTicks = niceTicks(maxEpisodes);
  const xMax = xTicks[xTicks.length - 1] || 1;
  const losses = train.map((r) => r.loss).filter(Number.isFinite);
  const yLossTicks = niceTicks(Math.max(...losses, 0.1));
  const lossMax = yLossTicks[yLossTicks.length - 1];
  const x = (p: number, episodes: number) => panel.left[p] + (episodes / xMax) * panel.width;
  const yAcc = (a: number) => panel.bottom - a * (panel.bottom - panel.top);
  const yLoss = (l: number) => panel.bottom - (l / lossMax) * (panel.bottom - panel.top);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="16">${escapeXml(title)}</text>`);
  const axes = (p: number, yTicks: number[], yOf: (v: number) => number, yLabel: string, format: (v: number) => string) => {
    const left = panel.left[p];
    for (const t of yTicks) {
      parts.push(`<line x1="${left}" x2="${left + panel.width}" y1="${yOf(t)}" y2="${yOf(t)}" stroke="#eee"/>`);
      parts.push(`<text x="${left - 6}" y="${yOf(t) + 4}" text-anchor="end">${format(t)}</text>`);
    }
    for (const t of xTicks) parts.push(`<text x="${x(p, t)}" y="${panel.bottom + 18}" text-anchor="middle">${formatEpisodes(t)}</text>`);
    parts.push(`<rect x="${left}" y="${panel.top}" width="${panel.width}" height="${panel.bottom - panel.top}" fill="none" stroke="#333"/>`);
    parts.push(`<text x="${left + panel.width / 2}" y="${panel.bottom + 38}" text-anchor="middle">training episodes</text>`);
    parts.push(`<text transform="translate(${left - 48} ${(panel.top + panel.bottom) / 2}) rotate(-90)" text-anchor="middle">${yLabel}</text>`);
  };
  axes(0, [0, 0.2, 0.4, 0.6, 0.8, 1], yAcc, 'accuracy by instance', (v) => `${Math.round(v * 100)}%`);
  axes(1, yLossTicks, yLoss, 'training loss (cross-entropy)', (v) => v.toFixed(2));
  // Smaller dots when there are many evaluations, so that they stay apart.
  const dotRadius = evals.length > 60 ? 2 : 3.5;
  const instances = Object.keys(INSTANCE_COLOURS).filter((k) => train.some((r) => r.accuracy[k] !== undefined && r.accuracy[k] !== null));
  instances.forEach((k, i) => {
    const points = train.filter((r) => Number.isFinite(r.accuracy[k])).map((r) => `${x(0, r.episodes).toFixed(1)},${yAcc(r.accuracy[k]).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${INSTANCE_COLOURS[k]}" stroke-width="1.5" stroke-opacity="0.8" points="${points.join(' ')}"/>`);
    for (const r of evals) {
      if (Number.isFinite(r.accuracy[k])) parts.push(`<circle cx="${x(0, r.episodes).toFixed(1)}" cy="${yAcc(r.accuracy[k]).toFixed(1)}" r="${dotRadius}" fill="${INSTANCE_COLOURS[k]}" stroke="black" stroke-width="0.7"/>`);
    }
    // The legend runs in one row under the panels, where it hides no data.
    const lx = panel.left[0] + i * 110;
    parts.push(`<line x1="${lx}" x2="${lx + 20}" y1="${LEGEND_Y}" y2="${LEGEND_Y}" stroke="${INSTANCE_COLOURS[k]}" stroke-width="2"/>`);
    parts.push(`<text x="${lx + 26}" y="${LEGEND_Y + 4}">${ordinal(Number(k))} instance</text>`);
  });
  const lx = panel.left[0] + instances.length * 110;
  // Evaluations score the validation characters in runs that set some aside, the held-out ones before that.
  const evaluated = evals.length === 0 ? '' : evals.every((r) => r.set === 'validation') ? '; dots: validation classes' : evals.some((r) => r.set === 'validation') ? '; dots: validation and held-out classes' : '; dots: held-out classes';
  parts.push(`<text x="${lx}" y="${LEGEND_Y + 4}">lines: training batches${evaluated}</text>`);
  const lossPoints = train.filter((r) => Number.isFinite(r.loss)).map((r) => `${x(1, r.episodes).toFixed(1)},${yLoss(r.loss).toFixed(1)}`);
  parts.push(`<polyline fill="none" stroke="#333" stroke-width="1.5" points="${lossPoints.join(' ')}"/>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** More points than a 360-pixel panel can show only make the file larger. */
const MAX_LINE_POINTS = 400;

/**
 * At most `limit` records: runs of consecutive records averaged (loss and each instance's accuracy), each placed
 * at its last record's step. A long run's log (100,000 batches, thousands of records) stays a small image.
 */
export function averageRuns(records: MetricRecord[], limit: number): MetricRecord[] {
  if (records.length <= limit) return records;
  const size = Math.ceil(records.length / limit);
  const mean = (values: number[]) => {
    const finite = values.filter(Number.isFinite);
    return finite.length > 0 ? finite.reduce((a, b) => a + b, 0) / finite.length : NaN;
  };
  const averaged: MetricRecord[] = [];
  for (let start = 0; start < records.length; start += size) {
    const run = records.slice(start, start + size);
    const accuracy: Record<string, number> = {};
    for (const k of Object.keys(run[0].accuracy)) accuracy[k] = mean(run.map((r) => r.accuracy[k]));
    const last = run[run.length - 1];
    averaged.push({ kind: last.kind, step: last.step, episodes: last.episodes, loss: mean(run.map((r) => r.loss)), accuracy });
  }
  return averaged;
}

function ordinal(n: number): string {
  return n === 1 ? '1st' : n === 2 ? '2nd' : n === 3 ? '3rd' : `${n}th`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}

export async function plot(argv: string[]): Promise<void> {
  const { values } = parse('plot', argv, { metrics: { type: 'string' }, out: { type: 'string' }, title: { type: 'string' } });
  if (values.help) {
    console.log(PLOT_HELP);
    return;
  }
  if (!values.metrics) throw new UsageError('mann plot needs --metrics FILE (a run\'s metrics.jsonl). See `mann plot --help`.');
  const text = await readFile(values.metrics, 'utf8').catch((error: Error) => {
    throw new UsageError(`Cannot read ${values.metrics}: ${error.message}`);
  });
  const svg = learningCurveSvg(parseMetrics(text, values.metrics, (message) => console.error(message)), values.title);
  const out = values.out ?? values.metrics.replace(/[^/\\]*$/, 'learning-curve.svg');
  await writeFile(out, svg);
  console.error(`Wrote ${out}`);
}

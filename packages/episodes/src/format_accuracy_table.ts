import type { InstanceAccuracySummary } from './instance_accuracy';

/** '1st', '2nd', '3rd', '4th', ..., '11th', '12th', '13th', '21st'. */
export function ordinal(n: number): string {
  const lastTwo = n % 100;
  const last = n % 10;
  const suffix = lastTwo >= 11 && lastTwo <= 13 ? 'th' : last === 1 ? 'st' : last === 2 ? 'nd' : last === 3 ? 'rd' : 'th';
  return `${n}${suffix}`;
}

/**
 * A plain-text table of accuracy by instance like the paper's Table 1: a header of instances (1st 2nd ...
 * 10th) over accuracy in percent with the 95% interval. Instances no episode reached show '-', intervals
 * of a single episode are left out.
 *
 * ```ts
 * formatAccuracyTable(accuracy.summary(), { label: 'MANN' });
 * // instance  1st          2nd          ...
 * // MANN      36.4 ± 2.1   82.8 ± 1.0   ...
 * ```
 */
export function formatAccuracyTable(
  summary: readonly InstanceAccuracySummary[],
  { label = 'accuracy %' }: { label?: string } = {},
): string {
  const header = ['instance', ...summary.map(({ instance }) => ordinal(instance))];
  const row = [
    label,
    ...summary.map(({ accuracy, interval }) => {
      if (Number.isNaN(accuracy)) return '-';
      const percent = (100 * accuracy).toFixed(1);
      return Number.isNaN(interval) ? percent : `${percent} ± ${(100 * interval).toFixed(1)}`;
    }),
  ];
  const widths = header.map((cell, column) => Math.max(cell.length, row[column].length));
  const line = (cells: string[]): string => cells.map((cell, column) => cell.padEnd(widths[column])).join('  ').trimEnd();
  return `${line(header)}\n${line(row)}`;
}

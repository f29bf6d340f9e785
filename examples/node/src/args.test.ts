import { describe, expect, it } from 'vitest';
import { Interrupted, UsageError, number, parse, reportError } from './args';

describe('reportError: one line for the user\'s mistakes, a stack for bugs', () => {
  const report = (error: unknown) => {
    const printed: string[] = [];
    return { code: reportError(error, (text) => printed.push(text)), printed };
  };

  it('prints a UsageError as one line, exit 1', () => {
    expect(report(new UsageError('--lr must be a positive number, got \'0\'.'))).toEqual({ code: 1, printed: ["mann: --lr must be a positive number, got '0'."] });
  });

  it('prints any other error with its stack, as a bug, exit 2, even when its message names a checkpoint', () => {
    const { code, printed } = report(new TypeError("Cannot read properties of undefined (reading 'checkpoint')"));
    expect(code).toBe(2);
    expect(printed[0]).toMatch(/internal error \(a bug in mann/);
    expect(printed[1]).toMatch(/^TypeError: Cannot read properties[\s\S]*\n\s+at /);
  });

  it('exits 130 / 143 for a run interrupted by SIGINT / SIGTERM, printing nothing more', () => {
    expect(report(new Interrupted('SIGINT'))).toEqual({ code: 130, printed: [] });
    expect(report(new Interrupted('SIGTERM'))).toEqual({ code: 143, printed: [] });
  });
});

describe('option values', () => {
  it('reads a negative value as the option\'s value, for its own check to refuse', () => {
    const { values } = parse('train', ['--lr', '-1', '--steps', '-.5'], { lr: { type: 'string' }, steps: { type: 'string' } });
    expect(values).toMatchObject({ lr: '-1', steps: '-.5' });
    expect(() => number('lr', values.lr as string, 1, { positive: true })).toThrow("--lr must be a positive number, got '-1'.");
  });
});

import { parseArgs, type ParseArgsConfig } from 'node:util';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

/**
 * A mistake of the user's (a bad option, a missing or damaged file, a refused request): `mann` prints its message
 * alone on one line and exits 1. Any other error is a bug: printed with its stack, exit 2.
 */
export class UsageError extends Error {}

/** A run stopped by SIGINT or SIGTERM after saving its checkpoint: `mann` exits 128 + the signal's number. */
export class Interrupted extends Error {
  constructor(readonly signal: 'SIGINT' | 'SIGTERM') {
    super(`interrupted by ${signal}`);
  }

  get exitCode(): number {
    return this.signal === 'SIGINT' ? 130 : 143;
  }
}

/**
 * Node's parseArgs takes `--lr -1` for an option without its value followed by an option `-1` ("argument is
 * ambiguous"); a value that reads as a negative number is the option's value, so it is joined as `--lr=-1` and the
 * option's own check then says what is wrong with it.
 */
function joinNegativeValues(argv: string[], options: OptionSpec): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = argv[i + 1];
    const name = arg.startsWith('--') && !arg.includes('=') ? arg.slice(2) : undefined;
    if (name && options[name]?.type === 'string' && next !== undefined && /^-(\d|\.\d|Infinity)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

/** Parses `argv` against `options`, turning node's terse errors into one line that points at --help. */
export function parse<T extends OptionSpec>(command: string, argv: string[], options: T) {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: false, strict: true });
  } catch (error) {
    throw new UsageError(`mann ${command}: ${(error as Error).message}. See \`mann ${command} --help\`.`);
  }
}

export function integer(name: string, value: string | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, got '${value}'.`);
  return n;
}

/**
 * A number option. `min`/`max` bound it (inclusive); `positive` requires it above 0. The message says the range.
 */
export function number(name: string, value: string | undefined, fallback: number, range: { min?: number; max?: number; positive?: boolean } = {}): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  const { min, max, positive } = range;
  const ok = value.trim() !== '' && Number.isFinite(n) && (!positive || n > 0) && (min === undefined || n >= min) && (max === undefined || n <= max);
  if (!ok) {
    const what = positive
      ? 'a positive number'
      : min !== undefined && max !== undefined
        ? `a number from ${min} to ${max}`
        : min !== undefined
          ? `a number >= ${min}`
          : max !== undefined
            ? `a number <= ${max}`
            : 'a number';
    throw new UsageError(`--${name} must be ${what}, got '${value}'.`);
  }
  return n;
}

export function choice<T extends string>(name: string, value: string | undefined, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value as T)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${value}'.`);
  return value as T;
}

/**
 * Runs `work`, turning the errors that the packages throw about the user's files (a checkpoint folder that is
 * missing or damaged, the Omniglot zips) into UsageErrors: their messages already name the file and the fix.
 */
export async function userFiles<T>(work: () => Promise<T>, pattern: RegExp): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error && !(error instanceof UsageError) && pattern.test(error.message)) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

/** The messages of @mann/model's checkpoint errors (node.ts and checkpoint.ts name the folder first). */
export const CHECKPOINT_ERRORS = /^(Checkpoint |Cannot read the checkpoint )/;

/**
 * What `mann` prints for an error, and its exit code: an interrupted run (already reported) 130 or 143; the user's
 * mistake (UsageError) one line, 1; anything else is a bug in mann: its stack, 2.
 */
export function reportError(error: unknown, print: (text: string) => void): number {
  if (error instanceof Interrupted) return error.exitCode;
  if (error instanceof UsageError) {
    print(`mann: ${error.message}`);
    return 1;
  }
  print('mann: internal error (a bug in mann; please report it with the text below):');
  print(error instanceof Error ? (error.stack ?? String(error)) : String(error));
  return 2;
}

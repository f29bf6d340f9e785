// The guarantees of a run folder (runs/<run>): it holds one run, one process at a time trains into it, and what a
// killed process leaves behind (temp files of a checkpoint write, a half-written metrics line) is cleaned on start.
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, readdir, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { UsageError } from './args';

export const LOCK_FILE = '.lock';

/** Whether `dir` already holds a run: a checkpoint folder or a metrics log. */
export function holdsRun(dir: string): boolean {
  return existsSync(join(dir, 'checkpoint')) || existsSync(join(dir, 'metrics.jsonl'));
}

/** Removes the files of the run in `dir` (its checkpoint, metrics and plot), keeping anything else. */
export async function removeRun(dir: string): Promise<void> {
  for (const name of ['checkpoint', 'metrics.jsonl', 'learning-curve.svg']) await rm(join(dir, name), { recursive: true, force: true });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Takes the lock on the run folder `dir` (created atomically, holding this process's pid) and releases it when
 * the process exits, however it exits (an uncaught signal excepted: that lock is then stale, and the next run takes
 * it over, saying so). A lock held by a live process is refused. Returns the release function.
 */
export async function lockRunFolder(dir: string, log: (message: string) => void): Promise<() => void> {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; ; attempt++) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= 2) throw error;
    }
    let text = '';
    try {
      text = await readFile(path, 'utf8');
    } catch {
      continue; // released meanwhile: try again
    }
    const pid = Number(text.trim());
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) {
      throw new UsageError(
        `${dir} is in use by process ${pid} (its lock file ${path}); wait for that run to finish or stop it. ` +
          `If no mann train is running there, delete ${path}.`,
      );
    }
    log(`Found a stale lock on ${dir} (process ${Number.isInteger(pid) && pid > 0 ? `${pid} is not running` : 'unknown'}): taking it over.`);
    await rm(path, { force: true });
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    try {
      if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  process.on('exit', release);
  return release;
}

/** The temp files of @mann/model's saveCheckpoint (`writeAtomically`: `<file>.<12 hex>.tmp`). */
const CHECKPOINT_TEMPORARY = /^(manifest\.json|weights-.*\.bin)\.[0-9a-f]{12}\.tmp$/;

/** Removes the temp files a killed checkpoint write left in `checkpointDir`; returns how many. */
export async function removeCheckpointTemporaries(checkpointDir: string): Promise<number> {
  let names: string[];
  try {
    names = await readdir(checkpointDir);
  } catch {
    return 0;
  }
  const stale = names.filter((name) => CHECKPOINT_TEMPORARY.test(name));
  for (const name of stale) await rm(join(checkpointDir, name), { force: true });
  return stale.length;
}

/**
 * Makes a resumed run's metrics.jsonl end where its checkpoint does: cuts a half-written last line (a process
 * killed while appending, or a full disk), and the records of batches after `step` (trained after the last
 * checkpoint and lost with the process; the resumed run trains and logs them again). Returns what it did.
 */
export async function repairMetrics(path: string, step: number): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return [];
  }
  const said: string[] = [];
  let end = Buffer.byteLength(text);
  if (text.length > 0 && !text.endsWith('\n')) {
    const cut = text.lastIndexOf('\n') + 1;
    text = text.slice(0, cut);
    end = Buffer.byteLength(text);
    said.push(`${path} ended in a half-written line (a run stopped while writing it); removed it.`);
  }
  let offset = 0;
  let removed = 0;
  let keepUntil: number | undefined;
  for (const line of text.split('\n').slice(0, -1)) {
    let record: { step?: unknown } | undefined;
    try {
      record = JSON.parse(line);
    } catch {
      record = undefined;
    }
    if (keepUntil === undefined && typeof record?.step === 'number' && record.step > step) keepUntil = offset;
    if (keepUntil !== undefined) removed++;
    offset += Buffer.byteLength(line) + 1;
  }
  if (keepUntil !== undefined) {
    end = keepUntil;
    said.push(`${path}: removed ${removed} record${removed === 1 ? '' : 's'} after step ${step} (the checkpoint's), which this run trains again.`);
  }
  if (said.length > 0) await truncate(path, end);
  return said;
}

// A one-line progress display for long work: redrawn in place on a terminal, printed as plain lines (at most
// every few seconds) when the output is a file or a CI log.
export class Progress {
  private lastPrint = 0;
  private readonly tty: boolean;
  private readonly started = Date.now();

  /**
   * @param total the step the work ends at
   * @param start the step it starts from (a resumed run's), so the time left is estimated from this run's pace
   */
  constructor(
    private readonly total: number,
    private readonly start = 0,
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly everyMs = 5000,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(done: number, detail: string): void {
    const now = Date.now();
    if (!this.tty && now - this.lastPrint < this.everyMs && done < this.total) return;
    this.lastPrint = now;
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
    const elapsed = (now - this.started) / 1000;
    // The pace of this run only: a resumed run has done `start` steps before it began.
    const doneHere = done - this.start;
    const eta = doneHere > 0 ? (elapsed / doneHere) * (this.total - done) : NaN;
    const line = `${bar} ${done}/${this.total} ${formatDuration(elapsed)} elapsed, ${Number.isFinite(eta) ? formatDuration(eta) : '?'} left  ${detail}`;
    if (this.tty) this.stream.write(`\r\x1b[2K${line.slice(0, (this.stream.columns ?? 160) - 1)}`);
    else this.stream.write(`${line}\n`);
  }

  /** Ends the line on a terminal, so the next output starts fresh. */
  done(): void {
    if (this.tty) this.stream.write('\n');
  }
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(seconds / 3600)}h${String(Math.floor((seconds % 3600) / 60)).padStart(2, '0')}m`;
}

/** A small progress bar on stderr (redrawn in place on a TTY, a line per 10 % otherwise). */

/** A progress reporter. */
export interface Progress {
  /** Sets the completed fraction of the current task (0..1). */
  update(done: number, total: number): void;
  /** Finishes the bar with a final message. */
  done(msg?: string): void;
}

/** A reporter that prints nothing (tests). */
export const silentProgress: Progress = { update: () => {}, done: () => {} };

/** Creates a progress bar labelled `label` writing to `stream` (default process.stderr). */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = Boolean(stream.isTTY);
  let lastPct = -1;
  let lastDraw = 0;
  const draw = (frac: number): void => {
    const pct = Math.floor(frac * 100);
    const width = 30;
    const fill = Math.round(frac * width);
    const bar = `${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(pct).padStart(3)}%`;
    if (tty) stream.write(`\r${bar}`);
    else if (Math.floor(pct / 10) !== Math.floor(lastPct / 10)) stream.write(`${bar}\n`);
    lastPct = pct;
  };
  return {
    update(done, total) {
      const frac = total > 0 ? Math.min(1, done / total) : 1;
      const now = Date.now();
      if (Math.floor(frac * 100) === lastPct || (tty && now - lastDraw < 80 && frac < 1)) return;
      lastDraw = now;
      draw(frac);
    },
    done(msg) {
      if (lastPct < 100) draw(1);
      if (tty) stream.write('\n');
      if (msg) stream.write(`${label}: ${msg}\n`);
    },
  };
}

/**
 * Child process of the storage crash test: `node --import tsx open-crash-writer.ts <dir> <fsync>`.
 * Opens the storage (WAL replay into a real Head), finds the last batch, then commits batches
 * forever (4 in flight): batch b appends v = b at t = BASE + b to series s0..s19 and prints
 * `ack <b>` once commit() resolves. The retention task runs every 100 ms (checkpoints while
 * being killed).
 */
import { FakeClock } from '../../../src/model/clock.js';
import { labelsFrom } from '../../../src/model/labels.js';
import { newMatcher } from '../../../src/model/matchers.js';
import { openStorage } from '../../../src/storage/open.js';
import type { FsyncPolicy } from '../../../src/storage/wal/wal.js';

/** Shared with the test: fixed time base and series count. */
export const BASE = 1_700_000_000_000;
export const SERIES = 20;

const [dir, fsyncArg = '1000'] = process.argv.slice(2);
if (dir !== undefined && process.argv[1]?.endsWith('open-crash-writer.ts')) {
  const fsync: FsyncPolicy = fsyncArg === 'always' || fsyncArg === 'never' ? fsyncArg : Number(fsyncArg);
  const clock = new FakeClock(BASE + 10_000_000);
  const st = await openStorage({ dir, retentionMs: 30 * 86_400_000, clock, fsync, segmentBytes: 32768, truncateIntervalMs: 100 });
  const q = st.head.querier(0, Number.MAX_SAFE_INTEGER);
  let last = 0;
  for (const s of q.select({ mint: 0, maxt: Number.MAX_SAFE_INTEGER, matchers: [newMatcher('=', '__name__', 'crash')] })) {
    const t = s.samples().t;
    if (t.length > 0) last = Math.max(last, t[t.length - 1]! - BASE);
  }
  q.close();
  const labels = Array.from({ length: SERIES }, (_, i) => labelsFrom({ __name__: 'crash', s: String(i) }));
  let next = last + 1;
  let inFlight = 0;
  const commitOne = (): void => {
    const b = next++;
    const app = st.head.appender();
    for (const ls of labels) app.append(0, ls, BASE + b, b);
    inFlight++;
    app.commit().then(
      () => {
        process.stdout.write(`ack ${b}\n`);
        inFlight--;
        pump();
      },
      (e: unknown) => {
        process.stderr.write(`commit failed: ${String(e)}\n`);
        process.exit(1);
      },
    );
  };
  const pump = (): void => {
    while (inFlight < 4) commitOne();
  };
  pump();
}

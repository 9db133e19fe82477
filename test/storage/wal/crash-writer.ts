/**
 * Child process of the crash test: `node --import tsx crash-writer.ts <dir> <fsync> <segmentBytes>`.
 * Replays the WAL in <dir>, then logs batches of 10 samples forever (8 in flight), printing
 * `ack <batch-id>` after each log() resolves. Batch b holds refs 1..10 at t = b with
 * v = b * 10 + i (the last value of every 5th batch is the staleness marker). Every 40 batches
 * it checkpoints (keeping everything) so kills also land mid-checkpoint.
 */
import { STALE_NAN } from '../../../src/model/samples.js';
import type { FsyncPolicy } from '../../../src/storage/wal/wal.js';
import { Wal } from '../../../src/storage/wal/wal.js';

const [dir, fsyncArg = '1000', segArg = '65536'] = process.argv.slice(2);
if (!dir) throw new Error('usage: crash-writer.ts <dir> [fsync] [segmentBytes]');
const fsync: FsyncPolicy = fsyncArg === 'always' || fsyncArg === 'never' ? fsyncArg : Number(fsyncArg);
const SERIES = 10;

const wal = await Wal.open(dir, { fsync, segmentBytes: Number(segArg) });
let maxBatch = 0;
let haveSeries = false;
await wal.replay((r) => {
  if (r.kind === 'series') haveSeries = true;
  if (r.kind === 'samples') for (let i = 0; i < r.n; i++) maxBatch = Math.max(maxBatch, r.ts[i]!);
});
if (!haveSeries) {
  await wal.log([{ kind: 'series', series: Array.from({ length: SERIES }, (_, i) => ({ ref: i + 1, labels: [{ name: '__name__', value: `s${i + 1}` }] })) }]);
}

let next = maxBatch + 1;
let inFlight = 0;
function logBatch(): void {
  const b = next++;
  const refs = Uint32Array.from({ length: SERIES }, (_, i) => i + 1);
  const ts = new Float64Array(SERIES).fill(b);
  const vs = new Float64Array(SERIES);
  for (let i = 0; i < SERIES; i++) vs[i] = b * 10 + i;
  if (b % 5 === 0) vs[SERIES - 1] = STALE_NAN;
  inFlight++;
  wal.log([{ kind: 'samples', n: SERIES, refs, ts, vs }]).then(
    () => {
      process.stdout.write(`ack ${b}\n`);
      inFlight--;
      if (b % 40 === 0) wal.checkpoint({ keepSeries: () => true, mint: 0 }).catch((e: unknown) => process.stderr.write(`checkpoint: ${String(e)}\n`));
      pump();
    },
    (e: unknown) => {
      process.stderr.write(`log failed: ${String(e)}\n`);
      process.exit(1);
    },
  );
}
function pump(): void {
  while (inFlight < 8) logBatch();
}
process.stdout.write('ready\n');
pump();

/**
 * WAL benchmark (prints JSON): write throughput per fsync policy and replay time of a WAL with
 * 20k series x 240 samples, into a counting callback and into a real Head.
 *
 *   node --import tsx bench/wal-replay.ts [--series 20000] [--samples 240]
 */
import { mkdtemp, rm, stat, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { FakeClock } from '../src/model/clock.js';
import { Head } from '../src/storage/head/index.js';
import type { WalRecord } from '../src/storage/wal/interface.js';
import { Wal, type FsyncPolicy } from '../src/storage/wal/wal.js';

const { values } = parseArgs({ options: { series: { type: 'string', default: '20000' }, samples: { type: 'string', default: '240' } } });
const SERIES = Number(values.series);
const STEPS = Number(values.samples);
const T0 = 1_700_000_000_000;
const STEP_MS = 15_000;

function seriesRecord(): WalRecord {
  return {
    kind: 'series',
    series: Array.from({ length: SERIES }, (_, i) => ({
      ref: i + 1,
      labels: [
        { name: '__name__', value: `bench_metric_${i % 200}` },
        { name: 'instance', value: `host-${i % 50}:9100` },
        { name: 'job', value: 'node' },
        { name: 'series', value: String(i) },
      ],
    })),
  };
}

/** One scrape-like commit: every series at one timestamp. */
function stepRecord(step: number, refs: Uint32Array): WalRecord {
  const ts = new Float64Array(SERIES).fill(T0 + step * STEP_MS);
  const vs = new Float64Array(SERIES);
  for (let i = 0; i < SERIES; i++) vs[i] = (i % 7 === 0 ? step : Math.sin(step + i)) * 100;
  return { kind: 'samples', n: SERIES, refs, ts, vs };
}

async function dirBytes(d: string): Promise<number> {
  let total = 0;
  for (const f of await readdir(join(d, 'wal'))) total += (await stat(join(d, 'wal', f))).size;
  return total;
}

async function writeWal(dir: string, fsync: FsyncPolicy, steps: number): Promise<Record<string, number | string>> {
  const refs = Uint32Array.from({ length: SERIES }, (_, i) => i + 1);
  const recs = Array.from({ length: steps }, (_, s) => stepRecord(s, refs));
  const wal = await Wal.open(dir, { fsync });
  const t0 = performance.now();
  await wal.log([seriesRecord()]);
  for (const r of recs) await wal.log([r]);
  await wal.close();
  const sec = (performance.now() - t0) / 1000;
  const bytes = await dirBytes(dir);
  return {
    fsync: String(fsync),
    commits: steps + 1,
    samples: steps * SERIES,
    bytes,
    bytesPerSample: Math.round((bytes / (steps * SERIES)) * 100) / 100,
    seconds: Math.round(sec * 1000) / 1000,
    MBps: Math.round((bytes / 1e6 / sec) * 10) / 10,
    recordsPerSec: Math.round((steps + 1) / sec),
    samplesPerSec: Math.round((steps * SERIES) / sec),
    fsyncs: wal.counters().fsyncs,
  };
}

/**
 * Small commits (100 samples each) from `clients` concurrent writers, each awaiting its previous
 * commit: shows how group commit amortises fsyncs under `always`.
 */
async function smallConcurrent(dir: string, fsync: FsyncPolicy, clients: number, perClient: number): Promise<Record<string, number | string>> {
  const wal = await Wal.open(dir, { fsync });
  await wal.log([seriesRecord()]);
  const before = wal.counters();
  const refs = Uint32Array.from({ length: 100 }, (_, i) => i + 1);
  const t0 = performance.now();
  const client = async (id: number): Promise<void> => {
    for (let k = 0; k < perClient; k++) {
      await wal.log([{ kind: 'samples', n: 100, refs, ts: new Float64Array(100).fill(T0 + k), vs: new Float64Array(100).fill(id) }]);
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, i) => client(i)));
  const sec = (performance.now() - t0) / 1000;
  const c = wal.counters();
  await wal.close();
  const calls = clients * perClient;
  const batches = c.batches - before.batches;
  return {
    fsync: String(fsync),
    clients,
    calls,
    seconds: Math.round(sec * 1000) / 1000,
    callsPerSec: Math.round(calls / sec),
    batches,
    callsPerBatch: Math.round((calls / batches) * 10) / 10,
    fsyncs: c.fsyncs - before.fsyncs,
  };
}

async function main(): Promise<void> {
  const base = await mkdtemp(join(tmpdir(), 'vigil-wal-bench-'));
  try {
    const write: Record<string, number | string>[] = [];
    for (const p of ['never', 1000, 'always'] as FsyncPolicy[]) write.push(await writeWal(join(base, `w-${p}`), p, STEPS));
    const small: Record<string, number | string>[] = [];
    for (const p of ['never', 'always'] as FsyncPolicy[]) {
      small.push(await smallConcurrent(join(base, `s1-${p}`), p, 1, 500));
      small.push(await smallConcurrent(join(base, `s50-${p}`), p, 50, 40));
    }

    const dir = join(base, 'w-never');
    // Replay into a counting callback.
    let n = 0;
    const w1 = await Wal.open(dir);
    const s1 = await w1.replay((r) => {
      if (r.kind === 'samples') n += r.n;
    });
    await w1.close();
    // Replay into a real Head.
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const head = new Head({ retentionMs: 30 * 86_400_000, clock: new FakeClock(T0 + STEPS * STEP_MS) });
    const w2 = await Wal.open(dir);
    const s2 = await w2.replay((r) => head.replayRecord(r));
    await w2.close();
    const heapAfter = process.memoryUsage().heapUsed;
    const hs = head.stats();
    console.log(
      JSON.stringify(
        {
          series: SERIES,
          samplesPerSeries: STEPS,
          node: process.version,
          write,
          smallConcurrentCommits: small,
          replayCounting: { ...s1, samplesCounted: n, samplesPerSec: Math.round(s1.samples / (s1.durationMs / 1000)) },
          replayIntoHead: {
            ...s2,
            samplesPerSec: Math.round(s2.samples / (s2.durationMs / 1000)),
            headSeries: hs.series,
            headSamples: hs.samples,
            headChunkBytes: hs.chunkBytes,
            heapGrowthMB: Math.round((heapAfter - heapBefore) / 1e5) / 10,
          },
        },
        null,
        2,
      ),
    );
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}

await main();

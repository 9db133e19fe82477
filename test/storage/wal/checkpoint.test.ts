import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isStaleNaN, STALE_NAN } from '../../../src/model/samples.js';
import type { WalRecord } from '../../../src/storage/wal/interface.js';
import { Wal } from '../../../src/storage/wal/wal.js';
import { flatSamples, rmDir, seriesRec, tempDir } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await rmDir(dir);
});

const SERIES = 10;
const STEPS = 100;

/** Writes SERIES series with STEPS samples each (t = step, v = ref * 1000 + step) + metadata. */
async function fill(wal: Wal, from = 0, to = STEPS): Promise<void> {
  if (from === 0) await wal.log([seriesRec(...Array.from({ length: SERIES }, (_, i) => [i + 1, `m${i + 1}`] as [number, string]))]);
  for (let t = from; t < to; t++) {
    const refs = Uint32Array.from({ length: SERIES }, (_, i) => i + 1);
    const ts = new Float64Array(SERIES).fill(t);
    const vs = Float64Array.from(refs, (r) => r * 1000 + t);
    await wal.log([{ kind: 'samples', n: SERIES, refs, ts, vs }]);
  }
  await wal.log([{ kind: 'metadata', metadata: [{ metric: 'm1', md: { type: 'counter', help: `help at ${to}`, unit: '' } }] }]);
}

async function replay(): Promise<{ recs: WalRecord[]; wal: Wal }> {
  const wal = await Wal.open(dir, { fsync: 'never', segmentBytes: 2048 });
  const recs: WalRecord[] = [];
  await wal.replay((r) => recs.push(r));
  return { recs, wal };
}

function expected(keep: (ref: number) => boolean, mint: number, from = 0, to = STEPS): string[] {
  const out: string[] = [];
  for (let t = from; t < to; t++) for (let r = 1; r <= SERIES; r++) if (keep(r) && t >= mint) out.push(`${r}:${t}:${r * 1000 + t}`);
  return out;
}

describe('WAL checkpoint', () => {
  it('drops data before mint and dead series, keeps live series, and replays to the expectation', async () => {
    const wal = await Wal.open(dir, { fsync: 'always', segmentBytes: 2048 });
    await wal.replay(() => {});
    await fill(wal);
    await wal.rotate();
    const before = wal.state().segments;
    expect(before.length).toBeGreaterThan(3);
    const keep = (ref: number): boolean => ref % 2 === 0;
    const stats = await wal.checkpoint({ keepSeries: keep, mint: 50 });
    expect(stats).toMatchObject({ checkpoint: before[before.length - 2], segmentsFolded: before.length - 1, series: 5, samples: 5 * 50, metadata: 1, corrupt: 0 });
    expect(stats!.droppedSamples).toBe(SERIES * STEPS - 250);
    const files = await readdir(join(dir, 'wal'));
    expect(files.sort()).toEqual([String(before[before.length - 1]).padStart(8, '0'), `checkpoint.${String(stats!.checkpoint).padStart(8, '0')}`]);
    await wal.close();

    const { recs, wal: w2 } = await replay();
    const series = recs.flatMap((r) => (r.kind === 'series' ? r.series.map((s) => s.ref) : []));
    expect(series).toEqual([2, 4, 6, 8, 10]);
    expect(flatSamples(recs)).toEqual(expected(keep, 50));
    const md = recs.flatMap((r) => (r.kind === 'metadata' ? r.metadata : []));
    expect(md).toEqual([{ metric: 'm1', md: { type: 'counter', help: 'help at 100', unit: '' } }]);
    await w2.close();
  });

  it('folds the previous checkpoint into the next one and deletes it', async () => {
    const wal = await Wal.open(dir, { fsync: 'never', segmentBytes: 2048 });
    await wal.replay(() => {});
    await fill(wal, 0, 50);
    await wal.rotate();
    const c1 = await wal.checkpoint({ keepSeries: () => true, mint: 10 });
    await fill(wal, 50, 100);
    await wal.rotate();
    const c2 = await wal.checkpoint({ keepSeries: (r) => r !== 3, mint: 20 });
    expect(c2!.checkpoint).toBeGreaterThan(c1!.checkpoint);
    const files = await readdir(join(dir, 'wal'));
    expect(files.filter((f) => f.startsWith('checkpoint.'))).toEqual([`checkpoint.${String(c2!.checkpoint).padStart(8, '0')}`]);
    // Nothing left to fold: the current segment is never folded.
    expect(await wal.checkpoint({ keepSeries: () => true, mint: 0 })).toBeNull();
    await wal.log([{ kind: 'samples', n: 1, refs: Uint32Array.of(1), ts: Float64Array.of(5), vs: Float64Array.of(-1) }]);
    await wal.close();
    const { recs, wal: w2 } = await replay();
    expect(flatSamples(recs)).toEqual([...expected((r) => r !== 3, 20), '1:5:-1']);
    await w2.close();
  });

  it('keeps the staleness marker bit-exact in the checkpoint', async () => {
    const wal = await Wal.open(dir, { fsync: 'never', segmentBytes: 1024 });
    await wal.replay(() => {});
    const vs = new Float64Array(3);
    vs[0] = 1;
    vs[1] = STALE_NAN;
    vs[2] = NaN;
    await wal.log([seriesRec([1, 'a'], [2, 'b'], [3, 'c']), { kind: 'samples', n: 3, refs: Uint32Array.of(1, 2, 3), ts: Float64Array.of(0, 10, 10), vs }]);
    await wal.rotate();
    await wal.checkpoint({ keepSeries: () => true, mint: 5 });
    await wal.close();
    const { recs, wal: w2 } = await replay();
    const s = recs.find((r) => r.kind === 'samples');
    if (s?.kind !== 'samples') throw new Error('no samples');
    expect([...s.refs]).toEqual([2, 3]);
    expect(isStaleNaN(s.vs[0]!)).toBe(true);
    expect(Number.isNaN(s.vs[1]!) && !isStaleNaN(s.vs[1]!)).toBe(true);
    await w2.close();
  });

  it('recovers from a crash mid-checkpoint: leftover tmp dir and already-folded segments are removed', async () => {
    const wal = await Wal.open(dir, { fsync: 'never', segmentBytes: 2048 });
    await wal.replay(() => {});
    await fill(wal, 0, 40);
    await wal.rotate();
    const c = await wal.checkpoint({ keepSeries: () => true, mint: 0 });
    await wal.close();
    // Simulate: a later checkpoint died before its rename, and a folded segment survived.
    await mkdir(join(dir, 'wal', 'checkpoint.00000099.tmp'));
    await writeFile(join(dir, 'wal', String(c!.checkpoint).padStart(8, '0')), Buffer.from('garbage that must not be read'));
    const { recs, wal: w2 } = await replay();
    expect(flatSamples(recs)).toEqual(expected(() => true, 0, 0, 40));
    const files = await readdir(join(dir, 'wal'));
    expect(files.some((f) => f.endsWith('.tmp'))).toBe(false);
    expect(files).not.toContain(String(c!.checkpoint).padStart(8, '0'));
    await w2.close();
  });
});

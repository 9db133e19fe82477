import { appendFile, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ValidationError } from '../../../src/model/errors.js';
import { isStaleNaN, STALE_NAN } from '../../../src/model/samples.js';
import { WalClosedError } from '../../../src/storage/wal/errors.js';
import type { WalRecord } from '../../../src/storage/wal/interface.js';
import { FRAME_HEADER_BYTES } from '../../../src/storage/wal/segment.js';
import { Wal, type ReplayStats, type WalOptions } from '../../../src/storage/wal/wal.js';
import { CaptureLogger, flatSamples, rmDir, samplesRec, seriesRec, tempDir } from './helpers.js';

let dir: string;
beforeEach(async () => {
  dir = await tempDir();
});
afterEach(async () => {
  await rmDir(dir);
});

async function replayAll(d: string, opts: WalOptions = {}): Promise<{ wal: Wal; recs: WalRecord[]; stats: ReplayStats }> {
  const wal = await Wal.open(d, opts);
  const recs: WalRecord[] = [];
  const stats = await wal.replay((r) => recs.push(r));
  return { wal, recs, stats };
}

describe('Wal', () => {
  it('writes every record kind and replays them in order after reopening', async () => {
    const registry = new Registry();
    const wal = await Wal.open(dir, { fsync: 'always', registry });
    await wal.replay(() => {});
    const recs: WalRecord[] = [
      seriesRec([1, 'up'], [2, 'rate']),
      samplesRec([1, 2], [1000, 1000], [1, 2]),
      { kind: 'histograms', samples: [{ ref: 2, t: 1000, h: { counterResetHint: 0, schema: 1, zeroThreshold: 0.001, zeroCount: 1, count: 5, sum: 10, positiveSpans: [{ offset: 0, length: 2 }], negativeSpans: [], positiveBuckets: [1, 3], negativeBuckets: [] } }] },
      { kind: 'exemplars', exemplars: [{ ref: 1, e: { labels: [{ name: 'trace_id', value: 'abc' }], value: 1, t: 1000 } }] },
      { kind: 'metadata', metadata: [{ metric: 'up', md: { type: 'gauge', help: 'Up.', unit: '' } }] },
    ];
    await wal.log(recs.slice(0, 2));
    await wal.log(recs.slice(2));
    await wal.close();
    expect(await registry.getSingleMetricAsString('vigil_wal_records_written_total')).toMatch(/ 5$/);
    const fsyncs = (await registry.getSingleMetric('vigil_wal_fsyncs_total')!.get()).values[0]!.value;
    expect(fsyncs).toBeGreaterThanOrEqual(2);

    const { wal: w2, recs: got, stats } = await replayAll(dir);
    expect(got).toEqual(recs);
    expect(stats).toMatchObject({ records: 5, series: 2, samples: 2, histograms: 1, exemplars: 1, corrupt: 0 });
    await w2.close();
  });

  it('group-commits concurrent log calls: few writes, resolution and file order = call order', async () => {
    const wal = await Wal.open(dir, { fsync: 'always' });
    await wal.replay(() => {});
    await wal.log([seriesRec([1, 'm'])]);
    const order: number[] = [];
    const calls: Promise<void>[] = [];
    const N = 500;
    for (let i = 0; i < N; i++) calls.push(wal.log([samplesRec([1], [i], [i])]).then(() => void order.push(i)));
    await Promise.all(calls);
    expect(order).toEqual(Array.from({ length: N }, (_, i) => i));
    const c = wal.counters();
    // First call is written alone, the rest queue up behind it.
    expect(c.batches).toBeLessThan(10);
    expect(c.writes).toBe(c.batches);
    expect(c.fsyncs).toBeGreaterThanOrEqual(c.batches);
    await wal.close();
    const { wal: w2, recs } = await replayAll(dir);
    expect(flatSamples(recs)).toEqual(Array.from({ length: N }, (_, i) => `1:${i}:${i}`));
    await w2.close();
  });

  it('keeps the staleness marker bit-exact through the file', async () => {
    const wal = await Wal.open(dir, { fsync: 'never' });
    // Built by element assignment: a JS array literal of NaNs may be canonicalised by V8.
    const vs = new Float64Array(2);
    vs[0] = STALE_NAN;
    vs[1] = NaN;
    await wal.log([seriesRec([1, 'm']), { kind: 'samples', n: 2, refs: Uint32Array.of(1, 1), ts: Float64Array.of(1, 2), vs }]);
    await wal.close();
    const { wal: w2, recs } = await replayAll(dir);
    const s = recs[1];
    if (s?.kind !== 'samples') throw new Error('no samples');
    expect(isStaleNaN(s.vs[0]!)).toBe(true);
    expect(isStaleNaN(s.vs[1]!)).toBe(false);
    await w2.close();
  });

  it('rotates segments at the size limit and replays across them', async () => {
    const wal = await Wal.open(dir, { fsync: 'never', segmentBytes: 1024 });
    await wal.replay(() => {});
    await wal.log([seriesRec([1, 'm'])]);
    for (let i = 0; i < 200; i++) await wal.log([samplesRec([1, 1, 1], [i * 3, i * 3 + 1, i * 3 + 2], [i, i, i])]);
    const segs = wal.state().segments;
    expect(segs.length).toBeGreaterThan(5);
    expect(segs).toEqual(Array.from({ length: segs.length }, (_, i) => i + 1));
    await wal.close();
    for (const f of await readdir(join(dir, 'wal'))) expect((await stat(join(dir, 'wal', f))).size).toBeLessThanOrEqual(1024);
    const { wal: w2, recs, stats } = await replayAll(dir);
    expect(stats.segments).toBe(segs.length);
    expect(flatSamples(recs)).toHaveLength(600);
    expect(flatSamples(recs)[599]).toBe('1:599:199');
    await w2.close();
  });

  it('detects a torn tail, truncates at the last good record, and appends cleanly afterwards', async () => {
    const wal = await Wal.open(dir, { fsync: 'never' });
    await wal.log([seriesRec([1, 'm'])]);
    for (let i = 0; i < 10; i++) await wal.log([samplesRec([1], [i], [i])]);
    await wal.close();
    const seg = join(dir, 'wal', '00000001');
    const full = (await stat(seg)).size;
    await truncate(seg, full - 5); // cut into the last record
    const log = new CaptureLogger();
    const { wal: w2, recs, stats } = await replayAll(dir, { fsync: 'never', logger: log });
    expect(stats.corrupt).toBe(1);
    expect(stats.truncatedBytes).toBeGreaterThan(0);
    expect(flatSamples(recs)).toEqual(Array.from({ length: 9 }, (_, i) => `1:${i}:${i}`));
    expect(log.lines.some((l) => l.level === 'warn' && /truncating/.test(l.msg))).toBe(true);
    expect((await stat(seg)).size).toBe(full - 5 - (stats.truncatedBytes));
    await w2.log([samplesRec([1], [100], [100])]);
    await w2.close();
    const { wal: w3, recs: r3, stats: s3 } = await replayAll(dir);
    expect(s3.corrupt).toBe(0);
    expect(flatSamples(r3).slice(-2)).toEqual(['1:8:8', '1:100:100']);
    await w3.close();
  });

  it('detects a flipped byte (CRC) and a zero-filled tail', async () => {
    const wal = await Wal.open(dir, { fsync: 'never' });
    await wal.log([seriesRec([1, 'm'])]);
    for (let i = 0; i < 5; i++) await wal.log([samplesRec([1], [i], [i])]);
    await wal.close();
    const seg = join(dir, 'wal', '00000001');
    const buf = await readFile(seg);
    buf[buf.length - 3] = buf[buf.length - 3]! ^ 0x40; // inside the last record's value bytes
    await writeFile(seg, buf);
    await appendFile(seg, Buffer.alloc(64)); // and zeros after it
    const { wal: w2, recs, stats } = await replayAll(dir);
    expect(stats.corrupt).toBe(1);
    expect(flatSamples(recs)).toHaveLength(4);
    await w2.close();
  });

  it('skips the rest of a corrupt older segment and continues with the next', async () => {
    const wal = await Wal.open(dir, { fsync: 'never', segmentBytes: 1024 });
    await wal.log([seriesRec([1, 'm'])]);
    for (let i = 0; i < 100; i++) await wal.log([samplesRec([1, 1], [2 * i, 2 * i + 1], [i, i])]);
    await wal.close();
    const seg1 = join(dir, 'wal', '00000001');
    const buf = await readFile(seg1);
    buf[buf.length >> 1] = buf[buf.length >> 1]! ^ 0xff;
    await writeFile(seg1, buf);
    const { wal: w2, recs, stats } = await replayAll(dir);
    expect(stats.corrupt).toBe(1);
    expect((await stat(seg1)).size).toBe(buf.length); // older segments are not truncated
    const got = flatSamples(recs);
    expect(got.length).toBeLessThan(200);
    expect(got.length).toBeGreaterThan(100);
    expect(got[got.length - 1]).toBe('1:199:99'); // later segments were replayed
    await w2.close();
  });

  it('starts a new segment when log() is called without a replay', async () => {
    const w1 = await Wal.open(dir, { fsync: 'never' });
    await w1.log([seriesRec([1, 'm'])]);
    await w1.close();
    await appendFile(join(dir, 'wal', '00000001'), Buffer.from([2, 200, 0, 0])); // torn frame
    const w2 = await Wal.open(dir, { fsync: 'never' });
    await w2.log([samplesRec([1], [5], [5])]);
    expect(w2.state().current).toBe(2);
    await w2.close();
    const { wal: w3, recs, stats } = await replayAll(dir);
    expect(stats.corrupt).toBe(1); // torn tail of the older segment, skipped
    expect(flatSamples(recs)).toEqual(['1:5:5']);
    await w3.close();
  });

  it('rejects log() after close() and refuses a replay after writing', async () => {
    const wal = await Wal.open(dir);
    await wal.log([seriesRec([1, 'm'])]);
    await expect(wal.replay(() => {})).rejects.toThrow(/before the first log/);
    await wal.close();
    await expect(wal.log([seriesRec([2, 'n'])])).rejects.toBeInstanceOf(WalClosedError);
    await wal.close(); // idempotent
  });

  it('fsyncs on the interval timer only after writes; never with "never"', async () => {
    const w1 = await Wal.open(dir, { fsync: 40 });
    await w1.log([seriesRec([1, 'm'])]);
    expect(w1.counters().fsyncs).toBe(0);
    await new Promise((r) => setTimeout(r, 150));
    expect(w1.counters().fsyncs).toBe(1); // one tick with writes, later ticks idle
    await w1.close();
    const w2 = await Wal.open(join(dir, 'b'), { fsync: 'never' });
    await w2.log([seriesRec([1, 'm'])]);
    await w2.close();
    expect(w2.counters().fsyncs).toBe(0);
  });

  it('validates options', async () => {
    await expect(Wal.open(dir, { segmentBytes: 10 })).rejects.toBeInstanceOf(ValidationError);
    await expect(Wal.open(dir, { fsync: -5 })).rejects.toBeInstanceOf(ValidationError);
    await expect(Wal.open(dir, { fsync: 'sometimes' as 'never' })).rejects.toThrow(/fsync policy/);
  });

  it('frames records as type | length | crc | payload', async () => {
    const wal = await Wal.open(dir, { fsync: 'never' });
    await wal.log([seriesRec([1, 'm'])]);
    await wal.close();
    const buf = await readFile(join(dir, 'wal', '00000001'));
    expect(buf[0]).toBe(1);
    expect(buf.readUInt32LE(1)).toBe(buf.length - FRAME_HEADER_BYTES);
  });
});

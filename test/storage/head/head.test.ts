import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { FakeClock } from '../../../src/model/clock.js';
import { LimitError } from '../../../src/model/errors.js';
import { CounterResetHint, type FloatHistogram } from '../../../src/model/histogram.js';
import { labelsFrom, type Labels } from '../../../src/model/labels.js';
import { newMatcher } from '../../../src/model/matchers.js';
import { STALE_NAN, isStaleNaN } from '../../../src/model/samples.js';
import { Head } from '../../../src/storage/head/index.js';
import type { WalRecord } from '../../../src/storage/wal/interface.js';

const HOUR = 3_600_000;
const T0 = 1_700_000_000_000;

function newHead(extra: Partial<ConstructorParameters<typeof Head>[0]> = {}): { head: Head; clock: FakeClock } {
  const clock = new FakeClock(T0);
  return { head: new Head({ retentionMs: 2 * HOUR, clock, ...extra }), clock };
}

const up = (job: string, extra: Record<string, string> = {}): Labels => labelsFrom({ __name__: 'up', job, ...extra });
const eq = (n: string, v: string) => newMatcher('=', n, v);

function read(head: Head, matchers = [eq('__name__', 'up')], mint = -Infinity, maxt = Infinity) {
  return head
    .querier(mint, maxt)
    .select({ mint, maxt, matchers })
    .map((s) => {
      const x = s.samples();
      return { labels: s.labels, t: Array.from(x.t), v: Array.from(x.v), h: x.histograms };
    });
}

function hist(count: number): FloatHistogram {
  return {
    counterResetHint: CounterResetHint.Unknown,
    schema: 0,
    zeroThreshold: 1e-128,
    zeroCount: 0,
    count,
    sum: count * 2,
    positiveSpans: [{ offset: 0, length: 2 }],
    negativeSpans: [],
    positiveBuckets: [count / 2, count / 2],
    negativeBuckets: [],
  };
}

describe('Head append/commit', () => {
  it('makes samples visible only after commit and returns stable refs', async () => {
    const { head } = newHead();
    const app = head.appender();
    const ref = app.append(0, up('a'), T0, 1);
    expect(ref).toBeGreaterThan(0);
    expect(app.append(ref, up('a'), T0 + 1000, 2)).toBe(ref);
    expect(read(head)).toEqual([]);
    expect(head.hasSeries(ref)).toBe(false);
    await app.commit();
    expect(head.hasSeries(ref)).toBe(true);
    expect(read(head)).toEqual([{ labels: up('a'), t: [T0, T0 + 1000], v: [1, 2], h: [] }]);
    expect(app.counts.samples).toBe(2);
    const app2 = head.appender();
    expect(app2.append(0, up('a'), T0 + 2000, 3)).toBe(ref);
    await app2.commit();
    expect(head.stats().samples).toBe(3);
    expect(head.stats().series).toBe(1);
  });

  it('rollback leaves no trace and refs are never reused', async () => {
    const { head } = newHead();
    const app = head.appender();
    const r1 = app.append(0, up('x'), T0, 1);
    app.rollback();
    expect(read(head)).toEqual([]);
    expect(head.stats().series).toBe(0);
    expect(head.querier(0, Infinity).labelValues('job')).toEqual([]);
    expect([...head.liveSeries()]).toEqual([]);
    const app2 = head.appender();
    const r2 = app2.append(0, up('x'), T0, 1);
    expect(r2).toBeGreaterThan(r1);
    await app2.commit();
    expect([...head.liveSeries()]).toEqual([{ ref: r2, labels: up('x') }]);
  });

  it('rejects out-of-order, duplicates, too-old and invalid labels; ignores exact duplicates', async () => {
    const { head } = newHead();
    const a = head.appender();
    a.append(0, up('a'), T0, 1);
    a.append(0, up('a'), T0 + 10, 2);
    expect(a.append(0, up('a'), T0 + 5, 9)).toBe(0); // OOO vs pending sample of this txn
    expect(a.append(0, up('a'), T0 + 10, 2)).toBeGreaterThan(0); // same t, same value: ignored
    expect(a.append(0, up('a'), T0 + 10, 3)).toBe(0); // duplicate
    expect(a.append(0, up('a'), T0 - 3 * HOUR, 1)).toBe(0); // too old
    expect(a.append(0, [], T0, 1)).toBe(0);
    expect(a.append(0, [{ name: 'b', value: '1' }, { name: 'a', value: '1' }], T0, 1)).toBe(0);
    expect(a.append(0, [{ name: 'a', value: '1' }, { name: 'a', value: '2' }], T0, 1)).toBe(0);
    expect(a.append(0, [{ name: '', value: '1' }], T0, 1)).toBe(0);
    expect(a.append(0, labelsFrom({ job: 'no-name' }), T0, 1)).toBeGreaterThan(0); // missing __name__ is fine
    expect(a.counts.samples).toBe(3);
    expect(a.rejected.total).toBe(7);
    expect(Object.fromEntries(a.rejected.byReason)).toEqual({ out_of_order: 1, duplicate_sample_for_timestamp: 1, too_old: 1, invalid_labels: 4 });
    expect(a.rejected.first.map((r) => r.message)).toEqual([
      'out of order sample',
      'duplicate sample for timestamp',
      'too old sample',
      'invalid labels: empty label set',
      'invalid labels: labels not sorted: "b" before "a"',
      'invalid labels: duplicate label name "a"',
      'invalid labels: empty label name',
    ]);
    await a.commit();
    // Against committed data, in a later transaction.
    const b = head.appender();
    expect(b.append(0, up('a'), T0 + 9, 1)).toBe(0);
    expect(b.append(0, up('a'), T0 + 10, 2)).toBeGreaterThan(0);
    expect(b.append(0, up('a'), T0 + 10, 7)).toBe(0);
    expect(b.counts.samples).toBe(0);
    expect(Object.fromEntries(b.rejected.byReason)).toEqual({ out_of_order: 1, duplicate_sample_for_timestamp: 1 });
    await b.commit();
    expect(read(head)[0]!.t).toEqual([T0, T0 + 10]);
  });

  it('keeps at most 10 rejections in detail', () => {
    const { head } = newHead();
    const a = head.appender();
    for (let i = 0; i < 25; i++) a.append(0, [], T0, i);
    expect(a.rejected.total).toBe(25);
    expect(a.rejected.first).toHaveLength(10);
  });

  it('drops labels with empty values', async () => {
    const { head } = newHead();
    const a = head.appender();
    const r = a.append(0, [{ name: '__name__', value: 'up' }, { name: 'x', value: '' }], T0, 1);
    await a.commit();
    expect(read(head).map((s) => s.labels)).toEqual([labelsFrom({ __name__: 'up' })]);
    expect(head.appender().append(0, labelsFrom({ __name__: 'up' }), T0 + 1, 1)).toBe(r);
  });

  it('keeps the staleness marker bit-exact', async () => {
    const { head } = newHead();
    const a = head.appender();
    a.append(0, up('a'), T0, 1);
    a.append(0, up('a'), T0 + 1, STALE_NAN);
    await a.commit();
    const s = head.querier(0, Infinity).select({ mint: 0, maxt: Infinity, matchers: [eq('job', 'a')] })[0]!.samples();
    expect(isStaleNaN(s.v[1]!)).toBe(true);
  });

  it('cuts chunks every chunkSamples and trims select ranges inclusively', async () => {
    const { head } = newHead({ chunkSamples: 10 });
    const a = head.appender();
    for (let i = 0; i < 35; i++) a.append(0, up('a'), T0 + i * 1000, i);
    a.append(0, up('b'), T0 + 500, 1);
    await a.commit();
    expect(head.stats().chunks).toBe(5);
    expect(head.stats().samples).toBe(36);
    const r = read(head, [eq('job', 'a')], T0 + 9000, T0 + 21000);
    expect(r[0]!.t).toEqual(Array.from({ length: 13 }, (_, i) => T0 + (9 + i) * 1000));
    expect(r[0]!.v).toEqual(Array.from({ length: 13 }, (_, i) => 9 + i));
    // A range strictly inside a chunk with no sample in it selects nothing.
    expect(read(head, [eq('__name__', 'up')], T0 + 1100, T0 + 1900)).toEqual([]);
    // Series b only has a sample at +500.
    expect(read(head, [eq('__name__', 'up')], T0 + 400, T0 + 600).map((s) => s.labels)).toEqual([up('b')]);
  });

  it('sorts results and enforces limit', async () => {
    const { head } = newHead();
    const a = head.appender();
    for (const j of ['c', 'a', 'b']) a.append(0, up(j), T0, 1);
    await a.commit();
    expect(read(head).map((s) => s.labels)).toEqual([up('a'), up('b'), up('c')]);
    const q = head.querier(0, Infinity);
    expect(() => q.select({ mint: 0, maxt: Infinity, matchers: [eq('__name__', 'up')], limit: 2 })).toThrow(LimitError);
    expect(q.select({ mint: 0, maxt: Infinity, matchers: [eq('__name__', 'up')], limit: 3 })).toHaveLength(3);
    const ctl = new AbortController();
    ctl.abort(new Error('stop'));
    expect(() => q.select({ mint: 0, maxt: Infinity, matchers: [eq('__name__', 'up')], signal: ctl.signal })).toThrow('stop');
  });

  it('answers label names and values, optionally filtered', async () => {
    const { head } = newHead();
    const a = head.appender();
    a.append(0, up('a', { env: 'prod' }), T0, 1);
    a.append(0, up('b'), T0, 1);
    a.append(0, labelsFrom({ __name__: 'errors', job: 'c', zone: 'z1' }), T0, 1);
    await a.commit();
    const q = head.querier(T0 - 1000, T0 + 1000);
    expect(q.labelNames()).toEqual(['__name__', 'env', 'job', 'zone']);
    expect(q.labelNames([eq('__name__', 'up')])).toEqual(['__name__', 'env', 'job']);
    expect(q.labelValues('job')).toEqual(['a', 'b', 'c']);
    expect(q.labelValues('job', [newMatcher('!=', 'env', 'prod')])).toEqual(['b', 'c']);
    expect(head.querier(0, 1000).labelValues('job')).toEqual([]);
  });
});

describe('Head truncate', () => {
  it('drops whole old chunks and empty series, and removes them from postings', async () => {
    const { head, clock } = newHead({ chunkSamples: 10 });
    const a = head.appender();
    for (let i = 0; i < 25; i++) a.append(0, up('a'), T0 + i * 1000, i);
    const old = a.append(0, up('old'), T0, 1);
    await a.commit();
    const before = head.stats();
    expect(before.chunks).toBe(4);
    clock.advance(60_000);
    const dropped = head.truncate(T0 + 12_000);
    expect(dropped).toEqual([old]);
    expect(head.hasSeries(old)).toBe(false);
    const st = head.stats();
    expect(st.series).toBe(1);
    expect(st.chunks).toBe(2);
    expect(st.samples).toBe(15);
    expect(st.minTime).toBe(T0 + 10_000);
    expect(st.chunkBytes).toBeLessThan(before.chunkBytes);
    expect(read(head)[0]!.t[0]).toBe(T0 + 10_000);
    expect(head.querier(0, Infinity).labelValues('job')).toEqual(['a']);
    // Truncating everything empties the head; new data for the same labels gets a new ref.
    const refA = read(head).length;
    expect(refA).toBe(1);
    expect(head.truncate(T0 + HOUR)).toHaveLength(1);
    expect(head.stats()).toMatchObject({ series: 0, chunks: 0, samples: 0, chunkBytes: 0 });
  });
});

describe('Head truncate and open transactions', () => {
  it('does not drop a series an open transaction is writing to', async () => {
    const { head, clock } = newHead();
    const a = head.appender();
    const ref = a.append(0, up('a'), T0, 1);
    await a.commit();
    const b = head.appender();
    b.append(ref, up('a'), T0 + HOUR, 2);
    clock.advance(HOUR);
    expect(head.truncate(T0 + 1)).toEqual([]);
    await b.commit();
    expect(head.hasSeries(ref)).toBe(true);
    expect(read(head)[0]!.t).toEqual([T0 + HOUR]);
    expect(head.stats()).toMatchObject({ series: 1, samples: 1, chunks: 1, minTime: T0 + HOUR, maxTime: T0 + HOUR });
  });

  it('uses the injected clock for too_old', () => {
    const { head, clock } = newHead();
    clock.advance(10 * HOUR);
    const a = head.appender();
    expect(a.append(0, up('a'), T0 + 7 * HOUR, 1)).toBe(0);
    expect(a.append(0, up('a'), T0 + 9 * HOUR, 1)).toBeGreaterThan(0);
    expect(a.rejected.byReason.get('too_old')).toBe(1);
  });
});

describe('Head histograms, exemplars, metadata', () => {
  it('stores histograms with the same ordering rules', async () => {
    const { head } = newHead();
    const lh = labelsFrom({ __name__: 'lat', job: 'a' });
    const a = head.appender();
    a.appendHistogram(0, lh, T0, hist(4));
    a.appendHistogram(0, lh, T0 + 1000, hist(6));
    expect(a.appendHistogram(0, lh, T0 + 500, hist(5))).toBe(0);
    expect(a.appendHistogram(0, lh, T0 + 1000, hist(6))).toBeGreaterThan(0);
    expect(a.appendHistogram(0, lh, T0 + 1000, hist(7))).toBe(0);
    expect(a.appendHistogram(0, lh, T0 + 2000, { ...hist(1), positiveBuckets: [1] })).toBe(0);
    expect(Object.fromEntries(a.rejected.byReason)).toEqual({ out_of_order: 1, duplicate_sample_for_timestamp: 1, histogram_invalid: 1 });
    expect(a.counts.histograms).toBe(2);
    await a.commit();
    const r = read(head, [eq('__name__', 'lat')]);
    expect(r[0]!.t).toEqual([]);
    expect(r[0]!.h.map((x) => [x.t, x.h.count])).toEqual([
      [T0, 4],
      [T0 + 1000, 6],
    ]);
    expect(read(head, [eq('__name__', 'lat')], T0 + 1, T0 + 999)).toEqual([]);
  });

  it('keeps a bounded exemplar ring per series', async () => {
    const { head } = newHead({ maxExemplarsPerSeries: 3 });
    const a = head.appender();
    for (let i = 0; i < 5; i++) a.appendExemplar(0, up('a'), { labels: labelsFrom({ trace_id: `t${i}` }), value: i, t: T0 + i });
    a.appendExemplar(0, up('a'), { labels: labelsFrom({ trace_id: 'old' }), value: 9, t: T0 }); // older: dropped
    a.append(0, up('a'), T0, 1);
    await a.commit();
    const ex = head.exemplars([eq('job', 'a')], 0, Infinity);
    expect(ex).toHaveLength(1);
    expect(ex[0]!.exemplars.map((e) => e.value)).toEqual([2, 3, 4]);
    expect(head.exemplars([eq('job', 'a')], T0 + 3, T0 + 3)[0]!.exemplars.map((e) => e.value)).toEqual([3]);
  });

  it('keeps the latest metadata per metric', async () => {
    const { head } = newHead();
    const a = head.appender();
    a.updateMetadata('up', { type: 'gauge', help: 'old', unit: '' });
    a.updateMetadata('up', { type: 'gauge', help: 'new', unit: '' });
    a.updateMetadata('x_total', { type: 'counter', help: 'x', unit: '' });
    expect(head.metadata().size).toBe(0);
    await a.commit();
    expect(head.metadata('up')).toEqual(new Map([['up', [{ type: 'gauge', help: 'new', unit: '' }]]]));
    expect(head.metadata().size).toBe(2);
    expect(head.metadata(undefined, 1).size).toBe(1);
  });
});

describe('Head metrics and replay', () => {
  it('registers vigil_head_* metrics', async () => {
    const registry = new Registry();
    const { head } = newHead({ registry });
    const a = head.appender();
    a.append(0, up('a'), T0, 1);
    a.append(0, up('a'), T0 - 10, 1);
    await a.commit();
    const text = await registry.metrics();
    expect(text).toMatch(/^vigil_head_series 1$/m);
    expect(text).toMatch(/^vigil_head_chunks 1$/m);
    expect(text).toMatch(/^vigil_head_samples_appended_total 1$/m);
    expect(text).toMatch(/^vigil_head_samples_rejected_total\{reason="out_of_order"\} 1$/m);
  });

  it('rebuilds the same state from the records it logged', async () => {
    const records: WalRecord[] = [];
    const wal = { log: async (rs: readonly WalRecord[]) => void records.push(...rs) };
    const { head } = newHead({ wal, chunkSamples: 4 });
    const a = head.appender();
    for (let i = 0; i < 10; i++) a.append(0, up('a'), T0 + i, i === 5 ? STALE_NAN : i);
    a.appendHistogram(0, up('h'), T0, hist(2));
    a.appendExemplar(0, up('a'), { labels: labelsFrom({ trace_id: 'x' }), value: 1, t: T0 });
    a.updateMetadata('up', { type: 'gauge', help: 'h', unit: '' });
    await a.commit();
    const b = head.appender();
    b.append(0, up('b'), T0 + 100, 1);
    await b.commit();
    expect(records.map((r) => r.kind)).toEqual(['series', 'samples', 'histograms', 'exemplars', 'metadata', 'series', 'samples']);

    const { head: h2 } = newHead({ chunkSamples: 4 });
    for (const r of records) h2.replayRecord(r);
    expect(read(h2).map((s) => ({ ...s, v: s.v.map(String) }))).toEqual(read(head).map((s) => ({ ...s, v: s.v.map(String) })));
    expect(isStaleNaN(h2.querier(0, Infinity).select({ mint: 0, maxt: Infinity, matchers: [eq('job', 'a')] })[0]!.samples().v[5]!)).toBe(true);
    expect(h2.stats()).toEqual(head.stats());
    expect(h2.exemplars([eq('job', 'a')], 0, Infinity)).toEqual(head.exemplars([eq('job', 'a')], 0, Infinity));
    expect(h2.metadata()).toEqual(head.metadata());
    // New series after replay get refs above the replayed ones.
    const c = h2.appender();
    const r = c.append(0, up('new'), T0 + 200, 1);
    expect(r).toBeGreaterThan(Math.max(...[...h2.liveSeries()].filter((s) => s.ref !== r).map((s) => s.ref)));
  });
});

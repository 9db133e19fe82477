import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/model/clock.js';
import { labelsFrom } from '../../../src/model/labels.js';
import { newMatcher } from '../../../src/model/matchers.js';
import { Head } from '../../../src/storage/head/index.js';
import { StartRuns } from '../../../src/storage/head/start-times.js';
import type { SeriesSamples } from '../../../src/storage/interface.js';
import { countOnlyHistogram } from '../../fakes/histograms.js';

const T0 = 1_700_000_000_000;
const hist = countOnlyHistogram;

function select(head: Head, name: string, mint = 0, maxt = Number.MAX_SAFE_INTEGER, latestOnly = false): SeriesSamples {
  const q = head.querier(mint, maxt);
  const ss = q.select({ mint, maxt, matchers: [newMatcher('=', '__name__', name)], latestOnly });
  expect(ss).toHaveLength(1);
  return ss[0]!.samples();
}

describe('StartRuns', () => {
  it('keeps a cumulative series (one fixed start) and a delta series (start = previous t) in one run each', () => {
    const cum = new StartRuns();
    const delta = new StartRuns();
    let prev = -Infinity;
    const ts: number[] = [];
    for (let i = 1; i <= 1000; i++) {
      const t = T0 + i * 15_000;
      cum.append(prev, t, T0);
      delta.append(prev, t, t - 15_000);
      prev = t;
      ts.push(t);
    }
    expect(cum.size).toBe(1);
    expect(delta.size).toBe(1);
    const col = Float64Array.from(ts);
    expect([...cum.column(col)!].every((s) => s === T0)).toBe(true);
    expect([...delta.column(col)!]).toEqual(ts.map((t) => t - 15_000));
    expect(cum.bytes).toBeLessThan(100);
  });

  it('leaves samples without a start timestamp at 0 and ends a run there', () => {
    const r = new StartRuns();
    // Samples at 1..5; 3 has no start timestamp (the caller simply does not append it).
    r.append(-Infinity, 1, 100);
    r.append(1, 2, 100);
    r.append(3, 4, 100); // previous sample (3) was not in the run
    r.append(4, 5, 100);
    expect(r.size).toBe(2);
    expect([...r.column(Float64Array.from([1, 2, 3, 4, 5]))!]).toEqual([100, 100, 0, 100, 100]);
    expect(r.at(3)).toBe(0);
    expect(r.at(4)).toBe(100);
    expect(r.column(Float64Array.from([3]))).toBeUndefined();
    expect(r.column(Float64Array.from([6, 7]))).toBeUndefined();
  });

  it('truncates whole runs that end before mint', () => {
    const r = new StartRuns();
    r.append(-Infinity, 10, 5);
    r.append(10, 20, 15); // offset -5 from here: same run
    r.append(20, 30, 7); // new run
    expect(r.size).toBe(2);
    expect(r.truncate(25)).toBe(false);
    expect(r.size).toBe(1);
    expect(r.at(30)).toBe(7);
    expect(r.truncate(31)).toBe(true);
  });
});

describe('head start timestamps', () => {
  it('returns an st column only for series that have start timestamps in range', async () => {
    const head = new Head({ retentionMs: 1e12, clock: new FakeClock(T0 + 1e6) });
    const app = head.appender();
    const a = labelsFrom({ __name__: 'with_st' });
    const b = labelsFrom({ __name__: 'without_st' });
    for (let i = 0; i < 300; i++) {
      const t = T0 + i * 1000;
      app.append(0, a, t, i, i < 200 ? T0 - 5000 : 0);
      app.append(0, b, t, i);
    }
    await app.commit();
    expect(select(head, 'without_st').st).toBeUndefined();
    const all = select(head, 'with_st');
    expect(all.t.length).toBe(300);
    expect(all.st!.length).toBe(300);
    expect(all.st![0]).toBe(T0 - 5000);
    expect(all.st![199]).toBe(T0 - 5000);
    expect(all.st![200]).toBe(0);
    // Only samples without one in range: no column at all.
    expect(select(head, 'with_st', T0 + 250_000).st).toBeUndefined();
    // The latest-only read path carries it too.
    const latest = select(head, 'with_st', 0, T0 + 150_500, true);
    expect([...latest.t]).toEqual([T0 + 150_000]);
    expect([...latest.st!]).toEqual([T0 - 5000]);
  });

  it('stores histogram start timestamps and drops invalid ones', async () => {
    const head = new Head({ retentionMs: 1e12, clock: new FakeClock(T0 + 1e6) });
    const app = head.appender();
    const h = labelsFrom({ __name__: 'h' });
    app.appendHistogram(0, h, T0, hist(1), T0 - 60_000);
    app.appendHistogram(0, h, T0 + 1000, hist(2));
    app.append(0, labelsFrom({ __name__: 'bad' }), T0, 1, Number.NaN);
    await app.commit();
    const d = select(head, 'h');
    expect(d.histograms.map((p) => p.st)).toEqual([T0 - 60_000, undefined]);
    expect(select(head, 'bad').st).toBeUndefined();
  });

  it('keeps start timestamps of samples appended across several transactions', async () => {
    const head = new Head({ retentionMs: 1e12, clock: new FakeClock(T0 + 1e6) });
    const ls = labelsFrom({ __name__: 'c_total' });
    for (let i = 0; i < 5; i++) {
      const app = head.appender();
      app.append(0, ls, T0 + i * 1000, i, i === 2 ? 0 : T0 + (i - 1) * 1000);
      await app.commit();
    }
    expect([...select(head, 'c_total').st!]).toEqual([T0 - 1000, T0, 0, T0 + 2000, T0 + 3000]);
  });
});

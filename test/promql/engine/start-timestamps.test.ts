/**
 * Start timestamps through the engine's fast paths: a series carrying them must leave the
 * column kernels (rate family, irate, resets) and the fused aggregation, while the other
 * series of the same selection keep theirs, and both give the library's results.
 */
import { describe, expect, it } from 'vitest';
import { labelsFrom } from '../../../src/model/labels.js';
import { Engine } from '../../../src/promql/engine/engine.js';
import { MemoryStorage } from '../../fakes/memory-storage.js';

const STEP = 15_000;

function storage(): MemoryStorage {
  const st = new MemoryStorage();
  for (let i = 0; i <= 80; i++) {
    const t = i * STEP;
    // A cumulative counter without start timestamps, and a delta counter (each sample counts
    // the 3 events since the previous one) with them.
    st.addFloat(labelsFrom({ __name__: 'c_total', kind: 'cumulative' }), t, i * 3);
    st.addFloat(labelsFrom({ __name__: 'c_total', kind: 'delta' }), t, 3, t - STEP);
    // Start timestamps on a series that *_over_time functions read like any other.
    st.addFloat(labelsFrom({ __name__: 'g', kind: 'with_st' }), t, i % 7, t - 1);
  }
  return st;
}

async function perSeries(st: MemoryStorage, q: string, start: number, end: number): Promise<Map<string, number[]>> {
  const res = await new Engine().rangeQuery(st, q, start, end, 60_000);
  if (res.value.kind !== 'matrix') throw new Error(res.value.kind);
  return new Map(res.value.matrix.map((s) => [s.metric.map((l) => `${l.name}=${l.value}`).join(','), s.floats.map((p) => p.f)]));
}

describe('start timestamps on the engine fast paths', () => {
  const start = 600_000;
  const end = 1_200_000;

  it('rate/increase/irate/resets count every delta of the series with start timestamps', async () => {
    const st = storage();
    const rate = await perSeries(st, 'rate(c_total[5m])', start, end);
    // 3 events every 15 s is 0.2/s for both temporalities.
    for (const v of [...rate.get('kind=cumulative')!, ...rate.get('kind=delta')!]) expect(v).toBeCloseTo(0.2, 9);
    const irate = await perSeries(st, 'irate(c_total[5m])', start, end);
    for (const v of irate.get('kind=delta')!) expect(v).toBeCloseTo(0.2, 9);
    const resets = await perSeries(st, 'resets(c_total[5m])', start, end);
    expect(new Set(resets.get('kind=delta'))).toEqual(new Set([19])); // 20 samples in 5 m
    expect(new Set(resets.get('kind=cumulative'))).toEqual(new Set([0]));
  });

  it('fused aggregations give the sum of the per-series results', async () => {
    const st = storage();
    for (const f of ['rate', 'increase', 'irate', 'resets']) {
      const each = await perSeries(st, `${f}(c_total[5m])`, start, end);
      const sum = (await perSeries(st, `sum(${f}(c_total[5m]))`, start, end)).get('')!;
      const a = each.get('kind=cumulative')!;
      const b = each.get('kind=delta')!;
      expect(sum.length).toBe(a.length);
      sum.forEach((v, i) => expect(v).toBeCloseTo(a[i]! + b[i]!, 9));
    }
  });

  it('functions that ignore start timestamps are unchanged by them', async () => {
    const st = storage();
    const max = (await perSeries(st, 'max_over_time(g[5m])', start, end)).get('kind=with_st')!;
    expect(new Set(max)).toEqual(new Set([6]));
    const count = (await perSeries(st, 'sum(count_over_time(g[5m]))', start, end)).get('')!;
    expect(new Set(count)).toEqual(new Set([20]));
  });
});

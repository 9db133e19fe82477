import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTOR, SeriesAnomalyState, SlidingExtremes, SPATIAL_SCORE, type DetectorParams } from '../../src/ml/online.js';
import { mulberry32 } from '../../src/ml/math.js';

/** Standard normal samples (Box–Muller, seeded). */
function gauss(seed: number): () => number {
  const r = mulberry32(seed);
  return () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

const BASE: DetectorParams = { shortWindow: 10, longWindow: 2000, learningPeriod: 300, thresholdTail: 1e-5, refractory: 300, spatialTolerance: 0 };

describe('SlidingExtremes', () => {
  it('tracks min/max and forgets values older than the window (block granularity)', () => {
    const x = new SlidingExtremes(100, 10); // blocks of 10
    expect(x.max()).toBe(-Infinity);
    expect(x.min()).toBe(Infinity);
    x.add(50);
    for (let i = 0; i < 9; i++) x.add(1);
    expect(x.max()).toBe(50);
    expect(x.min()).toBe(1);
    x.add(Number.NaN); // ignored
    // 90 more points in range [2, 3]: the block with 50 is still one of the 10 blocks.
    for (let i = 0; i < 90; i++) x.add(2 + (i % 2));
    expect(x.max()).toBe(50);
    // The next point opens an 11th block, which evicts the first one.
    x.add(2);
    expect(x.max()).toBe(3);
    expect(x.min()).toBe(2);
  });
  it('matches a brute-force sliding max within one block of tolerance', () => {
    const r = mulberry32(7);
    const w = 64;
    const x = new SlidingExtremes(w, 8);
    const vals: number[] = [];
    for (let i = 0; i < 2000; i++) {
      const v = r() * 100;
      vals.push(v);
      x.add(v);
      const recent = Math.max(...vals.slice(-(w - 8)));
      const wide = Math.max(...vals.slice(-w));
      expect(x.max()).toBeGreaterThanOrEqual(recent);
      expect(x.max()).toBeLessThanOrEqual(wide);
    }
  });
});

describe('SeriesAnomalyState: error novelty', () => {
  // A periodic error pattern: one large error every 200 points (a "daily" jump), Gaussian noise otherwise.
  function run(p: DetectorParams, n: number, extra?: (i: number) => number): number[] {
    const g = gauss(3);
    const st = new SeriesAnomalyState(p);
    const alerts: number[] = [];
    for (let i = 0; i < n; i++) {
      const e = (i % 200 === 100 ? 40 : g()) + (extra?.(i) ?? 0);
      if (st.update(0, e) > 1) alerts.push(i);
    }
    return alerts;
  }
  it('without the gate, a recurring large error keeps alerting; with it, it does not', () => {
    const plain = run(BASE, 3000);
    const gated = run({ ...BASE, errorNovelty: 0.2, repeatFactor: 0 }, 3000);
    expect(plain.filter((i) => i > 600).length).toBeGreaterThan(0);
    expect(gated.filter((i) => i > 600)).toEqual([]);
  });
  it('a new, larger error burst still alerts through the gate', () => {
    const p = { ...BASE, errorNovelty: 0.2, repeatFactor: 0 };
    const alerts = run(p, 3000, (i) => (i >= 2500 && i < 2510 ? 200 : 0));
    expect(alerts.some((i) => i >= 2500 && i < 2510)).toBe(true);
  });
  it('repeatFactor scales the score of a repeated error instead of dropping it', () => {
    const g = gauss(5);
    const a = new SeriesAnomalyState({ ...BASE, refractory: 0, errorNovelty: 0.2, repeatFactor: 0.5 });
    const b = new SeriesAnomalyState({ ...BASE, refractory: 0 });
    let sawHalf = false;
    for (let i = 0; i < 2000; i++) {
      const e = i % 200 === 100 ? 40 : g();
      const sa = a.update(0, e);
      const sb = b.update(0, e);
      if (i > 700 && sb > 0) {
        // Repeated errors: exactly half; novel ones: the same score.
        expect(sa === sb || Math.abs(sa - 0.5 * sb) < 1e-12).toBe(true);
        if (Math.abs(sa - 0.5 * sb) < 1e-12 && sb > 1) sawHalf = true;
      }
    }
    expect(sawHalf).toBe(true);
  });
});

describe('SeriesAnomalyState: sliding spatial range', () => {
  it('re-detects an excursion once an old extreme has left the window', () => {
    const mk = (spatialWindow?: number): SeriesAnomalyState =>
      new SeriesAnomalyState({ ...BASE, learningPeriod: 50, spatialTolerance: 0.05, ...(spatialWindow ? { spatialWindow } : {}) });
    const series: number[] = [];
    for (let i = 0; i < 2000; i++) series.push(10 + Math.sin(i / 5)); // range [9, 11]
    series[100] = 30; // an early spike widens the range
    series[1800] = 16; // later, a smaller excursion
    const detect = (st: SeriesAnomalyState): number[] => {
      const out: number[] = [];
      series.forEach((v, i) => {
        if (st.update(v, 0) === SPATIAL_SCORE) out.push(i);
      });
      return out;
    };
    expect(detect(mk())).toEqual([100]); // the range never forgets the spike
    expect(detect(mk(1000))).toEqual([100, 1800]);
  });
  it('ignores non-finite values and keeps bounded state', () => {
    const st = new SeriesAnomalyState(DEFAULT_DETECTOR);
    for (let i = 0; i < 5000; i++) expect(Number.isFinite(st.update(i % 7 === 0 ? NaN : Math.sin(i / 10), i % 5 === 0 ? NaN : 0.1))).toBe(true);
    expect(st.count).toBeGreaterThan(4000);
    expect(st.band()).toBeGreaterThan(0);
  });
});

describe('DEFAULT_DETECTOR', () => {
  it('enables the sliding range and the error novelty gate', () => {
    expect(DEFAULT_DETECTOR.spatialWindow).toBeGreaterThan(0);
    expect(DEFAULT_DETECTOR.errorNovelty).toBeDefined();
  });
});

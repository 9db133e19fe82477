import { describe, expect, it } from 'vitest';
import { CUSTOM_BUCKETS_SCHEMA, CounterResetHint, type FloatHistogram } from '../../../src/model/histogram.js';
import { labelsFrom, labelsToString } from '../../../src/model/labels.js';
import { Engine } from '../../../src/promql/engine/engine.js';
import { nativeFraction } from '../../../src/promql/engine/functions/native-histogram.js';
import { bucketsToMap } from '../../../src/promql/engine/histogram-ops.js';
import { trimHistogram } from '../../../src/promql/engine/histogram-trim.js';
import { MemoryStorage } from '../../fakes/memory-storage.js';
import { makeCtx } from '../functions/helpers.js';

function exp(o: { schema?: number; zt?: number; zero?: number; pos?: number[]; neg?: number[]; posOffset?: number; sum?: number }): FloatHistogram {
  const pos = o.pos ?? [];
  const neg = o.neg ?? [];
  const zero = o.zero ?? 0;
  return {
    counterResetHint: CounterResetHint.Unknown,
    schema: o.schema ?? 0,
    zeroThreshold: o.zt ?? 0.001,
    zeroCount: zero,
    count: zero + [...pos, ...neg].reduce((a, b) => a + b, 0),
    sum: o.sum ?? 0,
    positiveSpans: pos.length ? [{ offset: o.posOffset ?? 0, length: pos.length }] : [],
    negativeSpans: neg.length ? [{ offset: 0, length: neg.length }] : [],
    positiveBuckets: pos,
    negativeBuckets: neg,
  };
}

function nhcb(bounds: number[], counts: number[], sum = 0): FloatHistogram {
  return {
    counterResetHint: CounterResetHint.Unknown,
    schema: CUSTOM_BUCKETS_SCHEMA,
    zeroThreshold: 0,
    zeroCount: 0,
    count: counts.reduce((a, b) => a + b, 0),
    sum,
    positiveSpans: [{ offset: 0, length: counts.length }],
    negativeSpans: [],
    positiveBuckets: counts,
    negativeBuckets: [],
    customValues: bounds,
  };
}

const buckets = (h: FloatHistogram): Record<number, number> => Object.fromEntries(bucketsToMap(h.positiveSpans, h.positiveBuckets));

describe('trimHistogram on exponential buckets', () => {
  // Schema 0: bucket 1 is (1, 2], bucket 2 is (2, 4].
  const h = exp({ pos: [0, 4, 8], sum: 30 });

  it('splits a straddling bucket in log space and re-estimates the sum at geometric middles', () => {
    // sqrt(2) is halfway between 1 and 2 in log space: half of the 4 observations stay.
    const lo = trimHistogram(h, '</', Math.SQRT2);
    expect(lo.count).toBeCloseTo(2, 12);
    expect(buckets(lo)).toEqual({ 1: expect.closeTo(2, 12) });
    // The kept part (1, sqrt2] has geometric middle 2^(1/4).
    expect(lo.sum).toBeCloseTo(2 * 2 ** 0.25, 12);

    const hi = trimHistogram(h, '>/', Math.SQRT2);
    expect(hi.count).toBeCloseTo(10, 12);
    expect(buckets(hi)[1]).toBeCloseTo(2, 12);
    expect(buckets(hi)[2]).toBe(8);
    // (sqrt2, 2] → 2^(3/4); (2, 4] → sqrt(8).
    expect(hi.sum).toBeCloseTo(2 * 2 ** 0.75 + 8 * Math.sqrt(8), 12);
  });

  it('cuts exactly on a bucket boundary without interpolation', () => {
    const lo = trimHistogram(h, '</', 2);
    expect(buckets(lo)).toEqual({ 1: 4 });
    expect(lo.sum).toBeCloseTo(4 * Math.SQRT2, 12);
  });

  it('returns the input itself (exact sum kept) when nothing is removed', () => {
    expect(trimHistogram(h, '</', Infinity)).toBe(h);
    expect(trimHistogram(h, '>/', 0.5)).toBe(h);
  });

  it('treats the zero bucket as [0, zt] when only positive buckets are populated', () => {
    const z = exp({ zt: 0.5, zero: 2, pos: [10], sum: 8 });
    // The zero bucket lies entirely above 0, so `>/ 0` keeps everything.
    expect(trimHistogram(z, '>/', 0)).toBe(z);
    const cut = trimHistogram(z, '</', 0.1);
    expect(cut.zeroCount).toBeCloseTo(0.4, 12);
    expect(cut.count).toBeCloseTo(0.4, 12);
    expect(cut.sum).toBeCloseTo(0.4 * 0.05, 12);
  });

  it('agrees with histogram_fraction for any threshold', () => {
    const g = exp({ schema: 2, zero: 1, pos: [1, 2, 4, 7, 3], neg: [1, 5, 3, 1] });
    const ctx = makeCtx(0);
    const p = { start: 0, end: 1 };
    for (const x of [-1.7, -1.3, -0.0005, 0, 0.0007, 1.01, 1.13, 1.5, 1.9]) {
      const below = nativeFraction(-Infinity, x, g, 'g', ctx, p) * g.count;
      const above = nativeFraction(x, Infinity, g, 'g', ctx, p) * g.count;
      expect(trimHistogram(g, '</', x).count, `</ ${x}`).toBeCloseTo(below, 9);
      expect(trimHistogram(g, '>/', x).count, `>/ ${x}`).toBeCloseTo(above, 9);
    }
  });
});

describe('trimHistogram on custom buckets', () => {
  // Buckets: (-Inf,5] (taken as [0,5]), (5,10], (10,+Inf].
  const h = nhcb([5, 10], [1, 10, 2], 100);

  it('splits a straddling bucket linearly', () => {
    const lo = trimHistogram(h, '</', 7);
    // 2/5 of (5,10] lies below 7; the kept part's middle is 6; [0,5] counts at 2.5.
    expect(buckets(lo)).toEqual({ 0: 1, 1: 4 });
    expect(lo.count).toBe(5);
    expect(lo.sum).toBeCloseTo(2.5 + 4 * 6, 12);
  });

  it('puts the observations of an infinite bucket at infinity', () => {
    // `</ 20` drops the +Inf bucket entirely...
    expect(buckets(trimHistogram(h, '</', 20))).toEqual({ 0: 1, 1: 10 });
    // ...while `>/ 20` keeps all of it, valued at the threshold for the sum.
    const hi = trimHistogram(h, '>/', 20);
    expect(buckets(hi)).toEqual({ 2: 2 });
    expect(hi.sum).toBe(40);
  });
});

describe('trim operators in queries', () => {
  const s = new MemoryStorage();
  s.addHistogram(labelsFrom({ __name__: 'h', job: 'a' }), 0, nhcb([5, 10], [1, 10, 2], 100));
  s.addFloat(labelsFrom({ __name__: 'f', job: 'a' }), 0, 7);
  const engine = new Engine();

  it('keeps the metric name and accepts a vector on the right', async () => {
    const r = await engine.instantQuery(s, 'h </ on(job) f', 0);
    expect(r.value.kind).toBe('vector');
    if (r.value.kind !== 'vector') return;
    expect(r.value.vector.map((x) => labelsToString(x.metric))).toEqual(['{job="a"}']);
    expect(r.value.vector[0]!.h!.count).toBe(5);
    const named = await engine.instantQuery(s, 'h >/ 7', 0);
    if (named.value.kind !== 'vector') throw new Error('vector expected');
    expect(labelsToString(named.value.vector[0]!.metric)).toBe('h{job="a"}');
    expect(named.value.vector[0]!.h!.count).toBeCloseTo(8, 12);
  });

  it('drops float samples with an info annotation', async () => {
    const r = await engine.instantQuery(s, 'f </ 3', 0);
    expect(r.value.kind === 'vector' && r.value.vector.length).toBe(0);
    expect(r.infos.join('\n')).toMatch(/incompatible sample types encountered for binary operator "<\/": float <\/ float/);
  });
});

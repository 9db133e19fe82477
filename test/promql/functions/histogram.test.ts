import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../../src/promql/engine/functions/index.js';
import { bucketFraction, bucketQuantile, formatQuantileLabel } from '../../../src/promql/engine/functions/histogram-classic.js';
import { addHistograms, histogramIsCounterReset, histogramVariance, nativeQuantile } from '../../../src/promql/engine/functions/native-histogram.js';
import type { FunctionArg } from '../../../src/promql/engine/functions/contract.js';
import type { Expr } from '../../../src/promql/parser/ast.js';
import type { Sample, Vector } from '../../../src/promql/engine/values.js';
import { labelsToString } from '../../../src/model/labels.js';
import { close, hist, makeCtx, N, numExpr, S, Str, V } from './helpers.js';

const B = (pairs: [number, number][]) => pairs.map(([upperBound, count]) => ({ upperBound, count }));
const classic = (name: string, base: Record<string, string>, les: [string, number][]): Sample[] =>
  les.map(([le, c]) => S({ __name__: name, ...base, le }, c));
const vecExpr = (start: number): Expr => ({ kind: 'VectorSelector', name: 'x', matchers: [], offset: 0, at: null, atModifier: null, pos: { start, end: start + 1 } });

// testhistogram3 at 50m (values ×10).
const th3 = [
  ...classic('testhistogram3_bucket', { start: 'positive' }, [['0', 0], ['0.1', 50], ['.2', 70], ['1e0', 110], ['+Inf', 110]]),
  ...classic('testhistogram3_bucket', { start: 'negative' }, [['-.25', 0], ['-.2', 10], ['-0.1', 20], ['0.3', 20], ['+Inf', 20]]),
];

function hq(q: number, v: Sample[]) {
  const ctx = makeCtx(0);
  const out = FUNCTIONS.histogram_quantile!([N(q), V(v)], [numExpr(q, 19), vecExpr(24)], ctx);
  const by = Object.fromEntries(out.map((s) => [labelsToString(s.metric), s.f]));
  return { out, by, ctx };
}

describe('histogram_quantile on classic buckets', () => {
  it('testhistogram3 quantiles (histograms.test)', () => {
    const want: [number, number, number][] = [
      [0, 0, -0.25],
      [0.25, 0.055, -0.225],
      [0.5, 0.125, -0.2],
      [0.75, 0.45, -0.15],
      [1, 1, -0.1],
    ];
    for (const [q, pos, neg] of want) {
      const { by, out, ctx } = hq(q, th3);
      expect(close(by['testhistogram3_bucket{start="positive"}']!, pos)).toBe(true);
      expect(close(by['testhistogram3_bucket{start="negative"}']!, neg)).toBe(true);
      expect(out.every((s) => s.dropName)).toBe(true);
      expect(ctx.annotations.warnings.size + ctx.annotations.infos.size).toBe(0);
    }
  });

  it('quantile in the highest bucket, lowest bucket, middle of buckets', () => {
    const th = [
      ...classic('t', { start: 'positive' }, [['0.1', 50], ['.2', 70], ['1e0', 110], ['+Inf', 120]]),
      ...classic('t', { start: 'negative' }, [['-.2', 10], ['-0.1', 20], ['0.3', 20], ['+Inf', 30]]),
    ];
    expect(Object.values(hq(1, th).by)).toEqual([1, 0.3]);
    const q2 = hq(0.2, th).by;
    expect(close(q2['t{start="positive"}']!, 0.048)).toBe(true);
    expect(q2['t{start="negative"}']).toBe(-0.2);
    expect(close(hq(0.8, th).by['t{start="positive"}']!, 0.72)).toBe(true);
    const th2 = classic('t2', {}, [['0', 0], ['2', 10], ['4', 20], ['6', 30], ['+Inf', 30]]);
    expect(close(hq(1 / 6, th2).out[0]!.f, 1)).toBe(true);
    expect(close(hq(0.5, th2).out[0]!.f, 3)).toBe(true);
    expect(close(hq(5 / 6, th2).out[0]!.f, 5)).toBe(true);
  });

  it('out-of-range φ gives ±Inf/NaN with the warning at the φ position', () => {
    const lo = hq(-0.1, th3);
    expect(lo.out.every((s) => s.f === -Infinity)).toBe(true);
    expect([...lo.ctx.annotations.warnings]).toEqual(['PromQL warning: quantile value should be between 0 and 1, got -0.1 (1:20)']);
    expect(hq(1.01, th3).out.every((s) => s.f === Infinity)).toBe(true);
    const nan = hq(NaN, []);
    expect(nan.out).toEqual([]);
    expect([...nan.ctx.annotations.warnings][0]).toMatch(/got NaN \(1:20\)$/);
  });

  it('non-monotonic buckets are fixed with an info', () => {
    const nm = classic('nonmonotonic_bucket', {}, [['0.1', 20], ['1', 10], ['10', 50], ['100', 40], ['1000', 90], ['+Inf', 80]]);
    expect(close(hq(0.01, nm).out[0]!.f, 0.0045)).toBe(true);
    expect(close(hq(0.5, nm).out[0]!.f, 8.5)).toBe(true);
    const r = hq(0.99, nm);
    expect(close(r.out[0]!.f, 979.75)).toBe(true);
    expect([...r.ctx.annotations.infos][0]).toMatch(/^PromQL info: input to histogram_quantile needed to be fixed for monotonicity .* for metric name "nonmonotonic_bucket" \(1:25\)$/);
  });

  it('same bound written differently is merged; missing +Inf or no observations → NaN', () => {
    const mixed = [
      ...classic('mixed_bucket', { instance: 'ins1' }, [['0.1', 1], ['0.2', 1], ['2e-1', 1], ['2.0e-1', 1], ['+Inf', 4]]),
      ...classic('mixed_bucket', { instance: 'ins2' }, [['+inf', 0], ['+Inf', 0]]),
    ];
    const by = hq(0.5, mixed).by;
    expect(close(by['mixed_bucket{instance="ins1"}']!, 0.15)).toBe(true);
    expect(Number.isNaN(by['mixed_bucket{instance="ins2"}']!)).toBe(true);
    expect(Number.isNaN(bucketQuantile(0.5, B([[1, 1], [2, 2]])).value)).toBe(true);
    expect(Number.isNaN(bucketQuantile(0.5, B([[1, 0], [Infinity, 0]])).value)).toBe(true);
  });

  it('bad le and classic/native collisions warn and drop', () => {
    const bad = hq(0.8, [S({ __name__: 'series', ale: '0.1' }, 2)]);
    expect(bad.out).toEqual([]);
    expect([...bad.ctx.annotations.warnings]).toEqual(['PromQL warning: bucket label "le" is missing or has a malformed value of "" for metric name "series" (1:25)']);
    const hw = hq(0.8, [S({ __name__: 'series', le: 'Hello World' }, 2)]);
    expect([...hw.ctx.annotations.warnings][0]).toContain('malformed value of "Hello World"');
    const mix = hq(0.8, [
      { ...S({ __name__: 'series', host: 'a' }, 0), h: hist({ count: 4, sum: 5, buckets: [1, 2, 1] }) },
      ...classic('series', { host: 'a' }, [['0.1', 2], ['+Inf', 9]]),
    ]);
    expect(mix.out).toEqual([]);
    expect([...mix.ctx.annotations.warnings]).toEqual(['PromQL warning: vector contains a mix of classic and native histograms for metric name "series" (1:25)']);
  });

  it('histogram_quantiles labels each quantile and rejects colliding labels', () => {
    const ctx = makeCtx(0);
    const out = FUNCTIONS.histogram_quantiles!([V(th3), Str('q'), N(0), N(0.25), N(1)], [vecExpr(20), numExpr(0, 30), numExpr(0, 33), numExpr(0, 36), numExpr(0, 39)], ctx);
    expect(out.map((s) => s.metric.find((l) => l.name === 'q')!.value)).toEqual(['0.0', '0.0', '0.25', '0.25', '1.0', '1.0']);
    expect(() => FUNCTIONS.histogram_quantiles!([V(th3), Str('start'), N(0), N(0.5)], [], makeCtx(0))).toThrow('same labelset');
    expect(formatQuantileLabel(-0.1)).toBe('-0.1');
    expect(formatQuantileLabel(NaN)).toBe('NaN');
  });
});

describe('histogram_fraction on classic buckets', () => {
  const pos = B([[1, 1], [2, 3], [3, 6], [Infinity, 100]]);
  const neg = B([[-3, 10], [-2, 12], [-1, 15], [Infinity, 100]]);
  it('documented cases (histograms.test)', () => {
    const cases: [number, number, ReturnType<typeof B>, number][] = [
      [0, 1.5, pos, 0.02],
      [-4, -2, neg, 0.02],
      [-Infinity, -1.5, neg, 0.135],
      [-Infinity, Infinity, pos, 1],
      [-Infinity, Infinity, neg, 1],
      [4, 5, pos, 0],
      [0, 1, neg, 0],
      [2, 5, pos, 0.03],
      [400, Infinity, pos, 0.94],
      [2, 2, pos, 0],
      [3, 2, pos, 0],
      [0, 1, B([[Infinity, 100]]), 0],
      [2, 3.5, pos, 0.03],
      [0.5, 2, pos, 0.025],
      [1, 3, pos, 0.05],
      [0.1, 0.75, B([[0.5, 2.5], [1, 7.5], [Infinity, 100]]), 0.045],
      [-1, 1, B([[-2, 5], [-1, 10], [0, 15], [1, 20], [Infinity, 100]]), 0.1],
      [-10, -5, B([[1, 1], [2, 3], [Infinity, 10]]), 0],
      [5, 10, B([[1, 1], [2, 3], [Infinity, 10]]), 0],
      [0, 4, B([[0, 0], [2, 10], [4, 20], [6, 30], [Infinity, 30]]), 0.6666666666666666],
      [0, 3.5, B([[0, 0], [2, 10], [4, 20], [6, 30], [Infinity, 30]]), 0.5833333333333334],
    ];
    for (const [lo, hi, b, want] of cases) expect(close(bucketFraction(lo, hi, b), want)).toBe(true);
    expect(Number.isNaN(bucketFraction(0, 5, B([[1, 0], [Infinity, 0]])))).toBe(true);
    expect(Number.isNaN(bucketFraction(NaN, 1, pos))).toBe(true);
    expect(Number.isNaN(bucketFraction(0, NaN, pos))).toBe(true);
  });

  it('through the function table, grouped by labels without le', () => {
    const ctx = makeCtx(0);
    const args: FunctionArg[] = [N(0), N(0.2), V(th3)];
    const out: Vector = FUNCTIONS.histogram_fraction!(args, [numExpr(0, 19), numExpr(0.2, 22), vecExpr(28)], ctx);
    const by = Object.fromEntries(out.map((s) => [labelsToString(s.metric), s.f]));
    expect(close(by['testhistogram3_bucket{start="positive"}']!, 0.6363636363636364)).toBe(true);
    expect(by['testhistogram3_bucket{start="negative"}']).toBe(0);
  });
});

describe('native histograms (stretch)', () => {
  // testhistogram3 as NHCB: custom bounds [0 0.1 0.2 1], counts per bucket.
  const nhcbPos = hist({ schema: -53, customValues: [0, 0.1, 0.2, 1], count: 110, sum: 330, positiveSpans: [{ offset: 1, length: 3 }], positiveBuckets: [50, 20, 40] });
  const nhcbNeg = hist({ schema: -53, customValues: [-0.25, -0.2, -0.1, 0.3], count: 20, sum: 80, positiveSpans: [{ offset: 1, length: 2 }], positiveBuckets: [10, 10] });

  it('count/sum/avg/stddev/stdvar', () => {
    const v = V([{ ...S({ start: 'positive' }, 0), h: nhcbPos }, { ...S({ start: 'negative' }, 0), h: nhcbNeg }, S({ x: 'float' }, 1)]);
    const f = (fn: string) => FUNCTIONS[fn]!([v], [], makeCtx(0)).map((s) => s.f);
    expect(f('histogram_count')).toEqual([110, 20]);
    expect(f('histogram_sum')).toEqual([330, 80]);
    expect(f('histogram_avg')).toEqual([3, 4]);
    const sd = f('histogram_stddev');
    expect(close(sd[0]!, 2.7435461458749795)).toBe(true);
    expect(close(sd[1]!, 4.187667907081458)).toBe(true);
    expect(close(histogramVariance(nhcbNeg), 17.5365625)).toBe(true);
  });

  it('quantile of custom-bucket histograms matches the classic result', () => {
    const ctx = makeCtx(0);
    const p = { start: 0, end: 1 };
    expect(close(nativeQuantile(0.25, nhcbPos, 'x', ctx, p), 0.055)).toBe(true);
    expect(close(nativeQuantile(0.5, nhcbPos, 'x', ctx, p), 0.125)).toBe(true);
    expect(close(nativeQuantile(0.75, nhcbNeg, 'x', ctx, p), -0.15)).toBe(true);
    expect(close(nativeQuantile(0, nhcbNeg, 'x', ctx, p), -0.25)).toBe(true);
  });

  it('exponential buckets: quantile interpolates in log space; add reduces schema', () => {
    const ctx = makeCtx(0);
    // schema 0: bucket 1 = (1,2], bucket 2 = (2,4]
    const h = hist({ schema: 0, count: 4, sum: 10, positiveSpans: [{ offset: 1, length: 2 }], positiveBuckets: [2, 2] });
    expect(close(nativeQuantile(0.5, h, 'x', ctx, { start: 0, end: 1 }), 2)).toBe(true);
    expect(close(nativeQuantile(0.75, h, 'x', ctx, { start: 0, end: 1 }), Math.SQRT2 * 2)).toBe(true);
    // schema 1 bucket 1 = (1, √2], bucket 2 = (√2, 2] → both map to schema-0 bucket 1.
    const fine = hist({ schema: 1, count: 2, sum: 3, positiveSpans: [{ offset: 1, length: 2 }], positiveBuckets: [1, 1] });
    const sum = addHistograms(h, fine)!;
    expect(sum.schema).toBe(0);
    expect(sum.positiveBuckets).toEqual([4, 2]);
    expect(sum.count).toBe(6);
    expect(histogramIsCounterReset(h, sum)).toBe(false);
    expect(histogramIsCounterReset(sum, h)).toBe(true);
  });

  it('quantile on an edge skips empty buckets; NaN-only histograms give NaN with an info; new custom bounds are no reset', () => {
    const ctx = makeCtx(0);
    const p = { start: 24, end: 25 };
    const balanced = hist({
      schema: 0, count: 8, sum: 0,
      positiveSpans: [{ offset: 0, length: 3 }], positiveBuckets: [1, 2, 1],
      negativeSpans: [{ offset: 0, length: 3 }], negativeBuckets: [1, 2, 1],
    });
    expect(nativeQuantile(0.5, balanced, 'b', ctx, p)).toBe(0.5);
    expect(ctx.annotations.infos.size).toBe(0);
    expect(Number.isNaN(nativeQuantile(0.8, hist({ count: 3, sum: NaN }), 'histogram_nan', ctx, p))).toBe(true);
    expect([...ctx.annotations.infos]).toEqual(['PromQL info: input to histogram_quantile has NaN observations, result is NaN for metric name "histogram_nan" (1:25)']);
    const a = hist({ schema: -53, customValues: [5], count: 1, sum: 1, buckets: [1] });
    const b = hist({ schema: -53, customValues: [5, 10], count: 1, sum: 1, buckets: [1] });
    expect(histogramIsCounterReset(a, b)).toBe(false);
  });
});

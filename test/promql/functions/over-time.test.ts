import { describe, expect, it } from 'vitest';
import { callRange, close, hist, L, matrixExpr, numExpr, only, points, windowed } from './helpers.js';
import { floatMean, floatQuantile, floatSum } from '../../../src/promql/engine/functions/over-time.js';
import { FUNCTIONS } from '../../../src/promql/engine/functions/index.js';
import { makeCtx } from './helpers.js';

const S10 = 10_000;
const at = (fn: string, spec: string, interval: number, ts: number, range: number, metric = L({})) =>
  callRange(fn, windowed(metric, points(spec, interval), ts, range), ts, range).out;
const val = (fn: string, spec: string, interval: number, ts: number, range: number) => only(at(fn, spec, interval, ts, range)).f;

describe('avg_over_time / sum_over_time', () => {
  it('basic windows', () => {
    expect(at('avg_over_time', '1 2 3 4 5', S10, 55_000, 10_000)).toEqual([]);
    expect(val('avg_over_time', '1 2 3 4 5', S10, 55_000, 20_000)).toBe(5);
    expect(val('avg_over_time', '1 2 3 4 5', S10, 55_000, 60_000)).toBe(3);
  });

  it('infinities and NaN as Prometheus', () => {
    const cases: [string, number][] = [
      ['1 2 3 4 Inf', Infinity],
      ['1 2 3 4 -Inf', -Infinity],
      ['1 2 3 Inf -Inf', NaN],
      ['Inf 0 Inf', Infinity],
      ['Inf Inf Inf -Inf', NaN],
      ['1 2 3 -Inf -Inf', -Infinity],
      ['-Inf 0 -Inf', -Infinity],
      ['1 2 -Inf -Inf Inf', NaN],
      ['9.988465674311579e+307 9.988465674311579e+307', 9.988465674311579e307],
      ['-9.988465674311579e+307 -9.988465674311579e+307 -9.988465674311579e+307', -9.988465674311579e307],
      ['-9.988465674311579e+307 9.988465674311579e+307', 0],
    ];
    for (const [spec, want] of cases) expect(close(val('avg_over_time', spec, S10, 55_000, 60_000), want)).toBe(true);
    // sum overflows where avg does not
    expect(val('sum_over_time', '9.988465674311579e+307 9.988465674311579e+307', S10, 55_000, 60_000)).toBe(Infinity);
    expect(val('avg_over_time', '1 2 3 NaN NaN', S10, 20_000, 60_000)).toBe(2);
    expect(Number.isNaN(val('avg_over_time', '1 2 3 NaN NaN', S10, 30_000, 60_000))).toBe(true);
  });

  it('Kahan summation keeps small values next to huge ones', () => {
    expect(val('sum_over_time', '1 1e100 1 -1e100', S10, 60_000, 120_000)).toBe(2);
    expect(val('avg_over_time', '1 1e100 1 -1e100', S10, 60_000, 120_000)).toBe(0.5);
  });

  it('extreme values (functions.test)', () => {
    const S5 = 5000;
    const cases: [string, number][] = [
      ['1e10 1e-6 1e-6 1e-6 1e-6 1e-6', 1.6666666666666675e9],
      ['5.30921651659898 0.961118537914768 1.62091361305318 0.865089463758091 0.323055185914577 0.951811357687154', 1.67186744582113],
      ['1.78264e50 0.76342771 1.9592258 7.69805412 458.90154', 3.56528e49],
      ['1.78264E+50 0.76342771 1.9592258 2.258E+220 7.69805412 458.90154', 3.76333333333333e219],
      ['-1.78264E+50 0.76342771 1.9592258 -2.258E+220 7.69805412 -458.90154', -3.76333333333333e219],
      ['-1.78264E+215 0.76342771 1.9592258 2.258E+220 7.69805412 -458.90154', 3.76330362266667e219],
      ['-1.78264E+215 0.76342771 1.9592258 2.258E+220 7.69805412 1.78264E+215 -458.90154', 3.225714285714286e219],
      ['-1.78264E+219 0.76342771 1.9592258 2.3757689E+217 -2.3757689E+217 2.258E+220 7.69805412 1.78264E+219 -458.90154', 2.5088888888888888e219],
    ];
    for (const [spec, want] of cases) expect(close(val('avg_over_time', spec, S5, 55_000, 60_000), want, 1e-6)).toBe(true);
    expect(val('avg_over_time', '-2.258E+220 -1.78264E+219 0.76342771 1.9592258 2.3757689E+217 -2.3757689E+217 2.258E+220 7.69805412 1.78264E+219 -458.90154', S5, 55_000, 60_000)).toBe(0);
  });

  it('direct mean of a constant is exact', () => {
    for (const n of [10, 11, 12, 13]) expect(floatMean(new Array<number>(n).fill(52))).toBe(52);
    expect(floatSum(new Array<number>(1003).fill(1))).toBe(1003);
  });

  it('mixed floats and histograms: warning, no result; histograms alone are summed/averaged', () => {
    const h = (c: number) => hist({ count: c, sum: c });
    const mixed = { metric: L({ __name__: 'metric12' }), floats: [{ t: 10_000, f: 1 }], histograms: [{ t: 20_000, h: h(1) }] };
    const r = callRange('sum_over_time', mixed, 55_000, 60_000);
    expect(r.out).toEqual([]);
    expect(r.ctx.annotations.warnings.size).toBe(1);
    const hs = { metric: L({}), floats: [], histograms: [1, 2, 3, 4, 5].map((i) => ({ t: i * 10_000, h: h(1) })) };
    expect(only(callRange('sum_over_time', hs, 55_000, 60_000).out).h!.count).toBe(5);
    expect(only(callRange('avg_over_time', hs, 55_000, 60_000).out).h!.sum).toBe(1);
  });
});

describe('min/max/stddev/stdvar/mad/quantile', () => {
  const data: [string, string, number, number][] = [
    ['numbers', '2 0 3', 0, 3],
    ['some_nan', '2 0 NaN', 0, 2],
    ['some_nan2', '2 NaN 1', 1, 2],
    ['some_nan3', 'NaN 0 1', 0, 1],
    ['only_nan', 'NaN NaN NaN', NaN, NaN],
  ];
  it('min/max ignore NaN unless all NaN', () => {
    for (const [, spec, min, max] of data) {
      expect(close(val('min_over_time', spec, S10, 60_000, 120_000), min)).toBe(true);
      expect(close(val('max_over_time', spec, S10, 60_000, 120_000), max)).toBe(true);
    }
    expect(val('min_over_time', '_ 5 2 _ 4 _', S10, 60_000, 120_000)).toBe(2);
  });

  it('min_over_time ignores histograms with an info when mixed', () => {
    const s = { metric: L({ type: 'mix' }), floats: [{ t: 0, f: 0 }, { t: 10_000, f: 1 }], histograms: [{ t: 20_000, h: hist({ count: 2 }) }] };
    const r = callRange('min_over_time', s, 60_000, 120_000);
    expect(only(r.out).f).toBe(0);
    expect(r.ctx.annotations.infos.size).toBe(1);
    expect(callRange('max_over_time', { metric: L({}), floats: [], histograms: s.histograms }, 60_000, 120_000).out).toEqual([]);
  });

  it('stdvar and stddev', () => {
    expect(val('stdvar_over_time', '0 8 8 2 3', S10, 60_000, 120_000)).toBeCloseTo(10.56, 12);
    expect(val('stddev_over_time', '0 8 8 2 3', S10, 60_000, 120_000)).toBeCloseTo(3.249615, 6);
    expect(val('stdvar_over_time', '1.5990505637277868 1.5990505637277868 1.5990505637277868', S10, 55_000, 60_000)).toBe(0);
  });

  it('mad_over_time', () => {
    expect(val('mad_over_time', '4 6 2 1 999 1 2', S10, 70_000, 70_000)).toBe(1);
    expect(val('mad_over_time', '1 2 3 4 5', S10, 40_000, 50_000)).toBe(1);
    expect(val('mad_over_time', '7 7 7 7 7', S10, 40_000, 50_000)).toBe(0);
    expect(val('mad_over_time', '5', S10, 0, 10_000)).toBe(0);
    expect(Number.isNaN(val('mad_over_time', '1 2 NaN 4', S10, 30_000, 40_000))).toBe(true);
  });

  it('quantile_over_time with interpolation and out-of-range φ', () => {
    const specs = ['0 1', '0 1 2', '0 1 4'];
    const want: Record<string, number[]> = { '0': [0, 0, 0], '0.5': [0.5, 1, 1], '0.75': [0.75, 1.5, 2.5], '0.8': [0.8, 1.6, 2.8], '1': [1, 2, 4] };
    for (const [q, exp] of Object.entries(want)) {
      specs.forEach((spec, i) => {
        const { out, ctx } = callRange('quantile_over_time', windowed(L({}), points(spec, S10), 60_000, 120_000), 60_000, 120_000, {
          before: [{ kind: 'scalar', value: Number(q) }],
        });
        expect(close(only(out).f, exp[i]!)).toBe(true);
        expect(ctx.annotations.warnings.size).toBe(0);
      });
    }
    const ctx = makeCtx(60_000, 120_000);
    const s = windowed(L({}), points('0 1', S10), 60_000, 120_000);
    const out = FUNCTIONS.quantile_over_time!([{ kind: 'scalar', value: -1 }, { kind: 'matrix', matrix: [s] }], [numExpr(-1, 19), matrixExpr('data', [], 23)], ctx);
    expect(only(out).f).toBe(-Infinity);
    expect([...ctx.annotations.warnings]).toEqual(['PromQL warning: quantile value should be between 0 and 1, got -1 (1:20)']);
    expect(floatQuantile(2, [1, 2])).toBe(Infinity);
    expect(Number.isNaN(floatQuantile(NaN, [1, 2]))).toBe(true);
  });
});

describe('last/first/count/present and ts_of_*', () => {
  it('last_over_time and first_over_time keep the metric name', () => {
    const m = L({ __name__: 'metric_total', env: '1' });
    const last = only(at('last_over_time', '0 60 120', 5 * 60_000, 10 * 60_000, 10 * 60_000, m));
    expect(last.f).toBe(120);
    expect(last.dropName).toBeUndefined();
    const first = only(at('first_over_time', '0 60 120', 5 * 60_000, 10 * 60_000, 10 * 60_000, m));
    expect(first.f).toBe(60);
    // From a subquery whose inner expression dropped the name, the flag is kept.
    const dropped = callRange('last_over_time', { ...windowed(m, points('1 2', S10), 10_000, 20_000), dropName: true }, 10_000, 20_000).out;
    expect(only(dropped).dropName).toBe(true);
    expect(only(at('max_over_time', '0 60 120', 5 * 60_000, 10 * 60_000, 10 * 60_000, m)).dropName).toBe(true);
  });

  it('last/first pick histograms when they are newest/oldest; count counts both', () => {
    const s = { metric: L({}), floats: [{ t: 0, f: 0 }, { t: 10_000, f: 1 }], histograms: [{ t: 20_000, h: hist({ count: 2 }) }, { t: 30_000, h: hist({ count: 3 }) }] };
    expect(only(callRange('last_over_time', s, 60_000, 120_000).out).h!.count).toBe(3);
    expect(only(callRange('first_over_time', s, 60_000, 120_000).out).f).toBe(0);
    expect(only(callRange('count_over_time', s, 60_000, 120_000).out).f).toBe(4);
    expect(only(callRange('present_over_time', s, 60_000, 120_000).out).f).toBe(1);
    expect(callRange('present_over_time', { metric: L({}), floats: [], histograms: [] }, 60_000, 120_000).out).toEqual([]);
  });

  it('ts_of_min/max/last/first with an odd interval', () => {
    const iv = 10_053;
    expect(val('ts_of_min_over_time', '1 2 3 0 5 6 2 1 4', iv, 90_000, 90_000)).toBe(30.159);
    expect(val('ts_of_max_over_time', '1 2 3 0 5 6 2 1 4', iv, 90_000, 90_000)).toBe(50.265);
    expect(val('ts_of_last_over_time', '1 2 3 _ _', iv, 95_000, 90_000)).toBe(20.106);
    expect(val('ts_of_first_over_time', '_ _ 1 2 3 _ _', iv, 95_000, 90_000)).toBe(20.106);
    expect(at('ts_of_first_over_time', '_ _ 1 2 3 _ _', iv, 15_000, 90_000)).toEqual([]);
  });
});

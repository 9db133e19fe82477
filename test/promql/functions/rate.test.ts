import { describe, expect, it } from 'vitest';
import { callRange, close, hist, L, only, points, windowed } from './helpers.js';
import { extrapolatedFloatDelta, linearRegression } from '../../../src/promql/engine/functions/rate.js';

const M = 60_000;

describe('rate / increase / delta (functions.test cases)', () => {
  it('increase over 50m and 100m with zero-point cutoff', () => {
    const cases: [string, string, number, number][] = [
      ['/foo', '0+10x10', 100, 100],
      ['/bar', '0+18x5 0+18x5', 160, 162],
      ['/dings', '10+10x10', 100, 105],
      ['/bumms', '1+10x10', 100, 101],
    ];
    for (const [path, spec, inc50, inc100] of cases) {
      const pts = points(spec, 5 * M);
      const metric = L({ __name__: 'http_requests_total', path });
      expect(close(only(callRange('increase', windowed(metric, pts, 50 * M, 50 * M), 50 * M, 50 * M).out).f, inc50)).toBe(true);
      expect(close(only(callRange('increase', windowed(metric, pts, 50 * M, 100 * M), 50 * M, 100 * M).out).f, inc100)).toBe(true);
    }
  });

  it('counter reset 3→2 counts as 3 0 1 2', () => {
    const s = windowed(L({ __name__: 'x_total' }), points('0 1 2 3 2 3 4', 5 * M), 30 * M, 30 * M);
    expect(only(callRange('increase', s, 30 * M, 30 * M).out).f).toBeCloseTo(7, 9);
  });

  it('rate: reset in the middle, reset at the end', () => {
    const mid = windowed(L({ __name__: 'c_total' }), points('0+27x4 0+27x5', 5 * M), 50 * M, 50 * M);
    expect(only(callRange('rate', mid, 50 * M, 50 * M).out).f).toBeCloseTo(0.08, 12);
    const endPts = points('0+10x9 0 10', 5 * M);
    expect(callRange('rate', windowed(L({}), endPts, 50 * M, 5 * M), 50 * M, 5 * M).out).toEqual([]);
    expect(only(callRange('rate', windowed(L({}), endPts, 50 * M, 6 * M), 50 * M, 6 * M).out).f).toBe(0);
  });

  it('rate per second and with a shifted (offset) window', () => {
    const s = windowed(L({ __name__: 'w_total' }), points('0+80x10', 5 * M), 50 * M, 50 * M);
    expect(only(callRange('rate', s, 50 * M, 50 * M).out).f).toBeCloseTo(0.26666666666666666, 14);
    // offset 5m: window (35m, 45m]; the function only sees the window bounds.
    const pts = points('0+10x10', 5 * M);
    const ctxTs = 45 * M;
    const r = callRange('rate', windowed(L({ x: 'a' }), pts, ctxTs, 10 * M), ctxTs, 10 * M).out;
    expect(only(r).f).toBeCloseTo(0.03333333333333333, 14);
  });

  it('zero cutoff for left-side extrapolation', () => {
    const expect10 = [0.5, 0.55, 0.6, 0.6, 0.6, 0.6];
    for (let k = 0; k < 6; k++) {
      const pts = points(`${60 * k}+240x10`, 4 * M);
      const at10 = only(callRange('rate', windowed(L({}), pts, 10 * M, 20 * M), 10 * M, 20 * M).out).f;
      const at50 = only(callRange('rate', windowed(L({}), pts, 50 * M, 20 * M), 50 * M, 20 * M).out).f;
      expect(close(at10, expect10[k]!)).toBe(true);
      expect(close(at50, 0.6)).toBe(true);
    }
  });

  it('drops __name__ (delayed) and adds the non-counter info with the position', () => {
    const s = windowed(L({ __name__: 'http_requests', path: '/x' }), points('0+10x10', 5 * M), 50 * M, 10 * M);
    const { out, ctx } = callRange('rate', s, 50 * M, 10 * M);
    expect(only(out).dropName).toBe(true);
    expect([...ctx.annotations.infos]).toEqual([
      'PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "http_requests" (1:6)',
    ]);
    const t = callRange('rate', windowed(L({ __name__: 'h_bucket' }), points('0+10x10', 5 * M), 50 * M, 10 * M), 50 * M, 10 * M);
    expect(t.ctx.annotations.infos.size).toBe(0);
    // delta is for gauges: no info.
    expect(callRange('delta', s, 50 * M, 10 * M).ctx.annotations.infos.size).toBe(0);
  });

  it('delta of gauges is extrapolated but not clamped at zero', () => {
    const foo = windowed(L({ path: '/foo' }), points('0 50 100 150 200', 5 * M), 20 * M, 20 * M);
    const bar = windowed(L({ path: '/bar' }), points('200 150 100 50 0', 5 * M), 20 * M, 20 * M);
    expect(only(callRange('delta', foo, 20 * M, 20 * M).out).f).toBe(200);
    expect(only(callRange('delta', bar, 20 * M, 20 * M).out).f).toBe(-200);
    // Raw function: one sample gives nothing.
    expect(extrapolatedFloatDelta([{ t: 0, f: 1 }], -1000, 0, false, false)).toBeUndefined();
  });

  it('mix of floats and histograms: warning, no result', () => {
    const s = { metric: L({ __name__: 'm' }), floats: [{ t: 1000, f: 1 }], histograms: [{ t: 2000, h: hist({ count: 1, sum: 1 }) }] };
    const { out, ctx } = callRange('rate', s, 3000, 3000);
    expect(out).toEqual([]);
    expect([...ctx.annotations.warnings][0]).toBe('PromQL warning: encountered a mix of histograms and floats for metric name "m" (1:6)');
  });

  it('rate of counter histograms: delta scaled per second, gauge hint', () => {
    const hs = [0, 1, 2, 3, 4].map((i) => ({ t: i * 5 * M, h: hist({ count: 2 + 3 * i, sum: 2 + 3 * i, buckets: [2 + 3 * i] }) }));
    const s = { metric: L({ __name__: 'h' }), floats: [], histograms: hs.filter((p) => p.t > 0) };
    const out = only(callRange('rate', s, 20 * M, 20 * M).out);
    // 3 samples per 5m, extrapolated over 20m window from samples at 5m..20m → factor (15+5)/15, /1200s
    expect(out.h!.count).toBeCloseTo(((9 * 20) / 15) / 1200, 12);
    expect(out.h!.counterResetHint).toBe(3);
  });
});

describe('irate / idelta', () => {
  it('irate: last two samples, reset handling', () => {
    const foo = points('0+10x10', 5 * M);
    const bar = points('0+10x5 0+10x5', 5 * M);
    expect(only(callRange('irate', windowed(L({}), foo, 50 * M, 50 * M), 50 * M, 50 * M).out).f).toBeCloseTo(1 / 30, 15);
    expect(only(callRange('irate', windowed(L({}), bar, 50 * M, 50 * M), 50 * M, 50 * M).out).f).toBeCloseTo(1 / 30, 15);
    expect(only(callRange('irate', windowed(L({}), bar, 30 * M, 50 * M), 30 * M, 50 * M).out).f).toBe(0);
  });

  it('irate/idelta with NaN samples', () => {
    const nan = points('1 NaN NaN 5 11', 5 * M);
    const rng = 15 * M + 1000;
    const ir = [5, 10, 15, 20].map((m) => callRange('irate', windowed(L({}), nan, m * M, rng), m * M, rng).out[0]?.f);
    expect(Number.isNaN(ir[0])).toBe(true);
    expect(Number.isNaN(ir[1])).toBe(true);
    expect(Number.isNaN(ir[2])).toBe(true);
    expect(ir[3]).toBeCloseTo(0.02, 15);
    expect(callRange('idelta', windowed(L({}), nan, 20 * M, rng), 20 * M, rng).out[0]!.f).toBe(6);
    expect(callRange('irate', windowed(L({}), nan, 0, rng), 0, rng).out).toEqual([]);
  });

  it('idelta', () => {
    expect(only(callRange('idelta', windowed(L({}), points('0 50 100 150', 5 * M), 20 * M, 20 * M), 20 * M, 20 * M).out).f).toBe(50);
    expect(only(callRange('idelta', windowed(L({}), points('0 50 100 50', 5 * M), 20 * M, 20 * M), 20 * M, 20 * M).out).f).toBe(-50);
  });

  it('irate on histograms and the mix warning', () => {
    const a = [0, 1, 2, 3, 4].map((i) => ({ t: i * 5 * M, h: hist({ count: 2 + 3 * i, sum: 2 + 3 * i }) }));
    const out = only(callRange('irate', { metric: L({ path: '/a' }), floats: [], histograms: a }, 20 * M, 20 * M).out);
    expect(out.h!.sum).toBeCloseTo(0.01, 15);
    expect(out.h!.count).toBeCloseTo(0.01, 15);
    const mix = { metric: L({ __name__: 'x' }), floats: [{ t: 10 * M, f: 2 }], histograms: [{ t: 15 * M, h: hist({ count: 4, sum: 4 }) }] };
    const r = callRange('irate', mix, 20 * M, 20 * M);
    expect(r.out).toEqual([]);
    expect(r.ctx.annotations.warnings.size).toBe(1);
  });
});

describe('deriv / predict_linear', () => {
  const reset = points('0+10x4 0+10x5', 5 * M);
  it('deriv equals rate on a straight line and matches the documented regression', () => {
    const line = windowed(L({}), points('0+80x10', 5 * M), 50 * M, 50 * M);
    expect(only(callRange('deriv', line, 50 * M, 50 * M).out).f).toBeCloseTo(0.26666666666666666, 14);
    const s = windowed(L({}), reset, 50 * M, 100 * M);
    expect(close(only(callRange('deriv', s, 50 * M, 100 * M).out).f, 0.010606060606060607)).toBe(true);
  });

  it('predict_linear around the evaluation time', () => {
    const s = windowed(L({}), reset, 50 * M, 50 * M);
    expect(close(only(callRange('predict_linear', s, 50 * M, 50 * M, { after: [{ kind: 'scalar', value: 3600 }] }).out).f, 70)).toBe(true);
    // [55m] @ 3000 evaluated at 10m and 70m: window fixed, intercept at eval time.
    const at = windowed(L({}), reset, 50 * M, 55 * M);
    const p10 = only(callRange('predict_linear', at, 10 * M, 55 * M, { after: [{ kind: 'scalar', value: 3600 }] }).out).f;
    const p70 = only(callRange('predict_linear', at, 70 * M, 55 * M, { after: [{ kind: 'scalar', value: 3600 }] }).out).f;
    expect(close(p10, 51.36363636363637)).toBe(true);
    expect(close(p70, 89.54545454545455)).toBe(true);
  });

  it('infinite values give NaN; constant series give slope 0', () => {
    const inf = windowed(L({}), points('-Inf 0+80x10 Inf', 5 * M), 100 * M, 100 * M);
    expect(Number.isNaN(only(callRange('deriv', inf, 100 * M, 100 * M).out).f)).toBe(true);
    expect(linearRegression([{ t: 0, f: 3 }, { t: 1000, f: 3 }], 0)).toEqual([0, 3]);
    expect(linearRegression([{ t: 0, f: Infinity }, { t: 1000, f: Infinity }], 0).every(Number.isNaN)).toBe(true);
  });

  it('histograms ignored with an info when mixed, silently when alone', () => {
    const mixed = { metric: L({ __name__: 'mix' }), floats: points('0+10x4', 5 * M), histograms: [{ t: 25 * M, h: hist({ count: 1 }) }] };
    const r = callRange('deriv', mixed, 25 * M, 30 * M);
    expect(r.out).toHaveLength(1);
    expect([...r.ctx.annotations.infos][0]).toMatch(/^PromQL info: ignored histograms in a range containing both floats and histograms for metric name "mix"/);
    const onlyH = callRange('deriv', { metric: L({}), floats: [], histograms: [{ t: 1, h: hist({}) }, { t: 2, h: hist({}) }] }, 2, 10);
    expect(onlyH.out).toEqual([]);
    expect(onlyH.ctx.annotations.infos.size).toBe(0);
  });
});

describe('resets / changes', () => {
  const foo = points('1 2 3 0 1 0 0 1 2 0', 5 * M);
  const bar = points('1 2 3 4 5 1 2 3 4 5', 5 * M);
  const biz = points('0 0 0 0 0 1 1 1 1 1', 5 * M);
  const at = (fn: string, p: ReturnType<typeof points>, range: number) => callRange(fn, windowed(L({}), p, 50 * M, range), 50 * M, range).out;

  it('resets over several windows', () => {
    expect(at('resets', foo, 5 * M)).toEqual([]);
    expect([20, 30, 32, 50].map((r) => only(at('resets', foo, r * M)).f)).toEqual([1, 1, 2, 3]);
    expect([20, 32, 50].map((r) => only(at('resets', bar, r * M)).f)).toEqual([0, 1, 1]);
    expect(only(at('resets', biz, 50 * M)).f).toBe(0);
  });

  it('changes over several windows, NaN to NaN is no change', () => {
    expect([6, 20, 30, 50].map((r) => only(at('changes', foo, r * M)).f)).toEqual([0, 2, 3, 7]);
    expect([6, 20, 30, 50].map((r) => only(at('changes', bar, r * M)).f)).toEqual([0, 2, 4, 8]);
    expect(only(at('changes', biz, 50 * M)).f).toBe(1);
    const w = (spec: string) => only(callRange('changes', windowed(L({}), points(spec, 5 * M), 15 * M, 20 * M), 15 * M, 20 * M).out).f;
    expect(w('NaN NaN NaN')).toBe(0);
    expect(w('0 NaN 0')).toBe(2);
  });

  it('histogram resets: type switches and zero-bucket decreases count', () => {
    const fl = [0, 1, 0, 2, 0, 3, 0].map((f, i) => ({ t: i * 5 * M, f }));
    const h = (count: number, sum: number, z: number) => hist({ count, sum, zeroThreshold: 0.001, zeroCount: z });
    const hs = [
      { t: 35 * M, h: h(1, 1, 2) },
      { t: 40 * M, h: h(2, 2, 1) },
      { t: 45 * M, h: h(1, 1, 2) },
    ];
    const s = { metric: L({}), floats: fl, histograms: hs };
    expect(only(callRange('resets', s, 50 * M, 60 * M).out).f).toBe(6);
    expect(only(callRange('changes', s, 50 * M, 60 * M).out).f).toBe(9);
  });
});

/**
 * Counter and gauge functions over a range: rate, increase, delta (with Prometheus's
 * extrapolation), irate, idelta, deriv, predict_linear, resets, changes.
 *
 * Each receives ONE series restricted to the window `(rangeStart, rangeEnd]` and returns at
 * most one sample whose `__name__` is marked for delayed removal.
 */
import type { FPoint, RangeSeries, Vector } from '../values.js';
import type { FunctionContext, FunctionImpl } from './contract.js';
import type { PosRange } from '../../parser/ast.js';
import { CounterResetHint, type FloatHistogram } from '../../../model/histogram.js';
import { anchoredPoints, extendedRate } from './extended.js';
import { addHistograms, histogramDelta, histogramIsCounterReset, histogramsEqual, scaleHistogram } from './native-histogram.js';
import { isStartReset, mergedStarts, startAwareFloatIncrease, startAwareHistogramIncrease, warnOverlaps } from './start-time.js';
import {
  MSG,
  argPos,
  floatsOnly,
  fsample,
  hsample,
  mergedPoints,
  metricName,
  scalarArg,
  seriesArg,
  withPos,
} from './util.js';

const COUNTER_SUFFIXES = ['_total', '_sum', '_count', '_bucket'];

/**
 * The extrapolated change of a float series over the window, as Prometheus computes it for
 * rate/increase/delta. `undefined` when there are fewer than two samples.
 */
export function extrapolatedFloatDelta(
  pts: readonly FPoint[],
  rangeStart: number,
  rangeEnd: number,
  isCounter: boolean,
  isRate: boolean,
): number | undefined {
  const n = pts.length;
  if (n < 2) return undefined;
  const first = pts[0]!;
  const last = pts[n - 1]!;
  let result = last.f - first.f;
  if (isCounter) {
    let prev = first.f;
    for (let i = 1; i < n; i++) {
      const cur = pts[i]!.f;
      if (cur < prev) result += prev;
      prev = cur;
    }
  }
  return result * extrapolationFactor(result, first.t, last.t, n, rangeStart, rangeEnd, isCounter ? first.f : undefined, isRate);
}

/**
 * The factor that scales a raw delta between the first and last sample to the window:
 * extrapolates to each boundary unless the gap exceeds 1.1× the average interval (then by half
 * an interval), and for counters (`firstValue` given) never to below zero; for rates it also
 * divides by the window length in seconds.
 */
export function extrapolationFactor(
  result: number,
  firstT: number,
  lastT: number,
  n: number,
  rangeStart: number,
  rangeEnd: number,
  firstValue: number | undefined,
  isRate: boolean,
): number {
  let durationToStart = (firstT - rangeStart) / 1000;
  let durationToEnd = (rangeEnd - lastT) / 1000;
  const sampledInterval = (lastT - firstT) / 1000;
  const avgInterval = sampledInterval / (n - 1);
  const threshold = avgInterval * 1.1;
  if (durationToStart >= threshold) durationToStart = avgInterval / 2;
  if (firstValue !== undefined) {
    let durationToZero = durationToStart;
    if (result > 0 && firstValue >= 0) durationToZero = sampledInterval * (firstValue / result);
    if (durationToZero < durationToStart) durationToStart = durationToZero;
  }
  if (durationToEnd >= threshold) durationToEnd = avgInterval / 2;
  let factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
  if (isRate) factor /= (rangeEnd - rangeStart) / 1000;
  return factor;
}

/**
 * rate/increase/delta of a histogram-only range: last − first (plus the values before each
 * counter reset for counters), extrapolated like floats using the observation count.
 */
export function histogramRangeDelta(
  s: RangeSeries,
  ctx: FunctionContext,
  pos: PosRange,
  opts: { isCounter: boolean; isRate: boolean },
): FloatHistogram | undefined {
  const hs = s.histograms;
  const n = hs.length;
  // With start timestamps one sample can be enough (a zero point at its start).
  if (n < 2 && !(opts.isCounter && s.hst && n === 1)) return undefined;
  const name = metricName(s.metric);
  const gauge = (h: FloatHistogram): boolean => h.counterResetHint === CounterResetHint.Gauge;
  if (opts.isCounter && hs.some((p) => gauge(p.h))) ctx.annotations.warn(withPos(ctx, MSG.notCounter(name), pos));
  if (!opts.isCounter && hs.some((p) => !gauge(p.h))) ctx.annotations.warn(withPos(ctx, MSG.notGauge(name), pos));
  // A reset right after the first sample leaves only its count in play (for the extrapolation),
  // so its bucket layout need not match the others' (as in Prometheus).
  const skipFirst = opts.isCounter && n > 1 && histogramIsCounterReset(hs[0]!.h, hs[1]!.h);
  const custom = hs.slice(skipFirst ? 1 : 0).map((p) => p.h.schema === -53);
  if (custom.some((c) => c) && custom.some((c) => !c)) {
    ctx.annotations.warn(withPos(ctx, MSG.mixedExpCustom(name), pos));
    return undefined;
  }
  if (opts.isCounter && s.hst) {
    const hst = s.hst;
    warnOverlaps(hs, hst, s, ctx, pos);
    const ops = {
      delta: (a: FloatHistogram, b: FloatHistogram) => histogramDelta(a, b, ctx, pos, name),
      add: addHistograms,
      isReset: histogramIsCounterReset,
      scale: (h: FloatHistogram, f: number) => scaleHistogram(h, f, true),
    };
    return startAwareHistogramIncrease(hs, hst, ctx.rangeStart, ctx.rangeEnd, opts.isRate, ops, (r, ft, lt, k, fv) =>
      extrapolationFactor(r, ft, lt, k, ctx.rangeStart, ctx.rangeEnd, fv, opts.isRate),
    );
  }
  const first = hs[0]!;
  const last = hs[n - 1]!;
  let result = skipFirst ? last.h : histogramDelta(last.h, first.h, ctx, pos, name);
  if (!result) return undefined;
  if (opts.isCounter) {
    for (let i = skipFirst ? 2 : 1; i < n; i++) {
      const prev = hs[i - 1]!.h;
      if (!histogramIsCounterReset(prev, hs[i]!.h)) continue;
      const added: FloatHistogram | undefined = addHistograms(result, prev);
      if (!added) return undefined;
      result = added;
    }
  }
  const factor = extrapolationFactor(
    result.count,
    first.t,
    last.t,
    n,
    ctx.rangeStart,
    ctx.rangeEnd,
    opts.isCounter ? first.h.count : undefined,
    opts.isRate,
  );
  return scaleHistogram(result, factor, true);
}

function extrapolatedRate(isCounter: boolean, isRate: boolean): FunctionImpl {
  return (args, exprs, ctx): Vector => {
    const s = seriesArg(args, 0);
    if (!s) return [];
    const pos = argPos(exprs, 0);
    const mname = metricName(s.metric);
    if (isCounter && s.floats.length > 0 && mname !== '' && !s.dropName && !COUNTER_SUFFIXES.some((x) => mname.endsWith(x))) {
      ctx.annotations.info(withPos(ctx, MSG.possibleNonCounter(mname), pos));
    }
    if (ctx.anchored || ctx.smoothed) return extendedRate(s, ctx, pos, { isCounter, isRate });
    if (s.floats.length > 0 && s.histograms.length > 0) {
      ctx.annotations.warn(withPos(ctx, MSG.mixedFloatsHistograms(mname), pos));
      return [];
    }
    if (s.histograms.length > 0) {
      const h = histogramRangeDelta(s, ctx, pos, { isCounter, isRate });
      return h ? [hsample(s.metric, ctx.ts, h, true)] : [];
    }
    const v = isCounter && s.fst ? startAwareFloatDelta(s, s.fst, ctx, pos, isRate) : extrapolatedFloatDelta(s.floats, ctx.rangeStart, ctx.rangeEnd, isCounter, isRate);
    return v === undefined ? [] : [fsample(s.metric, ctx.ts, v, true)];
  };
}

function startAwareFloatDelta(s: RangeSeries, fst: readonly number[], ctx: FunctionContext, pos: PosRange, isRate: boolean): number | undefined {
  warnOverlaps(s.floats, fst, s, ctx, pos);
  return startAwareFloatIncrease(s.floats, fst, ctx.rangeStart, ctx.rangeEnd, isRate, (r, ft, lt, k, fv) =>
    extrapolationFactor(r, ft, lt, k, ctx.rangeStart, ctx.rangeEnd, fv, isRate),
  );
}

/** `rate(v range-vector)`. */
export const rate: FunctionImpl = extrapolatedRate(true, true);
/** `increase(v range-vector)`. */
export const increase: FunctionImpl = extrapolatedRate(true, false);
/** `delta(v range-vector)`. */
export const delta: FunctionImpl = extrapolatedRate(false, false);

function instantValue(isRate: boolean): FunctionImpl {
  return (args, exprs, ctx): Vector => {
    const s = seriesArg(args, 0);
    if (!s) return [];
    const pts = lastTwo(s);
    if (!pts) return [];
    const [prev, last] = pts;
    const interval = last.t - prev.t;
    if (interval === 0) return [];
    const pos = argPos(exprs, 0);
    // A start timestamp after the previous sample is a reset just like a drop in value.
    const stReset = isRate && isStartReset(prev.t, prev.st, last.t, last.st);
    if (prev.h === undefined && last.h === undefined) {
      let v = isRate && (last.f! < prev.f! || stReset) ? last.f! : last.f! - prev.f!;
      if (isRate) v /= interval / 1000;
      return [fsample(s.metric, ctx.ts, v, true)];
    }
    if (prev.h === undefined || last.h === undefined) {
      ctx.annotations.warn(withPos(ctx, MSG.mixedFloatsHistograms(metricName(s.metric)), pos));
      return [];
    }
    const name = metricName(s.metric);
    const gaugeHint = CounterResetHint.Gauge;
    if (isRate && (prev.h.counterResetHint === gaugeHint || last.h.counterResetHint === gaugeHint)) {
      ctx.annotations.warn(withPos(ctx, MSG.notCounter(name), pos));
    }
    if (!isRate && (prev.h.counterResetHint !== gaugeHint || last.h.counterResetHint !== gaugeHint)) {
      ctx.annotations.warn(withPos(ctx, MSG.notGauge(name), pos));
    }
    const reset = isRate && (stReset || histogramIsCounterReset(prev.h, last.h));
    const d = reset ? last.h : histogramDelta(last.h, prev.h, ctx, pos, name);
    if (!d) return [];
    const out = isRate ? scaleHistogram(d, 1000 / interval, true) : scaleHistogram(d, 1, true);
    return [hsample(s.metric, ctx.ts, out, true)];
  };
}

type Pt = { t: number; f?: number; h?: FloatHistogram; st: number };

function lastTwo(s: RangeSeries): [Pt, Pt] | undefined {
  const fs = s.floats;
  const hs = s.histograms;
  if (fs.length + hs.length < 2) return undefined;
  let i = fs.length - 1;
  let j = hs.length - 1;
  const fst = s.fst;
  const hst = s.hst;
  const pick = (): Pt => {
    if (j < 0 || (i >= 0 && fs[i]!.t >= hs[j]!.t)) {
      const st = fst !== undefined ? fst[i]! : 0;
      const p = fs[i--]!;
      return { t: p.t, f: p.f, st };
    }
    const st = hst !== undefined ? hst[j]! : 0;
    const p = hs[j--]!;
    return { t: p.t, h: p.h, st };
  };
  const last = pick();
  const prev = pick();
  return [prev, last];
}

/** `irate(v range-vector)`: per-second rate from the last two samples. */
export const irate: FunctionImpl = instantValue(true);
/** `idelta(v range-vector)`: difference of the last two samples. */
export const idelta: FunctionImpl = instantValue(false);

/**
 * Least-squares fit of the points with x in seconds relative to `interceptTime`; returns
 * [slope, intercept]. A constant series gives slope 0 (NaN if the constant is infinite).
 */
export function linearRegression(pts: readonly FPoint[], interceptTime: number): [slope: number, intercept: number] {
  const t = new Float64Array(pts.length);
  const v = new Float64Array(pts.length);
  for (let i = 0; i < pts.length; i++) {
    t[i] = pts[i]!.t;
    v[i] = pts[i]!.f;
  }
  return linearRegressionColumns(t, v, 0, pts.length, interceptTime);
}

/** {@link linearRegression} over the points `from..to-1` of parallel time/value columns. */
export function linearRegressionColumns(ts: ArrayLike<number>, vs: ArrayLike<number>, from: number, to: number, interceptTime: number): [slope: number, intercept: number] {
  let n = 0;
  let sumX = 0;
  let cX = 0;
  let sumY = 0;
  let cY = 0;
  let sumXY = 0;
  let cXY = 0;
  let sumX2 = 0;
  let cX2 = 0;
  const initY = vs[from]!;
  let constY = true;
  for (let i = from; i < to; i++) {
    const pf = vs[i]!;
    if (constY && i > from && pf !== initY) constY = false;
    n += 1;
    const x = (ts[i]! - interceptTime) / 1000;
    // Kahan–Neumaier steps inlined (this loop is hot; see kahanSumInc for the definition).
    let t = sumX + x;
    if (t === Infinity || t === -Infinity) cX = 0;
    else cX += Math.abs(sumX) >= Math.abs(x) ? sumX - t + x : x - t + sumX;
    sumX = t;
    t = sumY + pf;
    if (t === Infinity || t === -Infinity) cY = 0;
    else cY += Math.abs(sumY) >= Math.abs(pf) ? sumY - t + pf : pf - t + sumY;
    sumY = t;
    const xy = x * pf;
    t = sumXY + xy;
    if (t === Infinity || t === -Infinity) cXY = 0;
    else cXY += Math.abs(sumXY) >= Math.abs(xy) ? sumXY - t + xy : xy - t + sumXY;
    sumXY = t;
    const x2 = x * x;
    t = sumX2 + x2;
    if (t === Infinity || t === -Infinity) cX2 = 0;
    else cX2 += Math.abs(sumX2) >= Math.abs(x2) ? sumX2 - t + x2 : x2 - t + sumX2;
    sumX2 = t;
  }
  if (constY) {
    if (initY === Infinity || initY === -Infinity) return [Number.NaN, Number.NaN];
    return [0, initY];
  }
  sumX += cX;
  sumY += cY;
  sumXY += cXY;
  sumX2 += cX2;
  const covXY = sumXY - (sumX * sumY) / n;
  const varX = sumX2 - (sumX * sumX) / n;
  const slope = covXY / varX;
  const intercept = sumY / n - (slope * sumX) / n;
  return [slope, intercept];
}

/** `deriv(v range-vector)`: per-second slope by simple linear regression. */
export const deriv: FunctionImpl = (args, exprs, ctx) => {
  const s = seriesArg(args, 0);
  if (!s) return [];
  const pts = floatsOnly(s, ctx, argPos(exprs, 0));
  if (!pts || pts.length < 2) return [];
  // The first sample's time as origin keeps the sums small (better precision).
  const [slope] = linearRegression(pts, pts[0]!.t);
  return [fsample(s.metric, ctx.ts, slope, true)];
};

/** `predict_linear(v range-vector, t scalar)`: the fitted value `t` seconds after the evaluation time. */
export const predictLinear: FunctionImpl = (args, exprs, ctx) => {
  const s = seriesArg(args, 0);
  if (!s) return [];
  const pts = floatsOnly(s, ctx, argPos(exprs, 0));
  if (!pts || pts.length < 2) return [];
  const duration = scalarArg(args, 1);
  const [slope, intercept] = linearRegression(pts, ctx.ts);
  return [fsample(s.metric, ctx.ts, slope * duration + intercept, true)];
};

/** `resets(v range-vector)`: number of counter resets (a switch float↔histogram counts). */
export const resets: FunctionImpl = (args, _exprs, ctx) => {
  const s = seriesArg(args, 0);
  if (!s) return [];
  const pts = ctx.anchored ? anchoredPoints(s, ctx) : mergedPoints(s);
  if (!pts || pts.length === 0) return [];
  const sts = ctx.anchored ? undefined : mergedStarts(s);
  let count = 0;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    if (sts && isStartReset(a.t, sts[i - 1]!, b.t, sts[i]!)) {
      count++;
    } else if (a.h === undefined && b.h === undefined) {
      if (b.f < a.f) count++;
    } else if (a.h === undefined || b.h === undefined) {
      count++;
    } else if ((a.h.counterResetHint === CounterResetHint.Gauge) !== (b.h.counterResetHint === CounterResetHint.Gauge)) {
      count++;
    } else if (histogramIsCounterReset(a.h, b.h)) {
      count++;
    }
  }
  return [fsample(s.metric, ctx.ts, count, true)];
};

/** `changes(v range-vector)`: number of value changes (NaN→NaN is no change). */
export const changes: FunctionImpl = (args, _exprs, ctx) => {
  const s = seriesArg(args, 0);
  if (!s) return [];
  const pts = ctx.anchored ? anchoredPoints(s, ctx) : mergedPoints(s);
  if (!pts || pts.length === 0) return [];
  let count = 0;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    if (a.h === undefined && b.h === undefined) {
      if (!(a.f === b.f || (Number.isNaN(a.f) && Number.isNaN(b.f)))) count++;
    } else if (a.h === undefined || b.h === undefined) {
      count++;
    } else if (!histogramsEqual(a.h, b.h)) {
      count++;
    }
  }
  return [fsample(s.metric, ctx.ts, count, true)];
};

/**
 * The `<aggregation>_over_time` family and the `ts_of_*_over_time` functions. Each receives
 * ONE series restricted to the window and returns at most one sample.
 *
 * Name handling: `last_over_time` and `first_over_time` keep `__name__` (they return an actual
 * sample of the series); every other function marks it for delayed removal.
 */
import type { FPoint, RangeSeries, Sample, Vector } from '../values.js';
import type { PosRange } from '../../parser/ast.js';
import type { FloatHistogram } from '../../../model/histogram.js';
import type { FunctionContext, FunctionImpl } from './contract.js';
import { histogramMean, histogramSum, type HistogramAggNotes } from '../histogram-kahan.js';
import { MSG, argPos, floatsOnly, fsample, hsample, kahanSumInc, metricName, scalarArg, seriesArg, withPos } from './util.js';

/**
 * Mean of the values: plain Kahan sum divided by the count while the sum stays finite, then
 * (on overflow) an incremental mean, as Prometheus does to avoid needless overflow.
 */
export function floatMean(values: ArrayLike<number>, from = 0, to = values.length): number {
  const n = to - from;
  if (n <= 0) return Number.NaN;
  let sum = values[from]!;
  let c = 0;
  let mean = 0;
  let incremental = false;
  for (let i = 1; i < n; i++) {
    const f = values[from + i]!;
    const count = i + 1;
    if (!incremental) {
      // Kahan–Neumaier step inlined (see kahanSumInc).
      const t = sum + f;
      if (t !== Infinity && t !== -Infinity) {
        c += Math.abs(sum) >= Math.abs(f) ? sum - t + f : f - t + sum;
        sum = t;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    const q = (count - 1) / count;
    [mean, c] = kahanSumInc(f / count, q * mean, q * c);
  }
  if (incremental) return mean + c;
  return sum / n + c / n;
}

/** Kahan sum of the values. */
export function floatSum(values: ArrayLike<number>, from = 0, to = values.length): number {
  let sum = 0;
  let c = 0;
  for (let i = from; i < to; i++) {
    const v = values[i]!;
    const t = sum + v;
    if (t === Infinity || t === -Infinity) c = 0;
    else c += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + c;
}

/** Population variance by Welford's method with Kahan-compensated accumulators. */
export function floatVariance(values: ArrayLike<number>, from = 0, to = values.length): number {
  let count = 0;
  let mean = 0;
  let cMean = 0;
  let aux = 0;
  let cAux = 0;
  for (let i = from; i < to; i++) {
    const f = values[i]!;
    count++;
    const delta = f - (mean + cMean);
    [mean, cMean] = kahanSumInc(delta / count, mean, cMean);
    [aux, cAux] = kahanSumInc(delta * (f - (mean + cMean)), aux, cAux);
  }
  return (aux + cAux) / count;
}

/**
 * φ-quantile of the values with linear interpolation between closest ranks (PromQL's
 * `quantile`): φ < 0 → -Inf, φ > 1 → +Inf, NaN φ or no values → NaN. Sorts `values` in place
 * (NaN first, as Go's sort does).
 */
export function floatQuantile(q: number, values: number[]): number {
  const n = values.length;
  if (n === 0 || Number.isNaN(q)) return Number.NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  values.sort((a, b) => (Number.isNaN(a) ? (Number.isNaN(b) ? 0 : -1) : Number.isNaN(b) ? 1 : a - b));
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  return values[lower]! * (1 - weight) + values[upper]! * weight;
}

const fvals = (pts: readonly FPoint[]): number[] => pts.map((p) => p.f);

/** A function that uses only float samples (histograms ignored, with an info when mixed). */
function floatOverTime(fn: (pts: readonly FPoint[]) => number, argIndex = 0): FunctionImpl {
  return (args, exprs, ctx) => {
    const s = seriesArg(args, argIndex);
    if (!s) return [];
    const pts = floatsOnly(s, ctx, argPos(exprs, argIndex));
    if (!pts) return [];
    return [fsample(s.metric, ctx.ts, fn(pts), true)];
  };
}

/** For avg/sum: floats or histograms, but a mix is dropped with a warning. */
function floatOrHistogramOverTime(
  ffn: (values: readonly number[]) => number,
  hfn: (s: RangeSeries, ctx: FunctionContext, pos: PosRange) => FloatHistogram | undefined,
): FunctionImpl {
  return (args, exprs, ctx) => {
    const s = seriesArg(args, 0);
    if (!s) return [];
    if (s.floats.length > 0 && s.histograms.length > 0) {
      ctx.annotations.warn(withPos(ctx, MSG.mixedFloatsHistograms(metricName(s.metric)), argPos(exprs, 0)));
      return [];
    }
    if (s.floats.length > 0) return [fsample(s.metric, ctx.ts, ffn(fvals(s.floats)), true)];
    if (s.histograms.length === 0) return [];
    const h = hfn(s, ctx, argPos(exprs, 0));
    return h ? [hsample(s.metric, ctx.ts, h, true)] : [];
  };
}

function histogramNotes(s: RangeSeries, ctx: FunctionContext, pos: PosRange): HistogramAggNotes {
  return {
    mixedSchemas: () => ctx.annotations.warn(withPos(ctx, MSG.mixedExpCustom(metricName(s.metric)), pos)),
    reconciled: () => ctx.annotations.info(withPos(ctx, 'PromQL info: mismatched custom buckets were reconciled during aggregation', pos)),
    conflictingResets: () => ctx.annotations.warn(withPos(ctx, 'PromQL warning: conflicting counter resets during histogram aggregation', pos)),
  };
}

function histogramSumOf(s: RangeSeries, ctx: FunctionContext, pos: PosRange): FloatHistogram | undefined {
  return histogramSum(
    s.histograms.map((p) => p.h),
    histogramNotes(s, ctx, pos),
  );
}

/** `avg_over_time(v range-vector)`. */
export const avgOverTime: FunctionImpl = floatOrHistogramOverTime(floatMean, (s, ctx, pos) =>
  histogramMean(
    s.histograms.map((p) => p.h),
    histogramNotes(s, ctx, pos),
  ),
);

/** `sum_over_time(v range-vector)`. */
export const sumOverTime: FunctionImpl = floatOrHistogramOverTime(floatSum, histogramSumOf);

/** `count_over_time(v range-vector)`: floats and histograms alike. */
export const countOverTime: FunctionImpl = (args, _exprs, ctx) => {
  const s = seriesArg(args, 0);
  if (!s) return [];
  const n = s.floats.length + s.histograms.length;
  return n === 0 ? [] : [fsample(s.metric, ctx.ts, n, true)];
};

/** `min_over_time(v range-vector)`: NaN only when all values are NaN. */
export const minOverTime: FunctionImpl = floatOverTime((pts) => {
  let m = pts[0]!.f;
  for (const p of pts) if (p.f < m || Number.isNaN(m)) m = p.f;
  return m;
});

/** `max_over_time(v range-vector)`: NaN only when all values are NaN. */
export const maxOverTime: FunctionImpl = floatOverTime((pts) => {
  let m = pts[0]!.f;
  for (const p of pts) if (p.f > m || Number.isNaN(m)) m = p.f;
  return m;
});

/** `stdvar_over_time(v range-vector)`: population variance. */
export const stdvarOverTime: FunctionImpl = floatOverTime((pts) => floatVariance(fvals(pts)));

/** `stddev_over_time(v range-vector)`: population standard deviation. */
export const stddevOverTime: FunctionImpl = floatOverTime((pts) => Math.sqrt(floatVariance(fvals(pts))));

/** `mad_over_time(v range-vector)`: median absolute deviation; any NaN makes it NaN. */
export const madOverTime: FunctionImpl = floatOverTime((pts) => {
  const vals = fvals(pts);
  if (vals.some((v) => Number.isNaN(v))) return Number.NaN;
  const median = floatQuantile(0.5, vals);
  return floatQuantile(
    0.5,
    vals.map((v) => Math.abs(v - median)),
  );
});

/** `quantile_over_time(φ scalar, v range-vector)`. */
export const quantileOverTime: FunctionImpl = (args, exprs, ctx) => {
  const s = seriesArg(args, 1);
  if (!s) return [];
  const pts = floatsOnly(s, ctx, argPos(exprs, 1));
  if (!pts) return [];
  const q = scalarArg(args, 0);
  if (Number.isNaN(q) || q < 0 || q > 1) ctx.annotations.warn(withPos(ctx, MSG.invalidQuantile(q), argPos(exprs, 0)));
  return [fsample(s.metric, ctx.ts, floatQuantile(q, fvals(pts)), true)];
};

function lastSample(s: RangeSeries): { t: number; sample: Omit<Sample, 'metric' | 't'> } | undefined {
  const f = s.floats[s.floats.length - 1];
  const h = s.histograms[s.histograms.length - 1];
  if (f && (!h || f.t > h.t)) return { t: f.t, sample: { f: f.f } };
  if (h) return { t: h.t, sample: { f: 0, h: h.h } };
  return undefined;
}

function firstSample(s: RangeSeries): { t: number; sample: Omit<Sample, 'metric' | 't'> } | undefined {
  const f = s.floats[0];
  const h = s.histograms[0];
  if (f && (!h || f.t < h.t)) return { t: f.t, sample: { f: f.f } };
  if (h) return { t: h.t, sample: { f: 0, h: h.h } };
  return undefined;
}

function keepName(s: RangeSeries, ts: number, v: Omit<Sample, 'metric' | 't'>): Vector {
  const out: Sample = { metric: s.metric, t: ts, ...v };
  if (s.dropName) out.dropName = true;
  return [out];
}

/** `last_over_time(v range-vector)`: the newest sample; keeps the metric name. */
export const lastOverTime: FunctionImpl = (args, _exprs, ctx) => {
  const s = seriesArg(args, 0);
  const l = s && lastSample(s);
  return s && l ? keepName(s, ctx.ts, l.sample) : [];
};

/** `first_over_time(v range-vector)`: the oldest sample; keeps the metric name. */
export const firstOverTime: FunctionImpl = (args, _exprs, ctx) => {
  const s = seriesArg(args, 0);
  const f = s && firstSample(s);
  return s && f ? keepName(s, ctx.ts, f.sample) : [];
};

/** `present_over_time(v range-vector)`: 1 for any series with a sample. */
export const presentOverTime: FunctionImpl = (args, _exprs, ctx) => {
  const s = seriesArg(args, 0);
  if (!s || s.floats.length + s.histograms.length === 0) return [];
  return [fsample(s.metric, ctx.ts, 1, true)];
};

/** `ts_of_last_over_time(v range-vector)`: timestamp (s) of the newest sample. */
export const tsOfLastOverTime: FunctionImpl = (args, _exprs, ctx) => {
  const s = seriesArg(args, 0);
  const l = s && lastSample(s);
  return s && l ? [fsample(s.metric, ctx.ts, l.t / 1000, true)] : [];
};

/** `ts_of_first_over_time(v range-vector)`: timestamp (s) of the oldest sample. */
export const tsOfFirstOverTime: FunctionImpl = (args, _exprs, ctx) => {
  const s = seriesArg(args, 0);
  const f = s && firstSample(s);
  return s && f ? [fsample(s.metric, ctx.ts, f.t / 1000, true)] : [];
};

/** `ts_of_min_over_time(v range-vector)`: timestamp of the last float sample with the minimum. */
export const tsOfMinOverTime: FunctionImpl = floatOverTime((pts) => {
  let m = pts[0]!.f;
  let t = pts[0]!.t;
  for (const p of pts) {
    if (p.f <= m || Number.isNaN(m)) {
      m = p.f;
      t = p.t;
    }
  }
  return t / 1000;
});

/** `ts_of_max_over_time(v range-vector)`: timestamp of the last float sample with the maximum. */
export const tsOfMaxOverTime: FunctionImpl = floatOverTime((pts) => {
  let m = pts[0]!.f;
  let t = pts[0]!.t;
  for (const p of pts) {
    if (p.f >= m || Number.isNaN(m)) {
      m = p.f;
      t = p.t;
    }
  }
  return t / 1000;
});

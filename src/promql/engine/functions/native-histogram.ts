/**
 * Native-histogram support: arithmetic (add, subtract, scale) with schema reconciliation,
 * counter-reset detection, equality, quantile and fraction estimation, and the
 * `histogram_count/sum/avg/stddev/stdvar` functions.
 *
 * Histograms are converted to a sparse form (bucket index → count) for arithmetic and back to
 * spans afterwards (empty buckets dropped). Exponential bucket `i` of schema `s` covers
 * `(2^((i-1)·2^-s), 2^(i·2^-s)]`; custom bucket `i` covers `(cv[i-1], cv[i]]` with open ends.
 */
import { CUSTOM_BUCKETS_SCHEMA, CounterResetHint, type BucketSpan, type FloatHistogram } from '../../../model/histogram.js';
import type { PosRange } from '../../parser/ast.js';
import type { Vector } from '../values.js';
import type { FunctionContext, FunctionImpl } from './contract.js';
import { MSG, fsample, kahanSumInc, vectorArg, withPos } from './util.js';

/** Sparse form of a histogram. */
interface Sparse {
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  count: number;
  sum: number;
  pos: Map<number, number>;
  neg: Map<number, number>;
  customValues?: readonly number[];
  hint: CounterResetHint;
}

function expand(spans: readonly BucketSpan[], counts: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  let idx = 0;
  let k = 0;
  for (let si = 0; si < spans.length; si++) {
    const sp = spans[si]!;
    idx += sp.offset;
    for (let j = 0; j < sp.length; j++) {
      const c = counts[k++];
      if (c !== undefined) m.set(idx, (m.get(idx) ?? 0) + c);
      idx++;
    }
  }
  return m;
}

function toSparse(h: FloatHistogram): Sparse {
  const s: Sparse = {
    schema: h.schema,
    zeroThreshold: h.zeroThreshold,
    zeroCount: h.zeroCount,
    count: h.count,
    sum: h.sum,
    pos: expand(h.positiveSpans, h.positiveBuckets),
    neg: expand(h.negativeSpans, h.negativeBuckets),
    hint: h.counterResetHint,
  };
  if (h.customValues) s.customValues = h.customValues;
  return s;
}

function compact(m: Map<number, number>): { spans: BucketSpan[]; buckets: number[] } {
  const idx = [...m.entries()].filter(([, c]) => c !== 0).sort((a, b) => a[0] - b[0]);
  const spans: BucketSpan[] = [];
  const buckets: number[] = [];
  let prevEnd = 0;
  let cur: { offset: number; length: number } | undefined;
  for (const [i, c] of idx) {
    if (cur && i === prevEnd) {
      cur.length++;
    } else {
      cur = { offset: spans.length === 0 ? i : i - prevEnd, length: 1 };
      spans.push(cur);
    }
    buckets.push(c);
    prevEnd = i + 1;
  }
  return { spans, buckets };
}

function fromSparse(s: Sparse): FloatHistogram {
  const p = compact(s.pos);
  const n = compact(s.neg);
  const h: FloatHistogram = {
    counterResetHint: s.hint,
    schema: s.schema,
    zeroThreshold: s.zeroThreshold,
    zeroCount: s.zeroCount,
    count: s.count,
    sum: s.sum,
    positiveSpans: p.spans,
    negativeSpans: n.spans,
    positiveBuckets: p.buckets,
    negativeBuckets: n.buckets,
    ...(s.customValues ? { customValues: s.customValues } : {}),
  };
  return h;
}

const isCustom = (h: { schema: number }): boolean => h.schema === CUSTOM_BUCKETS_SCHEMA;

/** Upper bound of exponential bucket `idx` at `schema`. */
function expUpper(idx: number, schema: number): number {
  return Math.pow(2, idx * Math.pow(2, -schema));
}

/** Maps bucket indexes to a lower-resolution schema, adding counts. */
function reduceSchema(m: Map<number, number>, from: number, to: number): Map<number, number> {
  if (from === to) return new Map(m);
  const out = new Map<number, number>();
  const shift = from - to;
  for (const [i, c] of m) {
    const j = Math.floor((i - 1) / 2 ** shift) + 1;
    out.set(j, (out.get(j) ?? 0) + c);
  }
  return out;
}

/** Moves buckets that lie inside a widened zero bucket into the zero count. */
function widenZero(s: Sparse, threshold: number): void {
  if (threshold <= s.zeroThreshold) return;
  for (const m of [s.pos, s.neg]) {
    for (const [i, c] of m) {
      if (expUpper(i, s.schema) <= threshold) {
        s.zeroCount += c;
        m.delete(i);
      }
    }
  }
  s.zeroThreshold = threshold;
}

/** Maps custom buckets onto common (intersected) bounds. */
function remapCustom(m: Map<number, number>, cv: readonly number[], common: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const [i, c] of m) {
    const ub = i < cv.length ? cv[i]! : Infinity;
    let j = common.findIndex((b) => b >= ub);
    if (j < 0) j = common.length;
    out.set(j, (out.get(j) ?? 0) + c);
  }
  return out;
}

/**
 * Brings two histograms to a common layout. Undefined (with a warning) when one uses custom
 * buckets and the other does not. Different custom bounds are reconciled to their intersection
 * with an info (`op` names the operation in it).
 */
function align(
  a: FloatHistogram,
  b: FloatHistogram,
  diag?: { ctx: FunctionContext; pos: PosRange; name: string; op: string },
): [Sparse, Sparse] | undefined {
  const x = toSparse(a);
  const y = toSparse(b);
  if (isCustom(x) !== isCustom(y)) {
    diag?.ctx.annotations.warn(withPos(diag.ctx, MSG.mixedExpCustom(diag.name), diag.pos));
    return undefined;
  }
  if (isCustom(x)) {
    const cx = x.customValues ?? [];
    const cy = y.customValues ?? [];
    if (cx.length !== cy.length || cx.some((v, i) => v !== cy[i])) {
      const set = new Set(cy);
      const common = cx.filter((v) => set.has(v));
      x.pos = remapCustom(x.pos, cx, common);
      y.pos = remapCustom(y.pos, cy, common);
      x.customValues = common;
      y.customValues = common;
      diag?.ctx.annotations.info(withPos(diag.ctx, `PromQL info: mismatched custom buckets were reconciled during ${diag.op}`, diag.pos));
    }
    return [x, y];
  }
  const schema = Math.min(x.schema, y.schema);
  for (const s of [x, y]) {
    s.pos = reduceSchema(s.pos, s.schema, schema);
    s.neg = reduceSchema(s.neg, s.schema, schema);
    s.schema = schema;
  }
  const zt = Math.max(x.zeroThreshold, y.zeroThreshold);
  widenZero(x, zt);
  widenZero(y, zt);
  return [x, y];
}

function combine(x: Sparse, y: Sparse, sign: 1 | -1): Sparse {
  const merge = (p: Map<number, number>, q: Map<number, number>): Map<number, number> => {
    const out = new Map(p);
    for (const [i, c] of q) out.set(i, (out.get(i) ?? 0) + sign * c);
    return out;
  };
  return {
    ...x,
    zeroCount: x.zeroCount + sign * y.zeroCount,
    count: x.count + sign * y.count,
    sum: x.sum + sign * y.sum,
    pos: merge(x.pos, y.pos),
    neg: merge(x.neg, y.neg),
  };
}

/**
 * a + b, or undefined when the layouts are incompatible. With `diag`, incompatibility and
 * reconciled custom bounds are reported (`op` e.g. 'aggregation').
 */
export function addHistograms(
  a: FloatHistogram,
  b: FloatHistogram,
  diag?: { ctx: FunctionContext; pos: PosRange; name: string; op: string },
): FloatHistogram | undefined {
  const al = align(a, b, diag);
  return al ? fromSparse(combine(al[0], al[1], 1)) : undefined;
}

/** a − b (a gauge histogram), or undefined (with a warning) when the layouts are incompatible. */
export function histogramDelta(a: FloatHistogram, b: FloatHistogram, ctx: FunctionContext, pos: PosRange, name: string): FloatHistogram | undefined {
  const al = align(a, b, { ctx, pos, name, op: 'subtraction' });
  if (!al) return undefined;
  const r = combine(al[0], al[1], -1);
  r.hint = CounterResetHint.Gauge;
  return fromSparse(r);
}

/** Multiplies every count and the sum by `factor`; `asGauge` marks the result as a gauge. */
export function scaleHistogram(h: FloatHistogram, factor: number, asGauge: boolean): FloatHistogram {
  return {
    ...h,
    counterResetHint: asGauge ? CounterResetHint.Gauge : h.counterResetHint,
    zeroCount: h.zeroCount * factor,
    count: h.count * factor,
    sum: h.sum * factor,
    positiveBuckets: h.positiveBuckets.map((c) => c * factor),
    negativeBuckets: h.negativeBuckets.map((c) => c * factor),
  };
}

/** True when `cur` is a counter reset relative to `prev` (hint first, then the data). */
export function histogramIsCounterReset(prev: FloatHistogram, cur: FloatHistogram): boolean {
  if (cur.counterResetHint === CounterResetHint.Yes) return true;
  if (cur.counterResetHint === CounterResetHint.No) return false;
  if (cur.count < prev.count) return true;
  if (isCustom(cur) !== isCustom(prev)) return true;
  if (!isCustom(cur)) {
    if (cur.schema > prev.schema) return true;
    if (cur.zeroThreshold < prev.zeroThreshold) return true;
  }
  const al = align(prev, cur);
  if (!al) return true;
  const [p, c] = al;
  if (c.zeroCount < p.zeroCount) return true;
  for (const [mp, mc] of [
    [p.pos, c.pos],
    [p.neg, c.neg],
  ] as const) {
    for (const [i, v] of mp) if (v > 0 && (mc.get(i) ?? 0) < v) return true;
  }
  return false;
}

/** Structural equality, ignoring the counter/gauge hint and empty buckets. */
export function histogramsEqual(a: FloatHistogram, b: FloatHistogram): boolean {
  if (a.schema !== b.schema || a.zeroThreshold !== b.zeroThreshold) return false;
  const same = (x: number, y: number): boolean => x === y || (Number.isNaN(x) && Number.isNaN(y));
  if (!same(a.zeroCount, b.zeroCount) || !same(a.count, b.count) || !same(a.sum, b.sum)) return false;
  const ca = a.customValues ?? [];
  const cb = b.customValues ?? [];
  if (ca.length !== cb.length || ca.some((v, i) => v !== cb[i])) return false;
  const x = toSparse(a);
  const y = toSparse(b);
  for (const [m, n] of [
    [x.pos, y.pos],
    [x.neg, y.neg],
  ] as const) {
    const keys = new Set([...m.keys(), ...n.keys()]);
    for (const k of keys) if (!same(m.get(k) ?? 0, n.get(k) ?? 0)) return false;
  }
  return true;
}

/** One bucket with bounds, in ascending order of values. */
interface BoundedBucket {
  lower: number;
  upper: number;
  count: number;
  /** Zero bucket or custom bucket: interpolate linearly (else exponentially). */
  linear: boolean;
}

/** All buckets in ascending order: negative (most negative first), zero, positive. */
function ascendingBuckets(h: FloatHistogram): BoundedBucket[] {
  const s = toSparse(h);
  const out: BoundedBucket[] = [];
  if (isCustom(h)) {
    const cv = h.customValues ?? [];
    for (const i of [...s.pos.keys()].sort((a, b) => a - b)) {
      const lower = i === 0 ? -Infinity : (cv[i - 1] ?? Infinity);
      const upper = i < cv.length ? cv[i]! : Infinity;
      out.push({ lower, upper, count: s.pos.get(i)!, linear: true });
    }
    return out;
  }
  for (const i of [...s.neg.keys()].sort((a, b) => b - a)) {
    out.push({ lower: -expUpper(i, s.schema), upper: -expUpper(i - 1, s.schema), count: s.neg.get(i)!, linear: false });
  }
  if (s.zeroCount !== 0 || s.zeroThreshold !== 0) {
    const hasNeg = [...s.neg.values()].some((c) => c !== 0);
    const hasPos = [...s.pos.values()].some((c) => c !== 0);
    // A zero bucket is assumed one-sided when only the other side has observations.
    const lower = hasPos && !hasNeg ? 0 : -s.zeroThreshold;
    const upper = hasNeg && !hasPos ? 0 : s.zeroThreshold;
    out.push({ lower, upper, count: s.zeroCount, linear: true });
  }
  for (const i of [...s.pos.keys()].sort((a, b) => a - b)) {
    out.push({ lower: expUpper(i - 1, s.schema), upper: expUpper(i, s.schema), count: s.pos.get(i)!, linear: false });
  }
  return out;
}

/** Position in [0,1] of `v` inside the bucket (exponential buckets interpolate in log space). */
function within(b: BoundedBucket, v: number): number {
  if (b.lower === -Infinity) return 1;
  if (b.upper === Infinity) return 0;
  if (b.linear) return (v - b.lower) / (b.upper - b.lower);
  if (b.lower > 0) return (Math.log2(v) - Math.log2(b.lower)) / (Math.log2(b.upper) - Math.log2(b.lower));
  return 1 - (Math.log2(-v) - Math.log2(-b.upper)) / (Math.log2(-b.lower) - Math.log2(-b.upper));
}

/** φ-quantile of a native histogram (NaN observations noted with an info). */
export function nativeQuantile(q: number, h: FloatHistogram, name: string, ctx: FunctionContext, pos: PosRange): number {
  if (Number.isNaN(q)) return Number.NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (h.count === 0) return Number.NaN;
  const buckets = ascendingBuckets(h).filter((b) => b.count !== 0);
  const nanObservations = !isCustom(h) && buckets.reduce((a, x) => a + x.count, 0) < h.count;
  if (buckets.length === 0) {
    if (nanObservations) {
      ctx.annotations.info(withPos(ctx, `PromQL info: input to histogram_quantile has NaN observations, result is NaN for metric name ${JSON.stringify(name)}`, pos));
    }
    return Number.NaN;
  }
  const rank = q * h.count;
  let count = 0;
  let idx = 0;
  for (; idx < buckets.length; idx++) {
    count += buckets[idx]!.count;
    if (count >= rank) break;
  }
  if (idx >= buckets.length) idx = buckets.length - 1;
  const b = buckets[idx]!;
  // Exactly on a bucket's upper edge: the answer is where the next populated bucket starts
  // (this skips a span of empty buckets in between).
  const next = buckets[idx + 1];
  if (count === rank && next && !nanObservations && next.lower !== -Infinity) return next.lower;
  if (nanObservations) {
    if (count < rank) {
      ctx.annotations.info(withPos(ctx, `PromQL info: input to histogram_quantile has NaN observations, result is NaN for metric name ${JSON.stringify(name)}`, pos));
      return Number.NaN;
    }
    ctx.annotations.info(withPos(ctx, `PromQL info: input to histogram_quantile has NaN observations, result is skewed higher for metric name ${JSON.stringify(name)}`, pos));
  }
  let lower = b.lower;
  const upper = b.upper;
  if (isCustom(h)) {
    if (lower === -Infinity) {
      if (upper <= 0) return upper;
      lower = 0;
    } else if (upper === Infinity) {
      return lower;
    }
  }
  if (count > h.count) count = h.count;
  const fraction = (rank - (count - b.count)) / b.count;
  if (b.linear || (lower <= 0 && upper >= 0)) return lower + (upper - lower) * fraction;
  const logLower = Math.log2(Math.abs(lower));
  const logUpper = Math.log2(Math.abs(upper));
  if (lower > 0) return Math.pow(2, logLower + (logUpper - logLower) * fraction);
  return -Math.pow(2, logUpper + (logLower - logUpper) * (1 - fraction));
}

/** Estimated fraction of observations in (lower, upper] of a native histogram. */
export function nativeFraction(lower: number, upper: number, h: FloatHistogram, name: string, ctx: FunctionContext, pos: PosRange): number {
  if (h.count === 0 || Number.isNaN(lower) || Number.isNaN(upper)) return Number.NaN;
  const buckets = ascendingBuckets(h);
  const inBuckets = buckets.reduce((a, x) => a + x.count, 0);
  if (!isCustom(h) && inBuckets < h.count) {
    ctx.annotations.info(
      withPos(ctx, `PromQL info: input to histogram_fraction has NaN observations, which are excluded from all fractions for metric name ${JSON.stringify(name)}`, pos),
    );
  }
  if (lower >= upper) return 0;
  const rankAt = (v: number): number => {
    if (v === -Infinity) return 0;
    if (v === Infinity) return inBuckets;
    let r = 0;
    for (const b of buckets) {
      if (v >= b.upper) {
        r += b.count;
        continue;
      }
      if (v <= b.lower) return r;
      let bl = b.lower;
      // Custom buckets: the first bucket starts at 0 when its upper bound is positive.
      if (isCustom(h) && bl === -Infinity && b.upper > 0) {
        bl = 0;
        if (v <= 0) return r;
      }
      return r + b.count * within({ ...b, lower: bl }, v);
    }
    return r;
  };
  return (Math.min(rankAt(upper), h.count) - Math.min(rankAt(lower), h.count)) / h.count;
}

function histogramMap(fn: (h: FloatHistogram) => number): FunctionImpl {
  return (args, _exprs, ctx): Vector => {
    const out: Vector = [];
    for (const s of vectorArg(args, 0)) if (s.h !== undefined) out.push(fsample(s.metric, ctx.ts, fn(s.h), true));
    return out;
  };
}

/** Estimated variance of the observations, each bucket's observations at its mean value. */
export function histogramVariance(h: FloatHistogram): number {
  if (h.count === 0) return Number.NaN;
  const mean = h.sum / h.count;
  let acc = 0;
  let c = 0;
  for (const b of ascendingBuckets(h)) {
    if (b.count === 0) continue;
    let v: number;
    if (b.lower === -Infinity) v = b.upper;
    else if (b.upper === Infinity) v = b.lower;
    else if (b.linear) v = (b.lower + b.upper) / 2;
    else v = Math.sign(b.upper) * Math.sqrt(b.lower * b.upper);
    const d = v - mean;
    [acc, c] = kahanSumInc(b.count * d * d, acc, c);
  }
  return (acc + c) / h.count;
}

/** `histogram_count(v)`. */
export const histogramCount: FunctionImpl = histogramMap((h) => h.count);
/** `histogram_sum(v)`. */
export const histogramSum: FunctionImpl = histogramMap((h) => h.sum);
/** `histogram_avg(v)`. */
export const histogramAvg: FunctionImpl = histogramMap((h) => h.sum / h.count);
/** `histogram_stdvar(v)`. */
export const histogramStdvar: FunctionImpl = histogramMap(histogramVariance);
/** `histogram_stddev(v)`. */
export const histogramStddev: FunctionImpl = histogramMap((h) => Math.sqrt(histogramVariance(h)));

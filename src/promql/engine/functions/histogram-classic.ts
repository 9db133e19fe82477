/**
 * `histogram_quantile`, `histogram_quantiles` and `histogram_fraction`. Float samples are the
 * cumulative buckets of classic histograms (grouped by their labels without `le`); native
 * histogram samples are each a histogram of their own (see native-histogram.ts).
 */
import { labelsGet, labelsKey, labelsWithout, LabelsBuilder, type Labels } from '../../../model/labels.js';
import type { FloatHistogram } from '../../../model/histogram.js';
import type { PosRange } from '../../parser/ast.js';
import { QueryError, type Vector } from '../values.js';
import type { FunctionContext, FunctionImpl } from './contract.js';
import { nativeFraction, nativeQuantile } from './native-histogram.js';
import {
  MSG,
  argPos,
  checkUniqueLabelsets,
  fsample,
  isValidLabelName,
  metricName,
  parseGoFloat,
  scalarArg,
  stringArg,
  vectorArg,
  withPos,
} from './util.js';

/** One cumulative bucket of a classic histogram. */
export interface Bucket {
  upperBound: number;
  count: number;
}

/** Relative tolerance under which two adjacent bucket counts are treated as equal. */
const SMALL_DELTA_TOLERANCE = 1e-12;
const MIN_NORMAL = 2.2250738585072014e-308;

function almostEqual(a: number, b: number, eps: number): boolean {
  if (a === b) return true;
  const absSum = Math.abs(a) + Math.abs(b);
  const diff = Math.abs(a - b);
  if (a === 0 || b === 0 || absSum < MIN_NORMAL) return diff < eps * MIN_NORMAL;
  return diff / Math.min(absSum, Number.MAX_VALUE) < eps;
}

/**
 * Sorts by upper bound, merges buckets with the same bound (adding counts), then makes the
 * cumulative counts monotonic: tiny relative differences are ignored, real decreases are raised
 * to the previous count. Returns whether a real decrease was fixed.
 */
export function prepareBuckets(buckets: Bucket[]): { buckets: Bucket[]; forcedMonotonic: boolean } {
  const sorted = [...buckets].sort((a, b) => a.upperBound - b.upperBound);
  const merged: Bucket[] = [];
  for (const b of sorted) {
    const last = merged[merged.length - 1];
    if (last && last.upperBound === b.upperBound) last.count += b.count;
    else merged.push({ upperBound: b.upperBound, count: b.count });
  }
  let forcedMonotonic = false;
  for (let i = 1; i < merged.length; i++) {
    const prev = merged[i - 1]!.count;
    const cur = merged[i]!.count;
    if (cur === prev) continue;
    if (almostEqual(prev, cur, SMALL_DELTA_TOLERANCE)) {
      merged[i]!.count = prev;
    } else if (cur < prev) {
      merged[i]!.count = prev;
      forcedMonotonic = true;
    }
  }
  return { buckets: merged, forcedMonotonic };
}

/**
 * φ-quantile of a classic histogram by linear interpolation within the bucket it falls in.
 * See the `histogram_quantile` documentation for the special cases.
 */
export function bucketQuantile(q: number, input: Bucket[]): { value: number; forcedMonotonic: boolean } {
  if (Number.isNaN(q)) return { value: Number.NaN, forcedMonotonic: false };
  if (q < 0) return { value: -Infinity, forcedMonotonic: false };
  if (q > 1) return { value: Infinity, forcedMonotonic: false };
  const { buckets, forcedMonotonic } = prepareBuckets(input);
  const nan = { value: Number.NaN, forcedMonotonic };
  const n = buckets.length;
  if (n < 2 || buckets[n - 1]!.upperBound !== Infinity) return nan;
  const observations = buckets[n - 1]!.count;
  if (observations === 0) return nan;
  let rank = q * observations;
  let b = buckets.findIndex((x) => x.count >= rank);
  if (b < 0) b = n - 1;
  if (b === n - 1) return { value: buckets[n - 2]!.upperBound, forcedMonotonic };
  if (b === 0 && buckets[0]!.upperBound <= 0) return { value: buckets[0]!.upperBound, forcedMonotonic };
  let bucketStart = 0;
  const bucketEnd = buckets[b]!.upperBound;
  let count = buckets[b]!.count;
  if (b > 0) {
    bucketStart = buckets[b - 1]!.upperBound;
    count -= buckets[b - 1]!.count;
    rank -= buckets[b - 1]!.count;
  }
  return { value: bucketStart + (bucketEnd - bucketStart) * (rank / count), forcedMonotonic };
}

/**
 * Estimated number of observations ≤ v. Within a bucket the observations are spread evenly;
 * in the open-ended buckets they are assumed to sit at the infinite end (no interpolation).
 */
function rankAt(v: number, buckets: readonly Bucket[]): number {
  const total = buckets[buckets.length - 1]!.count;
  if (v === -Infinity) return 0;
  if (v === Infinity) return total;
  let prevCount = 0;
  for (let i = 0; i < buckets.length; i++) {
    const { upperBound: ub, count: cum } = buckets[i]!;
    const lb = i === 0 ? (ub > 0 ? 0 : -Infinity) : buckets[i - 1]!.upperBound;
    if (v >= ub) {
      prevCount = cum;
      continue;
    }
    if (v <= lb) return prevCount;
    if (lb === -Infinity) return cum;
    if (ub === Infinity) return prevCount;
    return prevCount + ((cum - prevCount) * (v - lb)) / (ub - lb);
  }
  return total;
}

/** Estimated fraction of observations in (lower, upper] of a classic histogram. */
export function bucketFraction(lower: number, upper: number, input: Bucket[]): number {
  if (Number.isNaN(lower) || Number.isNaN(upper)) return Number.NaN;
  const { buckets } = prepareBuckets(input);
  const n = buckets.length;
  if (n === 0 || buckets[n - 1]!.upperBound !== Infinity) return Number.NaN;
  const total = buckets[n - 1]!.count;
  if (total === 0) return Number.NaN;
  if (lower >= upper) return 0;
  return (rankAt(upper, buckets) - rankAt(lower, buckets)) / total;
}

interface ClassicGroup {
  metric: Labels;
  name: string;
  buckets: Bucket[];
}

interface Split {
  classic: ClassicGroup[];
  native: { metric: Labels; h: FloatHistogram }[];
}

/**
 * Splits the input into classic groups (labels without `le`, metric name kept for now) and
 * native histograms, with the bad-`le` and classic/native-collision warnings at `pos`.
 */
function splitHistograms(v: Vector, ctx: FunctionContext, pos: PosRange): Split {
  const groups = new Map<string, ClassicGroup>();
  const natives: { metric: Labels; h: FloatHistogram }[] = [];
  for (const s of v) {
    if (s.h !== undefined) {
      natives.push({ metric: s.metric, h: s.h });
      continue;
    }
    const le = labelsGet(s.metric, 'le');
    const ub = parseGoFloat(le);
    if (ub === undefined) {
      ctx.annotations.warn(withPos(ctx, MSG.badBucketLabel(metricName(s.metric), le), pos));
      continue;
    }
    const metric = labelsWithout(s.metric, ['le']);
    const key = labelsKey(metric);
    let g = groups.get(key);
    if (!g) {
      g = { metric, name: metricName(s.metric), buckets: [] };
      groups.set(key, g);
    }
    g.buckets.push({ upperBound: ub, count: s.f });
  }
  const native: Split['native'] = [];
  for (const n of natives) {
    const key = labelsKey(n.metric);
    if (groups.has(key)) {
      ctx.annotations.warn(withPos(ctx, MSG.mixedClassicNative(metricName(n.metric)), pos));
      groups.delete(key);
      continue;
    }
    native.push(n);
  }
  return { classic: [...groups.values()], native };
}

function checkQuantile(q: number, ctx: FunctionContext, pos: PosRange): void {
  if (Number.isNaN(q) || q < 0 || q > 1) ctx.annotations.warn(withPos(ctx, MSG.invalidQuantile(q), pos));
}

function quantilesOf(q: number, split: Split, ctx: FunctionContext, pos: PosRange, ts: number, extra?: [string, string]): Vector {
  const out: Vector = [];
  const withExtra = (m: Labels): Labels => (extra ? new LabelsBuilder(m).set(extra[0], extra[1]).labels() : m);
  for (const g of split.classic) {
    const r = bucketQuantile(q, g.buckets);
    if (r.forcedMonotonic) ctx.annotations.info(withPos(ctx, MSG.forcedMonotonicity(g.name), pos));
    out.push(fsample(withExtra(g.metric), ts, r.value, true));
  }
  for (const n of split.native) {
    const v = nativeQuantile(q, n.h, metricName(n.metric), ctx, pos);
    out.push(fsample(withExtra(n.metric), ts, v, true));
  }
  return out;
}

/** `histogram_quantile(φ scalar, b instant-vector)`. */
export const histogramQuantile: FunctionImpl = (args, exprs, ctx) => {
  const q = scalarArg(args, 0);
  checkQuantile(q, ctx, argPos(exprs, 0));
  const pos = argPos(exprs, 1);
  return quantilesOf(q, splitHistograms(vectorArg(args, 1), ctx, pos), ctx, pos, ctx.ts);
};

/** Label value for a quantile in `histogram_quantiles` output: `0.0`, `0.25`, `1.0`, `NaN`. */
export function formatQuantileLabel(q: number): string {
  if (Number.isNaN(q)) return 'NaN';
  if (q === Infinity) return '+Inf';
  if (q === -Infinity) return '-Inf';
  return Number.isInteger(q) && Math.abs(q) < 1e21 ? q.toFixed(1) : String(q);
}

/** `histogram_quantiles(b instant-vector, label string, φ scalar...)` (1 to 10 quantiles). */
export const histogramQuantiles: FunctionImpl = (args, exprs, ctx) => {
  const label = stringArg(args, 1);
  if (!isValidLabelName(label)) throw new QueryError(`invalid quantile label name in histogram_quantiles(): ${label}`);
  const pos = argPos(exprs, 0);
  const split = splitHistograms(vectorArg(args, 0), ctx, pos);
  const out: Vector = [];
  for (let i = 2; i < args.length; i++) {
    const q = scalarArg(args, i);
    checkQuantile(q, ctx, argPos(exprs, i));
    out.push(...quantilesOf(q, split, ctx, pos, ctx.ts, [label, formatQuantileLabel(q)]));
  }
  checkUniqueLabelsets(out);
  return out;
};

/** `histogram_fraction(lower scalar, upper scalar, b instant-vector)`. */
export const histogramFraction: FunctionImpl = (args, exprs, ctx) => {
  const lower = scalarArg(args, 0);
  const upper = scalarArg(args, 1);
  const pos = argPos(exprs, 2);
  const split = splitHistograms(vectorArg(args, 2), ctx, pos);
  const out: Vector = [];
  for (const g of split.classic) out.push(fsample(g.metric, ctx.ts, bucketFraction(lower, upper, g.buckets), true));
  for (const n of split.native) {
    out.push(fsample(n.metric, ctx.ts, nativeFraction(lower, upper, n.h, metricName(n.metric), ctx, pos), true));
  }
  return out;
};

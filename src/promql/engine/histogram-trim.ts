/**
 * The native-histogram trim operators: `h </ x` keeps the observations below `x`, `h >/ x` the
 * observations above it. A bucket cut by `x` keeps the share that histogram_fraction would give
 * the kept side (exponential interpolation in exponential buckets, linear in the zero bucket and
 * in custom buckets), so `histogram_count(h </ x) == histogram_fraction(-Inf, x, h) *
 * histogram_count(h)` for finite bucket bounds. The sum of a trimmed histogram cannot be known;
 * it is re-estimated from the kept buckets, each observation taken at the middle of the kept part
 * of its bucket (geometric middle for exponential buckets, arithmetic otherwise).
 */
import { CUSTOM_BUCKETS_SCHEMA, type BucketSpan, type FloatHistogram } from '../../model/histogram.js';
import { mapToBuckets, type BucketMap } from './histogram-ops.js';

/** `</` keeps what lies below the threshold, `>/` what lies above it. */
export type TrimOp = '</' | '>/';

interface Bucket {
  lower: number;
  upper: number;
  count: number;
  /** Interpolate linearly (zero and custom buckets) rather than exponentially. */
  linear: boolean;
}

interface Kept {
  count: number;
  /** Value the kept observations are assumed to have, for the sum estimate. */
  at: number;
}

/** Where `v` (strictly inside the bucket) splits it: the share of the bucket below `v`. */
function shareBelow(b: Bucket, v: number): number {
  if (b.linear) return (v - b.lower) / (b.upper - b.lower);
  if (b.lower > 0) return Math.log2(v / b.lower) / Math.log2(b.upper / b.lower);
  // Negative exponential bucket: mirror of the positive case (|lower| is the far end).
  return Math.log2(b.lower / v) / Math.log2(b.lower / b.upper);
}

/** Middle of [lo, hi]; an infinite end puts every observation at the finite one. */
function middle(lo: number, hi: number, linear: boolean): number {
  if (lo === -Infinity) return hi;
  if (hi === Infinity) return lo;
  if (linear) return (lo + hi) / 2;
  return lo > 0 ? Math.sqrt(lo * hi) : -Math.sqrt(lo * hi);
}

/**
 * The part of one bucket kept by a trim at `x`. A bucket with an infinite bound (custom
 * buckets only) holds its observations at that infinity: cut anywhere, the whole bucket goes
 * to the infinite side (and a bucket infinite on both sides is dropped).
 */
function trimBucket(b: Bucket, x: number, below: boolean): Kept {
  const { lower, upper, count } = b;
  if (below ? upper <= x : lower >= x) return { count, at: middle(lower, upper, b.linear) };
  if (below ? lower >= x : upper <= x) return { count: 0, at: 0 };
  if (lower === -Infinity && upper === Infinity) return { count: 0, at: 0 };
  if (lower === -Infinity) return below ? { count, at: x } : { count: 0, at: 0 };
  if (upper === Infinity) return below ? { count: 0, at: 0 } : { count, at: x };
  const s = shareBelow(b, x);
  return below ? { count: count * s, at: middle(lower, x, b.linear) } : { count: count * (1 - s), at: middle(x, upper, b.linear) };
}

function forEachBucket(spans: readonly BucketSpan[], counts: readonly number[], fn: (idx: number, count: number) => void): void {
  let idx = 0;
  let k = 0;
  for (const sp of spans) {
    idx += sp.offset;
    for (let j = 0; j < sp.length; j++) fn(idx++, counts[k++] ?? 0);
  }
}

/**
 * Applies `h </ x` or `h >/ x`. Returns `h` itself when nothing is removed, so a no-op trim
 * keeps the exact sum instead of the estimate.
 */
export function trimHistogram(h: FloatHistogram, op: TrimOp, x: number): FloatHistogram {
  if (Number.isNaN(x)) return h;
  const below = op === '</';
  let changed = false;
  let count = 0;
  let sum = 0;
  const keep = (b: Bucket): number => {
    const k = trimBucket(b, x, below);
    if (k.count !== b.count) changed = true;
    if (k.count !== 0) {
      count += k.count;
      sum += k.count * k.at;
    }
    return k.count;
  };
  const pos: BucketMap = new Map();
  const neg: BucketMap = new Map();
  let zeroCount = 0;
  if (h.schema === CUSTOM_BUCKETS_SCHEMA) {
    const cv = h.customValues ?? [];
    forEachBucket(h.positiveSpans, h.positiveBuckets, (i, c) => {
      const upper = i < cv.length ? cv[i]! : Infinity;
      let lower = i === 0 ? -Infinity : (cv[i - 1] ?? Infinity);
      // As in histogram_quantile/fraction, a first bucket with a positive (finite) upper
      // bound starts at 0, except that a `>/` cut below 0 treats it as reaching -Inf, which
      // drops it (the reference implementation's behaviour, pinned by its test script).
      if (lower === -Infinity && upper > 0 && upper !== Infinity && (below || x >= 0)) lower = 0;
      pos.set(i, keep({ lower, upper, count: c, linear: true }));
    });
  } else {
    const base = (i: number): number => Math.pow(2, i * Math.pow(2, -h.schema));
    const negBuckets: [number, number][] = [];
    forEachBucket(h.negativeSpans, h.negativeBuckets, (i, c) => negBuckets.push([i, c]));
    const posBuckets: [number, number][] = [];
    forEachBucket(h.positiveSpans, h.positiveBuckets, (i, c) => posBuckets.push([i, c]));
    for (const [i, c] of negBuckets) neg.set(i, keep({ lower: -base(i), upper: -base(i - 1), count: c, linear: false }));
    // A zero bucket counts as one-sided when only the other side has observations.
    const hasNeg = negBuckets.some(([, c]) => c !== 0);
    const hasPos = posBuckets.some(([, c]) => c !== 0);
    const zw = h.zeroThreshold;
    zeroCount = keep({ lower: hasPos && !hasNeg ? 0 : -zw, upper: hasNeg && !hasPos ? 0 : zw, count: h.zeroCount, linear: true });
    for (const [i, c] of posBuckets) pos.set(i, keep({ lower: base(i - 1), upper: base(i), count: c, linear: false }));
  }
  if (!changed) return h;
  const p = mapToBuckets(pos);
  const n = mapToBuckets(neg);
  return {
    ...h,
    count,
    sum,
    zeroCount,
    positiveSpans: p.spans,
    positiveBuckets: p.counts,
    negativeSpans: n.spans,
    negativeBuckets: n.counts,
  };
}

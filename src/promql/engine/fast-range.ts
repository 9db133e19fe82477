/**
 * Fast path of rate / increase / delta over a plain (not anchored/smoothed) range selector for
 * float series, evaluated series by series over all steps: a per-series prefix count of counter
 * resets tells which windows need a correction (only those are walked), and no window is
 * copied. Results are those of the function library's implementation
 * (`functions/rate.ts`), which still handles histogram series and every other case.
 */
import { METRIC_NAME, labelsGet, type Labels } from '../../model/labels.js';
import { isStaleNaN } from '../../model/samples.js';
import { delta, extrapolationFactor, increase, rate } from './functions/rate.js';
import { MSG } from './functions/util.js';

/** Functions with a fast path, and their flags. */
const FAST: ReadonlyMap<unknown, { isCounter: boolean; isRate: boolean }> = new Map([
  [rate, { isCounter: true, isRate: true }],
  [increase, { isCounter: true, isRate: false }],
  [delta, { isCounter: false, isRate: false }],
]);

/** Flags when `impl` is the built-in rate/increase/delta, else undefined. */
export function fastRangeKind(impl: unknown): { isCounter: boolean; isRate: boolean } | undefined {
  return FAST.get(impl);
}

const COUNTER_SUFFIXES = ['_total', '_sum', '_count', '_bucket'];

/**
 * Index of the first time > x in `ts[lo..]` (ascending): a few linear steps first (windows of
 * consecutive steps move by a few points), then binary search.
 */
export function firstAfter(ts: ArrayLike<number>, x: number, lo: number): number {
  const n = ts.length;
  for (let k = 0; k < 8; k++, lo++) if (lo >= n || ts[lo]! > x) return lo;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Parameters of {@link fastRangeSeries}. */
export interface FastRangeParams {
  readonly isCounter: boolean;
  readonly isRate: boolean;
  /** Evaluation timestamps. */
  readonly steps: readonly number[];
  /** Window end for step `i` (after `@` and offset). */
  readonly endAt: (i: number) => number;
  readonly range: number;
  /** Called with the "possible non-counter" info text (without position) when it applies. */
  readonly info: (msg: string) => void;
}

/** A float-only series as parallel time/value arrays (no staleness markers). */
export interface FloatColumns {
  readonly metric: Labels;
  readonly dropName?: boolean;
  readonly t: ArrayLike<number>;
  readonly v: ArrayLike<number>;
}

/** Float columns of a selected series with staleness markers removed (copied only if needed). */
export function floatColumns(metric: Labels, t: Float64Array, v: Float64Array): FloatColumns {
  let stale = 0;
  for (let i = 0; i < v.length; i++) if (v[i] !== v[i] && isStaleNaN(v[i]!)) stale++;
  if (stale === 0) return { metric, t, v };
  const nt = new Float64Array(v.length - stale);
  const nv = new Float64Array(v.length - stale);
  let k = 0;
  for (let i = 0; i < v.length; i++) {
    if (v[i] !== v[i] && isStaleNaN(v[i]!)) continue;
    nt[k] = t[i]!;
    nv[k++] = v[i]!;
  }
  return { metric, t: nt, v: nv };
}

/**
 * Evaluates one float-only series for all steps, handing step `i`'s result to `emit` (steps
 * ascending, at most once per step); returns the number of points the windows held (for
 * sample accounting).
 */
export function fastRangeSeries(s: FloatColumns, p: FastRangeParams, emit: (i: number, f: number) => void): number {
  const T = s.t;
  const V = s.v;
  const n = T.length;
  // resets[j]: number of counter resets among pairs (i-1, i) with i <= j. A window with none
  // needs no correction; one with some sums its corrections in order, exactly as the function
  // library does (a prefix sum of corrections would round differently).
  let resets: Int32Array | undefined;
  if (p.isCounter) {
    for (let i = 1; i < n; i++) {
      if (V[i]! < V[i - 1]!) {
        resets = new Int32Array(n);
        break;
      }
    }
    if (resets) {
      let acc = 0;
      for (let i = 1; i < n; i++) {
        if (V[i]! < V[i - 1]!) acc++;
        resets[i] = acc;
      }
    }
  }
  let total = 0;
  let sawPoint = false;
  let a = 0;
  let b = 0;
  let lastEnd = -Infinity;
  for (let i = 0; i < p.steps.length; i++) {
    const end = p.endAt(i);
    const start = end - p.range;
    // Steps ascend unless `@` pins them; restart the search when the window moves back.
    if (end < lastEnd) {
      a = 0;
      b = 0;
    }
    lastEnd = end;
    a = firstAfter(T, start, a);
    b = firstAfter(T, end, Math.max(a, b));
    const cnt = b - a;
    if (cnt === 0) continue;
    total += cnt;
    sawPoint = true;
    if (cnt < 2) continue;
    const firstV = V[a]!;
    let result = V[b - 1]! - firstV;
    if (resets && resets[b - 1]! !== resets[a]!) {
      for (let j = a + 1; j < b; j++) if (V[j]! < V[j - 1]!) result += V[j - 1]!;
    }
    emit(i, result * extrapolationFactor(result, T[a]!, T[b - 1]!, cnt, start, end, p.isCounter ? firstV : undefined, p.isRate));
  }
  if (sawPoint && p.isCounter && !s.dropName) {
    const name = labelsGet(s.metric, METRIC_NAME);
    if (name !== '' && !COUNTER_SUFFIXES.some((x) => name.endsWith(x))) p.info(MSG.possibleNonCounter(name));
  }
  return total;
}

/**
 * Column kernels of range functions (`*_over_time`, deriv, predict_linear, irate, idelta,
 * changes, resets) over a plain range selector on float-only series: each window is an index
 * range `[a, b)` into the series' time/value columns, found by moving two cursors across the
 * steps, so no point object is built and no window copied. Results are those of the function
 * library's implementations (`functions/over-time.ts`, `functions/rate.ts`), which still take
 * histogram series, anchored/smoothed selectors and subqueries.
 */
import type { FunctionImpl } from './functions/contract.js';
import {
  avgOverTime,
  countOverTime,
  firstOverTime,
  floatMean,
  floatSum,
  floatVariance,
  lastOverTime,
  maxOverTime,
  minOverTime,
  presentOverTime,
  quantileOverTime,
  stddevOverTime,
  stdvarOverTime,
  sumOverTime,
  tsOfFirstOverTime,
  tsOfLastOverTime,
} from './functions/over-time.js';
import { changes, deriv, idelta, irate, linearRegressionColumns, predictLinear, resets } from './functions/rate.js';
import { firstAfter, type FloatColumns } from './fast-range.js';

/**
 * A range function over one window `[a, b)` (b > a) of float columns. `end` is the window end
 * (ms), `ts` the evaluation time, `param` the step's scalar parameter (NaN when none).
 */
export type ColumnFn = (t: ArrayLike<number>, v: ArrayLike<number>, a: number, b: number, ts: number, param: number) => number;

/** A range function with a column kernel. */
export interface ColumnKernel {
  readonly fn: ColumnFn;
  /** Windows with fewer points give no sample. */
  readonly minPoints: number;
  /** True when the result keeps `__name__` (first/last_over_time). */
  readonly keepName: boolean;
  /** Index of the range-vector argument (1 for quantile_over_time). */
  readonly rangeArg: number;
  /** Index of the scalar parameter argument, or -1. */
  readonly paramArg: number;
  /** True when start timestamps change the result (series carrying them take the general path). */
  readonly usesStart: boolean;
}

const k = (fn: ColumnFn, opts: Partial<Omit<ColumnKernel, 'fn'>> = {}): ColumnKernel => ({
  fn,
  minPoints: opts.minPoints ?? 1,
  keepName: opts.keepName ?? false,
  rangeArg: opts.rangeArg ?? 0,
  paramArg: opts.paramArg ?? -1,
  usesStart: opts.usesStart ?? false,
});

function maxOf(_t: ArrayLike<number>, v: ArrayLike<number>, a: number, b: number): number {
  let m = v[a]!;
  for (let i = a + 1; i < b; i++) {
    const x = v[i]!;
    if (x > m || m !== m) m = x;
  }
  return m;
}

function minOf(_t: ArrayLike<number>, v: ArrayLike<number>, a: number, b: number): number {
  let m = v[a]!;
  for (let i = a + 1; i < b; i++) {
    const x = v[i]!;
    if (x < m || m !== m) m = x;
  }
  return m;
}

let scratch = new Float64Array(512);

/**
 * {@link floatQuantile} of the window without a comparator sort: the values are copied into a
 * scratch typed array and sorted numerically (NaNs last); the NaN count then shifts the ranks so
 * that NaNs order first, as in PromQL.
 */
function quantileOf(v: ArrayLike<number>, a: number, b: number, q: number): number {
  const n = b - a;
  if (q !== q) return Number.NaN;
  if (q < 0) return -Infinity;
  if (q > 1) return Infinity;
  if (scratch.length < n) scratch = new Float64Array(2 * n);
  let nan = 0;
  let k = 0;
  for (let i = a; i < b; i++) {
    const x = v[i]!;
    if (x !== x) nan++;
    else scratch[k++] = x;
  }
  const w = scratch.subarray(0, k).sort();
  const rank = q * (n - 1);
  const lower = Math.max(0, Math.floor(rank));
  const upper = Math.min(n - 1, lower + 1);
  const weight = rank - Math.floor(rank);
  const lo = lower < nan ? Number.NaN : w[lower - nan]!;
  const hi = upper < nan ? Number.NaN : w[upper - nan]!;
  return lo * (1 - weight) + hi * weight;
}

function instant(isRate: boolean): ColumnFn {
  return (t, v, _a, b) => {
    const prev = v[b - 2]!;
    const last = v[b - 1]!;
    let r = isRate && last < prev ? last : last - prev;
    if (isRate) r /= (t[b - 1]! - t[b - 2]!) / 1000;
    return r;
  };
}

const KERNELS: ReadonlyMap<FunctionImpl, ColumnKernel> = new Map<FunctionImpl, ColumnKernel>([
  [maxOverTime, k(maxOf)],
  [minOverTime, k(minOf)],
  [avgOverTime, k((_t, v, a, b) => floatMean(v, a, b))],
  [sumOverTime, k((_t, v, a, b) => floatSum(v, a, b))],
  [countOverTime, k((_t, _v, a, b) => b - a)],
  [stdvarOverTime, k((_t, v, a, b) => floatVariance(v, a, b))],
  [stddevOverTime, k((_t, v, a, b) => Math.sqrt(floatVariance(v, a, b)))],
  [presentOverTime, k(() => 1)],
  [lastOverTime, k((_t, v, _a, b) => v[b - 1]!, { keepName: true })],
  [firstOverTime, k((_t, v, a) => v[a]!, { keepName: true })],
  [tsOfLastOverTime, k((t, _v, _a, b) => t[b - 1]! / 1000)],
  [tsOfFirstOverTime, k((t, _v, a) => t[a]! / 1000)],
  [
    quantileOverTime,
    k((_t, v, a, b, _ts, q) => quantileOf(v, a, b, q), { rangeArg: 1, paramArg: 0 }),
  ],
  [deriv, k((t, v, a, b) => linearRegressionColumns(t, v, a, b, t[a]!)[0], { minPoints: 2 })],
  [
    predictLinear,
    k(
      (t, v, a, b, ts, d) => {
        const [slope, intercept] = linearRegressionColumns(t, v, a, b, ts);
        return slope * d + intercept;
      },
      { minPoints: 2, paramArg: 1 },
    ),
  ],
  [irate, k(instant(true), { minPoints: 2, usesStart: true })],
  [idelta, k(instant(false), { minPoints: 2 })],
  [
    changes,
    k((_t, v, a, b) => {
      let n = 0;
      for (let i = a + 1; i < b; i++) {
        const x = v[i - 1]!;
        const y = v[i]!;
        if (!(x === y || (x !== x && y !== y))) n++;
      }
      return n;
    }),
  ],
  [
    resets,
    k((_t, v, a, b) => {
      let n = 0;
      for (let i = a + 1; i < b; i++) if (v[i]! < v[i - 1]!) n++;
      return n;
    }, { usesStart: true }),
  ],
]);

/** The column kernel of a built-in function implementation, if it has one. */
export function columnKernel(impl: FunctionImpl): ColumnKernel | undefined {
  return KERNELS.get(impl);
}

/** Parameters of {@link columnRangeSeries}. */
export interface ColumnRangeParams {
  /** Evaluation timestamps. */
  readonly steps: readonly number[];
  /** Window end for step `i` (after `@` and offset). */
  readonly endAt: (i: number) => number;
  readonly range: number;
  /** Scalar parameter per step (undefined when the function has none). */
  readonly params?: ArrayLike<number>;
  /** Set to true at step `i` when a window there held points (may be undefined). */
  readonly nonEmpty?: boolean[];
}

/**
 * Evaluates one float-only series (windows left-open `(end - range, end]`) for all steps,
 * handing step `i`'s result to `emit` (steps ascending, at most once per step); returns the
 * number of points the windows held (for sample accounting). The output keeps
 * `__name__` only when {@link ColumnKernel.keepName} (and the input does not drop it).
 */
export function columnRangeSeries(s: FloatColumns, kern: ColumnKernel, p: ColumnRangeParams, emit: (i: number, f: number) => void): number {
  const T = s.t;
  const V = s.v;
  const fn = kern.fn;
  const min = kern.minPoints;
  let total = 0;
  let a = 0;
  let b = 0;
  let lastEnd = -Infinity;
  for (let i = 0; i < p.steps.length; i++) {
    const end = p.endAt(i);
    if (end < lastEnd) {
      a = 0;
      b = 0;
    }
    lastEnd = end;
    a = firstAfter(T, end - p.range, a);
    b = firstAfter(T, end, Math.max(a, b));
    const cnt = b - a;
    if (cnt === 0) continue;
    total += cnt;
    if (p.nonEmpty) p.nonEmpty[i] = true;
    if (cnt < min) continue;
    emit(i, fn(T, V, a, b, p.steps[i]!, p.params ? p.params[i]! : Number.NaN));
  }
  return total;
}

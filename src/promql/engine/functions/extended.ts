/**
 * The `anchored` and `smoothed` range-selector modifiers (Prometheus 3 extended range selectors)
 * for rate, increase, delta, changes and resets.
 *
 * The evaluator hands over the window `(start, end]` widened by the last sample at or before
 * `start` (the anchor, within the lookback delta) and, for `smoothed`, the first sample after
 * `end`. From these points a new sequence is built whose first point sits exactly on `start`
 * and whose last point sits exactly on `end`:
 * - `anchored`: the boundary values are the anchor's value and the last sample's value;
 * - `smoothed`: the boundary values are interpolated linearly between the samples around each
 *   boundary; for counters an interpolation across a reset treats the counter as restarting
 *   from zero at the earlier sample's time.
 * The change over the window is then `last − first` (plus the value before each counter reset
 * for counters), with no extrapolation; rate divides by the range in seconds.
 */
import { CUSTOM_BUCKETS_SCHEMA, CounterResetHint, type FloatHistogram } from '../../../model/histogram.js';
import type { PosRange } from '../../parser/ast.js';
import type { FPoint, HPoint, RangeSeries, Vector } from '../values.js';
import type { FunctionContext } from './contract.js';
import { addHistograms, histogramDelta, histogramIsCounterReset, scaleHistogram } from './native-histogram.js';
import { MSG, fsample, hsample, mergedPoints, metricName, withPos } from './util.js';

/** Indices into the points that bound the extended window, or undefined when it is empty. */
export interface ExtendedBounds {
  /** Index of the anchor (last point at or before start, or the first point). */
  readonly first: number;
  /** Index of the last point used (for `smoothed`, the first point at or after end). */
  readonly last: number;
}

/**
 * Finds the anchor and the last point of an extended window over `pts` (ascending by time).
 * Undefined when no point lies after `start`, or (smoothed) when every point is after `end`.
 */
export function extendedBounds(pts: readonly { t: number }[], start: number, end: number, smoothed: boolean): ExtendedBounds | undefined {
  const n = pts.length;
  if (n === 0) return undefined;
  let firstAfterStart = 0;
  while (firstAfterStart < n && pts[firstAfterStart]!.t <= start) firstAfterStart++;
  const first = Math.max(0, firstAfterStart - 1);
  let last = n - 1;
  if (smoothed) {
    let j = 0;
    while (j < n - 1 && pts[j]!.t < end) j++;
    last = j;
  }
  if (pts[last]!.t <= start) return undefined;
  if (pts[first]!.t > end) return undefined;
  return { first, last };
}

/** Linear interpolation at `t`; for counters a decrease means a restart from zero at `a.t`. */
function interpolateFloat(a: FPoint, b: FPoint, t: number, isCounter: boolean): number {
  const frac = (t - a.t) / (b.t - a.t);
  if (isCounter && b.f < a.f) return b.f * frac;
  return a.f + (b.f - a.f) * frac;
}

/**
 * The change of a float series over an extended window (no extrapolation), undefined when the
 * window is empty. For counters, the value before each reset is added back.
 */
export function extendedFloatDelta(pts: readonly FPoint[], start: number, end: number, smoothed: boolean, isCounter: boolean): number | undefined {
  const b = extendedBounds(pts, start, end, smoothed);
  if (!b) return undefined;
  const { first, last } = b;
  const p0 = pts[first]!;
  const pl = pts[last]!;
  const leftInterp = smoothed && p0.t < start && first + 1 < pts.length;
  const left = leftInterp ? interpolateFloat(p0, pts[first + 1]!, start, isCounter) : p0.f;
  const rightInterp = smoothed && pl.t > end && last > 0;
  const right = rightInterp ? interpolateFloat(pts[last - 1]!, pl, end, isCounter) : pl.f;
  let result = right - left;
  if (isCounter) {
    // Resets between original samples first..last; a left boundary interpolated on the segment
    // (first, first+1) already accounts for a reset there.
    for (let i = leftInterp ? first + 1 : first; i < last; i++) {
      const a = pts[i]!;
      const c = pts[i + 1]!;
      if (c.f < a.f) result += a.f;
    }
  }
  return result;
}

function isCustom(h: FloatHistogram): boolean {
  return h.schema === CUSTOM_BUCKETS_SCHEMA;
}

/** h0·(1−frac) + h1·frac, or (counter reset) h1·frac; undefined when the layouts are incompatible. */
function interpolateHistogram(a: HPoint, b: HPoint, t: number, reset: boolean): FloatHistogram | undefined {
  const frac = (t - a.t) / (b.t - a.t);
  if (reset) return scaleHistogram(b.h, frac, false);
  return addHistograms(scaleHistogram(a.h, 1 - frac, false), scaleHistogram(b.h, frac, false));
}

/** The change of a histogram series over an extended window (see {@link extendedFloatDelta}). */
export function extendedHistogramDelta(
  hs: readonly HPoint[],
  ctx: FunctionContext,
  pos: PosRange,
  name: string,
  opts: { smoothed: boolean; isCounter: boolean },
): FloatHistogram | undefined {
  const b = extendedBounds(hs, ctx.rangeStart, ctx.rangeEnd, opts.smoothed);
  if (!b) return undefined;
  const { first, last } = b;
  const used = hs.slice(first, last + 1);
  const gauge = (h: FloatHistogram): boolean => h.counterResetHint === CounterResetHint.Gauge;
  if (opts.isCounter && used.some((p) => gauge(p.h))) ctx.annotations.warn(withPos(ctx, MSG.notCounter(name), pos));
  if (!opts.isCounter && used.some((p) => !gauge(p.h))) ctx.annotations.warn(withPos(ctx, MSG.notGauge(name), pos));
  if (used.some((p) => isCustom(p.h)) && used.some((p) => !isCustom(p.h))) {
    ctx.annotations.warn(withPos(ctx, MSG.mixedExpCustom(name), pos));
    return undefined;
  }
  const resetAt = (i: number): boolean => opts.isCounter && histogramIsCounterReset(hs[i]!.h, hs[i + 1]!.h);
  const p0 = hs[first]!;
  const pl = hs[last]!;
  const leftInterp = opts.smoothed && p0.t < ctx.rangeStart && first + 1 < hs.length;
  const left = leftInterp ? interpolateHistogram(p0, hs[first + 1]!, ctx.rangeStart, resetAt(first)) : p0.h;
  const rightInterp = opts.smoothed && pl.t > ctx.rangeEnd && last > 0;
  const right = rightInterp ? interpolateHistogram(hs[last - 1]!, pl, ctx.rangeEnd, resetAt(last - 1)) : pl.h;
  if (!left || !right) return undefined;
  let result = histogramDelta(right, left, ctx, pos, name);
  if (!result) return undefined;
  if (opts.isCounter) {
    for (let i = leftInterp ? first + 1 : first; i < last; i++) {
      if (!resetAt(i)) continue;
      const added: FloatHistogram | undefined = addHistograms(result, hs[i]!.h);
      if (!added) return undefined;
      result = added;
    }
  }
  return scaleHistogram(result, 1, true);
}

/** rate / increase / delta over an anchored or smoothed window. */
export function extendedRate(s: RangeSeries, ctx: FunctionContext, pos: PosRange, opts: { isCounter: boolean; isRate: boolean }): Vector {
  const smoothed = !!ctx.smoothed;
  const name = metricName(s.metric);
  if (s.floats.length > 0 && s.histograms.length > 0) {
    ctx.annotations.warn(withPos(ctx, MSG.mixedFloatsHistograms(name), pos));
    return [];
  }
  const secs = (ctx.rangeEnd - ctx.rangeStart) / 1000;
  if (s.histograms.length > 0) {
    const h = extendedHistogramDelta(s.histograms, ctx, pos, name, { smoothed, isCounter: opts.isCounter });
    if (!h) return [];
    return [hsample(s.metric, ctx.ts, opts.isRate ? scaleHistogram(h, 1 / secs, true) : h, true)];
  }
  const v = extendedFloatDelta(s.floats, ctx.rangeStart, ctx.rangeEnd, smoothed, opts.isCounter);
  if (v === undefined) return [];
  return [fsample(s.metric, ctx.ts, opts.isRate ? v / secs : v, true)];
}

/**
 * For `changes` / `resets` with `anchored`: the merged points to count over, or undefined when
 * no point lies inside the window (only the anchor at or before its start).
 */
export function anchoredPoints(s: RangeSeries, ctx: FunctionContext): ReturnType<typeof mergedPoints> | undefined {
  const pts = mergedPoints(s);
  const n = pts.length;
  if (n === 0 || pts[n - 1]!.t <= ctx.rangeStart) return undefined;
  return pts;
}

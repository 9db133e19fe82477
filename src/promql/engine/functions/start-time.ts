/**
 * Start timestamps (ST) in the counter functions. A sample's ST says since when the counter (or
 * the delta it reports) has been counting; 0 means unknown. Range series carry them in
 * `RangeSeries.fst` / `hst`, parallel to `floats` / `histograms`, only when the selected series
 * had any (subqueries and other expressions never propagate them), so every function here is
 * reached only for such series.
 *
 * - A sample whose ST lies after the previous sample's timestamp started counting after that
 *   sample was taken: a reset, even when the value did not drop (delta temporality, restarts
 *   between scrapes). An ST equal to the previous timestamp is a reset only when the previous
 *   sample had a valid ST of its own (OTel/GCP deltas), not for a cumulative series whose
 *   first point had an unknown start (ST == T) nor after an invalid ST (ST > T).
 * - rate/increase: when the first sample in the window has a usable ST inside the window, a
 *   zero-valued point at that ST replaces the extrapolation to the window start.
 */
import type { PosRange } from '../../parser/ast.js';
import type { FloatHistogram } from '../../../model/histogram.js';
import type { FPoint, HPoint, RangeSeries } from '../values.js';
import type { FunctionContext } from './contract.js';
import { metricName, withPos } from './util.js';

/** True when the sample (curT, curSt) restarts counting after the sample (prevT, prevSt). */
export function isStartReset(prevT: number, prevSt: number, curT: number, curSt: number): boolean {
  if (curSt === 0 || curSt >= curT) return false;
  return curSt > prevT || (curSt === prevT && prevSt !== 0 && prevSt < prevT);
}

/** True when the sample's ST claims an interval the previous sample already covered differently. */
function overlaps(prevT: number, prevSt: number, curSt: number): boolean {
  return curSt !== 0 && curSt < prevT && curSt !== prevSt;
}

/** The overlap warning for a window, at most once per call. */
export function warnOverlaps(ts: readonly { t: number }[], sts: readonly number[], s: RangeSeries, ctx: FunctionContext, pos: PosRange): void {
  for (let i = 1; i < ts.length; i++) {
    if (overlaps(ts[i - 1]!.t, sts[i - 1]!, sts[i]!)) {
      ctx.annotations.warn(withPos(ctx, `PromQL warning: sample has start time that overlaps with previous sample timestamp for metric ${JSON.stringify(metricName(s.metric))}`, pos));
      return;
    }
  }
}

/** True when the first point's ST anchors a zero point strictly inside the window, before it. */
function usableZero(firstT: number, st0: number, rangeStart: number): boolean {
  return st0 !== 0 && st0 > rangeStart && st0 < firstT;
}

/**
 * The factor that scales a raw change to the window when a zero point at `st0` replaces the
 * left extrapolation: only the right side is extrapolated, by the usual rule (full gap, or half
 * the average interval of the real samples when the gap is larger than 1.1 of it).
 */
function zeroAnchoredFactor(st0: number, firstT: number, lastT: number, n: number, rangeStart: number, rangeEnd: number, isRate: boolean): number {
  const sampled = (lastT - st0) / 1000;
  // One real sample: no interval to judge the right gap by, so no extrapolation.
  const avg = n > 1 ? (lastT - firstT) / 1000 / (n - 1) : 0;
  let toEnd = (rangeEnd - lastT) / 1000;
  if (toEnd >= avg * 1.1) toEnd = avg / 2;
  let factor = (sampled + toEnd) / sampled;
  if (isRate) factor /= (rangeEnd - rangeStart) / 1000;
  return factor;
}

/** Extrapolation of the result when no zero point applies (Prometheus's usual rule). */
type Extrapolate = (result: number, firstT: number, lastT: number, n: number, firstValue: number) => number;

/**
 * rate/increase of a float window with start timestamps `fst`: counter resets come from
 * values and STs; a usable first ST anchors a zero point. `undefined` when nothing applies.
 */
export function startAwareFloatIncrease(pts: readonly FPoint[], fst: readonly number[], rangeStart: number, rangeEnd: number, isRate: boolean, extrapolate: Extrapolate): number | undefined {
  const n = pts.length;
  if (n === 0) return undefined;
  const first = pts[0]!;
  const last = pts[n - 1]!;
  const zero = usableZero(first.t, fst[0]!, rangeStart);
  if (n < 2 && !zero) return undefined;
  let result = last.f - (zero ? 0 : first.f);
  for (let i = 1; i < n; i++) {
    const prev = pts[i - 1]!;
    const cur = pts[i]!;
    if (cur.f < prev.f || isStartReset(prev.t, fst[i - 1]!, cur.t, fst[i]!)) result += prev.f;
  }
  if (zero) return result * zeroAnchoredFactor(fst[0]!, first.t, last.t, n, rangeStart, rangeEnd, isRate);
  return result * extrapolate(result, first.t, last.t, n, first.f);
}

/** Histogram arithmetic the histogram variant needs (from `native-histogram.ts`). */
export interface HistogramOps {
  delta(a: FloatHistogram, b: FloatHistogram): FloatHistogram | undefined;
  add(a: FloatHistogram, b: FloatHistogram): FloatHistogram | undefined;
  isReset(prev: FloatHistogram, cur: FloatHistogram): boolean;
  scale(h: FloatHistogram, factor: number): FloatHistogram;
}

/** The histogram counterpart of {@link startAwareFloatIncrease}. */
export function startAwareHistogramIncrease(
  hs: readonly HPoint[],
  hst: readonly number[],
  rangeStart: number,
  rangeEnd: number,
  isRate: boolean,
  ops: HistogramOps,
  extrapolate: Extrapolate,
): FloatHistogram | undefined {
  const n = hs.length;
  if (n === 0) return undefined;
  const first = hs[0]!;
  const last = hs[n - 1]!;
  const zero = usableZero(first.t, hst[0]!, rangeStart);
  if (n < 2 && !zero) return undefined;
  let result: FloatHistogram | undefined = zero ? ops.scale(last.h, 1) : ops.delta(last.h, first.h);
  if (!result) return undefined;
  for (let i = 1; i < n; i++) {
    const prev = hs[i - 1]!;
    const cur = hs[i]!;
    if (!ops.isReset(prev.h, cur.h) && !isStartReset(prev.t, hst[i - 1]!, cur.t, hst[i]!)) continue;
    result = ops.add(result, prev.h);
    if (!result) return undefined;
  }
  const factor = zero ? zeroAnchoredFactor(hst[0]!, first.t, last.t, n, rangeStart, rangeEnd, isRate) : extrapolate(result.count, first.t, last.t, n, first.h.count);
  return ops.scale(result, factor);
}

/**
 * STs of {@link mergedPoints}' order (floats before histograms at equal times), or undefined
 * when the series carries none.
 */
export function mergedStarts(s: RangeSeries): number[] | undefined {
  const fst = s.fst;
  const hst = s.hst;
  if (fst === undefined && hst === undefined) return undefined;
  const fs = s.floats;
  const hs = s.histograms;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < fs.length || j < hs.length) {
    if (j >= hs.length || (i < fs.length && fs[i]!.t <= hs[j]!.t)) {
      out.push(fst !== undefined ? fst[i]! : 0);
      i++;
    } else {
      out.push(hst !== undefined ? hst[j]! : 0);
      j++;
    }
  }
  return out;
}

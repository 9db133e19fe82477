/**
 * Series access for the evaluator: fetching series from a {@link Querier}, picking the
 * instant-vector sample of each series per evaluation step (lookback window, staleness) and
 * slicing range windows (left-open `(t - range, t]`).
 */
import { CUSTOM_BUCKETS_SCHEMA, CounterResetHint, type FloatHistogram } from '../../model/histogram.js';
import { addHistograms, histogramIsCounterReset, scaleHistogram } from './functions/native-histogram.js';
import type { Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matchers.js';
import { isStaleNaN } from '../../model/samples.js';
import type { Querier, Series } from '../../storage/interface.js';
import type { FPoint, HPoint, RangeSeries } from './values.js';

/** Decoded samples of one selected series. */
export interface LoadedSeries {
  readonly labels: Labels;
  /** Float timestamps and values (staleness markers kept). */
  readonly t: Float64Array;
  readonly v: Float64Array;
  /** Histogram samples ascending by time (`st`: start timestamp, when known). */
  readonly hs: readonly { readonly t: number; readonly h: FloatHistogram; readonly st?: number }[];
  /** Start timestamps of the float samples (0 = unknown); undefined when the series has none. */
  readonly st: Float64Array | undefined;
}

/**
 * Selects and decodes all series matching `matchers` with samples in [mint, maxt]. With
 * `latestOnly` the caller needs only each series' newest float sample (the querier may return
 * just that one; see `SelectParams.latestOnly`).
 */
export function loadSeries(q: Querier, matchers: readonly Matcher[], mint: number, maxt: number, signal?: AbortSignal, latestOnly = false): LoadedSeries[] {
  return selectSeries(q, matchers, mint, maxt, signal, latestOnly).map(loaded);
}

/** Selects like {@link loadSeries} without decoding: callers that consume series one by one {@link loaded} each in turn. */
export function selectSeries(q: Querier, matchers: readonly Matcher[], mint: number, maxt: number, signal?: AbortSignal, latestOnly = false): Series[] {
  return q.select(latestOnly ? { mint, maxt, matchers, sorted: true, signal, latestOnly } : { mint, maxt, matchers, sorted: true, signal });
}

/** Decodes a selected series. */
export function loaded(s: Series): LoadedSeries {
  const d = s.samples();
  return { labels: s.labels, t: d.t, v: d.v, hs: d.histograms, st: d.st };
}

/** The series with `reset` counter-reset hints read as `unknown` (as Prometheus's plain reads do). */
export function withoutResetHints(s: LoadedSeries): LoadedSeries {
  if (!s.hs.some((p) => p.h.counterResetHint === CounterResetHint.Yes)) return s;
  return { ...s, hs: s.hs.map((p) => (p.h.counterResetHint === CounterResetHint.Yes ? { ...p, h: { ...p.h, counterResetHint: CounterResetHint.Unknown } } : p)) };
}

/** True when a histogram carries the staleness marker in its sum. */
export function isStaleHistogram(h: FloatHistogram): boolean {
  return isStaleNaN(h.sum);
}

/** Index of the last element of the ascending array `ts` with value <= x, or -1. */
export function lastAtOrBefore(ts: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = ts.length; // invariant: ts[<lo] <= x, ts[>=hi] > x
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ts[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Index of the first element of `pts` (ascending by t) with t > x. */
export function firstAfter(pts: readonly { t: number }[], x: number): number {
  let lo = 0;
  let hi = pts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (pts[mid]!.t <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The instant sample of a series at `ref` with lookback `lookback` (left-open), if any. */
export interface InstantPick {
  t: number;
  f: number;
  h?: FloatHistogram;
}

/**
 * Picks the latest sample at or before `ref` and newer than `ref - lookback`; undefined when
 * none, or when the latest sample is a staleness marker.
 */
export function pickInstant(s: LoadedSeries, ref: number, lookback: number): InstantPick | undefined {
  const fi = lastAtOrBefore(s.t, ref);
  const hi = firstAfter(s.hs, ref) - 1;
  const ft = fi >= 0 ? s.t[fi]! : -Infinity;
  const ht = hi >= 0 ? s.hs[hi]!.t : -Infinity;
  if (ft === -Infinity && ht === -Infinity) return undefined;
  if (ft >= ht) {
    if (ft <= ref - lookback) return undefined;
    const v = s.v[fi]!;
    if (isStaleNaN(v)) return undefined;
    return { t: ft, f: v };
  }
  if (ht <= ref - lookback) return undefined;
  const h = s.hs[hi]!.h;
  if (isStaleHistogram(h)) return undefined;
  return { t: ht, f: 0, h };
}

/** Why a smoothed pick produced no sample although there was data. */
export type SmoothedProblem = 'mixedTypes' | 'mixedSchemas';

/**
 * The `smoothed` instant sample: linear interpolation between the last sample at or before
 * `ref` and the first one after it (each within `lookback`); the earlier sample alone when there
 * is no later one. Histogram counters (hint not gauge) interpolate across a counter reset as a
 * restart from zero. A float next to a histogram, or an exponential next to a custom-bucket
 * histogram, gives no sample; `onProblem` is told why.
 */
export function pickSmoothed(
  s: LoadedSeries,
  ref: number,
  lookback: number,
  onProblem?: (p: SmoothedProblem) => void,
): InstantPick | undefined {
  const fi = lastAtOrBefore(s.t, ref);
  const hi = firstAfter(s.hs, ref) - 1;
  const ft = fi >= 0 ? s.t[fi]! : -Infinity;
  const ht = hi >= 0 ? s.hs[hi]!.t : -Infinity;
  if (ft === -Infinity && ht === -Infinity) return undefined;
  const prevIsFloat = ft >= ht;
  const t0 = prevIsFloat ? ft : ht;
  if (t0 <= ref - lookback) return undefined;
  if (prevIsFloat ? isStaleNaN(s.v[fi]!) : isStaleHistogram(s.hs[hi]!.h)) return undefined;
  const prev: InstantPick = prevIsFloat ? { t: t0, f: s.v[fi]! } : { t: t0, f: 0, h: s.hs[hi]!.h };
  if (t0 === ref) return prev;
  const fnT = fi + 1 < s.t.length ? s.t[fi + 1]! : Infinity;
  const hnT = hi + 1 < s.hs.length ? s.hs[hi + 1]!.t : Infinity;
  const nextIsFloat = fnT <= hnT;
  const t1 = nextIsFloat ? fnT : hnT;
  if (t1 === Infinity || t1 >= ref + lookback) return prev;
  if (nextIsFloat ? isStaleNaN(s.v[fi + 1]!) : isStaleHistogram(s.hs[hi + 1]!.h)) return prev;
  const frac = (ref - t0) / (t1 - t0);
  if (prevIsFloat && nextIsFloat) {
    const v0 = prev.f;
    const v1 = s.v[fi + 1]!;
    return { t: ref, f: v0 + (v1 - v0) * frac };
  }
  if (prevIsFloat !== nextIsFloat) {
    onProblem?.('mixedTypes');
    return undefined;
  }
  const h0 = prev.h!;
  const h1 = s.hs[hi + 1]!.h;
  if ((h0.schema === CUSTOM_BUCKETS_SCHEMA) !== (h1.schema === CUSTOM_BUCKETS_SCHEMA)) {
    onProblem?.('mixedSchemas');
    return undefined;
  }
  const isCounter = h1.counterResetHint !== CounterResetHint.Gauge;
  let h: FloatHistogram | undefined;
  if (isCounter && histogramIsCounterReset(h0, h1)) h = scaleHistogram(h1, frac, false);
  else h = addHistograms(scaleHistogram(h0, 1 - frac, false), scaleHistogram(h1, frac, false));
  if (!h) return undefined;
  return { t: ref, f: 0, h };
}

/** Converts a loaded series to a range series with staleness markers removed. */
export function toRangeSeries(s: LoadedSeries): RangeSeries {
  const floats: FPoint[] = [];
  const sts = s.st;
  const fst: number[] | undefined = sts ? [] : undefined;
  for (let i = 0; i < s.t.length; i++) {
    const v = s.v[i]!;
    if (v !== v && isStaleNaN(v)) continue;
    floats.push({ t: s.t[i]!, f: v });
    if (fst) fst.push(sts![i]!);
  }
  const histograms: HPoint[] = [];
  let hst: number[] | undefined;
  for (const p of s.hs) {
    if (isStaleHistogram(p.h)) continue;
    if (p.st !== undefined && hst === undefined) hst = new Array<number>(histograms.length).fill(0);
    histograms.push({ t: p.t, h: p.h });
    if (hst) hst.push(p.st ?? 0);
  }
  const out: RangeSeries = { metric: s.labels, floats, histograms };
  if (fst) out.fst = fst;
  if (hst) out.hst = hst;
  return out;
}

/** The points of `s` inside `(startExcl, endIncl]`, as a new one-series range series. */
export function windowOf(s: RangeSeries, startExcl: number, endIncl: number): RangeSeries {
  const f0 = firstAfter(s.floats, startExcl);
  const f1 = firstAfter(s.floats, endIncl);
  const h0 = s.histograms.length ? firstAfter(s.histograms, startExcl) : 0;
  const h1 = s.histograms.length ? firstAfter(s.histograms, endIncl) : 0;
  const out: RangeSeries = {
    metric: s.metric,
    floats: f0 < f1 ? s.floats.slice(f0, f1) : [],
    histograms: h0 < h1 ? s.histograms.slice(h0, h1) : [],
  };
  if (s.dropName) out.dropName = true;
  if (s.fst) out.fst = s.fst.slice(f0, f1);
  if (s.hst) out.hst = s.hst.slice(h0, h1);
  return out;
}

/**
 * Window for the `anchored` / `smoothed` extended range selectors: the points inside
 * `(start, end]` plus the last point (float or histogram) at or before `start` (within
 * `lookback`) and, for `smoothed`, the first point after `end` (within `lookback`).
 */
export function extendedWindowOf(s: RangeSeries, startExcl: number, endIncl: number, lookback: number, withAfter: boolean): RangeSeries {
  const fs = s.floats;
  const hs = s.histograms;
  const f0 = firstAfter(fs, startExcl);
  const f1 = firstAfter(fs, endIncl);
  const h0 = hs.length ? firstAfter(hs, startExcl) : 0;
  const h1 = hs.length ? firstAfter(hs, endIncl) : 0;
  let ff = f0;
  let hf = h0;
  const fa = f0 > 0 ? fs[f0 - 1]!.t : -Infinity;
  const ha = h0 > 0 ? hs[h0 - 1]!.t : -Infinity;
  if (fa >= ha) {
    if (fa > startExcl - lookback) ff = f0 - 1;
  } else if (ha > startExcl - lookback) hf = h0 - 1;
  let ft = f1;
  let ht = h1;
  if (withAfter) {
    const fn = f1 < fs.length ? fs[f1]!.t : Infinity;
    const hn = h1 < hs.length ? hs[h1]!.t : Infinity;
    if (fn <= hn) {
      if (fn < endIncl + lookback) ft = f1 + 1;
    } else if (hn < endIncl + lookback) ht = h1 + 1;
  }
  const out: RangeSeries = {
    metric: s.metric,
    floats: ff < ft ? fs.slice(ff, ft) : [],
    histograms: hf < ht ? hs.slice(hf, ht) : [],
  };
  if (s.dropName) out.dropName = true;
  return out;
}

/**
 * Series access for the evaluator: fetching series from a {@link Querier}, picking the
 * instant-vector sample of each series per evaluation step (lookback window, staleness) and
 * slicing range windows (left-open `(t - range, t]`).
 */
import type { FloatHistogram } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matchers.js';
import { isStaleNaN } from '../../model/samples.js';
import type { Querier } from '../../storage/interface.js';
import type { FPoint, HPoint, RangeSeries } from './values.js';

/** Decoded samples of one selected series. */
export interface LoadedSeries {
  readonly labels: Labels;
  /** Float timestamps and values (staleness markers kept). */
  readonly t: Float64Array;
  readonly v: Float64Array;
  /** Histogram samples ascending by time. */
  readonly hs: readonly { readonly t: number; readonly h: FloatHistogram }[];
}

/** Selects and decodes all series matching `matchers` with samples in [mint, maxt]. */
export function loadSeries(q: Querier, matchers: readonly Matcher[], mint: number, maxt: number, signal?: AbortSignal): LoadedSeries[] {
  const series = q.select({ mint, maxt, matchers, sorted: true, signal });
  const out: LoadedSeries[] = [];
  for (const s of series) {
    const d = s.samples();
    out.push({ labels: s.labels, t: d.t, v: d.v, hs: d.histograms });
  }
  return out;
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
 * none, or when the latest sample is a staleness marker. `hint` caches per-series positions
 * between calls with non-decreasing `ref` (pass a fresh `[0, 0]` per series).
 */
export function pickInstant(s: LoadedSeries, ref: number, lookback: number): InstantPick | undefined {
  const fi = lastAtOrBefore(s.t, ref);
  let hi = -1;
  if (s.hs.length > 0) {
    let lo = 0;
    let up = s.hs.length;
    while (lo < up) {
      const mid = (lo + up) >>> 1;
      if (s.hs[mid]!.t <= ref) lo = mid + 1;
      else up = mid;
    }
    hi = lo - 1;
  }
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

/**
 * The `smoothed` instant sample: linear interpolation between the last float sample at or before
 * `ref` and the first one after it (each within `lookback`); the earlier sample alone when there
 * is no later one. Histogram series fall back to {@link pickInstant}.
 */
export function pickSmoothed(s: LoadedSeries, ref: number, lookback: number): InstantPick | undefined {
  if (s.hs.length > 0) return pickInstant(s, ref, lookback);
  const i = lastAtOrBefore(s.t, ref);
  if (i < 0) return undefined;
  const t0 = s.t[i]!;
  const v0 = s.v[i]!;
  if (t0 <= ref - lookback || isStaleNaN(v0)) return undefined;
  if (t0 === ref) return { t: t0, f: v0 };
  const j = i + 1;
  if (j >= s.t.length) return { t: t0, f: v0 };
  const t1 = s.t[j]!;
  const v1 = s.v[j]!;
  if (t1 >= ref + lookback || isStaleNaN(v1)) return { t: t0, f: v0 };
  return { t: ref, f: v0 + ((v1 - v0) * (ref - t0)) / (t1 - t0) };
}

/** Converts a loaded series to a range series with staleness markers removed. */
export function toRangeSeries(s: LoadedSeries): RangeSeries {
  const floats: FPoint[] = [];
  for (let i = 0; i < s.t.length; i++) {
    const v = s.v[i]!;
    if (v !== v && isStaleNaN(v)) continue;
    floats.push({ t: s.t[i]!, f: v });
  }
  const histograms: HPoint[] = [];
  for (const p of s.hs) if (!isStaleHistogram(p.h)) histograms.push({ t: p.t, h: p.h });
  return { metric: s.labels, floats, histograms };
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
  return out;
}

/**
 * Window for the `anchored` / `smoothed` extended range selectors: the points inside
 * `[start, end]` plus the last point at or before `start` (within `lookback`) and, for
 * `smoothed`, the first point after `end` (within `lookback`).
 */
export function extendedWindowOf(s: RangeSeries, startExcl: number, endIncl: number, lookback: number, withAfter: boolean): RangeSeries {
  const f0 = firstAfter(s.floats, startExcl);
  const f1 = firstAfter(s.floats, endIncl);
  let from = f0;
  if (f0 > 0 && s.floats[f0 - 1]!.t > startExcl - lookback) from = f0 - 1;
  let to = f1;
  if (withAfter && f1 < s.floats.length && s.floats[f1]!.t < endIncl + lookback) to = f1 + 1;
  const out: RangeSeries = { metric: s.metric, floats: from < to ? s.floats.slice(from, to) : [], histograms: [] };
  if (s.dropName) out.dropName = true;
  return out;
}

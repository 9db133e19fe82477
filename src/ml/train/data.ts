/** Training data: NAB series resampled on a fixed step (last value at or before each grid point). */
import { loadNabCorpus, type NabFile } from '../nab/corpus.js';

/** A series on a regular grid. */
export interface GridSeries {
  readonly name: string;
  readonly start: number;
  readonly stepMs: number;
  readonly values: Float64Array;
}

/** Median spacing of a file's timestamps (ms). */
export function medianStep(t: Float64Array): number {
  const d: number[] = [];
  for (let i = 1; i < t.length; i++) d.push(t[i]! - t[i - 1]!);
  d.sort((a, b) => a - b);
  return d[Math.floor(d.length / 2)] ?? 0;
}

/** Resamples (t, v) on a `stepMs` grid starting at the first timestamp, carrying the last value forward. */
export function resample(t: Float64Array, v: Float64Array, stepMs: number): { start: number; values: Float64Array } {
  const start = t[0] ?? 0;
  const end = t[t.length - 1] ?? start;
  const n = Math.floor((end - start) / stepMs) + 1;
  const out = new Float64Array(n);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const ts = start + i * stepMs;
    while (j + 1 < t.length && t[j + 1]! <= ts) j++;
    out[i] = v[j]!;
  }
  return { start, values: out };
}

/** NAB files whose median step is `stepMs`, resampled on that step, sorted by name. */
export function gridSeriesFromNab(files: readonly NabFile[], stepMs: number): GridSeries[] {
  return files
    .filter((f) => medianStep(f.t) === stepMs)
    .map((f) => {
      const r = resample(f.t, f.values, stepMs);
      return { name: f.name, start: r.start, stepMs, values: r.values };
    });
}

/** Loads NAB from `dir` and returns its `stepMs`-step series. */
export function loadGridSeries(dir: string, stepMs: number, filter?: (name: string) => boolean): GridSeries[] {
  return gridSeriesFromNab(loadNabCorpus(dir, filter), stepMs);
}

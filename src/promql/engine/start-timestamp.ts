/**
 * `start_timestamp(v instant-vector)`: the start timestamp (seconds) of the sample an instant
 * selector picks at each step, 0 when the sample has none. Only a plain selector carries start
 * timestamps; any other argument yields an empty result (the evaluator checks that).
 */
import type { VectorSelector } from '../parser/ast.js';
import { lastAtOrBefore, pickInstant, type LoadedSeries } from './selectors.js';
import type { Vector } from './values.js';

/** Start timestamp of the histogram sample at exactly `t` of `s` (0 when unknown). */
function histogramStart(s: LoadedSeries, t: number): number {
  let lo = 0;
  let hi = s.hs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s.hs[mid]!.t < t) lo = mid + 1;
    else hi = mid;
  }
  const p = s.hs[lo];
  return p !== undefined && p.t === t ? (p.st ?? 0) : 0;
}

/**
 * Per step, one sample per series whose instant pick exists: its start timestamp in seconds.
 * Returns the vectors and the number of samples produced (for accounting).
 */
export function startTimestampSteps(series: readonly LoadedSeries[], vs: VectorSelector, steps: readonly number[], lookback: number): { steps: Vector[]; samples: number } {
  const out: Vector[] = steps.map(() => []);
  let n = 0;
  for (const s of series) {
    for (let i = 0; i < steps.length; i++) {
      const ts = steps[i]!;
      const p = pickInstant(s, (vs.at ?? ts) - vs.offset, lookback);
      if (!p) continue;
      let st: number;
      if (p.h !== undefined) st = histogramStart(s, p.t);
      else st = s.st !== undefined ? s.st[lastAtOrBefore(s.t, p.t)]! : 0;
      out[i]!.push({ metric: s.labels, t: ts, f: st / 1000, dropName: true });
      n++;
    }
  }
  return { steps: out, samples: n };
}

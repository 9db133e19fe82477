/**
 * Fits the anomaly model's one-step predictor in closed form (ridge regression from the
 * normalised history to the normalised next value) on the probationary part (first 15 %) of
 * every training series only, so that the NAB evaluation never trains on scored points.
 */
import { NormalEquations } from '../math.js';
import { normStats, type AnomalyWeights } from '../graphs.js';
import { silentProgress, type Progress } from './progress.js';

/** Options of {@link trainAnomaly}. */
export interface AnomalyTrainOptions {
  /** Raw series (one value per row), oldest first. */
  readonly series: readonly Float64Array[];
  /** Window length including the current point (history = window − 1). */
  readonly window: number;
  /** Fraction of each series used (default 0.15, NAB's probationary share). */
  readonly fitFraction?: number;
  /** Ridge penalty (default 30). */
  readonly lambda?: number;
  readonly progress?: Progress;
}

const MAX_NORM = 50;

/** Trains the predictor; returns float32 weights. */
export function trainAnomaly(o: AnomalyTrainOptions): AnomalyWeights & { samples: number } {
  const L = o.window - 1;
  const ne = new NormalEquations(L + 1, 1);
  const x = new Float64Array(L + 1);
  const y = new Float64Array(1);
  const progress = o.progress ?? silentProgress;
  o.series.forEach((s, si) => {
    const end = Math.floor(s.length * (o.fitFraction ?? 0.15));
    outer: for (let cur = L; cur < end; cur++) {
      const st = normStats(s, cur - L, L);
      for (let i = 0; i < L; i++) {
        const v = (s[cur - L + i]! - st.last) / st.scale;
        if (!(Math.abs(v) <= MAX_NORM)) continue outer;
        x[i] = v;
      }
      x[L] = 1;
      y[0] = (s[cur]! - st.last) / st.scale;
      if (!(Math.abs(y[0]) <= MAX_NORM)) continue;
      ne.add(x, y);
    }
    progress.update(si + 1, o.series.length);
  });
  const beta = ne.solve(o.lambda ?? 30, true);
  const a = new Float32Array(L);
  for (let i = 0; i < L; i++) a[i] = beta[i]!;
  return { window: o.window, a, b: beta[L]!, samples: ne.rows };
}

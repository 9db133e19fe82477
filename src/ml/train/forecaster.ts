/**
 * Fits the forecaster in closed form on the first `fitFraction` of every series and calibrates
 * residual quantiles per horizon on the following slice up to `calFraction`.
 *
 * The normalised window is compressed by a fixed linear map C (the newest `recent` points kept
 * as they are, older points averaged in blocks of `block`), one regression per horizon is
 * fitted on C-features by iteratively reweighted least squares for the L1 loss (MAE, the metric
 * the model is judged by; a few closed-form ridge solves), and the weights are folded back
 * (A = C·β) so the graph stays a single MatMul over the raw window. Deterministic: no randomness,
 * series in the given (sorted) order.
 */
import { NormalEquations, quantile } from '../math.js';
import { normStats, type ForecasterWeights } from '../graphs.js';
import { silentProgress, type Progress } from './progress.js';

/** Options of {@link trainForecaster}. */
export interface ForecasterTrainOptions {
  /** Series on the model's step, oldest first. */
  readonly series: readonly Float64Array[];
  readonly window: number;
  /** Horizons in steps. */
  readonly horizons: readonly number[];
  readonly quantiles: readonly number[];
  /** Ridge penalty in normalised units (default 10). */
  readonly lambda?: number;
  /** Fraction of each series used for fitting (default 0.5). */
  readonly fitFraction?: number;
  /** End of the calibration slice as a fraction of each series (default 0.6). */
  readonly calFraction?: number;
  /** Distance between consecutive training windows (default 2). */
  readonly stride?: number;
  /** Newest points kept individually (default 36); older ones are block-averaged. */
  readonly recent?: number;
  /** Block length of older points (default 12). */
  readonly block?: number;
  /** IRLS iterations for the L1 loss (default 4; 0 = plain ridge). */
  readonly irls?: number;
  readonly progress?: Progress;
}

/** Normalised magnitude beyond which a training sample is treated as an outlier and skipped. */
const MAX_NORM = 200;
/** Residual floor of the IRLS weights (normalised units). */
const IRLS_DELTA = 0.05;

/** Builds the compression map C as a list of [from, to) index ranges (each feature = mean of its range). */
function featureRanges(w: number, recent: number, block: number): [number, number][] {
  const r: [number, number][] = [];
  const oldEnd = w - Math.min(recent, w);
  for (let s = oldEnd; s > 0; s -= block) r.unshift([Math.max(0, s - block), s]);
  for (let i = oldEnd; i < w; i++) r.push([i, i + 1]);
  return r;
}

/** Trains the forecaster; returns its weights (float32, ready for the graph). */
export function trainForecaster(o: ForecasterTrainOptions): ForecasterWeights & { samples: number; calibration: number } {
  const { window: w, horizons, quantiles: qs } = o;
  const H = horizons.length;
  const maxH = Math.max(...horizons);
  const stride = o.stride ?? 2;
  const progress = o.progress ?? silentProgress;
  const ranges = featureRanges(w, o.recent ?? 36, o.block ?? 12);
  const p = ranges.length + 1;
  const iters = o.irls ?? 4;
  const lambda = o.lambda ?? 10;
  const steps = o.series.length * 2 + H * (iters + 1);
  let tick = 0;

  const feats = (s: Float64Array, end: number, out: Float64Array, at: number): { last: number; scale: number } | undefined => {
    const off = end - w + 1;
    const st = normStats(s, off, w);
    for (let f = 0; f < ranges.length; f++) {
      const [a, b] = ranges[f]!;
      let sum = 0;
      for (let i = a; i < b; i++) sum += (s[off + i]! - st.last) / st.scale;
      const v = sum / (b - a);
      if (!(Math.abs(v) <= MAX_NORM)) return undefined;
      out[at + f] = v;
    }
    out[at + ranges.length] = 1;
    return st;
  };

  // Collect training samples.
  const X: number[] = [];
  const Y: number[] = [];
  const row = new Float64Array(p);
  for (const s of o.series) {
    const fitEnd = Math.floor(s.length * (o.fitFraction ?? 0.5));
    for (let end = w - 1; end + maxH < fitEnd; end += stride) {
      const st = feats(s, end, row, 0);
      if (!st) continue;
      const ys = horizons.map((h) => (s[end + h]! - st.last) / st.scale);
      if (ys.some((y) => !(Math.abs(y) <= MAX_NORM))) continue;
      for (let i = 0; i < p; i++) X.push(row[i]!);
      for (const y of ys) Y.push(y);
    }
    progress.update(++tick, steps);
  }
  const n = Y.length / H;
  const Xa = Float64Array.from(X);
  const Ya = Float64Array.from(Y);

  // One IRLS fit per horizon.
  const beta = new Float64Array(p * H);
  const wts = new Float64Array(n);
  const yv = new Float64Array(1);
  for (let h = 0; h < H; h++) {
    wts.fill(1);
    let bh: Float64Array = new Float64Array(p);
    for (let it = 0; it <= iters; it++) {
      const ne = new NormalEquations(p, 1);
      for (let r = 0; r < n; r++) {
        yv[0] = Ya[r * H + h]!;
        ne.add(Xa.subarray(r * p, r * p + p), yv, wts[r]!);
      }
      bh = ne.solve(lambda, true);
      for (let r = 0; r < n; r++) {
        let pr = 0;
        for (let i = 0; i < p; i++) pr += Xa[r * p + i]! * bh[i]!;
        wts[r] = 1 / Math.max(Math.abs(Ya[r * H + h]! - pr), IRLS_DELTA);
      }
      progress.update(++tick, steps);
    }
    for (let i = 0; i < p; i++) beta[i * H + h] = bh[i]!;
  }
  // Fold the compression back into a [W, H] matrix.
  const a = new Float32Array(w * H);
  const b = new Float32Array(H);
  ranges.forEach(([lo, hi], f) => {
    for (let i = lo; i < hi; i++) for (let h = 0; h < H; h++) a[i * H + h] = beta[f * H + h]! / (hi - lo);
  });
  for (let h = 0; h < H; h++) b[h] = beta[ranges.length * H + h]!;

  // Calibrate residual quantiles (normalised units) per horizon, with the float32 weights.
  const res: number[][] = horizons.map(() => []);
  const full = new Float64Array(w);
  for (const s of o.series) {
    const from = Math.floor(s.length * (o.fitFraction ?? 0.5));
    const to = Math.floor(s.length * (o.calFraction ?? 0.6));
    for (let end = Math.max(w - 1, from); end < to; end += stride) {
      const st = normStats(s, end - w + 1, w);
      let bad = false;
      for (let i = 0; i < w; i++) {
        full[i] = (s[end - w + 1 + i]! - st.last) / st.scale;
        if (!(Math.abs(full[i]!) <= MAX_NORM)) bad = true;
      }
      if (bad) continue;
      for (let h = 0; h < H; h++) {
        if (end + horizons[h]! >= s.length) continue;
        let pr = b[h]!;
        for (let i = 0; i < w; i++) pr += full[i]! * a[i * H + h]!;
        const r = (s[end + horizons[h]!]! - st.last) / st.scale - pr;
        if (Math.abs(r) <= MAX_NORM) res[h]!.push(r);
      }
    }
    progress.update(++tick, steps);
  }
  const off = new Float32Array(H * qs.length);
  for (let h = 0; h < H; h++) for (let q = 0; q < qs.length; q++) off[h * qs.length + q] = res[h]!.length ? quantile(res[h]!, qs[q]!) : 0;
  return { window: w, horizons: [...horizons], quantiles: [...qs], a, b, off, samples: n, calibration: res[0]!.length };
}

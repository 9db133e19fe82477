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
 *
 * Trend preservation (a hard constraint of every fit): a linear window `x_i = c + s·i` is
 * normalised to `xn_i = s'·(i − (W−1))`, so the model extrapolates it exactly (`yn_h = s'·h`)
 * iff `Σ_i A[i, h]·(i − (W−1)) = h` and the intercept is 0. The intercept is dropped and each
 * horizon's weighted ridge solve is done under that linear equality (Lagrange multiplier, closed
 * form), so any straight line — rising or falling, any slope or offset — is forecast as its
 * extrapolation, while the remaining degrees of freedom still learn mean reversion, seasonality
 * and which part of the window the slope is read from. The median band offset is 0 (the L1 fit is
 * the median forecast) and the other quantile offsets are clamped to keep the band around it.
 */
import { quantile, ridgeSolve } from '../math.js';
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

/**
 * Normalised magnitude beyond which a training sample is treated as an outlier and skipped
 * (a clean line reaches |xn| ≈ W and |yn| ≈ max horizon, which must stay in the data).
 */
const MAX_NORM = 2000;
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
  const p = ranges.length;
  const W1 = w - 1;
  // c[f] = mean of (i − (W−1)) over feature f's range: the feature's value on a unit-slope line.
  const c = Float64Array.from(ranges, ([lo, hi]) => (lo + hi - 1) / 2 - W1);
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

  // One constrained IRLS fit per horizon.
  const beta = new Float64Array(p * H);
  const wts = new Float64Array(n);
  for (let h = 0; h < H; h++) {
    wts.fill(1);
    let bh: Float64Array = new Float64Array(p);
    for (let it = 0; it <= iters; it++) {
      bh = constrainedRidge(Xa, Ya, H, h, wts, n, p, lambda, c, horizons[h]!);
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
  // b stays 0: an intercept would break scale equivariance and the exact extrapolation of lines.

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
  for (let h = 0; h < H; h++) {
    for (let q = 0; q < qs.length; q++) {
      const v = res[h]!.length ? quantile(res[h]!, qs[q]!) : 0;
      // The median is the point forecast; lower quantiles stay below it, upper ones above.
      off[h * qs.length + q] = qs[q]! < 0.5 ? Math.min(v, 0) : qs[q]! > 0.5 ? Math.max(v, 0) : 0;
    }
  }
  return { window: w, horizons: [...horizons], quantiles: [...qs], a, b, off, samples: n, calibration: res[0]!.length };
}

/**
 * Weighted ridge regression of target column `h` of `Y` (`n × H`) on `X` (`n × p`) under the
 * linear equality `c·β = target`: with `M = XᵀWX + λI`, `β = M⁻¹XᵀWy + M⁻¹c·(target − c·M⁻¹XᵀWy) / (c·M⁻¹c)`.
 */
function constrainedRidge(
  X: Float64Array,
  Y: Float64Array,
  H: number,
  h: number,
  wts: Float64Array,
  n: number,
  p: number,
  lambda: number,
  c: Float64Array,
  target: number,
): Float64Array {
  const xtx = new Float64Array(p * p);
  const rhs = new Float64Array(p * 2); // columns: XᵀWy, c
  for (let r = 0; r < n; r++) {
    const wr = wts[r]!;
    const y = Y[r * H + h]! * wr;
    const o = r * p;
    for (let i = 0; i < p; i++) {
      const xi = X[o + i]!;
      if (xi === 0) continue;
      const xiw = xi * wr;
      const row = i * p;
      for (let j = i; j < p; j++) xtx[row + j]! += xiw * X[o + j]!;
      rhs[i * 2]! += xi * y;
    }
  }
  for (let i = 0; i < p; i++) {
    for (let j = 0; j < i; j++) xtx[i * p + j] = xtx[j * p + i]!;
    rhs[i * 2 + 1] = c[i]!;
  }
  const sol = ridgeSolve(xtx, rhs, p, 2, lambda);
  let cu = 0;
  let cv = 0;
  for (let i = 0; i < p; i++) {
    cu += c[i]! * sol[i * 2]!;
    cv += c[i]! * sol[i * 2 + 1]!;
  }
  const k = (target - cu) / cv;
  const beta = new Float64Array(p);
  for (let i = 0; i < p; i++) beta[i] = sol[i * 2]! + k * sol[i * 2 + 1]!;
  return beta;
}

/**
 * Fits the forecaster in closed form on the first `fitFraction` of every series and calibrates
 * residual quantiles per expert and horizon on the following slice up to `calFraction`.
 *
 * Inputs (see graphs.ts): the normalised window plus the newest 12 points sorted (order
 * statistics, so a median or trimmed mean — the best 1 h forecast of spiky and noisy series — is
 * a linear function of the inputs). The inputs are compressed by a fixed linear map C (newest
 * `recent` points kept, older points averaged in blocks of `block`, sorted blocks as symmetric
 * pairs), and per expert and horizon one regression is fitted on C-features by iteratively
 * reweighted least squares for the L1 loss (MAE, the metric the model is judged by; a few
 * closed-form ridge solves); the weights are folded back (A = C·β) so each expert is one column
 * block of a single MatMul. Experts: the training windows are split into equal-count bins of two
 * in-window backtest ratios ({@link forecastGates}: does smoothing beat persistence here, does a
 * median beat it); each bin gets its own fit, and inference picks the bin from the window itself.
 * Deterministic: no randomness, series in the given (sorted) order.
 *
 * Trend preservation (a hard constraint of every fit): a linear window `x_i = c + s·i` is
 * normalised to `xn_i = s'·(i − (W−1))`, so the model extrapolates it exactly (`yn_h = s'·h`)
 * iff `Σ_f β_f·c_f = h` (c_f = the feature's value on the unit-slope line) and the intercept is 0.
 * The intercept is dropped and each weighted ridge solve is done under that linear equality
 * (Lagrange multiplier, closed form), in every expert, so any straight line — rising or falling,
 * any slope or offset, whichever expert its window lands in — is forecast as its extrapolation,
 * while the remaining degrees of freedom learn mean reversion, robust levels and which part of
 * the window the slope is read from. The median band offset is 0 (the L1 fit is the median
 * forecast) and the other quantile offsets are clamped to keep the band around it.
 */
import { quantile, ridgeSolve } from '../math.js';
import { GATE_LEAD, GATE_SPAN, expertCount, expertIndex, forecastGates, forecastInputs, type ForecasterWeights } from '../graphs.js';
import { silentProgress, type Progress } from './progress.js';

/** Options of {@link trainForecaster}. */
export interface ForecasterTrainOptions {
  /** Series on the model's step, oldest first. */
  readonly series: readonly Float64Array[];
  readonly window: number;
  /** Horizons in steps. */
  readonly horizons: readonly number[];
  readonly quantiles: readonly number[];
  /** Ridge penalty in normalised units (default 0.11 × the number of training windows). */
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
  /** IRLS iterations for the L1 loss (default 8; 0 = plain ridge). */
  readonly irls?: number;
  /**
   * Season length in steps (default 0 = off): the points one season before each target (lag
   * index `W−1+h−season`, ± `seasonSpan`) are kept individually instead of block-averaged.
   * Measured on NAB with 288: no better (1 h gMAE/PL 0.690 vs 0.687, MAE/PL 0.734 vs 0.729) —
   * a one-day window cannot tell whether a series repeats daily, so the fit cannot trust the lag.
   */
  readonly season?: number;
  /** Neighbours kept on each side of a seasonal lag point (default 2). */
  readonly seasonSpan?: number;
  /**
   * Sorted newest-point blocks appended as order-statistic features (default [12] when there are
   * at least 12,000 training windows, else none; [] = none). [12, 36] is 0.012 better in 1 h
   * MAE/PL on NAB but the 36-point sort costs ~15 ms per 10k series, past the inference budget.
   */
  readonly sorted?: readonly number[];
  /**
   * Bins per gate statistic of {@link forecastGates} (smoothing ratio, median ratio), cut at
   * equal-count quantiles of the training windows; experts = their product (default [2, 3] when
   * there are at least 12,000 training windows, else one; [] or all 1 = one linear map).
   */
  readonly experts?: readonly number[];
  readonly progress?: Progress;
}

/**
 * Normalised magnitude beyond which a training sample is treated as an outlier and skipped
 * (a clean line reaches |xn| ≈ W and |yn| ≈ max horizon, which must stay in the data).
 */
const MAX_NORM = 2000;
/** Residual floor of the IRLS weights (normalised units). */
const IRLS_DELTA = 0.05;
/** Default ridge penalty per training window (normalised units). */
const LAMBDA_PER_WINDOW = 0.11;
/** Training windows needed per expert before the gate splits the data (the shipped model has ~15k). */
const MIN_WINDOWS_PER_EXPERT = 2000;
/** Default sorted blocks and gate bins (see the options). */
const DEFAULT_SORTED: readonly number[] = [12];
const DEFAULT_EXPERTS: readonly number[] = [2, 3];

/**
 * One fitted feature: the mean of some entries of the model's input vector, and its value `c` on
 * the unit-slope line `xn_i = i − (W−1)` (the trend constraint is `Σ β·c = h`).
 */
interface Feature {
  readonly idx: readonly number[];
  readonly c: number;
}

/**
 * The compression map: the newest `recent` points and the seasonal lag points individually,
 * older points as block means; then each sorted block as symmetric pairs (j, k−1−j). A symmetric
 * combination of order statistics (median, trimmed means) takes the same value on a rising and a
 * falling line (their midpoint, c = −(k−1)/2), which keeps the forecast linear in the slope — an
 * asymmetric one would not, and lines could not be extrapolated exactly.
 */
function featureMap(w: number, recent: number, block: number, exact: ReadonlySet<number>, sorted: readonly number[]): Feature[] {
  const W1 = w - 1;
  const fs: Feature[] = [];
  const oldEnd = w - Math.min(recent, w);
  const run = (lo: number, hi: number): void => {
    // Blocks aligned to the newest end of the run, like the original fixed map.
    for (let e = hi; e > lo; e -= block) {
      const idx: number[] = [];
      for (let i = Math.max(lo, e - block); i < e; i++) idx.push(i);
      fs.push({ idx, c: idx.reduce((s, i) => s + i - W1, 0) / idx.length });
    }
  };
  let lo = 0;
  for (let i = 0; i < oldEnd; i++) {
    if (!exact.has(i)) continue;
    run(lo, i);
    fs.push({ idx: [i], c: i - W1 });
    lo = i + 1;
  }
  run(lo, oldEnd);
  for (let i = oldEnd; i < w; i++) fs.push({ idx: [i], c: i - W1 });
  let at = w;
  for (const k of sorted) {
    for (let j = 0; j < k >> 1; j++) fs.push({ idx: [at + j, at + k - 1 - j], c: -(k - 1) / 2 });
    if (k % 2 === 1) fs.push({ idx: [at + (k >> 1)], c: -(k - 1) / 2 });
    at += k;
  }
  return fs;
}

/** Trains the forecaster; returns its weights (float32, ready for the graph). */
export function trainForecaster(o: ForecasterTrainOptions): ForecasterWeights & { samples: number; calibration: number } {
  const { window: w, horizons, quantiles: qs } = o;
  const H = horizons.length;
  const maxH = Math.max(...horizons);
  const stride = o.stride ?? 2;
  const progress = o.progress ?? silentProgress;
  const season = o.season ?? 0;
  const span = o.seasonSpan ?? 2;
  const exact = new Set<number>();
  if (season > 0) {
    for (const h of horizons) {
      const lag = w - 1 + h - season;
      for (let i = lag - span; i <= lag + span; i++) if (i >= 0 && i < w) exact.add(i);
    }
  }
  // Order statistics and experts are extra capacity (6 full linear models over ~100 features):
  // by default only used with enough training windows; small online refits and tests get the
  // plain linear model unless they ask for more. The gates also need a few backtest blocks.
  const windows = o.series.reduce((sum, s) => sum + Math.max(0, Math.ceil((Math.floor(s.length * (o.fitFraction ?? 0.5)) - maxH - (w - 1)) / stride)), 0);
  const rich = windows >= MIN_WINDOWS_PER_EXPERT * DEFAULT_EXPERTS.reduce((x, y) => x * y, 1);
  const sorted = (o.sorted ?? (rich ? DEFAULT_SORTED : [])).filter((k) => k >= 2 && k <= w);
  const bins = w >= 4 * GATE_SPAN + GATE_LEAD ? (o.experts ?? (rich ? DEFAULT_EXPERTS : [])) : [];
  const fmap = featureMap(w, o.recent ?? 36, o.block ?? 12, exact, sorted);
  const p = fmap.length;
  const c = Float64Array.from(fmap, (f) => f.c);
  const iters = o.irls ?? 8;
  const steps = o.series.length * 2 + bins.reduce((x, y) => x * y, 1) * H * (iters + 1);
  let tick = 0;
  // Shape-only weights: forecastInputs needs just window and sorted to build the input vector.
  const shape: ForecasterWeights = { window: w, horizons, quantiles: qs, a: new Float32Array(0), b: new Float32Array(0), off: new Float32Array(0), sorted };

  // Collect training samples (compressed features, targets, gate statistics).
  const X: number[] = [];
  const Y: number[] = [];
  const G: number[][] = [];
  const row = new Float64Array(p);
  for (const s of o.series) {
    const fitEnd = Math.floor(s.length * (o.fitFraction ?? 0.5));
    for (let end = w - 1; end + maxH < fitEnd; end += stride) {
      const inp = forecastInputs(shape, s, end - w + 1);
      if (!compress(fmap, inp.feats, row)) continue;
      const ys = horizons.map((h) => (s[end + h]! - inp.last) / inp.scale);
      if (ys.some((y) => !(Math.abs(y) <= MAX_NORM))) continue;
      for (let i = 0; i < p; i++) X.push(row[i]!);
      for (const y of ys) Y.push(y);
      if (bins.length > 0) G.push(forecastGates(inp.feats.subarray(0, w)));
    }
    progress.update(++tick, steps);
  }
  const n = Y.length / H;
  const Xa = Float64Array.from(X);
  const Ya = Float64Array.from(Y);
  // The penalty grows with the data so that it means the same per window (≈ 10⁴ for the shipped
  // model's ~90k windows: strong shrinkage measured best on held-out NAB data).
  const lambda = o.lambda ?? LAMBDA_PER_WINDOW * n;
  // Expert cuts: equal-count bins of each gate statistic over the training windows. Each expert
  // is a full linear model, so with too little data (a small online refit) they would overfit:
  // then there is one expert, unless the caller asked for experts explicitly.
  const wanted = bins.reduce((x, y) => x * Math.max(1, Math.floor(y)), 1);
  const cuts = (o.experts !== undefined || n >= MIN_WINDOWS_PER_EXPERT * wanted ? bins : []).map((nb, j) => {
    const gj = G.map((g) => g[j]!);
    const k = Math.max(1, Math.floor(nb));
    return Array.from({ length: k - 1 }, (_, i) => Math.fround(quantile(gj, (i + 1) / k)));
  });
  const E = expertCount(cuts);
  const member = E > 1 ? Int32Array.from(G, (g) => expertIndex(cuts, g)) : new Int32Array(n);

  // One constrained IRLS fit per expert and horizon.
  const beta = new Float64Array(p * E * H);
  const wts = new Float64Array(n);
  for (let e = 0; e < E; e++) {
    for (let h = 0; h < H; h++) {
      for (let r = 0; r < n; r++) wts[r] = member[r] === e ? 1 : 0;
      let bh: Float64Array = new Float64Array(p);
      for (let it = 0; it <= iters; it++) {
        bh = constrainedRidge(Xa, Ya, H, h, wts, n, p, lambda, c, horizons[h]!);
        for (let r = 0; r < n; r++) {
          if (member[r] !== e) continue;
          let pr = 0;
          for (let i = 0; i < p; i++) pr += Xa[r * p + i]! * bh[i]!;
          wts[r] = 1 / Math.max(Math.abs(Ya[r * H + h]! - pr), IRLS_DELTA);
        }
        progress.update(++tick, steps);
      }
      for (let i = 0; i < p; i++) beta[i * E * H + e * H + h] = bh[i]!;
    }
  }
  // Fold the compression back into a [F, E·H] matrix over the full input vector.
  const F = w + sorted.reduce((sum, k) => sum + k, 0);
  const a = new Float32Array(F * E * H);
  fmap.forEach((f, fi) => {
    for (const i of f.idx) for (let col = 0; col < E * H; col++) a[i * E * H + col] = beta[fi * E * H + col]! / f.idx.length;
  });
  // b stays 0: an intercept would break scale equivariance and the exact extrapolation of lines.
  const b = new Float32Array(E * H);
  const weights: ForecasterWeights = { ...shape, a, b, off: new Float32Array(E * H * qs.length), ...(E > 1 ? { cuts } : {}) };

  // Calibrate residual quantiles (normalised units) per expert and horizon, with the float32 weights.
  const res: number[][] = Array.from({ length: E * H }, () => []);
  for (const s of o.series) {
    const from = Math.floor(s.length * (o.fitFraction ?? 0.5));
    const to = Math.floor(s.length * (o.calFraction ?? 0.6));
    for (let end = Math.max(w - 1, from); end < to; end += stride) {
      const inp = forecastInputs(weights, s, end - w + 1);
      if (!inp.feats.every((v) => Math.abs(v) <= MAX_NORM)) continue;
      for (let h = 0; h < H; h++) {
        if (end + horizons[h]! >= s.length) continue;
        const col = inp.expert * H + h;
        let pr = 0;
        for (let i = 0; i < F; i++) pr += inp.feats[i]! * a[i * E * H + col]!;
        const r = (s[end + horizons[h]!]! - inp.last) / inp.scale - pr;
        if (Math.abs(r) <= MAX_NORM) res[col]!.push(r);
      }
    }
    progress.update(++tick, steps);
  }
  const off = weights.off as Float32Array;
  for (let col = 0; col < E * H; col++) {
    // An expert that saw no calibration windows borrows the pooled residuals of its horizon.
    const rs = res[col]!.length >= 20 ? res[col]! : res.filter((_, k) => k % H === col % H).flat();
    for (let q = 0; q < qs.length; q++) {
      const v = rs.length ? quantile(rs, qs[q]!) : 0;
      // The median is the point forecast; lower quantiles stay below it, upper ones above.
      off[col * qs.length + q] = qs[q]! < 0.5 ? Math.min(v, 0) : qs[q]! > 0.5 ? Math.max(v, 0) : 0;
    }
  }
  const calibration = res.filter((_, k) => k % H === 0).reduce((sum, r) => sum + r.length, 0);
  return { ...weights, off, samples: n, calibration };
}

/** Fills `row` with the compressed features of `feats`; false if any is out of range. */
function compress(fmap: readonly Feature[], feats: Float64Array, row: Float64Array): boolean {
  for (let f = 0; f < fmap.length; f++) {
    const idx = fmap[f]!.idx;
    let sum = 0;
    for (const i of idx) sum += feats[i]!;
    const v = sum / idx.length;
    if (!(Math.abs(v) <= MAX_NORM)) return false;
    row[f] = v;
  }
  return true;
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
    if (wr === 0) continue; // rows of other experts
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

/**
 * Per-series online state of the anomaly rule's post-step: the model's normalised prediction
 * error goes through {@link ErrorLikelihood}; in addition a value outside the range seen so far
 * by more than `spatialTolerance` × range (after the learning period) scores just above 1
 * (a "spatial" anomaly, as Numenta's NAB detector does). Scores: > 1 means anomalous.
 */
import { ErrorLikelihood, DEFAULT_LIKELIHOOD } from './likelihood.js';
import type { LikelihoodParams } from './model.js';

/** Parameters of {@link SeriesAnomalyState}. */
export interface DetectorParams extends LikelihoodParams {
  /** Fraction of the seen range a value must exceed it by to count as a spatial anomaly (0 = off). */
  readonly spatialTolerance: number;
  /** Points after a spatial anomaly during which further spatial anomalies are not reported. */
  readonly spatialRefractory?: number;
  /**
   * Squashing of |error| before calibration: 'abs' (none), 'log1p' (log(1 + |e|/c)) or 'tanh'
   * (tanh(|e|/c)), with c = `errorScale`. Bounded raw scores keep the short-term mean close to
   * Gaussian on heavy-tailed series.
   */
  readonly errorTransform?: 'abs' | 'log1p' | 'tanh';
  readonly errorScale?: number;
}

/** The shipped detector configuration (one for all series; stored in the model's metadata). */
export const DEFAULT_DETECTOR: DetectorParams = { ...DEFAULT_LIKELIHOOD, refractory: 300, spatialTolerance: 0.03 };

/** Score given to a spatial anomaly. */
export const SPATIAL_SCORE = 1.0001;

/** Online anomaly state of one series. */
export class SeriesAnomalyState {
  private readonly lik: ErrorLikelihood;
  private lo = Infinity;
  private hi = -Infinity;
  private n = 0;
  private spatialQuiet = 0;

  constructor(readonly params: DetectorParams = DEFAULT_DETECTOR) {
    this.lik = new ErrorLikelihood(params);
  }

  /** Points fed so far. */
  get count(): number {
    return this.n;
  }

  /**
   * Feeds the newest value and the model's normalised error for it (NaN when the model had no
   * full window yet); returns the anomaly score (> 1 anomalous).
   */
  update(value: number, error: number): number {
    let s = this.lik.update(Number.isFinite(error) ? this.squash(Math.abs(error)) : NaN);
    if (!Number.isFinite(value)) return s;
    const tol = this.params.spatialTolerance;
    if (tol > 0 && this.n >= this.params.learningPeriod && this.hi >= this.lo) {
      const margin = tol * (this.hi - this.lo);
      const outside = value > this.hi + margin || value < this.lo - margin;
      if (this.spatialQuiet > 0) this.spatialQuiet--;
      else if (outside && s < SPATIAL_SCORE) {
        s = SPATIAL_SCORE;
        this.spatialQuiet = this.params.spatialRefractory ?? 0;
      }
    }
    if (value < this.lo) this.lo = value;
    if (value > this.hi) this.hi = value;
    this.n++;
    return s;
  }

  private squash(e: number): number {
    const c = this.params.errorScale ?? 1;
    switch (this.params.errorTransform ?? 'abs') {
      case 'abs':
        return e;
      case 'log1p':
        return Math.log1p(e / c);
      case 'tanh':
        return Math.tanh(e / c);
    }
  }

  /** Half-width of the expected band of the error, in normalised units (≈3σ of recent error). */
  band(z = 3): number {
    return this.lik.band(z);
  }
}

/**
 * Running mean/std of a series (Welford), for callers that normalise outside the graph or
 * monitor drift between refits.
 */
export class RunningStats {
  n = 0;
  mean = 0;
  private m2 = 0;
  /** Adds a value (non-finite values are ignored). */
  add(x: number): void {
    if (!Number.isFinite(x)) return;
    this.n++;
    const d = x - this.mean;
    this.mean += d / this.n;
    this.m2 += d * (x - this.mean);
  }
  /** Population standard deviation (0 before two values). */
  get std(): number {
    return this.n > 1 ? Math.sqrt(this.m2 / this.n) : 0;
  }
}

/**
 * Rolling residual calibration for forecasts: keeps the last `size` normalised residuals of a
 * horizon and answers empirical quantiles (the per-series replacement of the model's global
 * offsets once enough residuals have been seen).
 */
export class ResidualCalibrator {
  private readonly buf: Float64Array;
  private pos = 0;
  private len = 0;
  constructor(readonly size = 500) {
    this.buf = new Float64Array(size);
  }
  /** Adds a residual `(actual − forecast) / scale`. */
  add(r: number): void {
    if (!Number.isFinite(r)) return;
    this.buf[this.pos] = r;
    this.pos = (this.pos + 1) % this.size;
    if (this.len < this.size) this.len++;
  }
  /** Residuals held. */
  get count(): number {
    return this.len;
  }
  /** Empirical q-quantile of the held residuals (NaN when empty). */
  quantile(q: number): number {
    if (this.len === 0) return NaN;
    const s = this.buf.slice(0, this.len).sort();
    const p = (this.len - 1) * q;
    const lo = Math.floor(p);
    const hi = Math.min(lo + 1, this.len - 1);
    return s[lo]! + (s[hi]! - s[lo]!) * (p - lo);
  }
}

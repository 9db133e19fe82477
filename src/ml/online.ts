/**
 * Per-series online state of the anomaly rule's post-step. Four signals, combined by max:
 *
 * 1. the model's normalised prediction error goes through {@link ErrorLikelihood} (Numenta-style
 *    likelihood of the short-term mean error against its recent distribution);
 * 2. *error novelty*: a likelihood alert counts in full only when the short-term mean error is
 *    also larger (by `errorNovelty`) than every short-term mean of the last `noveltyWindow` points;
 *    errors of a size already seen recently (a daily jump, a spiky series' usual bursts) keep
 *    only `repeatFactor` × their score;
 * 3. *context*: a {@link ContextMemory} tells how much of the recent level sequence has never been
 *    seen before; that novelty goes through its own likelihood (same calibration as the error,
 *    `context.shortWindow` points averaged), so a series whose patterns are always new is not
 *    anomalous, but a familiar series that produces a new pattern is. Error and context share
 *    one refractory period (one alert per event);
 * 4. a *spatial* anomaly: after the learning period, a value outside the range of the last
 *    `spatialWindow` points (0 = all points seen) by more than `spatialTolerance` × that range
 *    scores just above 1 (as Numenta's NAB detector does, but with a range that forgets).
 *
 * Scores: > 1 means anomalous. State is O(1) per point and bounded per series (two likelihoods'
 * ring buffers, the context memory's counters, 3 × {@link EXTREME_BLOCKS} numbers).
 */
import { ErrorLikelihood, DEFAULT_LIKELIHOOD } from './likelihood.js';
import type { LikelihoodParams } from './model.js';
import { ContextMemory, DEFAULT_CONTEXT, type ContextParams } from './context.js';

/** Parameters of the context signal (stored with the detector's in the model metadata). */
export interface ContextSignalParams extends ContextParams {
  /** Points of novelty averaged before calibration (the error uses `shortWindow`). */
  readonly shortWindow: number;
}

/** Parameters of {@link SeriesAnomalyState}. */
export interface DetectorParams extends LikelihoodParams {
  /** Fraction of the seen range a value must exceed it by to count as a spatial anomaly (0 = off). */
  readonly spatialTolerance: number;
  /** Points after a spatial anomaly during which further spatial anomalies are not reported. */
  readonly spatialRefractory?: number;
  /**
   * Points of history the spatial range covers (0 or absent = every point seen). The range is
   * kept per block of `spatialWindow / EXTREME_BLOCKS` points, so old extremes expire block by block.
   */
  readonly spatialWindow?: number;
  /**
   * Squashing of |error| before calibration: 'abs' (none), 'log1p' (log(1 + |e|/c)) or 'tanh'
   * (tanh(|e|/c)), with c = `errorScale`. Bounded raw scores keep the short-term mean close to
   * Gaussian on heavy-tailed series.
   */
  readonly errorTransform?: 'abs' | 'log1p' | 'tanh';
  readonly errorScale?: number;
  /**
   * Error novelty margin (absent = off): the short-term mean error must exceed the largest one of
   * the last `noveltyWindow` points by this fraction for the likelihood score to count in full.
   */
  readonly errorNovelty?: number;
  /** Points the error novelty looks back (default `longWindow`). */
  readonly noveltyWindow?: number;
  /** Factor applied to the likelihood score of an error that is not novel (default 0). */
  readonly repeatFactor?: number;
  /** The contextual signal (absent = off). Missing fields take {@link DEFAULT_CONTEXT_SIGNAL}'s. */
  readonly context?: Partial<ContextSignalParams>;
}

/** The shipped context signal. */
export const DEFAULT_CONTEXT_SIGNAL: ContextSignalParams = { ...DEFAULT_CONTEXT, shortWindow: 20 };

/**
 * The shipped detector configuration (one for all series; stored in the model's metadata).
 * Chosen on the NAB corpus (see models/anomaly.md for how many configurations were tried).
 */
export const DEFAULT_DETECTOR: DetectorParams = {
  ...DEFAULT_LIKELIHOOD,
  thresholdTail: 1e-4,
  refractory: 300,
  spatialTolerance: 0.03,
  spatialWindow: 4000,
  errorNovelty: 0.2,
  repeatFactor: 0,
  context: DEFAULT_CONTEXT_SIGNAL,
};

/** Upper bound of the context's short window (metadata is untrusted). */
const MAX_CONTEXT_SHORT = 1000;

/** Score given to a spatial anomaly. */
export const SPATIAL_SCORE = 1.0001;

/** Blocks of the sliding extremes (spatial range, error novelty). */
export const EXTREME_BLOCKS = 16;

/**
 * Approximate sliding-window minimum and maximum: the window is cut into {@link EXTREME_BLOCKS}
 * blocks of `ceil(window / blocks)` points; the answer covers the current block plus the
 * previous ones (between window − block and window points). O(blocks) memory.
 */
export class SlidingExtremes {
  private readonly lo: Float64Array;
  private readonly hi: Float64Array;
  private readonly size: number;
  private pos = 0;
  private fill = 0;

  constructor(window: number, blocks = EXTREME_BLOCKS) {
    const k = Math.max(2, Math.floor(blocks));
    this.size = Math.max(1, Math.ceil(window / k));
    this.lo = new Float64Array(k).fill(Infinity);
    this.hi = new Float64Array(k).fill(-Infinity);
  }

  /** Adds a finite value (others are ignored). */
  add(v: number): void {
    if (!Number.isFinite(v)) return;
    if (this.fill === this.size) {
      this.pos = (this.pos + 1) % this.lo.length;
      this.lo[this.pos] = Infinity;
      this.hi[this.pos] = -Infinity;
      this.fill = 0;
    }
    if (v < this.lo[this.pos]!) this.lo[this.pos] = v;
    if (v > this.hi[this.pos]!) this.hi[this.pos] = v;
    this.fill++;
  }

  /** Minimum over the window (+Infinity when empty). */
  min(): number {
    let m = Infinity;
    for (let i = 0; i < this.lo.length; i++) if (this.lo[i]! < m) m = this.lo[i]!;
    return m;
  }

  /** Maximum over the window (−Infinity when empty). */
  max(): number {
    let m = -Infinity;
    for (let i = 0; i < this.hi.length; i++) if (this.hi[i]! > m) m = this.hi[i]!;
    return m;
  }
}

/** Online anomaly state of one series. */
export class SeriesAnomalyState {
  private readonly lik: ErrorLikelihood;
  private readonly range?: SlidingExtremes;
  private readonly errMax?: SlidingExtremes;
  private lo = Infinity;
  private hi = -Infinity;
  private n = 0;
  private spatialQuiet = 0;
  private readonly ctx?: ContextMemory;
  private readonly ctxLik?: ErrorLikelihood;
  private eventQuiet = 0;
  /** Which signal gave the last score (for explanations and diagnostics). */
  lastSignal: 'error' | 'context' | 'spatial' = 'error';

  constructor(readonly params: DetectorParams = DEFAULT_DETECTOR) {
    this.lik = new ErrorLikelihood(params);
    if (params.context) {
      const c = { ...DEFAULT_CONTEXT_SIGNAL, ...params.context };
      this.ctx = new ContextMemory(c);
      const sw = Number.isFinite(c.shortWindow) ? Math.min(MAX_CONTEXT_SHORT, Math.max(1, Math.floor(c.shortWindow))) : DEFAULT_CONTEXT_SIGNAL.shortWindow;
      // The context memory has its own learning period, so its likelihood needs none.
      this.ctxLik = new ErrorLikelihood({ ...params, shortWindow: sw, learningPeriod: 0 });
    }
    if ((params.spatialWindow ?? 0) > 0) this.range = new SlidingExtremes(params.spatialWindow!);
    if (params.errorNovelty !== undefined) this.errMax = new SlidingExtremes(Math.max(1, params.noveltyWindow ?? params.longWindow));
  }

  /** Bytes of context memory held (0 when the context signal is off). */
  get contextBytes(): number {
    return this.ctx?.stateBytes ?? 0;
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
    this.lastSignal = 'error';
    const finiteErr = Number.isFinite(error);
    let s = this.lik.update(finiteErr ? this.squash(Math.abs(error)) : NaN);
    if (this.errMax && finiteErr) {
      const m = this.lik.lastShortMean;
      if (!(m > this.errMax.max() * (1 + (this.params.errorNovelty ?? 0)))) s *= this.params.repeatFactor ?? 0;
      this.errMax.add(m);
    }
    if (!Number.isFinite(value)) return s;
    if (this.ctx && this.ctxLik) {
      const nov = this.ctx.update(value);
      const cs = Number.isFinite(nov) ? this.ctxLik.update(nov) : 0;
      if (cs > s) {
        s = cs;
        this.lastSignal = 'context';
      }
      // Error and context often see the same event: one refractory period for both.
      if (this.eventQuiet > 0) {
        this.eventQuiet--;
        s = Math.min(s, 0.999);
      } else if (s >= 1) this.eventQuiet = this.params.refractory;
    }
    if (this.range) {
      this.lo = this.range.min();
      this.hi = this.range.max();
    }
    const tol = this.params.spatialTolerance;
    if (tol > 0 && this.n >= this.params.learningPeriod && this.hi >= this.lo) {
      const margin = tol * (this.hi - this.lo);
      const outside = value > this.hi + margin || value < this.lo - margin;
      if (this.spatialQuiet > 0) this.spatialQuiet--;
      else if (outside && s < SPATIAL_SCORE) {
        s = SPATIAL_SCORE;
        this.lastSignal = 'spatial';
        this.spatialQuiet = this.params.spatialRefractory ?? 0;
      }
    }
    if (this.range) this.range.add(value);
    else {
      if (value < this.lo) this.lo = value;
      if (value > this.hi) this.hi = value;
    }
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

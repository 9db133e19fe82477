/**
 * Per-series online calibration of prediction errors into an anomaly score, in the spirit of
 * Numenta's anomaly likelihood: the mean of the last `shortWindow` absolute errors is compared
 * with the distribution (mean, std) of that same short-term mean over the last `longWindow`
 * points; the Gaussian tail probability p of the current value is turned into
 * `score = log(p) / log(thresholdTail)`, so **score > 1 means anomalous** (p < thresholdTail).
 * After a score ≥ 1 the next `refractory` points are capped just below 1 (one alert per event).
 * O(1) per point (running sums over ring buffers); never throws on bad input (NaN → no score).
 */
import { normalTail } from './math.js';
import type { LikelihoodParams } from './model.js';

/** Default parameters (the shipped anomaly model stores its own in its metadata). */
export const DEFAULT_LIKELIHOOD: LikelihoodParams = {
  shortWindow: 10,
  longWindow: 2000,
  learningPeriod: 300,
  thresholdTail: 1e-5,
  refractory: 0,
};

/** Minimum std of the reference distribution, relative to its mean (avoids division by ~0). */
const MIN_REL_STD = 0.05;
const MIN_ABS_STD = 1e-6;

/** One series' calibration state. */
export class ErrorLikelihood {
  private readonly short: Float64Array;
  private readonly long: Float64Array;
  private shortPos = 0;
  private shortCount = 0;
  private shortSum = 0;
  private longPos = 0;
  private longCount = 0;
  private longSum = 0;
  private longSq = 0;
  private seen = 0;
  private quiet = 0;
  /** Mean and std of the reference distribution after the last update. */
  refMean = 0;
  refStd = 0;
  /** Short-term mean of the errors after the last update. */
  lastShortMean = NaN;

  constructor(readonly params: LikelihoodParams = DEFAULT_LIKELIHOOD) {
    this.short = new Float64Array(Math.max(1, params.shortWindow));
    this.long = new Float64Array(Math.max(2, params.longWindow));
  }

  /** Points fed so far. */
  get count(): number {
    return this.seen;
  }

  /**
   * Feeds the absolute (normalised) error of the newest point and returns its score (0 during the
   * learning period or for a non-finite error).
   */
  update(absError: number): number {
    if (!Number.isFinite(absError)) return 0;
    const e = Math.abs(absError);
    // Short-term mean.
    if (this.shortCount === this.short.length) this.shortSum -= this.short[this.shortPos]!;
    else this.shortCount++;
    this.short[this.shortPos] = e;
    this.shortSum += e;
    this.shortPos = (this.shortPos + 1) % this.short.length;
    const m = this.shortSum / this.shortCount;
    this.lastShortMean = m;
    // Score against the reference distribution *before* adding the current value.
    let score = 0;
    if (this.seen >= this.params.learningPeriod && this.longCount >= 2) {
      const mean = this.longSum / this.longCount;
      const variance = Math.max(0, this.longSq / this.longCount - mean * mean);
      const std = Math.max(Math.sqrt(variance), MIN_REL_STD * Math.abs(mean), MIN_ABS_STD);
      this.refMean = mean;
      this.refStd = std;
      if (m > mean) {
        const p = Math.max(normalTail(m, mean, std), 1e-300);
        score = Math.log(p) / Math.log(this.params.thresholdTail);
      }
    }
    if (this.quiet > 0) {
      this.quiet--;
      score = Math.min(score, 0.999);
    } else if (score >= 1 && this.params.refractory > 0) {
      this.quiet = this.params.refractory;
    }
    // Add to the reference distribution.
    if (this.longCount === this.long.length) {
      const old = this.long[this.longPos]!;
      this.longSum -= old;
      this.longSq -= old * old;
    } else this.longCount++;
    this.long[this.longPos] = m;
    this.longSum += m;
    this.longSq += m * m;
    this.longPos = (this.longPos + 1) % this.long.length;
    this.seen++;
    return score;
  }

  /**
   * The band of expected absolute normalised error at `z` standard deviations of the reference
   * distribution (used for `yhat_lower` / `yhat_upper`): `mean + z·std` of recent short means.
   */
  band(z = 3): number {
    return this.refMean + z * this.refStd;
  }
}

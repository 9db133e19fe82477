/**
 * Forecast accuracy tracking with bounded memory: each series keeps, per horizon, a small ring
 * of pending forecasts (target time, lowest/median/highest quantile, normalisation scale),
 * spaced so the ring spans the horizon. When a target time has passed, the forecast is scored
 * against the actual value on the evaluation grid: absolute error of the median and whether the
 * actual fell inside the band go into rolling per-horizon means (exported per rule), and the
 * normalised residual feeds the series' own residual calibration (its band replaces the model's
 * global one once enough residuals are in).
 */
import { ResidualCalibrator } from '../ml/online.js';

/** Pending forecasts kept per series and horizon. */
export const PENDING_PER_HORIZON = 16;
/** Residuals a series needs before its own calibration replaces the model's band. */
export const MIN_CALIBRATION = 32;
/** Residuals held per series and horizon. */
export const CALIBRATION_SIZE = 64;
/** Scored forecasts in the rolling per-horizon means. */
export const ROLLING_WINDOW = 1024;

const F = 5; // fields per pending entry: target, lo, med, hi, scale

/** Mean of the last `size` values (O(1) per value). */
export class RollingMean {
  private readonly ring: Float64Array;
  private pos = 0;
  private len = 0;
  private sum = 0;
  constructor(readonly size = ROLLING_WINDOW) {
    this.ring = new Float64Array(size);
  }
  /** Adds a value (non-finite values are ignored). */
  add(x: number): void {
    if (!Number.isFinite(x)) return;
    if (this.len === this.size) this.sum -= this.ring[this.pos]!;
    else this.len++;
    this.ring[this.pos] = x;
    this.sum += x;
    this.pos = (this.pos + 1) % this.size;
  }
  /** Values held. */
  get count(): number {
    return this.len;
  }
  /** Mean (NaN when empty). */
  get mean(): number {
    return this.len ? this.sum / this.len : NaN;
  }
}

/** Per-series tracking state. */
export interface SeriesTrack {
  readonly pending: Float64Array;
  readonly head: Int32Array;
  readonly len: Int32Array;
  readonly lastAdded: Float64Array;
  readonly cal: (ResidualCalibrator | undefined)[];
  /** Per horizon: calibrated offsets of each quantile from the median (normalised), once calibrated. */
  readonly offsets: (Float64Array | undefined)[];
  lastSeen: number;
}

/** Tracks the forecasts of one rule. */
export class ForecastTracker {
  private readonly series = new Map<string, SeriesTrack>();
  /** Rolling mean absolute error per horizon. */
  readonly absError: RollingMean[];
  /** Rolling share of actuals inside the band per horizon. */
  readonly coverage: RollingMean[];
  private readonly maxHorizon: number;

  constructor(
    /** Horizons (ms) in the rule's order. */
    readonly horizons: readonly number[],
    /** Quantile levels whose calibrated offsets are kept (the model's). */
    readonly quantiles: readonly number[],
    /** Maximum tracked series (beyond: not tracked, still forecast). */
    readonly maxSeries = 100_000,
  ) {
    this.absError = horizons.map(() => new RollingMean());
    this.coverage = horizons.map(() => new RollingMean());
    this.maxHorizon = Math.max(0, ...horizons);
  }

  /** Tracked series. */
  get size(): number {
    return this.series.size;
  }

  /** The state of `key` (created when there is room). */
  track(key: string, now: number): SeriesTrack | undefined {
    let s = this.series.get(key);
    if (!s) {
      if (this.series.size >= this.maxSeries) return undefined;
      const H = this.horizons.length;
      s = {
        pending: new Float64Array(H * PENDING_PER_HORIZON * F),
        head: new Int32Array(H),
        len: new Int32Array(H),
        lastAdded: new Float64Array(H).fill(-Infinity),
        cal: new Array<ResidualCalibrator | undefined>(H),
        offsets: new Array<Float64Array | undefined>(H),
        lastSeen: now,
      };
      this.series.set(key, s);
    }
    s.lastSeen = now;
    return s;
  }

  /** True when a new forecast at `ts` for horizon index `h` should be recorded (rings span their horizon). */
  due(s: SeriesTrack, h: number, ts: number): boolean {
    return ts - s.lastAdded[h]! >= this.horizons[h]! / PENDING_PER_HORIZON;
  }

  /** Records a forecast made at `ts` for horizon index `h`. */
  record(s: SeriesTrack, h: number, ts: number, lo: number, med: number, hi: number, scale: number): void {
    const cap = PENDING_PER_HORIZON;
    const base = h * cap;
    let slot: number;
    if (s.len[h]! < cap) {
      slot = (s.head[h]! + s.len[h]!) % cap;
      s.len[h]!++;
    } else {
      slot = s.head[h]!; // overwrite the oldest
      s.head[h] = (s.head[h]! + 1) % cap;
    }
    const o = (base + slot) * F;
    s.pending[o] = ts + this.horizons[h]!;
    s.pending[o + 1] = lo;
    s.pending[o + 2] = med;
    s.pending[o + 3] = hi;
    s.pending[o + 4] = scale;
    s.lastAdded[h] = ts;
  }

  /**
   * Scores every pending forecast of `s` whose target time is ≤ `ts` against the actual value at
   * `actualAt(target)` (NaN: not scorable, dropped).
   */
  score(s: SeriesTrack, ts: number, actualAt: (t: number) => number): void {
    const cap = PENDING_PER_HORIZON;
    for (let h = 0; h < this.horizons.length; h++) {
      let added = false;
      while (s.len[h]! > 0) {
        const o = (h * cap + s.head[h]!) * F;
        const target = s.pending[o]!;
        if (target > ts) break;
        s.head[h] = (s.head[h]! + 1) % cap;
        s.len[h]!--;
        const actual = actualAt(target);
        if (!Number.isFinite(actual)) continue;
        const lo = s.pending[o + 1]!;
        const med = s.pending[o + 2]!;
        const hi = s.pending[o + 3]!;
        const scale = s.pending[o + 4]!;
        this.absError[h]!.add(Math.abs(actual - med));
        this.coverage[h]!.add(actual >= lo && actual <= hi ? 1 : 0);
        if (scale > 0) {
          const c = (s.cal[h] ??= new ResidualCalibrator(CALIBRATION_SIZE));
          c.add((actual - med) / scale);
          added = true;
        }
      }
      const c = s.cal[h];
      if (added && c && c.count >= MIN_CALIBRATION) {
        const mid = c.quantile(0.5);
        s.offsets[h] = Float64Array.from(this.quantiles, (q) => c.quantile(q) - mid);
      }
    }
  }

  /** The series' calibrated offsets (per quantile of the constructor, normalised units) at horizon index `h`, if calibrated. */
  calibratedOffsets(s: SeriesTrack, h: number): Float64Array | undefined {
    return s.offsets[h];
  }

  private lastExpire = -Infinity;

  /** Forgets series not seen since `ts − 2·(largest horizon)` (a sweep at most every quarter horizon). */
  expire(ts: number): void {
    if (ts - this.lastExpire < this.maxHorizon / 4) return;
    this.lastExpire = ts;
    const cutoff = ts - 2 * this.maxHorizon;
    for (const [k, s] of this.series) if (s.lastSeen < cutoff) this.series.delete(k);
  }

  /** Takes over the series state of another tracker with the same horizons (hot reload). */
  copyFrom(o: ForecastTracker): void {
    if (o.horizons.join() !== this.horizons.join() || o.quantiles.join() !== this.quantiles.join()) return;
    for (const [k, s] of o.series) this.series.set(k, s);
    this.absError.splice(0, this.absError.length, ...o.absError);
    this.coverage.splice(0, this.coverage.length, ...o.coverage);
  }
}

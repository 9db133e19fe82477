/**
 * Deterministic synthetic training series for the forecaster: linear trends (rising and
 * falling, several slopes and levels up to disk-byte magnitudes), trends with a daily season,
 * random walks with drift, and piecewise-linear series whose slope changes (fill → stall →
 * drain). Each comes with Gaussian noise of a chosen size relative to its slope. All randomness
 * comes from a seeded PRNG, so the same options always give the same series (and the same
 * model bytes).
 */
import { mulberry32 } from '../math.js';

/** Options of {@link syntheticTrendSeries}. */
export interface SyntheticOptions {
  /** Number of series (default 24). */
  readonly count?: number;
  /** Points per series (default 4032 = 14 days at 5m). */
  readonly length?: number;
  /** Points per seasonal period (default 288 = one day at 5m). */
  readonly period?: number;
  /** PRNG seed (default 20260101). */
  readonly seed?: number;
}

/** The kinds of synthetic series, cycled in this order. */
export const SYNTHETIC_KINDS = ['trend', 'trend-seasonal', 'drift-walk', 'piecewise'] as const;

/** A standard normal draw from two uniforms (Box–Muller). */
function gauss(rnd: () => number): number {
  const u = Math.max(rnd(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rnd());
}

/**
 * Generates the synthetic series. Series `i` has kind `SYNTHETIC_KINDS[i % 4]`, a level of
 * 10^(1..11) (log-uniform), a slope of ±(1e-5..1e-3)·level per step (sign alternating), noise of
 * (0.05..2)× the slope per point, and for seasonal kinds a daily amplitude of (5..100)× the slope.
 * Levels are kept positive for rising and falling series alike by starting falling series high.
 */
export function syntheticTrendSeries(o: SyntheticOptions = {}): Float64Array[] {
  const count = o.count ?? 24;
  const n = o.length ?? 4032;
  const period = o.period ?? 288;
  const rnd = mulberry32(o.seed ?? 20260101);
  const out: Float64Array[] = [];
  for (let k = 0; k < count; k++) {
    const kind = SYNTHETIC_KINDS[k % SYNTHETIC_KINDS.length]!;
    const level = 10 ** (1 + 10 * rnd());
    const sign = k % 2 === 0 ? 1 : -1;
    const slope = sign * level * 10 ** (-5 + 2 * rnd());
    const noise = Math.abs(slope) * (0.05 + 1.95 * rnd());
    const amp = kind === 'trend-seasonal' ? Math.abs(slope) * (5 + 95 * rnd()) : 0;
    const phase = 2 * Math.PI * rnd();
    // Falling series start high enough to stay positive over the whole length.
    const start = sign > 0 ? level : level + Math.abs(slope) * n;
    const s = new Float64Array(n);
    let walk = 0;
    let pieceSlope = slope;
    for (let i = 0; i < n; i++) {
      if (kind === 'piecewise' && i > 0 && i % 864 === 0) {
        // Every 3 days the slope changes: same sign, a different size, or a stall.
        const r = rnd();
        pieceSlope = r < 0.25 ? 0 : slope * (0.3 + 1.7 * rnd());
      }
      let v: number;
      if (kind === 'drift-walk') {
        walk += slope + noise * gauss(rnd);
        v = start + walk;
      } else if (kind === 'piecewise') {
        walk += pieceSlope;
        v = start + walk + noise * gauss(rnd);
      } else {
        v = start + slope * i + noise * gauss(rnd);
      }
      if (amp > 0) v += amp * Math.sin(phase + (2 * Math.PI * i) / period);
      s[i] = v;
    }
    out.push(s);
  }
  return out;
}

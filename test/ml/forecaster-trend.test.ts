import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadModel } from '../../src/ml/session.js';
import type { ModelSession } from '../../src/ml/model.js';
import { forecastRef } from '../../src/ml/graphs.js';
import { mulberry32 } from '../../src/ml/math.js';
import { trainForecaster } from '../../src/ml/train/forecaster.js';
import { syntheticTrendSeries, SYNTHETIC_KINDS } from '../../src/ml/train/synthetic.js';

const SHIPPED = fileURLToPath(new URL('../../models/forecaster.onnx', import.meta.url));

/** Linear windows: [first value, slope per step]; rising and falling, small to disk-byte levels. */
const LINES: readonly (readonly [number, number])[] = [
  [5000, -10], // the steady decline (last value 2130)
  [1000, 10], // the rising line (last value 3870)
  [0, 1],
  [-300, 0.5],
  [50, 0.01],
  [2e6, -1500],
  [1e9, -2e4],
  [5e9, 7e5],
  [1e10, -1e6],
  [4e10, 2.5e7],
  [1e11, 3e5],
  [1e11, -4e7],
];

/**
 * Allowed distance from the extrapolation: 1 % of the change the trend predicts over the horizon,
 * plus float32 resolution of the level (the model's input and output are float32: at 1e11 one
 * ulp is 8192).
 */
function tolerance(slope: number, h: number, level: number): number {
  return 0.01 * Math.abs(slope * h) + 1e-6 * Math.abs(level);
}

describe('shipped forecaster on linear series', () => {
  let s: ModelSession;
  beforeAll(async () => {
    s = await loadModel(SHIPPED, { kind: 'forecaster', window: 288, horizons: [12, 48, 288], quantiles: [0.1, 0.5, 0.9] });
  });
  afterAll(async () => s?.close());

  it('forecasts every line as its extrapolation at every horizon, inside an ordered band', async () => {
    const W = s.info.window;
    const Hs = s.info.horizons;
    const input = new Float32Array(LINES.length * W);
    LINES.forEach(([c, k], r) => {
      for (let i = 0; i < W; i++) input[r * W + i] = c + k * i;
    });
    const out = (await s.run(input, LINES.length)).forecast!;
    const Q = s.info.quantiles.length;
    expect(s.info.quantiles).toEqual([0.1, 0.5, 0.9]);
    LINES.forEach(([c, k], r) => {
      const last = Math.fround(c + k * (W - 1));
      Hs.forEach((h, hi) => {
        const at = (r * Hs.length + hi) * Q;
        const [lo, med, up] = [out[at]!, out[at + 1]!, out[at + 2]!];
        const ext = last + k * h;
        const tol = tolerance(k, h, Math.max(Math.abs(c), Math.abs(last)));
        const what = `line ${c}+${k}·i, horizon ${h}: median ${med}, extrapolation ${ext}`;
        expect(Math.abs(med - ext), what).toBeLessThanOrEqual(tol);
        expect(lo, what).toBeLessThanOrEqual(med);
        expect(med, what).toBeLessThanOrEqual(up);
        expect(lo, what).toBeLessThanOrEqual(ext + tol);
        expect(up, what).toBeGreaterThanOrEqual(ext - tol);
        // The band is a real band around a trend, not a point.
        expect(up - lo, what).toBeGreaterThan(0);
      });
    });
  });

  it('the issue case: a decline is forecast to keep declining, a rise to keep rising', async () => {
    const W = s.info.window;
    const down = Float32Array.from({ length: W }, (_, i) => 5000 - 10 * i);
    const up = Float32Array.from({ length: W }, (_, i) => 1000 + 10 * i);
    const fd = (await s.run(down, 1)).forecast!;
    const fu = (await s.run(up, 1)).forecast!;
    // Medians at 1h, 4h, 24h are strictly monotone in the trend's direction.
    expect(fd[1]!).toBeLessThan(2130);
    expect(fd[4]!).toBeLessThan(fd[1]!);
    expect(fd[7]!).toBeLessThan(fd[4]!);
    expect(fu[1]!).toBeGreaterThan(3870);
    expect(fu[4]!).toBeGreaterThan(fu[1]!);
    expect(fu[7]!).toBeGreaterThan(fu[4]!);
  });
});

describe('trainForecaster trend constraint', () => {
  it('any fit (noisy mean-reverting data, any λ, with or without IRLS) extrapolates lines exactly', () => {
    const rnd = mulberry32(11);
    // Mean-reverting AR(1) noise only: an unconstrained fit would learn to pull lines back.
    const series = Array.from({ length: 6 }, () => {
      let x = 0;
      return Float64Array.from({ length: 800 }, () => (x = 0.8 * x + (rnd() - 0.5)));
    });
    for (const o of [{ lambda: 1, irls: 0 }, { lambda: 50, irls: 2 }]) {
      const w = trainForecaster({ series, window: 48, horizons: [1, 6, 24], quantiles: [0.1, 0.5, 0.9], ...o });
      expect(Array.from(w.b)).toEqual([0, 0, 0]);
      for (const [c, k] of [[100, -3], [-7, 0.25], [3e9, 1e5]] as const) {
        const x = Float64Array.from({ length: 48 }, (_, i) => c + k * i);
        const f = forecastRef(w, x);
        [1, 6, 24].forEach((h, hi) => {
          const ext = c + k * (47 + h);
          expect(Math.abs(f[hi * 3 + 1]! - ext)).toBeLessThanOrEqual(tolerance(k, h, c));
          expect(f[hi * 3]!).toBeLessThanOrEqual(f[hi * 3 + 1]!);
          expect(f[hi * 3 + 2]!).toBeGreaterThanOrEqual(f[hi * 3 + 1]!);
        });
      }
      // Mean reversion is still learned where the data shows it: after a jump up on flat noise,
      // the 24-step forecast is pulled back below the last value.
      const jump = Float64Array.from({ length: 48 }, (_, i) => (i === 47 ? 5 : 0.1 * Math.sin(i)));
      expect(forecastRef(w, jump)[2 * 3 + 1]!).toBeLessThan(4);
    }
  });
});

describe('synthetic training series', () => {
  it('are deterministic, cover all kinds and have the requested shape', () => {
    const a = syntheticTrendSeries({ count: 8, length: 600, seed: 3 });
    const b = syntheticTrendSeries({ count: 8, length: 600, seed: 3 });
    const c = syntheticTrendSeries({ count: 8, length: 600, seed: 4 });
    expect(a).toHaveLength(8);
    expect(SYNTHETIC_KINDS).toHaveLength(4);
    a.forEach((s, i) => {
      expect(s).toHaveLength(600);
      expect(Array.from(s)).toEqual(Array.from(b[i]!));
      expect(s.every(Number.isFinite)).toBe(true);
    });
    expect(Array.from(a[0]!)).not.toEqual(Array.from(c[0]!));
    // Even-indexed series rise and odd ones fall (end vs start, well beyond the noise).
    a.forEach((s, i) => {
      const d = s[599]! - s[0]!;
      if (i % 2 === 0) expect(d).toBeGreaterThan(0);
      else expect(d).toBeLessThan(0);
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadModel, loadModelBytes } from '../../src/ml/session.js';
import type { ModelSession } from '../../src/ml/model.js';
import { expertCount, expertIndex, forecastGates, forecastInputs, forecastRef, type ForecasterWeights } from '../../src/ml/graphs.js';
import { mulberry32 } from '../../src/ml/math.js';
import { encodeForecaster } from '../../src/ml/train/build.js';
import { trainForecaster } from '../../src/ml/train/forecaster.js';

const SHIPPED = fileURLToPath(new URL('../../models/forecaster.onnx', import.meta.url));

/** Windows of the kinds the gates must tell apart. */
function windows(W: number, seed: number): Float64Array[] {
  const rnd = mulberry32(seed);
  const out: Float64Array[] = [];
  for (let k = 0; k < 40; k++) {
    const kind = k % 5;
    let walk = 0;
    out.push(
      Float64Array.from({ length: W }, (_, i) => {
        const u = rnd() - 0.5;
        if (kind === 0) return 50 + u; // white noise around a level
        if (kind === 1) return (walk += u); // random walk
        if (kind === 2) return 10 + 0.1 * u + (rnd() < 0.15 ? 20 : 0); // baseline with spikes
        if (kind === 3) return 1e6 + 3e3 * Math.sin((2 * Math.PI * i) / 60) + 10 * u; // smooth daily-like
        return -300 + 2.5 * i + 0.01 * u; // near-line
      }),
    );
  }
  return out;
}

describe('forecaster gates', () => {
  it('read lines, noise and spikes from the window itself', () => {
    const line = Float64Array.from({ length: 288 }, (_, i) => 3 - 0.5 * i);
    const [sm, md] = forecastGates(line);
    // A straight line: both backtests lag 5.5 steps more than persistence, (12 + 5.5) / 12.
    expect(sm).toBeCloseTo(17.5 / 12, 6);
    expect(md).toBeCloseTo(17.5 / 12, 6);
    const [noise, walk, spikes] = windows(288, 5);
    expect(forecastGates(noise!)[0]!).toBeLessThan(0.9); // smoothing beats persistence on noise
    expect(forecastGates(walk!)[0]!).toBeGreaterThan(1); // and loses on a random walk
    expect(forecastGates(spikes!)[1]!).toBeLessThan(0.7); // a median ignores the spikes
  });

  it('expertIndex is mixed radix over the statistics', () => {
    const cuts = [[0.9], [0.7, 1.1]];
    expect(expertCount(cuts)).toBe(6);
    expect(expertIndex(cuts, [0.5, 0.5])).toBe(0);
    expect(expertIndex(cuts, [0.5, 1.0])).toBe(1);
    expect(expertIndex(cuts, [0.5, 2])).toBe(2);
    expect(expertIndex(cuts, [1, 0.5])).toBe(3);
    expect(expertIndex(cuts, [1, 2])).toBe(5);
  });
});

describe('gated forecaster graph', () => {
  it('matches the float64 reference for every expert', async () => {
    const W = 96;
    const rnd = mulberry32(3);
    const sorted = [12, 36];
    const cuts = [[0.9], [0.5, 1.1]];
    const E = 6;
    const H = 2;
    const Q = 3;
    const F = W + 48;
    const w: ForecasterWeights = {
      window: W,
      horizons: [6, 24],
      quantiles: [0.1, 0.5, 0.9],
      a: Float32Array.from({ length: F * E * H }, () => (rnd() - 0.5) * 0.05),
      b: Float32Array.from({ length: E * H }, () => rnd() - 0.5),
      off: Float32Array.from({ length: E * H * Q }, (_, i) => (i % 3) - 1),
      sorted,
      cuts,
    };
    // Keep windows whose gates are clearly inside a bin (float32 vs float64 may flip at a cut).
    const ws = windows(W, 9).filter((x) => {
      const g = forecastGates(forecastInputs(w, x).feats.subarray(0, W));
      return cuts.every((cs, j) => cs.every((c) => Math.abs(g[j]! - c) > 1e-3));
    });
    const experts = new Set(ws.map((x) => forecastInputs(w, x).expert));
    expect(experts.size).toBeGreaterThanOrEqual(4);
    const s = await loadModelBytes(encodeForecaster(w, 60_000, 'test'), { kind: 'forecaster' }, 'gated');
    const input = new Float32Array(ws.length * W);
    ws.forEach((x, r) => input.set(Float32Array.from(x), r * W));
    const out = (await s.run(input, ws.length)).forecast!;
    ws.forEach((x, r) => {
      const ref = forecastRef(w, Float32Array.from(x));
      for (let k = 0; k < H * Q; k++) {
        expect(Math.abs(out[r * H * Q + k]! - ref[k]!), `window ${r}, output ${k}`).toBeLessThan(1e-3 * (1 + Math.abs(ref[k]!)));
      }
    });
    await s.close();
  });
});

describe('trainForecaster with order statistics and experts', () => {
  it('every expert extrapolates rising and falling lines exactly', () => {
    const rnd = mulberry32(21);
    // Enough windows for the default capacity (≥ 12,000): mean-reverting noise, walks, spikes.
    const series = Array.from({ length: 18 }, (_, k) => {
      let x = 0;
      return Float64Array.from({ length: 1600 }, () => {
        const u = rnd() - 0.5;
        if (k % 3 === 0) return (x = 0.8 * x + u);
        if (k % 3 === 1) return (x += u);
        return 0.1 * u + (rnd() < 0.1 ? 5 : 0);
      });
    });
    const W = 64;
    const Hs = [1, 6, 24];
    const w = trainForecaster({ series, window: W, horizons: Hs, quantiles: [0.1, 0.5, 0.9], stride: 1 });
    expect(w.sorted).toEqual([12]);
    const E = expertCount(w.cuts);
    expect(E).toBe(6);
    expect(Array.from(w.b)).toEqual(new Array(E * Hs.length).fill(0));
    // Whatever expert the gate picks, the line's input vector maps to slope × h.
    for (const slope of [1, -1]) {
      const line = Float64Array.from({ length: W }, (_, i) => slope * i);
      const { feats, scale } = forecastInputs(w, line);
      for (let e = 0; e < E; e++) {
        Hs.forEach((h, hi) => {
          let y = 0;
          for (let i = 0; i < feats.length; i++) y += feats[i]! * w.a[i * E * Hs.length + e * Hs.length + hi]!;
          expect(Math.abs(y * scale - slope * h), `expert ${e}, h ${h}, slope ${slope}`).toBeLessThan(1e-3 * h);
        });
      }
    }
    // And through the reference (float32 weights), at a disk-byte level.
    const big = Float64Array.from({ length: W }, (_, i) => 4e10 - 2.5e7 * i);
    const f = forecastRef(w, big);
    Hs.forEach((h, hi) => {
      const ext = 4e10 - 2.5e7 * (W - 1 + h);
      expect(Math.abs(f[hi * 3 + 1]! - ext)).toBeLessThanOrEqual(0.01 * 2.5e7 * h + 1e-6 * 4e10);
    });
  });
});

describe('shipped forecaster on spiky and noisy series', () => {
  let s: ModelSession;
  beforeAll(async () => {
    s = await loadModel(SHIPPED, { kind: 'forecaster', window: 288, horizons: [12, 48, 288], quantiles: [0.1, 0.5, 0.9] });
  });
  afterAll(async () => s?.close());

  it('forecasts the baseline of a spiky series, not the spike it ends on', async () => {
    const rnd = mulberry32(8);
    const x = Float32Array.from({ length: 288 }, (_, i) => 100 + rnd() + (i % 9 === 0 || i === 287 ? 100 : 0));
    const f = (await s.run(x, 1)).forecast!;
    // Median forecasts at 1 h, 4 h, 24 h stay near the baseline (~100.5), far from the spike (200).
    for (const k of [1, 4, 7]) expect(Math.abs(f[k]! - 100.5), `output ${k}: ${f[k]}`).toBeLessThan(15);
  });

  it('pulls a one-point jump on noise back towards the level', async () => {
    const rnd = mulberry32(4);
    const x = Float32Array.from({ length: 288 }, (_, i) => (i === 287 ? 60 : 50 + rnd() - 0.5));
    const f = (await s.run(x, 1)).forecast!;
    for (const k of [1, 4, 7]) expect(f[k]!, `output ${k}`).toBeLessThan(55);
  });
});

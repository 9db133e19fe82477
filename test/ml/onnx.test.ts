import { describe, expect, it } from 'vitest';
import ort from 'onnxruntime-node';
import { GraphBuilder, decodeModelHeader, encodeModel } from '../../src/ml/onnx/index.js';
import { anomalyGraph, anomalyRef, forecastRef, forecasterGraph, type AnomalyWeights, type ForecasterWeights } from '../../src/ml/graphs.js';
import { mulberry32 } from '../../src/ml/math.js';

function randomForecaster(seed: number, window = 32): ForecasterWeights {
  const r = mulberry32(seed);
  const horizons = [1, 4, 12];
  const quantiles = [0.1, 0.5, 0.9];
  return {
    window,
    horizons,
    quantiles,
    a: Float32Array.from({ length: window * 3 }, () => r() - 0.5),
    b: Float32Array.from({ length: 3 }, () => r() - 0.5),
    off: Float32Array.from({ length: 9 }, (_, i) => (i % 3) - 1 + r() * 0.1),
  };
}

function randomRows(seed: number, n: number, w: number): Float32Array {
  const r = mulberry32(seed);
  const out = new Float32Array(n * w);
  for (let i = 0; i < n; i++) {
    let x = 100 * r() - 50;
    const level = 1000 * r();
    for (let j = 0; j < w; j++) {
      x += r() - 0.5;
      out[i * w + j] = level + x;
    }
  }
  return out;
}

describe('ONNX encoding', () => {
  it('encodes a graph that onnxruntime runs with the values a JS reference computes', async () => {
    const g = new GraphBuilder('t');
    const x = g.input('x', ['N', 3]);
    const w = g.floats([1, 2, 3, 4, 5, 6], [3, 2]);
    const y = g.relu(g.add(g.matmul(x, w), g.scalar(-10)));
    g.output('y', y, ['N', 2]);
    g.output('m', g.reduceMean(x, [1]), ['N', 1]);
    const s = await ort.InferenceSession.create(encodeModel(g.build()));
    const input = Float32Array.from([1, 1, 1, 2, 2, 2, -1, 0, 5]);
    const res = await s.run({ x: new ort.Tensor('float32', input, [3, 3]) });
    const want: number[] = [];
    for (let i = 0; i < 3; i++) {
      const r = [input[i * 3]!, input[i * 3 + 1]!, input[i * 3 + 2]!];
      want.push(Math.max(0, r[0]! * 1 + r[1]! * 3 + r[2]! * 5 - 10), Math.max(0, r[0]! * 2 + r[1]! * 4 + r[2]! * 6 - 10));
    }
    expect([...(res.y!.data as Float32Array)]).toEqual(want);
    expect([...(res.m!.data as Float32Array)].map((v) => +v.toFixed(5))).toEqual([1, 2, 1.33333]);
    await s.release();
  });

  it('forecaster graph matches the float64 reference on random windows', async () => {
    const w = randomForecaster(7);
    const bytes = encodeModel(forecasterGraph(w));
    const s = await ort.InferenceSession.create(bytes);
    const n = 50;
    const rows = randomRows(3, n, w.window);
    const out = (await s.run({ window: new ort.Tensor('float32', rows, [n, w.window]) })).forecast!;
    expect(out.dims).toEqual([n, 3, 3]);
    const got = out.data as Float32Array;
    for (let i = 0; i < n; i++) {
      const ref = forecastRef(w, rows, i * w.window);
      for (let k = 0; k < 9; k++) expect(Math.abs(got[i * 9 + k]! - ref[k]!)).toBeLessThan(1e-3 * (1 + Math.abs(ref[k]!)));
    }
    await s.release();
  });

  it('anomaly graph matches the float64 reference', async () => {
    const r = mulberry32(11);
    const w: AnomalyWeights = { window: 16, a: Float32Array.from({ length: 15 }, () => (r() - 0.5) * 0.2), b: 0.05 };
    const s = await ort.InferenceSession.create(encodeModel(anomalyGraph(w)));
    const n = 20;
    const rows = randomRows(5, n, 16);
    const res = await s.run({ window: new ort.Tensor('float32', rows, [n, 16]) });
    for (let i = 0; i < n; i++) {
      const ref = anomalyRef(w, rows, i * 16);
      expect((res.yhat!.data as Float32Array)[i]!).toBeCloseTo(ref.yhat, 2);
      expect(Math.abs((res.error!.data as Float32Array)[i]! - ref.error)).toBeLessThan(1e-3 * (1 + Math.abs(ref.error)));
      expect((res.scale!.data as Float32Array)[i]!).toBeCloseTo(ref.scale, 3);
    }
    await s.release();
  });

  it('is deterministic and decodes its own header', () => {
    const a = encodeModel(forecasterGraph(randomForecaster(1)), { metadata: { z: '1', a: '2' } });
    const b = encodeModel(forecasterGraph(randomForecaster(1)), { metadata: { a: '2', z: '1' } });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const c = encodeModel(forecasterGraph(randomForecaster(2)));
    expect(Buffer.from(a).equals(Buffer.from(c))).toBe(false);
    const h = decodeModelHeader(a);
    expect(h.irVersion).toBe(8);
    expect(h.opsets.get('')).toBe(17);
    expect(h.metadata).toEqual({ a: '2', z: '1' });
    expect(h.inputs).toEqual([{ name: 'window', dims: ['N', 32] }]);
    expect(h.outputs).toEqual([{ name: 'forecast', dims: ['N', 3, 3] }]);
    expect(h.ops).toContain('MatMul');
  });

  it('rejects a malformed initializer', () => {
    const g = new GraphBuilder('bad');
    expect(() => g.floats([1, 2, 3], [2, 2])).toThrow(/dims/);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel, loadModelBytes } from '../../src/ml/session.js';
import { ModelLoadError } from '../../src/ml/model.js';
import { encodeAnomaly, encodeForecaster } from '../../src/ml/train/build.js';
import { encodeModel, GraphBuilder } from '../../src/ml/onnx/index.js';
import type { ForecasterWeights } from '../../src/ml/graphs.js';
import { DEFAULT_DETECTOR, type DetectorParams } from '../../src/ml/online.js';

const W = 24;
const weights: ForecasterWeights = {
  window: W,
  horizons: [1, 6],
  quantiles: [0.1, 0.5, 0.9],
  a: new Float32Array(W * 2),
  b: new Float32Array(2),
  off: Float32Array.from([-1, 0, 1, -2, 0, 2]),
};
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-ml-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function loadErr(p: Promise<unknown>): Promise<ModelLoadError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ModelLoadError);
    return e as ModelLoadError;
  }
  throw new Error('expected a ModelLoadError');
}

describe('loadModel', () => {
  it('loads a forecaster and runs a batch in one call', async () => {
    const path = join(dir, 'f.onnx');
    writeFileSync(path, encodeForecaster(weights, 60_000, 'test'));
    const s = await loadModel(path, { kind: 'forecaster', window: W, horizons: [6], quantiles: [0.9] });
    expect(s.info).toMatchObject({ kind: 'forecaster', window: W, stepMs: 60_000, horizons: [1, 6], quantiles: [0.1, 0.5, 0.9], opset: 17, irVersion: 8 });
    const n = 3;
    const input = new Float32Array(n * W);
    for (let i = 0; i < n; i++) for (let j = 0; j < W; j++) input[i * W + j] = 10 * (i + 1) + (j % 2); // last value 10(i+1)+1, mean|diff| = 1
    const out = (await s.run(input, n)).forecast!;
    expect(out.length).toBe(n * 2 * 3);
    // a = 0, b = 0: forecast = last + scale·off with scale = 1 + 1e-3·mean|x| + 1e-9.
    for (let i = 0; i < n; i++) {
      const last = 10 * (i + 1) + 1;
      const level = 10 * (i + 1) + 0.5;
      const scale = 1 + 1e-3 * level + 1e-9;
      expect(out[i * 6 + 0]!).toBeCloseTo(last - scale, 4);
      expect(out[i * 6 + 1]!).toBeCloseTo(last, 4);
      expect(out[i * 6 + 5]!).toBeCloseTo(last + 2 * scale, 4);
    }
    await expect(s.run(new Float32Array(5), 1)).rejects.toThrow(RangeError);
    await s.close();
  });

  it('missing file', async () => {
    const e = await loadErr(loadModel(join(dir, 'nope.onnx'), { kind: 'forecaster' }));
    expect(e.reason).toBe('missing');
    expect(e.message).toContain('nope.onnx');
  });

  it('corrupt bytes', async () => {
    const path = join(dir, 'corrupt.onnx');
    writeFileSync(path, Buffer.from('this is not a protobuf at all \xff\xff\xff'));
    expect((await loadErr(loadModel(path, { kind: 'forecaster' }))).reason).toBe('corrupt');
    const good = encodeForecaster(weights, 60_000, 'test');
    expect((await loadErr(loadModelBytes(good.subarray(0, good.length - 40), { kind: 'forecaster' }, 'truncated'))).reason).toBe('corrupt');
    expect((await loadErr(loadModelBytes(new Uint8Array(0), { kind: 'forecaster' }, 'empty'))).reason).toBe('corrupt');
  });

  it('too large', async () => {
    const e = await loadErr(loadModelBytes(encodeForecaster(weights, 60_000, 't'), { kind: 'forecaster' }, 'big', { maxBytes: 100 }));
    expect(e.reason).toBe('too-large');
  });

  it('wrong window, kind, horizon, quantile or step', async () => {
    const bytes = encodeForecaster(weights, 60_000, 'test');
    const cases = [
      { exp: { kind: 'forecaster' as const, window: 48 }, msg: /window is 24 points, the rule provides 48/ },
      { exp: { kind: 'anomaly' as const }, msg: /is a forecaster model, the rule needs anomaly/ },
      { exp: { kind: 'forecaster' as const, horizons: [12] }, msg: /no horizon of 12 steps/ },
      { exp: { kind: 'forecaster' as const, quantiles: [0.99] }, msg: /no quantile 0.99/ },
      { exp: { kind: 'forecaster' as const, stepMs: 300_000 }, msg: /step 60000ms/ },
    ];
    for (const c of cases) {
      const e = await loadErr(loadModelBytes(bytes, c.exp, 'm'));
      expect(e.reason).toBe('mismatch');
      expect(e.message).toMatch(c.msg);
    }
  });

  it('wrong input shape (static batch, wrong rank)', async () => {
    const meta = { 'vigil.kind': 'forecaster', 'vigil.window': String(W), 'vigil.step_ms': '60000', 'vigil.horizons': '1', 'vigil.quantiles': '0.5' };
    for (const dims of [[4, W], ['N', W, 1], ['N', W + 1]] as const) {
      const g = new GraphBuilder('g');
      const x = g.input('window', dims);
      g.output('forecast', g.reduceMean(x, [1]), ['N', 1, 1]);
      const e = await loadErr(loadModelBytes(encodeModel(g.build(), { metadata: meta }), { kind: 'forecaster' }, 'shape'));
      expect(e.reason).toBe('mismatch');
      expect(e.message).toMatch(/input shape/);
    }
  });

  it('wrong opset', async () => {
    const g = new GraphBuilder('g');
    const x = g.input('window', ['N', W]);
    g.output('forecast', g.reduceMean(x, [1]), ['N', 1, 1]);
    const meta = { 'vigil.kind': 'forecaster', 'vigil.window': String(W), 'vigil.step_ms': '60000', 'vigil.horizons': '1', 'vigil.quantiles': '0.5' };
    for (const opset of [9, 99]) {
      const e = await loadErr(loadModelBytes(encodeModel(g.build(), { opset, metadata: meta }), { kind: 'forecaster' }, 'op'));
      expect(e.reason).toBe('opset');
      expect(e.message).toContain(`opset ${opset}`);
    }
  });

  it('no vigil metadata', async () => {
    const g = new GraphBuilder('g');
    const x = g.input('window', ['N', W]);
    g.output('forecast', x, ['N', W]);
    const e = await loadErr(loadModelBytes(encodeModel(g.build()), { kind: 'forecaster' }, 'plain'));
    expect(e.reason).toBe('mismatch');
    expect(e.message).toMatch(/vigil.kind/);
  });

  it('anomaly model exposes its likelihood parameters', async () => {
    const s = await loadModelBytes(encodeAnomaly({ window: 8, a: new Float32Array(7), b: 0 }, 60_000, 't'), { kind: 'anomaly', window: 8 }, 'a');
    expect(s.info.likelihood?.shortWindow).toBeGreaterThan(0);
    const out = await s.run(Float32Array.from([1, 2, 1, 2, 1, 2, 1, 9]), 1);
    // naive predictor (a = 0, b = 0): yhat = last history value (1), scale = mean|diff| + 1e-3·mean|x|.
    const scale = 1 + 1e-3 * (10 / 7) + 1e-9;
    expect(out.yhat![0]).toBeCloseTo(1, 5);
    expect(out.error![0]).toBeCloseTo((9 - 1) / scale, 4);
    await s.close();
  });

  it('anomaly model whose likelihood windows are out of bounds is a mismatch', async () => {
    for (const bad of [{ longWindow: 1e9 }, { shortWindow: 0 }, { longWindow: 2.5 }, { shortWindow: 'x' }]) {
      const bytes = encodeAnomaly({ window: 8, a: new Float32Array(7), b: 0 }, 60_000, 't', { ...DEFAULT_DETECTOR, ...bad } as unknown as DetectorParams);
      const e = await loadErr(loadModelBytes(bytes, { kind: 'anomaly', window: 8 }, 'a'));
      expect(e.reason).toBe('mismatch');
      expect(e.message).toMatch(/(shortWindow|longWindow) must be an integer/);
    }
  });
});

/**
 * The ONNX graphs of vigil's two models and a float64 JS reference of each (used by tests and
 * by training to compute residuals exactly as the graph will).
 *
 * Normalisation (inside the graph, per row): `last` = newest history value, `scale` = mean
 * absolute first difference of the history + 1e-3·mean|history| + 1e-9 (robust to flat lines);
 * `xn = (history − last) / scale`.
 *
 * - forecaster: history = the whole window `[N, W]`; `forecast[n, h, q] = last + scale·(xn·A + b
 *   + off[h, q])` → `[N, H, Q]` (NLinear-style ridge model + calibrated residual quantiles).
 * - anomaly: window `[N, W]` = W−1 history points + the current value; `yhat = last + scale·(xn·a
 *   + b)`, `error = (current − yhat) / scale`, `scale` → each `[N, 1]`.
 */
import { GraphBuilder, type GraphSpec } from './onnx/builder.js';
import { INPUT_NAME } from './model.js';

/** Relative and absolute floors of the normalisation scale. */
export const SCALE_REL_EPS = 1e-3;
export const SCALE_ABS_EPS = 1e-9;

/** Weights of a forecaster: `a` is `[W, H]` row-major, `b` `[H]`, `off` `[H, Q]`. */
export interface ForecasterWeights {
  readonly window: number;
  readonly horizons: readonly number[];
  readonly quantiles: readonly number[];
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly off: Float32Array;
}

/** Weights of the anomaly predictor: `a` is `[W−1]`, `b` a scalar. */
export interface AnomalyWeights {
  readonly window: number;
  readonly a: Float32Array;
  readonly b: number;
}

/** Adds the normalisation of `hist` (`[N, L]`) and returns `{ last, scale, xn }`. */
function normalise(g: GraphBuilder, hist: string, len: number): { last: string; scale: string; xn: string } {
  const last = g.slice(hist, [len - 1], [len], [1]);
  const d = g.sub(g.slice(hist, [1], [len], [1]), g.slice(hist, [0], [len - 1], [1]));
  const md = g.reduceMean(g.abs(d), [1]);
  const level = g.reduceMean(g.abs(hist), [1]);
  const scale = g.add(g.add(md, g.mul(level, g.scalar(SCALE_REL_EPS))), g.scalar(SCALE_ABS_EPS));
  const xn = g.div(g.sub(hist, last), scale);
  return { last, scale, xn };
}

/** Builds the forecaster graph. */
export function forecasterGraph(w: ForecasterWeights): GraphSpec {
  const H = w.horizons.length;
  const Q = w.quantiles.length;
  const g = new GraphBuilder('vigil_forecaster');
  const x = g.input(INPUT_NAME, ['N', w.window]);
  const { last, scale, xn } = normalise(g, x, w.window);
  const yn = g.add(g.matmul(xn, g.floats(w.a, [w.window, H])), g.floats(w.b, [H]));
  const q = g.add(g.reshape(yn, [-1, H, 1]), g.floats(w.off, [H, Q]));
  const out = g.add(g.mul(q, g.reshape(scale, [-1, 1, 1])), g.reshape(last, [-1, 1, 1]));
  g.output('forecast', out, ['N', H, Q]);
  return g.build();
}

/** Builds the anomaly predictor graph. */
export function anomalyGraph(w: AnomalyWeights): GraphSpec {
  const L = w.window - 1;
  const g = new GraphBuilder('vigil_anomaly');
  const x = g.input(INPUT_NAME, ['N', w.window]);
  const hist = g.slice(x, [0], [L], [1]);
  const cur = g.slice(x, [L], [w.window], [1]);
  const { last, scale, xn } = normalise(g, hist, L);
  const yn = g.add(g.matmul(xn, g.floats(w.a, [L, 1])), g.scalar(w.b));
  const yhat = g.add(g.mul(yn, scale), last);
  const err = g.div(g.sub(cur, yhat), scale);
  g.output('yhat', yhat, ['N', 1]);
  g.output('error', err, ['N', 1]);
  g.output('scale', scale, ['N', 1]);
  return g.build();
}

/** JS reference of the normalisation of `hist[off .. off+len)`: returns last and scale (float64). */
export function normStats(hist: ArrayLike<number>, off: number, len: number): { last: number; scale: number } {
  let md = 0;
  let level = 0;
  for (let i = off; i < off + len; i++) {
    level += Math.abs(hist[i]!);
    if (i > off) md += Math.abs(hist[i]! - hist[i - 1]!);
  }
  md /= len - 1;
  level /= len;
  return { last: hist[off + len - 1]!, scale: md + SCALE_REL_EPS * level + SCALE_ABS_EPS };
}

/** JS reference of the forecaster for one window (`x[off .. off+W)`); returns `[H·Q]`. */
export function forecastRef(w: ForecasterWeights, x: ArrayLike<number>, off = 0): Float64Array {
  const H = w.horizons.length;
  const Q = w.quantiles.length;
  const { last, scale } = normStats(x, off, w.window);
  const out = new Float64Array(H * Q);
  for (let h = 0; h < H; h++) {
    let y = w.b[h]!;
    for (let i = 0; i < w.window; i++) y += ((x[off + i]! - last) / scale) * w.a[i * H + h]!;
    for (let q = 0; q < Q; q++) out[h * Q + q] = last + scale * (y + w.off[h * Q + q]!);
  }
  return out;
}

/** JS reference of the anomaly predictor for one window (`x[off .. off+W)`). */
export function anomalyRef(w: AnomalyWeights, x: ArrayLike<number>, off = 0): { yhat: number; error: number; scale: number } {
  const L = w.window - 1;
  const { last, scale } = normStats(x, off, L);
  let y = w.b;
  for (let i = 0; i < L; i++) y += ((x[off + i]! - last) / scale) * w.a[i]!;
  const yhat = last + scale * y;
  return { yhat, error: (x[off + L]! - yhat) / scale, scale };
}

/**
 * The ONNX graphs of vigil's two models and a float64 JS reference of each (used by tests and
 * by training to compute residuals exactly as the graph will).
 *
 * Normalisation (inside the graph, per row): `last` = newest history value, `scale` = mean
 * absolute first difference of the history + 1e-3·mean|history| + 1e-9 (robust to flat lines);
 * `xn = (history − last) / scale`.
 *
 * - forecaster: history = the whole window `[N, W]`; `forecast[n, h, q] = last + scale·(f·A[:, e]
 *   + b[e] + off[e, h, q])` → `[N, H, Q]`, where `f` = xn followed by sorted newest-point blocks
 *   and `e` the expert picked by two in-window backtest ratios (gated NLinear-style ridge
 *   experts + calibrated residual quantiles); without sorted blocks and cuts, one linear map.
 * - anomaly: window `[N, W]` = W−1 history points + the current value; `yhat = last + scale·(xn·a
 *   + b)`, `error = (current − yhat) / scale`, `scale` → each `[N, 1]`.
 */
import { GraphBuilder, type GraphSpec } from './onnx/builder.js';
import { INPUT_NAME } from './model.js';

/** Relative and absolute floors of the normalisation scale. */
export const SCALE_REL_EPS = 1e-3;
export const SCALE_ABS_EPS = 1e-9;

/**
 * Weights of a forecaster. Without `sorted`/`cuts` it is one linear map: `a` is `[W, H]`
 * row-major, `b` `[H]`, `off` `[H, Q]`. With them the model's inputs are the normalised window
 * followed by, for each `k` of `sorted`, the newest `k` normalised points sorted in descending
 * order (order statistics: robust level features a linear map over raw points cannot express),
 * and `E = Π (cuts[j].length + 1)` experts share them: `a` is `[W + Σk, E·H]`, `b` `[E·H]`,
 * `off` `[E, H, Q]`, and the expert is picked per series from the window itself: statistic `j`
 * of {@link forecastGates} falls into one of the bins `cuts[j]` delimits ({@link expertIndex}).
 */
export interface ForecasterWeights {
  readonly window: number;
  readonly horizons: readonly number[];
  readonly quantiles: readonly number[];
  readonly a: Float32Array;
  readonly b: Float32Array;
  readonly off: Float32Array;
  /** Lengths of the sorted newest-point blocks appended to the window (default none). */
  readonly sorted?: readonly number[];
  /** Per gate statistic, ascending thresholds between its bins (default none: one expert). */
  readonly cuts?: readonly (readonly number[])[];
}

/** Floor of the gate's denominator (normalised units; a flat window has roughness 0). */
export const GATE_EPS = 1e-6;
/** Lead (steps) and span (points) of the gates' in-window backtests. */
export const GATE_LEAD = 12;
export const GATE_SPAN = 12;

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

/**
 * Batcher's odd–even merge sort comparators for `n` (a power of two) inputs, ascending: each pair
 * `[i, j]` (i < j) puts the smaller value on lane i.
 */
function batcherPairs(n: number): [number, number][] {
  const out: [number, number][] = [];
  for (let p = 1; p < n; p *= 2) {
    for (let k = p; k >= 1; k = Math.floor(k / 2)) {
      for (let j = k % p; j <= n - 1 - k; j += 2 * k) {
        for (let i = 0; i <= Math.min(k - 1, n - j - k - 1); i++) {
          if (Math.floor((i + j) / (p * 2)) === Math.floor((i + j + k) / (p * 2))) out.push([i + j, i + j + k]);
        }
      }
    }
  }
  return out;
}

/**
 * Order statistics of `lanes` (equal-shape tensors) through a sorting network of Min and Max
 * nodes (onnxruntime's TopK costs ~1 µs per row, far more than the whole linear model at 10k
 * series): lanes are padded to a power of two with −∞ below and +∞ above, comparators with a pad
 * are resolved symbolically, and only comparators that feed the wanted outputs (`only`: the
 * middle one or two; default all) are emitted. Returns the ascending order statistics.
 */
function sortNetwork(g: GraphBuilder, lanes: readonly string[], only: 'median' | 'all' = 'all'): string[] {
  const n = lanes.length;
  let size = 1;
  while (size < n) size *= 2;
  const padLo = Math.floor((size - n) / 2);
  const NEG = '-inf';
  const POS = '+inf';
  const init: string[] = [...new Array<string>(padLo).fill(NEG), ...lanes, ...new Array<string>(size - n - padLo).fill(POS)];
  const pairs = batcherPairs(size);
  // Backward pass: the comparators the wanted outputs depend on.
  const mids = n % 2 ? [padLo + (n >> 1)] : [padLo + n / 2 - 1, padLo + n / 2];
  const need = new Set(only === 'median' ? mids : Array.from({ length: n }, (_, k) => padLo + k));
  const keep = new Array<boolean>(pairs.length).fill(false);
  for (let c = pairs.length - 1; c >= 0; c--) {
    const [i, j] = pairs[c]!;
    if (need.has(i) || need.has(j)) {
      keep[c] = true;
      need.add(i);
      need.add(j);
    }
  }
  const v = [...init];
  pairs.forEach(([i, j], c) => {
    if (!keep[c]) return;
    const a = v[i]!;
    const b = v[j]!;
    if (a === NEG || b === POS) return; // already ordered
    if (a === POS || b === NEG) {
      v[i] = b;
      v[j] = a;
      return;
    }
    v[i] = g.op('Min', [a, b]);
    v[j] = g.op('Max', [a, b]);
  });
  return v.slice(padLo, padLo + n);
}

/** Adds the gate statistics of {@link forecastGates} for `xn` (`[N, W]`); returns `[N, 1]` each. */
function gateGraph(g: GraphBuilder, xn: string, W: number): string[] {
  const L = GATE_LEAD;
  const S = GATE_SPAN;
  const sum = (x: string): string => g.op('ReduceSum', [x, g.ints([1])], { keepdims: { kind: 'int', value: 1 } });
  const eps = g.scalar(GATE_EPS);
  // Smoothing ratio over origins t = S−1 … W−1−L: the rolling mean as a 1-D convolution (one
  // optimised kernel instead of S shifted adds or a CumSum, both ~3× slower at 10k series).
  const T = W - L - S + 1;
  const mean = g.reshape(g.op('Conv', [g.reshape(g.slice(xn, [0], [T + S - 1], [1]), [-1, 1, T + S - 1]), g.floats(new Array<number>(S).fill(1 / S), [1, 1, S])]), [-1, T]);
  const target = g.slice(xn, [S - 1 + L], [W], [1]);
  const smErr = sum(g.abs(g.sub(target, mean)));
  const nvErr = sum(g.abs(g.sub(target, g.slice(xn, [S - 1], [S - 1 + T], [1]))));
  const smooth = g.div(smErr, g.add(nvErr, eps));
  // Median ratio on non-overlapping blocks: block j's median vs its last point, as forecasts of
  // the last point of block j+1. The medians come from a min/max selection network (TopK over
  // 10k × 24 rows of 12 costs ~60 ms in onnxruntime, the network a few).
  const nb = Math.floor(W / S);
  const blocks = g.reshape(g.slice(xn, [W - nb * S], [W], [1]), [-1, nb, S]);
  // Lanes = the k-th point of every block; transposed first so each lane is a contiguous run per
  // series (slicing single points out of [N, nb, S] is a slow strided copy).
  const byPos = g.op('Transpose', [blocks], { perm: { kind: 'ints', value: [0, 2, 1] } }); // [N, S, nb]
  const lanes = Array.from({ length: S }, (_, k) => g.reshape(g.slice(byPos, [k], [k + 1], [1]), [-1, nb, 1]));
  const order = sortNetwork(g, lanes, 'median');
  const mid = S % 2 ? order[S >> 1]! : g.div(g.add(order[S / 2 - 1]!, order[S / 2]!), g.scalar(2));
  const lastOf = lanes[S - 1]!; // [N, nb, 1]
  const tgt = g.slice(lastOf, [1], [nb], [1]);
  const flat = (x: string): string => g.reshape(x, [-1, nb - 1]);
  const medErr = sum(flat(g.abs(g.sub(tgt, g.slice(mid, [0], [nb - 1], [1])))));
  const lastErr = sum(flat(g.abs(g.sub(tgt, g.slice(lastOf, [0], [nb - 1], [1])))));
  return [smooth, g.div(medErr, g.add(lastErr, eps))];
}

/** Builds the forecaster graph. */
export function forecasterGraph(w: ForecasterWeights): GraphSpec {
  const H = w.horizons.length;
  const Q = w.quantiles.length;
  const sorted = w.sorted ?? [];
  const cuts = w.cuts ?? [];
  const E = expertCount(cuts);
  const F = w.window + sorted.reduce((s, k) => s + k, 0);
  const g = new GraphBuilder('vigil_forecaster');
  const x = g.input(INPUT_NAME, ['N', w.window]);
  const { last, scale, xn } = normalise(g, x, w.window);
  // Sorted newest-point blocks, descending, through a sorting network over [N, 1] lanes.
  const feats =
    sorted.length === 0
      ? xn
      : g.concat(
          [
            xn,
            ...sorted.map((k) => {
              const lanes = Array.from({ length: k }, (_, i) => g.slice(xn, [w.window - k + i], [w.window - k + i + 1], [1]));
              return g.concat(sortNetwork(g, lanes).reverse(), 1);
            }),
          ],
          1,
        );
  const yn = g.add(g.matmul(feats, g.floats(w.a, [F, E * H])), g.floats(w.b, [E * H]));
  let q = g.add(g.reshape(yn, [-1, E, H, 1]), g.floats(w.off, [E, H, Q]));
  if (E > 1) {
    // Expert index (mixed radix over the gate statistics) as a one-hot [N, E, 1, 1] mask.
    const stats = gateGraph(g, xn, w.window);
    let idx: string | undefined;
    cuts.forEach((cs, j) => {
      if (idx !== undefined) idx = g.mul(idx, g.scalar(cs.length + 1));
      if (cs.length === 0) return;
      const above = g.op('Cast', [g.op('Greater', [stats[j]!, g.floats(cs, [cs.length])])], { to: { kind: 'int', value: 1 } });
      const k = g.op('ReduceSum', [above, g.ints([1])], { keepdims: { kind: 'int', value: 1 } });
      idx = idx === undefined ? k : g.add(idx, k);
    });
    const ids = g.floats(Array.from({ length: E }, (_, e) => e), [E]);
    const onehot = g.op('Cast', [g.op('Equal', [idx!, ids])], { to: { kind: 'int', value: 1 } });
    q = g.op('ReduceSum', [g.mul(q, g.reshape(onehot, [-1, E, 1, 1])), g.ints([1])], { keepdims: { kind: 'int', value: 0 } });
  } else {
    q = g.reshape(q, [-1, H, Q]);
  }
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

/**
 * The forecaster's gate statistics for a normalised window, both in-window backtests at a lead of
 * {@link GATE_LEAD} steps (so each series picks its expert from its own recent behaviour, no
 * per-series tuning):
 * 0. smoothing ratio: Σ|x[t+L] − mean of the last S points at t| ÷ Σ|x[t+L] − x[t]| over all
 *    origins t (< 1: noise around a level, smoothing wins; > 1: walks and trends, persistence
 *    wins; 1.46 on any straight line);
 * 1. median ratio: the same with the median of non-overlapping S-point blocks, each forecasting
 *    the last point of the next block (≪ 1 on spiky series, where a median ignores the spikes).
 */
export function forecastGates(xn: ArrayLike<number>): number[] {
  const n = xn.length;
  const L = GATE_LEAD;
  const S = GATE_SPAN;
  let sm = 0;
  let nv = 0;
  for (let t = S - 1; t + L < n; t++) {
    let run = 0;
    for (let i = t - S + 1; i <= t; i++) run += xn[i]!;
    sm += Math.abs(xn[t + L]! - run / S);
    nv += Math.abs(xn[t + L]! - xn[t]!);
  }
  const nb = Math.floor(n / S);
  const o0 = n - nb * S;
  let em = 0;
  let el = 0;
  const blk = new Float64Array(S);
  for (let j = 0; j + 1 < nb; j++) {
    for (let i = 0; i < S; i++) blk[i] = xn[o0 + j * S + i]!;
    blk.sort();
    const med = S % 2 ? blk[S >> 1]! : (blk[S / 2 - 1]! + blk[S / 2]!) / 2;
    const tgt = xn[o0 + (j + 2) * S - 1]!;
    em += Math.abs(tgt - med);
    el += Math.abs(tgt - xn[o0 + (j + 1) * S - 1]!);
  }
  return [sm / (nv + GATE_EPS), em / (el + GATE_EPS)];
}

/** Expert index of gate values `gs` under `cuts` (mixed radix, the last statistic fastest). */
export function expertIndex(cuts: readonly (readonly number[])[], gs: readonly number[]): number {
  let e = 0;
  cuts.forEach((cs, j) => {
    let k = 0;
    for (const c of cs) if (gs[j]! > c) k++;
    e = e * (cs.length + 1) + k;
  });
  return e;
}

/** Number of experts of `cuts`. */
export function expertCount(cuts: readonly (readonly number[])[] | undefined): number {
  return (cuts ?? []).reduce((e, cs) => e * (cs.length + 1), 1);
}

/**
 * The forecaster's inputs for one window as the graph sees them: `last`, `scale`, the feature
 * vector (normalised window, then each sorted block in descending order) and the expert index.
 */
export function forecastInputs(w: ForecasterWeights, x: ArrayLike<number>, off = 0): { last: number; scale: number; feats: Float64Array; expert: number } {
  const W = w.window;
  const sorted = w.sorted ?? [];
  const { last, scale } = normStats(x, off, W);
  const feats = new Float64Array(W + sorted.reduce((s, k) => s + k, 0));
  for (let i = 0; i < W; i++) feats[i] = (x[off + i]! - last) / scale;
  let at = W;
  for (const k of sorted) {
    const blk = feats.slice(W - k, W).sort().reverse();
    feats.set(blk, at);
    at += k;
  }
  const expert = expertCount(w.cuts) > 1 ? expertIndex(w.cuts!, forecastGates(feats.subarray(0, W))) : 0;
  return { last, scale, feats, expert };
}

/** JS reference of the forecaster for one window (`x[off .. off+W)`); returns `[H·Q]`. */
export function forecastRef(w: ForecasterWeights, x: ArrayLike<number>, off = 0): Float64Array {
  const H = w.horizons.length;
  const Q = w.quantiles.length;
  const E = expertCount(w.cuts);
  const { last, scale, feats, expert } = forecastInputs(w, x, off);
  const out = new Float64Array(H * Q);
  for (let h = 0; h < H; h++) {
    const col = expert * H + h;
    let y = w.b[col]!;
    for (let i = 0; i < feats.length; i++) y += feats[i]! * w.a[i * E * H + col]!;
    for (let q = 0; q < Q; q++) out[h * Q + q] = last + scale * (y + w.off[col * Q + q]!);
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

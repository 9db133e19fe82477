/**
 * Rolling-origin forecast evaluation on real series: at hourly origins in the last 40 % of each
 * series (never used for fitting or calibration), the forecaster's median and three baselines
 * computed by vigil's own PromQL engine over a Head holding the same series —
 * `predict_linear(v[6h], h)`, `double_exponential_smoothing(v[6h], 0.3, 0.1)` (a flat forecast of
 * the smoothed level) and seasonal naive (`v offset (1d − h)`) — are compared with the actual
 * value h later. Per series MAE and MASE (scaled by the in-sample one-step naive MAE of the
 * first 60 %), then averaged over series. Ratios to predict_linear are reported three ways: mean
 * MASE ratio (pooled, scale-free), geometric mean and arithmetic mean of per-series MAE ratios.
 */
import { Head } from '../../storage/head/index.js';
import { Engine } from '../../promql/engine/index.js';
import { FakeClock } from '../../model/clock.js';
import { labelsFrom, labelsGet } from '../../model/labels.js';
import type { ModelSession } from '../model.js';
import type { GridSeries } from '../train/data.js';
import { silentProgress, type Progress } from '../train/progress.js';

/** One method's accuracy at one horizon. */
export interface HorizonScore {
  readonly method: string;
  readonly horizonSteps: number;
  /** Mean over series of MASE. */
  readonly mase: number;
  /** Mean over series of MAE divided by predict_linear's MAE on the same series/origins. */
  readonly maeRatioVsPredictLinear: number;
  /** Geometric mean over series of the same ratio (relMAE; robust to a few outlying series). */
  readonly geoMaeRatioVsPredictLinear: number;
  /** Mean MASE of this method divided by predict_linear's mean MASE (scale-free pooled MAE ratio). */
  readonly maseRatioVsPredictLinear: number;
  /** Series evaluated. */
  readonly series: number;
  /** Forecasts scored. */
  readonly points: number;
}

/** Options of {@link evaluateForecasts}. */
export interface ForecastEvalOptions {
  readonly series: readonly GridSeries[];
  readonly session: ModelSession;
  /** Origins start at this fraction of each series (default 0.6). */
  readonly testFrom?: number;
  /** Origin spacing in steps (default 12 = 1 h at 5 m). */
  readonly originEvery?: number;
  readonly progress?: Progress;
  /** Called with every series' MAE per method and horizon (for per-series reports). */
  readonly onSeries?: (series: string, method: string, horizonSteps: number, mae: number) => void;
}

const METRIC = 'vigil_eval_series';

function durStr(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

/** Runs the evaluation; returns one row per method × horizon. */
export async function evaluateForecasts(o: ForecastEvalOptions): Promise<HorizonScore[]> {
  const info = o.session.info;
  const stepMs = info.stepMs;
  const W = info.window;
  const Hs = info.horizons;
  const qMed = info.quantiles.indexOf(0.5);
  const Q = info.quantiles.length;
  const every = o.originEvery ?? 12;
  const progress = o.progress ?? silentProgress;
  const maxH = Math.max(...Hs);
  // Common time axis: shift every series so that its test origins fall on a shared hourly grid.
  const T0 = 1_600_000_000_000 - (1_600_000_000_000 % (every * stepMs));
  const usable = o.series.filter((s) => s.values.length > W + maxH + every * 4);
  const maxLen = Math.max(...usable.map((s) => s.values.length));
  const clock = new FakeClock(T0 + (maxLen + 1) * stepMs);
  const head = new Head({ retentionMs: (maxLen + 10) * stepMs, clock });
  for (const s of usable) {
    const ls = labelsFrom({ __name__: METRIC, series: s.name });
    const app = head.appender();
    for (let i = 0; i < s.values.length; i++) app.append(0, ls, T0 + i * stepMs, s.values[i]!);
    await app.commit();
  }
  const engine = new Engine({ clock, maxSamples: 200_000_000 });
  type Acc = { abs: number; n: number };
  const perSeries = new Map<string, Map<string, Acc>>(); // series → method@h → acc
  const add = (series: string, key: string, err: number): void => {
    if (!Number.isFinite(err)) return;
    let m = perSeries.get(series);
    if (!m) perSeries.set(series, (m = new Map()));
    const a = m.get(key) ?? { abs: 0, n: 0 };
    a.abs += Math.abs(err);
    a.n++;
    m.set(key, a);
  };
  const origins = new Map<string, number[]>();
  for (const s of usable) {
    const first = Math.max(W - 1, Math.ceil((s.values.length * (o.testFrom ?? 0.6)) / every) * every);
    const idx: number[] = [];
    for (let e = first; e + maxH < s.values.length; e += every) idx.push(e);
    origins.set(s.name, idx);
  }
  // The model: one batched run over all origins of all series.
  const rows: { s: GridSeries; e: number }[] = [];
  for (const s of usable) for (const e of origins.get(s.name)!) rows.push({ s, e });
  const input = new Float32Array(rows.length * W);
  rows.forEach((r, k) => {
    for (let i = 0; i < W; i++) input[k * W + i] = r.s.values[r.e - W + 1 + i]!;
  });
  const fc = (await o.session.run(input, rows.length)).forecast!;
  rows.forEach((r, k) => {
    Hs.forEach((h, hi) => add(r.s.name, `model@${h}`, fc[(k * Hs.length + hi) * Q + (qMed >= 0 ? qMed : 0)]! - r.s.values[r.e + h]!));
  });
  // Baselines through the PromQL engine.
  const allOrigins = [...origins.values()].flat();
  const start = T0 + Math.min(...allOrigins) * stepMs;
  const end = T0 + Math.max(...allOrigins) * stepMs;
  const byName = new Map(usable.map((s) => [s.name, s]));
  const queries = Hs.flatMap((h) => [
    { method: 'predict_linear', h, q: `predict_linear(${METRIC}[6h], ${(h * stepMs) / 1000})` },
    { method: 'double_exponential_smoothing', h, q: `double_exponential_smoothing(${METRIC}[6h], 0.3, 0.1)` },
    { method: 'seasonal_naive', h, q: `${METRIC} offset ${durStr(86_400_000 - h * stepMs)}` },
  ]);
  let done = 0;
  for (const { method, h, q } of queries) {
    const res = await engine.rangeQuery(head, q, start, end, every * stepMs);
    if (res.value.kind !== 'matrix') throw new Error(`${q}: expected a matrix, got ${res.value.kind}`);
    for (const rs of res.value.matrix) {
      const name = labelsGet(rs.metric, 'series');
      const s = byName.get(name);
      if (!s) continue;
      const want = new Set(origins.get(name));
      for (const p of rs.floats ?? []) {
        const e = Math.round((p.t - T0) / stepMs);
        if (!want.has(e)) continue;
        add(name, `${method}@${h}`, p.f - s.values[e + h]!);
      }
    }
    progress.update(++done, queries.length);
  }
  // Aggregate.
  const out: HorizonScore[] = [];
  for (const method of ['model', 'predict_linear', 'double_exponential_smoothing', 'seasonal_naive']) {
    for (const h of Hs) {
      let mase = 0;
      let ratio = 0;
      let logRatio = 0;
      let plMase = 0;
      let n = 0;
      let points = 0;
      for (const s of usable) {
        const m = perSeries.get(s.name);
        const a = m?.get(`${method}@${h}`);
        const pl = m?.get(`predict_linear@${h}`);
        if (!a || !pl || a.n === 0 || pl.n === 0) continue;
        const fitEnd = Math.floor(s.values.length * (o.testFrom ?? 0.6));
        let naive = 0;
        for (let i = 1; i < fitEnd; i++) naive += Math.abs(s.values[i]! - s.values[i - 1]!);
        naive /= Math.max(1, fitEnd - 1);
        const mae = a.abs / a.n;
        o.onSeries?.(s.name, method, h, mae);
        const plMae = pl.abs / pl.n;
        if (!(naive > 0) || !(plMae > 0)) continue;
        mase += mae / naive;
        plMase += plMae / naive;
        ratio += mae / plMae;
        logRatio += Math.log(Math.max(mae, 1e-12 * plMae) / plMae);
        n++;
        points += a.n;
      }
      out.push({
        method,
        horizonSteps: h,
        mase: mase / n,
        maeRatioVsPredictLinear: ratio / n,
        geoMaeRatioVsPredictLinear: Math.exp(logRatio / n),
        maseRatioVsPredictLinear: mase / plMase,
        series: n,
        points,
      });
    }
  }
  await head.close();
  return out;
}

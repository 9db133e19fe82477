/**
 * Forecast rules (vigil extension): `expr` is resampled at `step` over `lookback` (one read per
 * evaluation), every series with a full window becomes one row of ONE batched model run, and the
 * output is `<forecast>{<input labels>, horizon="4h", quantile="0.9"}` per series × horizon ×
 * quantile. Series with too little history or a gap get no output and are counted. Forecasts
 * are scored when their horizon arrives ({@link ForecastTracker}): rolling absolute error and
 * band coverage per rule and horizon, and per-series residual calibration of the band.
 */
import { normStats } from '../ml/graphs.js';
import type { ModelSession } from '../ml/model.js';
import type { WorkerTrainRequest } from '../ml/retrain.js';
import type { Sample } from '../promql/engine/values.js';
import { monoMs } from './base.js';
import { ForecastTracker } from './predictive-accuracy.js';
import { fixedLabels, formatHorizon, OutputLabelCache, PredictiveRuleBase, seriesKey, type PredictiveRuleOptions } from './predictive-base.js';
import { ERR_DUPLICATE_RECORDING } from './recording.js';
import type { EvalContext, ForecastRuleConfig, Rule } from './rule.js';

function argBest(xs: readonly number[], better: (a: number, b: number) => boolean): number {
  let k = 0;
  for (let i = 1; i < xs.length; i++) if (better(xs[i]!, xs[k]!)) k = i;
  return k;
}

/** A runnable forecast rule. */
export class ForecastRule extends PredictiveRuleBase<ForecastRuleConfig> implements Rule {
  readonly kind = 'forecast' as const;
  /** Accuracy tracking and per-series calibration (created with the model's quantiles). */
  private tracker: ForecastTracker | undefined;
  private input = new Float32Array(0);
  /** Output label sets per input series, `[horizon × quantile]` in rule order. */
  private readonly outLabels: OutputLabelCache;

  /** `config.labels` should already include the group labels (rule labels winning). */
  constructor(config: ForecastRuleConfig, opts: PredictiveRuleOptions) {
    super(config, opts);
    this.outLabels = new OutputLabelCache(config.horizons.flatMap((h) => config.quantiles.map((q) => fixedLabels(config.forecast, config.labels, { horizon: formatHorizon(h), quantile: String(q) }))));
  }

  /** Rolling accuracy per horizon label (for tests and the API). */
  accuracy(): { horizon: string; meanAbsError: number; coverage: number; scored: number }[] {
    const t = this.tracker;
    return this.config.horizons.map((h, j) => ({
      horizon: formatHorizon(h),
      meanAbsError: t ? t.absError[j]!.mean : NaN,
      coverage: t ? t.coverage[j]!.mean : NaN,
      scored: t ? t.absError[j]!.count : 0,
    }));
  }

  protected async run(s: ModelSession, ctx: EvalContext): Promise<Sample[]> {
    const info = s.info;
    const W = info.window;
    const step = this.config.step;
    const ts = ctx.ts;
    const w = await this.reader.read(this.opts.source, this.expr!, this.matchers, { end: ts, stepMs: step, points: W, limit: this.maxSeries, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    const n0 = w.labels.length;
    if (this.input.length < n0 * W) this.input = new Float32Array(n0 * W);
    const rows: number[] = [];
    let young = 0;
    let gaps = 0;
    for (let i = 0; i < n0; i++) {
      if (w.valid[i]! < W) {
        if (w.young[i]) young++;
        else gaps++;
        continue;
      }
      const src = w.data.subarray(i * W, (i + 1) * W);
      this.input.set(src, rows.length * W);
      rows.push(i);
    }
    this.metrics.skipped(this.name, 'history', young);
    this.metrics.skipped(this.name, 'gap', gaps);
    const n = rows.length;
    const t0 = monoMs();
    const res = await s.run(this.input, n);
    this.metrics.inference(this.name, (monoMs() - t0) / 1000, n);
    const fc = res['forecast'];
    const H = info.horizons.length;
    const Q = info.quantiles.length;
    if (!fc || fc.length < n * H * Q) throw new Error(`model output "forecast" has ${fc?.length ?? 0} values, want ${n * H * Q}`);

    const cfg = this.config;
    const hIdx = cfg.horizons.map((h) => info.horizons.indexOf(Math.round(h / step)));
    const qIdx = cfg.quantiles.map((q) => info.quantiles.indexOf(q));
    const qMed = argBest(info.quantiles, (a, b) => Math.abs(a - 0.5) < Math.abs(b - 0.5));
    const qLo = argBest(info.quantiles, (a, b) => a < b);
    const qHi = argBest(info.quantiles, (a, b) => a > b);
    if (!this.tracker || this.tracker.quantiles.join() !== info.quantiles.join()) this.tracker = new ForecastTracker(cfg.horizons, info.quantiles, this.maxSeries);
    const tracker = this.tracker;
    const gridStart = ts - (W - 1) * step;
    const vals = new Float64Array(Q);
    const out: Sample[] = [];
    const seen = new Set<string>();
    const QR = qIdx.length;
    this.outLabels.begin();
    let invalid = 0;
    for (let r = 0; r < n; r++) {
      const i = rows[r]!;
      const labels = w.labels[i]!;
      const key = seriesKey(labels);
      if (seen.has(key)) throw new Error(ERR_DUPLICATE_RECORDING);
      seen.add(key);
      const base = i * W;
      const ol = this.outLabels.get(key, labels);
      const track = tracker.track(key, ts);
      if (track) {
        tracker.score(track, ts, (t) => {
          const idx = Math.floor((t - gridStart) / step);
          return idx >= 0 && idx < W ? w.data[base + idx]! : NaN;
        });
      }
      let scale = NaN;
      for (let j = 0; j < cfg.horizons.length; j++) {
        const o = (r * H + hIdx[j]!) * Q;
        const offs = track ? tracker.calibratedOffsets(track, j) : undefined;
        const due = track !== undefined && tracker.due(track, j, ts);
        if ((offs || due) && Number.isNaN(scale)) scale = normStats(w.data, base, W).scale;
        const med = fc[o + qMed]!;
        for (let q = 0; q < Q; q++) vals[q] = offs ? med + offs[q]! * scale : fc[o + q]!;
        if (due) tracker.record(track, j, ts, vals[qLo]!, vals[qMed]!, vals[qHi]!, scale);
        for (let q = 0; q < QR; q++) {
          const f = vals[qIdx[q]!]!;
          // A non-finite model output (e.g. overflow on extreme input) is dropped, never written.
          if (Number.isFinite(f)) out.push({ metric: ol[j * QR + q]!, t: ts, f });
          else invalid++;
        }
      }
    }
    this.outLabels.end();
    if (invalid > 0) this.logger.warn('forecast model produced non-finite values; dropped', { values: invalid });
    tracker.expire(ts);
    cfg.horizons.forEach((h, j) => {
      const e = tracker.absError[j]!;
      if (e.count > 0) this.metrics.accuracy(this.name, formatHorizon(h), e.mean, tracker.coverage[j]!.mean);
    });
    return out;
  }

  protected trainSpec(s: ModelSession): Omit<WorkerTrainRequest, 'series' | 'stepMs'> & { minPoints: number } {
    const maxH = Math.max(...s.info.horizons);
    return { kind: 'forecaster', window: s.info.window, horizons: s.info.horizons, quantiles: s.info.quantiles, minPoints: s.info.window + maxH + 1 };
  }

  /** Takes over health, accuracy tracking and per-series calibration of a rule it replaces (hot reload). */
  copyStateFrom(o: ForecastRule): void {
    this.copyBaseFrom(o);
    if (o.tracker && o.config.horizons.join() === this.config.horizons.join()) this.tracker = o.tracker;
  }
}

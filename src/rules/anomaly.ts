/**
 * Anomaly rules (vigil extension): `expr` is resampled on the absolute grid of `step` (one read
 * per evaluation); every new grid point of every series becomes one row of ONE batched run of a
 * one-step predictor, whose normalised error goes through the series' online likelihood
 * ({@link SeriesAnomalyState}) into a score where **> 1 means anomalous**. Outputs per series:
 * `<anomaly>` (score), `<anomaly>:yhat`, `<anomaly>:yhat_lower`, `<anomaly>:yhat_upper`.
 *
 * A series seen for the first time is warmed up from its history (up to `lookback`, within a
 * batch budget) so scores are available at once; series still inside the learning period, or
 * without a full model window, get no output and are counted.
 */
import type { ModelSession } from '../ml/model.js';
import { DEFAULT_DETECTOR, SeriesAnomalyState, type DetectorParams } from '../ml/online.js';
import type { WorkerTrainRequest } from '../ml/retrain.js';
import type { Sample } from '../promql/engine/values.js';
import { monoMs } from './base.js';
import { fixedLabels, OutputLabelCache, PredictiveRuleBase, seriesKey, type PredictiveRuleOptions } from './predictive-base.js';
import { ERR_DUPLICATE_RECORDING } from './recording.js';
import type { AnomalyRuleConfig, EvalContext, Rule } from './rule.js';

/** Default upper bound on model input values of one evaluation (float32s, 32 MB); warm-up rows beyond wait. */
export const MAX_BATCH_VALUES = 1 << 23;
/** Standard deviations of the recent error distribution spanned by `yhat_lower`/`yhat_upper`. */
export const BAND_Z = 3;

/** Online state of one input series. */
interface SeriesState {
  readonly det: SeriesAnomalyState;
  /** Grid time of the newest point fed. */
  lastT: number;
  score: number;
  yhat: number;
  lower: number;
  upper: number;
  lastSeen: number;
}

/** A runnable anomaly rule. */
export class AnomalyRule extends PredictiveRuleBase<AnomalyRuleConfig> implements Rule {
  readonly kind = 'anomaly' as const;
  private states = new Map<string, SeriesState>();
  private input = new Float32Array(0);
  /** Output label sets per input series: score, yhat, yhat_lower, yhat_upper. */
  private readonly outLabels: OutputLabelCache;

  /** `config.labels` should already include the group labels (rule labels winning). */
  constructor(config: AnomalyRuleConfig, opts: PredictiveRuleOptions) {
    super(config, opts);
    const n = config.anomaly;
    this.outLabels = new OutputLabelCache([n, `${n}:yhat`, `${n}:yhat_lower`, `${n}:yhat_upper`].map((name) => fixedLabels(name, config.labels)));
  }

  /** Series with online state. */
  get trackedSeries(): number {
    return this.states.size;
  }

  /** Points fed to the online state of the series with these labels (tests, debugging). */
  pointsSeen(key: string): number {
    return this.states.get(key)?.det.count ?? 0;
  }

  private detectorParams(s: ModelSession): DetectorParams {
    const p = s.info.likelihood as Partial<DetectorParams> | undefined;
    return p ? { ...DEFAULT_DETECTOR, spatialTolerance: 0, ...p } : DEFAULT_DETECTOR;
  }

  /** Band half-width in value units from the normalised error band. */
  private bandWidth(det: SeriesAnomalyState, scale: number): number {
    const b = det.band(BAND_Z);
    const p = det.params;
    const c = p.errorScale ?? 1;
    let e = b;
    if (p.errorTransform === 'log1p') e = c * Math.expm1(b);
    else if (p.errorTransform === 'tanh') e = c * Math.atanh(Math.min(b, 0.999999));
    return e * scale;
  }

  protected async run(s: ModelSession, ctx: EvalContext): Promise<Sample[]> {
    const W = s.info.window;
    const step = this.config.step;
    const L = Math.max(W, Math.floor(this.config.lookback / step));
    const end = Math.floor(ctx.ts / step) * step;
    const w = await this.reader.read(this.opts.source, this.expr!, this.matchers, { end, stepMs: step, points: L, limit: this.maxSeries, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    const n0 = w.labels.length;
    const params = this.detectorParams(s);

    // Rows needed per series: the grid points after the last one fed, newest first in priority.
    const want = new Int32Array(n0);
    const keys: string[] = new Array<string>(n0);
    let young = 0;
    let gaps = 0;
    let need = 0;
    const seen = new Set<string>();
    for (let i = 0; i < n0; i++) {
      const key = seriesKey(w.labels[i]!);
      if (seen.has(key)) throw new Error(ERR_DUPLICATE_RECORDING);
      seen.add(key);
      keys[i] = key;
      const usable = w.valid[i]! - W + 1; // rows with a full window
      const st = this.states.get(key);
      if (usable <= 0) {
        if (!st || st.lastT < end) {
          if (w.young[i]) young++;
          else gaps++;
        }
        continue;
      }
      const fresh = st ? Math.max(0, (end - st.lastT) / step) : usable;
      const m = Math.min(fresh, usable);
      want[i] = m;
      need += m > 0 ? 1 : 0;
    }
    // Budget: every known series gets its newest row; warm-up rows share what is left, in
    // order. A new series whose warm-up does not fit waits for a later evaluation (no state is
    // created, so it is warmed up from its history then).
    let budget = Math.max(0, Math.floor((this.opts.maxBatchValues ?? MAX_BATCH_VALUES) / W) - need);
    const fullBudget = budget;
    let rowsTotal = 0;
    let deferred = 0;
    for (let i = 0; i < n0; i++) {
      if (want[i]! <= 1) {
        rowsTotal += want[i]!;
        continue;
      }
      // A new series waits unless its whole warm-up fits (or it alone exceeds the budget).
      if (want[i]! - 1 > budget && budget < fullBudget && !this.states.has(keys[i]!)) {
        want[i] = 0;
        deferred++;
        continue;
      }
      const extra = Math.min(want[i]! - 1, budget);
      budget -= extra;
      want[i] = extra + 1;
      rowsTotal += want[i]!;
    }
    this.metrics.skipped(this.name, 'history', young);
    this.metrics.skipped(this.name, 'gap', gaps);
    this.metrics.skipped(this.name, 'budget', deferred);

    if (this.input.length < rowsTotal * W) this.input = new Float32Array(rowsTotal * W);
    const input = this.input;
    let r = 0;
    for (let i = 0; i < n0; i++) {
      const m = want[i]!;
      const rowEnd = (i + 1) * L; // exclusive end of the series' row in w.data
      for (let j = m - 1; j >= 0; j--) {
        // Window ending j points before the newest.
        const e = rowEnd - j;
        input.set(w.data.subarray(e - W, e), r * W);
        r++;
      }
    }
    const t0 = monoMs();
    const res = await s.run(input, rowsTotal);
    this.metrics.inference(this.name, (monoMs() - t0) / 1000, rowsTotal);
    const yhat = res['yhat'];
    const err = res['error'];
    const scale = res['scale'];
    if (!yhat || !err || !scale || yhat.length < rowsTotal || err.length < rowsTotal || scale.length < rowsTotal) throw new Error('model outputs "yhat", "error", "scale" are missing or short');

    const out: Sample[] = [];
    const ts = ctx.ts;
    this.outLabels.begin();
    const learning = params.learningPeriod;
    let inLearning = 0;
    r = 0;
    for (let i = 0; i < n0; i++) {
      const key = keys[i]!;
      let st = this.states.get(key);
      const m = want[i]!;
      if (m > 0) {
        if (!st) {
          st = { det: new SeriesAnomalyState(params), lastT: -Infinity, score: NaN, yhat: NaN, lower: NaN, upper: NaN, lastSeen: ts };
          this.states.set(key, st);
        }
        const rowEnd = (i + 1) * L;
        for (let j = m - 1; j >= 0; j--) {
          st.score = st.det.update(w.data[rowEnd - 1 - j]!, err[r]!);
          if (j === 0) {
            st.yhat = yhat[r]!;
            const bw = this.bandWidth(st.det, scale[r]!);
            st.lower = st.yhat - bw;
            st.upper = st.yhat + bw;
          }
          r++;
        }
        st.lastT = end;
      }
      if (!st || w.valid[i]! < W) continue;
      st.lastSeen = ts;
      if (st.det.count <= learning) {
        inLearning++;
        continue;
      }
      const ol = this.outLabels.get(key, w.labels[i]!);
      const vals = [st.score, st.yhat, st.lower, st.upper];
      // Non-finite values (a model overflow on extreme input) are dropped, never written.
      for (let o = 0; o < 4; o++) if (Number.isFinite(vals[o]!)) out.push({ metric: ol[o]!, t: ts, f: vals[o]! });
    }
    this.outLabels.end();
    this.metrics.skipped(this.name, 'learning', inLearning);
    // Forget series not seen for a whole lookback.
    const cutoff = ts - Math.max(this.config.lookback, 2 * step);
    for (const [k, st] of this.states) if (st.lastSeen < cutoff) this.states.delete(k);
    return out;
  }

  protected trainSpec(s: ModelSession): Omit<WorkerTrainRequest, 'series' | 'stepMs'> & { minPoints: number } {
    return { kind: 'anomaly', window: s.info.window, minPoints: 4 * s.info.window };
  }

  /** Takes over health and the per-series online state of a rule it replaces (hot reload). */
  copyStateFrom(o: AnomalyRule): void {
    this.copyBaseFrom(o);
    if (o.config.step === this.config.step) this.states = o.states;
  }
}

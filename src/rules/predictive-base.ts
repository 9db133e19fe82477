/**
 * What forecast and anomaly rules share: the parsed expression, the model (loaded once through
 * the {@link ModelRegistry}; a load failure makes the rule unhealthy with the reason, every
 * evaluation then fails fast), health bookkeeping, output label building and the refit job run
 * by the scheduler (history read from storage, training in a worker, the new model swapped in
 * without blocking evaluation).
 */
import { systemClock, type Clock } from '../model/clock.js';
import { METRIC_NAME, type Label, type Labels } from '../model/labels.js';
import { nopLogger, type Logger } from '../model/logger.js';
import type { Matcher } from '../model/matchers.js';
import type { ModelSession } from '../ml/model.js';
import type { ScheduleFn, WorkerTrainRequest } from '../ml/retrain.js';
import type { Expr } from '../promql/parser/ast.js';
import { checkSeriesLimit, errMessage, monoMs, parseRuleExpr, RecordedRule } from './base.js';
import { nopPredictiveMetrics, type PredictiveMetrics } from './predictive-metrics.js';
import { checkModelInfo, defaultModelDir, ModelRegistry } from './predictive-models.js';
import { plainSelectorMatchers, readWindows, WindowReader, type WindowSourceDeps } from './predictive-window.js';
import type { AnomalyRuleConfig, EvalContext, ForecastRuleConfig, RuleResult } from './rule.js';
import type { Sample } from '../promql/engine/values.js';

/** Trains a model from history (default: `trainInWorker` of the ML package). */
export type Trainer = (req: WorkerTrainRequest, signal: AbortSignal) => Promise<Uint8Array>;

/** Opens refit model bytes (default: `loadModelBytes` of the ML session). */
export type BytesLoader = (bytes: Uint8Array, kind: 'forecaster' | 'anomaly', source: string) => Promise<ModelSession>;

/** Default maximum input series of one predictive rule. */
export const DEFAULT_MAX_SERIES = 100_000;
/** Maximum points of history read for a refit (as the engine's range-query resolution limit). */
export const MAX_RETRAIN_POINTS = 11_000;

/** What a predictive rule needs from its group. */
export interface PredictiveRuleOptions {
  readonly models: ModelRegistry;
  readonly source: WindowSourceDeps;
  readonly metrics?: PredictiveMetrics;
  readonly logger?: Logger;
  readonly clock?: Clock;
  /** Maximum input series (default {@link DEFAULT_MAX_SERIES}); more is an evaluation error. */
  readonly maxSeries?: number;
  /** Anomaly rules: model input values per evaluation (default `MAX_BATCH_VALUES`); warm-up beyond waits. */
  readonly maxBatchValues?: number;
  readonly trainer?: Trainer;
  readonly loadBytes?: BytesLoader;
}

/** Merges sorted `extra` labels (which win) into `base` minus `__name__`; the result is sorted. */
export function mergeLabels(base: Labels, extra: readonly Label[]): Label[] {
  const out: Label[] = [];
  let j = 0;
  for (const l of base) {
    if (l.name === METRIC_NAME) continue;
    while (j < extra.length && extra[j]!.name < l.name) out.push(extra[j++]!);
    if (j < extra.length && extra[j]!.name === l.name) continue;
    out.push(l);
  }
  while (j < extra.length) out.push(extra[j++]!);
  return out;
}

/** Sorted label list of a name, the rule labels and further fixed labels (later entries win). */
export function fixedLabels(name: string, ...sets: Readonly<Record<string, string>>[]): Label[] {
  const m = new Map<string, string>();
  for (const s of sets) for (const [k, v] of Object.entries(s)) m.set(k, v);
  m.set(METRIC_NAME, name);
  return [...m].map(([n, value]) => ({ name: n, value })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Formats a horizon (ms) for the `horizon` label with units up to hours: `1h`, `24h`, `90m` → `1h30m`. */
export function formatHorizon(ms: number): string {
  if (ms <= 0) return '0s';
  let rest = ms;
  let out = '';
  for (const [u, n] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const q = Math.floor(rest / n);
    if (q > 0) {
      out += `${q}${u}`;
      rest -= q * n;
    }
  }
  return out;
}

const keys = new WeakMap<Labels, string>();

/** Series key of a label set without its metric name (cached per label-set object). */
export function seriesKey(ls: Labels): string {
  let s = keys.get(ls);
  if (s !== undefined) return s;
  s = '';
  for (const l of ls) if (l.name !== METRIC_NAME) s += `${l.name}\xff${l.value}\xff`;
  keys.set(ls, s);
  return s;
}

/**
 * Output label sets per input series, kept between evaluations (the same input yields the same
 * outputs): building 90k label sets per evaluation would dominate a large rule's cost.
 */
export class OutputLabelCache {
  private readonly m = new Map<string, { labels: Labels[]; gen: number }>();
  private gen = 0;

  constructor(
    /** Sorted fixed labels of each output of a series (name, rule labels, horizon, …). */
    private readonly fixed: readonly (readonly Label[])[],
  ) {}

  /** Starts an evaluation (entries not used since the previous one are dropped at {@link end}). */
  begin(): void {
    this.gen++;
  }

  /** The output label sets of an input series. */
  get(key: string, input: Labels): Labels[] {
    let e = this.m.get(key);
    if (!e) {
      e = { labels: this.fixed.map((f) => mergeLabels(input, f)), gen: this.gen };
      this.m.set(key, e);
    }
    e.gen = this.gen;
    return e.labels;
  }

  /** Drops entries of series not seen in this evaluation. */
  end(): void {
    for (const [k, e] of this.m) if (e.gen !== this.gen) this.m.delete(k);
  }
}

/** Base of {@link ForecastRule} and {@link AnomalyRule}. */
export abstract class PredictiveRuleBase<C extends ForecastRuleConfig | AnomalyRuleConfig> extends RecordedRule {
  readonly name: string;
  /** The parsed expression (undefined when it does not parse). */
  readonly expr: Expr | undefined;
  /** The expression as printed (for the API). */
  readonly query: string;
  /** Matchers when the expression is a plain selector (read straight from storage). */
  protected readonly matchers: readonly Matcher[] | undefined;
  protected readonly metrics: PredictiveMetrics;
  protected readonly logger: Logger;
  protected readonly clock: Clock;
  protected readonly maxSeries: number;
  private readonly parseError: string | undefined;
  private sessionP: Promise<ModelSession> | undefined;
  private loadError: string | undefined;
  /** A refit model replacing the registry's (per rule). */
  private refit: ModelSession | undefined;
  /** Incremental window reads (kept across evaluations). */
  protected readonly reader = new WindowReader();

  constructor(
    readonly config: C,
    protected readonly opts: PredictiveRuleOptions,
  ) {
    super();
    this.name = config.kind === 'forecast' ? config.forecast : config.anomaly;
    this.metrics = opts.metrics ?? nopPredictiveMetrics;
    this.logger = (opts.logger ?? nopLogger).with({ rule: this.name });
    this.clock = opts.clock ?? systemClock;
    this.maxSeries = opts.maxSeries ?? DEFAULT_MAX_SERIES;
    ({ expr: this.expr, query: this.query, parseError: this.parseError } = parseRuleExpr(config.expr));
    this.matchers = this.expr ? plainSelectorMatchers(this.expr) : undefined;
  }

  /** Loads the model (once); a failure marks the rule unhealthy with the reason. Never rejects. */
  prepare(): Promise<void> {
    if (!this.sessionP) {
      this.sessionP = this.opts.models.get(this.config);
      this.sessionP.catch((e: unknown) => {
        this.loadError = errMessage(e);
        this.rec.record(this.rec.lastEvaluation(), 0, 0, this.loadError);
        this.logger.error('predictive rule model failed to load', { model: this.config.model, err: this.loadError });
      });
    }
    return this.sessionP.then(
      () => {},
      () => {},
    );
  }

  /** The model session; throws the load error. */
  protected async session(): Promise<ModelSession> {
    if (this.parseError || !this.expr) throw new Error(this.parseError ?? 'no expression');
    if (this.refit) return this.refit;
    await this.prepare();
    if (this.loadError) throw new Error(this.loadError);
    return this.sessionP!;
  }


  /** Takes over health, recent evaluations and a refit model of a rule it replaces (hot reload). */
  protected copyBaseFrom(o: PredictiveRuleBase<C>): void {
    this.rec.copyFrom(o.rec);
    if (o.refit && o.config.model === this.config.model) this.refit = o.refit;
    if (this.loadError) this.rec.record(this.rec.lastEvaluation(), 0, 0, this.loadError);
  }

  /** Evaluates once: the model's outputs for every input series; never throws. */
  async eval(ctx: EvalContext): Promise<RuleResult> {
    const start = monoMs();
    try {
      const s = await this.session();
      const out = await this.run(s, ctx);
      checkSeriesLimit(ctx.limit, out.length);
      this.rec.record(ctx.ts, monoMs() - start, out.length);
      return { series: out };
    } catch (e) {
      this.rec.record(ctx.ts, monoMs() - start, 0, errMessage(e));
      return { series: [] };
    }
  }

  /** One evaluation with the loaded model (throws on failure). */
  protected abstract run(s: ModelSession, ctx: EvalContext): Promise<Sample[]>;

  /** Model window and what the trainer should reproduce (horizons/quantiles in steps). */
  protected abstract trainSpec(s: ModelSession): Omit<WorkerTrainRequest, 'series' | 'stepMs'> & { minPoints: number };

  /**
   * The refit job: reads up to {@link MAX_RETRAIN_POINTS} points of every input series, trains
   * a model of the same shape in a worker and resolves with its bytes (undefined when there is
   * not enough history). Evaluation keeps using the current model meanwhile.
   */
  async retrainBytes(signal: AbortSignal): Promise<Uint8Array | undefined> {
    const s = await this.session();
    const spec = this.trainSpec(s);
    const step = this.config.step;
    const end = Math.floor(this.clock.now() / step) * step;
    const w = await readWindows(this.opts.source, this.expr!, this.matchers, { end, stepMs: step, points: MAX_RETRAIN_POINTS, limit: this.maxSeries, signal });
    const series: Float64Array[] = [];
    for (let i = 0; i < w.labels.length; i++) {
      const run = w.valid[i]!;
      if (run < spec.minPoints) continue;
      const base = (i + 1) * w.points;
      series.push(w.data.slice(base - run, base));
    }
    if (series.length === 0) {
      this.logger.info('refit skipped: no series with enough history', { need: spec.minPoints });
      return undefined;
    }
    const { minPoints: _m, ...rest } = spec;
    const trainer = this.opts.trainer ?? (async (req, sig) => (await import('../ml/retrain.js')).trainInWorker(req, sig));
    return trainer({ ...rest, series, stepMs: step }, signal);
  }

  /** Swaps in a refit model (validated against the rule like the original). */
  async swapModel(bytes: Uint8Array): Promise<void> {
    const kind = this.config.kind === 'forecast' ? 'forecaster' : 'anomaly';
    const source = `${this.config.model} (refit for ${this.name})`;
    const load: BytesLoader = this.opts.loadBytes ?? (async (b, k, src) => (await import('../ml/session.js')).loadModelBytes(b, { kind: k }, src));
    const s = await load(bytes, kind, source);
    checkModelInfo(s.info, this.config, source);
    const old = this.refit;
    this.refit = s;
    this.logger.info('refit model swapped in', { model: source });
    if (old) setTimeout(() => void old.close().catch(() => {}), 60_000).unref();
  }
}

/** What groups need for predictive rules (an optional part of `GroupDeps`). */
export interface PredictiveDeps {
  /** Shared model registry (default: one per models directory, process-wide). */
  readonly models?: ModelRegistry;
  /** Directory of named models (default `defaultModelDir()`), used when `models` is not set. */
  readonly modelDir?: string;
  /** Global refit schedule (node-cron) for predictive rules without their own `retrain:`. */
  readonly retrain?: string;
  /** Injectable cron scheduler (tests). */
  readonly schedule?: ScheduleFn;
  readonly trainer?: Trainer;
  readonly loadBytes?: BytesLoader;
  /** Maximum input series of one rule (default {@link DEFAULT_MAX_SERIES}). */
  readonly maxSeries?: number;
}

const registries = new Map<string, ModelRegistry>();

/** The registry of `deps` (or the process-wide one of its models directory). */
export function registryFor(deps: PredictiveDeps | undefined, logger?: Logger): ModelRegistry {
  if (deps?.models) return deps.models;
  const dir = deps?.modelDir ?? defaultModelDir();
  let r = registries.get(dir);
  if (!r) {
    r = new ModelRegistry({ modelDir: dir, ...(logger ? { logger } : {}) });
    registries.set(dir, r);
  }
  return r;
}

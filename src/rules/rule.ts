/**
 * Rule-engine contracts (models: Prometheus `rules/`, vmalert). Rules see only a
 * {@link QueryFunc} and return series; the group that runs them hands results to the appender,
 * the exporter and the notifier. Alerting logic is testable without an engine or Alertmanager.
 */
import type { Labels } from '../model/labels.js';
import type { Expr } from '../promql/parser/ast.js';
import type { Sample, Vector } from '../promql/engine/values.js';
import type { TraceSpan } from '../tracing/span.js';

export type { SpanFactory, SpanTagValue, TraceSpan, TraceSpanOptions } from '../tracing/span.js';

/** Where a rule-file element came from, for error messages (`file:line`). */
export interface SourcePos {
  readonly file: string;
  /** 1-based line, 0 when unknown. */
  readonly line: number;
}

/** An instant query at `ts` (ms) returning a vector (a scalar result becomes one unlabeled sample). */
export type QueryFunc = (expr: string | Expr, ts: number, signal?: AbortSignal) => Promise<Vector>;

/** Alert states. */
export type AlertState = 'inactive' | 'pending' | 'firing';

/** One alert instance of an alerting rule (state kept between evaluations). */
export interface Alert {
  readonly labels: Labels;
  annotations: Labels;
  state: AlertState;
  /** Last evaluated value. */
  value: number;
  /** When the alert became pending (ms). */
  activeAt: number;
  /** When it started firing, 0 if never. */
  firedAt: number;
  /** When it resolved, 0 if not resolved. */
  resolvedAt: number;
  /** Last time it was sent to Alertmanager, 0 if never. */
  lastSentAt: number;
  /** endsAt of the last notification. */
  validUntil: number;
  /** Start of the keep_firing_for period, 0 if not in it. */
  keepFiringSince: number;
}

/** A validated recording rule. */
export interface RecordingRuleConfig {
  readonly kind: 'recording';
  readonly record: string;
  readonly expr: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly pos: SourcePos;
}

/** A validated alerting rule. Durations in ms. */
export interface AlertingRuleConfig {
  readonly kind: 'alerting';
  readonly alert: string;
  readonly expr: string;
  readonly for: number;
  readonly keepFiringFor: number;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly pos: SourcePos;
}

/**
 * vigil extension: a forecast rule. `expr` is resampled at `step` over `lookback` and fed to a
 * forecaster model; the output is `<forecast>{<input labels>, horizon, quantile}`. Durations in ms.
 */
export interface ForecastRuleConfig {
  readonly kind: 'forecast';
  /** Output metric name. */
  readonly forecast: string;
  readonly expr: string;
  /** Model name (a file `<models dir>/<name>.onnx`) or a path to an `.onnx` file. */
  readonly model: string;
  readonly lookback: number;
  readonly step: number;
  /** Horizons (ms), each a multiple of `step`. */
  readonly horizons: readonly number[];
  /** Quantile levels in (0, 1). */
  readonly quantiles: readonly number[];
  /** Optional node-cron schedule of online refits. */
  readonly retrain?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly pos: SourcePos;
}

/**
 * vigil extension: an anomaly rule. `expr` is resampled at `step`; `lookback` is the history
 * read for a new series (the model window plus warm-up of the online score). Outputs `<anomaly>`
 * (score, > 1 anomalous) and `<anomaly>:yhat`, `:yhat_lower`, `:yhat_upper`. Durations in ms.
 */
export interface AnomalyRuleConfig {
  readonly kind: 'anomaly';
  /** Output metric name of the score. */
  readonly anomaly: string;
  readonly expr: string;
  readonly model: string;
  readonly lookback: number;
  readonly step: number;
  readonly retrain?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly pos: SourcePos;
}

/** Predictive rule kinds (vigil extension). */
export type PredictiveRuleConfig = ForecastRuleConfig | AnomalyRuleConfig;

/** Rule kinds in a group. */
export type RuleConfig = RecordingRuleConfig | AlertingRuleConfig | PredictiveRuleConfig;

/** The name a rule is known by (alert, record, forecast or anomaly). */
export function ruleConfigName(r: RuleConfig): string {
  switch (r.kind) {
    case 'recording':
      return r.record;
    case 'alerting':
      return r.alert;
    case 'forecast':
      return r.forecast;
    case 'anomaly':
      return r.anomaly;
  }
}

/** A validated rule group. Durations in ms; `interval` 0 means the global evaluation interval. */
export interface RuleGroupConfig {
  readonly name: string;
  readonly file: string;
  readonly interval: number;
  /** Max alerts/series a rule may produce (0 = no limit). */
  readonly limit: number;
  /** Evaluate at `ts - queryOffset` (0 = none). */
  readonly queryOffset: number;
  /** Labels added to every rule's output (rule labels win). */
  readonly labels: Readonly<Record<string, string>>;
  /** vigil extension: evaluate as soon as ingested data touches a series the group selects. */
  readonly evalOnIngest: boolean;
  /** vigil extension: tenant owning the group (tenancy issue); undefined = default tenant. */
  readonly tenant?: string;
  readonly rules: readonly RuleConfig[];
  readonly pos: SourcePos;
}

/** Health of a rule as the API shows it. */
export type RuleHealth = 'ok' | 'err' | 'unknown';

/** One entry of a rule's ring buffer of recent evaluations. */
export interface RuleEvaluation {
  readonly ts: number;
  readonly durationMs: number;
  readonly samples: number;
  readonly error?: string;
}

/** What one evaluation of a rule returns to its group. */
export interface RuleResult {
  /** Series to append at the evaluation timestamp (recording output, or ALERTS + ALERTS_FOR_STATE). */
  readonly series: readonly Sample[];
  /** Alerts to notify about (alerting rules only), already filtered by the resend policy. */
  readonly toSend?: readonly Alert[];
}

/** Context of one evaluation. */
export interface EvalContext {
  /** Evaluation timestamp (ms), already shifted by the group's query offset. */
  readonly ts: number;
  readonly query: QueryFunc;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
  /** The group's interval (for resend-delay rounding and endsAt). */
  readonly interval: number;
  readonly limit: number;
  readonly signal?: AbortSignal;
  /**
   * The `rules.rule` span of this evaluation when self-tracing is on (the group's `query` then
   * opens `rules.query` spans under it).
   */
  readonly span?: TraceSpan;
}

/** A runnable rule. */
export interface Rule {
  readonly kind: RuleConfig['kind'];
  readonly name: string;
  readonly config: RuleConfig;
  /** Evaluates once; never throws (errors are recorded in health/lastError and the result is empty). */
  eval(ctx: EvalContext): Promise<RuleResult>;
  health(): RuleHealth;
  lastError(): string | undefined;
  lastEvaluation(): number;
  evaluationTimeMs(): number;
  /** Recent evaluations, newest last (bounded ring). */
  recent(): readonly RuleEvaluation[];
  /** Active alerts (alerting rules), for /api/v1/alerts and state carry-over on reload. */
  activeAlerts?(): readonly Alert[];
}

/** Sends alerts to Alertmanager(s). Implementations queue and never block the caller. */
export type NotifyFunc = (
  alerts: readonly Alert[],
  meta: {
    readonly generatorURL: (alert: Alert) => string;
    /** The `rules.rule` span of the evaluation that produced the alerts (self-tracing on). */
    readonly span?: TraceSpan;
  },
) => void;

/** Receives the synthesized series of each group evaluation (for /metrics and remote-write out). */
export interface SeriesSink {
  /** The full current output of one group (replaces the previous output of that group). */
  publish(groupKey: string, ts: number, series: readonly Sample[]): void;
  /** The group was removed. */
  drop(groupKey: string): void;
}

/** Labels a rule output carries as a plain object (helper type for exporters). */
export type LabelsObject = Readonly<Record<string, string>>;

export type { Labels };

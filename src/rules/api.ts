/**
 * Data of Prometheus's `GET /api/v1/rules` and `GET /api/v1/alerts` (the `data` member), plus
 * vigil's `recentEvaluations` per rule. The web layer wraps them in `{status, data}`.
 */
import { labelsToObject } from '../model/labels.js';
import { AlertingRule } from './alerting.js';
import { AnomalyRule } from './anomaly.js';
import { ForecastRule } from './forecast.js';
import type { RuleGroup } from './group.js';
import { RecordingRule } from './recording.js';
import type { Alert, RuleEvaluation, RuleHealth } from './rule.js';

/** An alert as the API shows it. */
export interface ApiAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | 'inactive';
  activeAt: string;
  keepFiringSince?: string;
  value: string;
}

/** A recent evaluation as the API shows it. */
export interface ApiEvaluation {
  timestamp: string;
  durationSeconds: number;
  samples: number;
  error?: string;
}

interface ApiRuleBase {
  name: string;
  query: string;
  labels: Record<string, string>;
  health: RuleHealth;
  lastError?: string;
  evaluationTime: number;
  lastEvaluation: string;
  recentEvaluations: ApiEvaluation[];
}

/** An alerting rule as the API shows it. */
export interface ApiAlertingRule extends ApiRuleBase {
  type: 'alerting';
  state: 'pending' | 'firing' | 'inactive';
  duration: number;
  keepFiringFor: number;
  annotations: Record<string, string>;
  alerts: ApiAlert[];
}

/** A recording rule as the API shows it. */
export interface ApiRecordingRule extends ApiRuleBase {
  type: 'recording';
}

/**
 * A predictive rule (vigil extension) as the API shows it: typed `recording` (it records
 * series, and Prometheus clients know only two types) with `kind` saying which.
 */
export interface ApiPredictiveRule extends ApiRecordingRule {
  kind: 'forecast' | 'anomaly';
  model: string;
  lookbackSeconds: number;
  stepSeconds: number;
  /** Forecast rules: rolling accuracy per horizon (NaN before the first scored forecast is left out). */
  accuracy?: { horizon: string; meanAbsError: number; bandCoverage: number; scored: number }[];
}

/** A group as the API shows it. */
export interface ApiRuleGroup {
  name: string;
  file: string;
  interval: number;
  limit: number;
  rules: (ApiAlertingRule | ApiRecordingRule | ApiPredictiveRule)[];
  evaluationTime: number;
  lastEvaluation: string;
}

/** Filters of `/api/v1/rules` (Prometheus query parameters). */
export interface RulesFilter {
  /** `type=alert|record`. */
  readonly type?: 'alert' | 'record';
  /** `rule_name[]`. */
  readonly ruleNames?: readonly string[];
  /** `rule_group[]`. */
  readonly groupNames?: readonly string[];
  /** `file[]`. */
  readonly files?: readonly string[];
  /** `exclude_alerts=true`. */
  readonly excludeAlerts?: boolean;
}

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** RFC 3339 with Go's RFC3339Nano trimming (`...:00Z`, `...:00.5Z`); 0 = Go's zero time. */
export function formatTime(ms: number): string {
  if (!ms) return ZERO_TIME;
  const iso = new Date(ms).toISOString();
  return iso.replace(/\.(\d*?)0+Z$/, (_m, d: string) => (d ? `.${d}Z` : 'Z'));
}

/** Go's strconv.FormatFloat(v, 'e', -1, 64) as Prometheus prints alert values. */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = v.toExponential();
  return s.replace(/e([+-])(\d)$/, 'e$10$2');
}

function apiAlert(a: Alert): ApiAlert {
  const o: ApiAlert = {
    labels: labelsToObject(a.labels),
    annotations: labelsToObject(a.annotations),
    state: a.state,
    activeAt: formatTime(a.activeAt),
    value: formatValue(a.value),
  };
  if (a.keepFiringSince) o.keepFiringSince = formatTime(a.keepFiringSince);
  return o;
}

function apiEvaluations(es: readonly RuleEvaluation[]): ApiEvaluation[] {
  return es.map((e) => {
    const o: ApiEvaluation = { timestamp: formatTime(e.ts), durationSeconds: e.durationMs / 1000, samples: e.samples };
    if (e.error !== undefined) o.error = e.error;
    return o;
  });
}

/** `data` of `/api/v1/rules`. Groups without matching rules are left out when a rule filter is set. */
export function rulesApiData(groups: readonly RuleGroup[], filter: RulesFilter = {}): { groups: ApiRuleGroup[] } {
  const out: ApiRuleGroup[] = [];
  const ruleFiltered = filter.type !== undefined || (filter.ruleNames?.length ?? 0) > 0;
  for (const g of groups) {
    if (filter.groupNames?.length && !filter.groupNames.includes(g.name)) continue;
    if (filter.files?.length && !filter.files.includes(g.file)) continue;
    const rules: (ApiAlertingRule | ApiRecordingRule | ApiPredictiveRule)[] = [];
    for (const r of g.rules()) {
      if (filter.ruleNames?.length && !filter.ruleNames.includes(r.name)) continue;
      const base = {
        name: r.name,
        health: r.health(),
        evaluationTime: r.evaluationTimeMs() / 1000,
        lastEvaluation: formatTime(r.lastEvaluation()),
        recentEvaluations: apiEvaluations(r.recent()),
      };
      const lastError = r.lastError();
      if (r instanceof AlertingRule) {
        if (filter.type === 'record') continue;
        const o: ApiAlertingRule = {
          type: 'alerting',
          state: r.state(),
          ...base,
          query: r.query,
          duration: r.config.for / 1000,
          keepFiringFor: r.config.keepFiringFor / 1000,
          labels: { ...r.config.labels },
          annotations: { ...r.config.annotations },
          alerts: filter.excludeAlerts ? [] : r.activeAlerts().map(apiAlert),
        };
        if (lastError) o.lastError = lastError;
        rules.push(o);
      } else if (r instanceof RecordingRule) {
        if (filter.type === 'alert') continue;
        const o: ApiRecordingRule = { type: 'recording', ...base, query: r.query, labels: { ...r.config.labels } };
        if (lastError) o.lastError = lastError;
        rules.push(o);
      }      else if (r instanceof ForecastRule || r instanceof AnomalyRule) {
        if (filter.type === 'alert') continue;
        const o: ApiPredictiveRule = {
          type: 'recording',
          kind: r.kind,
          ...base,
          query: r.query,
          labels: { ...r.config.labels },
          model: r.config.model,
          lookbackSeconds: r.config.lookback / 1000,
          stepSeconds: r.config.step / 1000,
        };
        if (r instanceof ForecastRule) {
          o.accuracy = r.accuracy().filter((a) => a.scored > 0).map((a) => ({ horizon: a.horizon, meanAbsError: a.meanAbsError, bandCoverage: a.coverage, scored: a.scored }));
        }
        if (lastError) o.lastError = lastError;
        rules.push(o);
      }
    }
    if (ruleFiltered && rules.length === 0) continue;
    out.push({
      name: g.name,
      file: g.file,
      interval: g.interval / 1000,
      limit: g.config.limit,
      rules,
      evaluationTime: g.evaluationTimeMs() / 1000,
      lastEvaluation: formatTime(g.lastEvaluation()),
    });
  }
  return { groups: out };
}

/** `data` of `/api/v1/alerts`: all pending and firing alerts of all alerting rules. */
export function alertsApiData(groups: readonly RuleGroup[]): { alerts: ApiAlert[] } {
  const alerts: ApiAlert[] = [];
  for (const g of groups) for (const r of g.rules()) if (r instanceof AlertingRule) for (const a of r.activeAlerts()) alerts.push(apiAlert(a));
  return { alerts };
}

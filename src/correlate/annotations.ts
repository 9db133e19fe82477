/**
 * What a correlation found, as alert annotations and a one-line summary.
 *
 * Annotations attached (only those with a value):
 * - `logs_error_count`, `logs_total_count` — error-level and all log lines in the window;
 * - `logs_top_error` — most frequent error message (or normalised pattern); `logs_top_errors` —
 *   the top 3 as `count× message` lines;
 * - `logs_first_error`, `logs_last_error` — RFC 3339; `logs_url` — Kibana Discover;
 * - `trace_ids` — comma-separated: exemplar trace ids first, then trace ids of error logs, then
 *   Jaeger's top traces (≤ 10, unique);
 * - `traces_error_count` (suffix `+` when the search limit was hit), `traces_p99_ms`,
 *   `traces_top` — `id operation durationms` of up to 3 traces, `;`-separated; `traces_url`;
 * - `description` — the alert's description plus a summary, only when the rule sets
 *   `vigil_correlate_summary: "true"`.
 */
import { clip } from './errors.js';
import type { LogsResult, TimeWindow } from './logs.js';
import type { TracesResult } from './traces.js';

/** Everything found for one alert. */
export interface CorrelationResult {
  readonly window: TimeWindow;
  readonly logs?: LogsResult;
  readonly traces?: TracesResult;
  readonly exemplarTraceIds: readonly string[];
  /** When this result was computed (ms). */
  readonly at: number;
  /** When `logs` / `traces` were fetched (a part may be older than the result). */
  readonly logsAt?: number;
  readonly tracesAt?: number;
}

/** Max trace ids in `trace_ids`. */
export const MAX_TRACE_IDS = 10;

function rfc3339(ms: number): string {
  return new Date(ms).toISOString();
}

/** The annotations of a result (see the module comment). */
export function buildAnnotations(r: CorrelationResult): Record<string, string> {
  const a: Record<string, string> = {};
  const l = r.logs;
  if (l) {
    a.logs_error_count = String(l.errors);
    a.logs_total_count = String(l.total) + (l.totalRelation === 'gte' ? '+' : '');
    if (l.topErrors[0]) a.logs_top_error = l.topErrors[0].message;
    if (l.topErrors.length > 0) a.logs_top_errors = l.topErrors.map((t) => `${t.count}× ${t.message}`).join('\n');
    if (l.firstError !== undefined) a.logs_first_error = rfc3339(l.firstError);
    if (l.lastError !== undefined) a.logs_last_error = rfc3339(l.lastError);
    if (l.url) a.logs_url = l.url;
  }
  const t = r.traces;
  const ids: string[] = [];
  const add = (id: string): void => {
    if (ids.length < MAX_TRACE_IDS && !ids.includes(id)) ids.push(id);
  };
  r.exemplarTraceIds.forEach(add);
  l?.traceIds.forEach(add);
  t?.top.forEach((x) => add(x.traceId));
  if (ids.length > 0) a.trace_ids = ids.join(',');
  if (t) {
    a.traces_error_count = String(t.errorCount) + (t.errorCountCapped ? '+' : '');
    if (t.p99Ms !== undefined) a.traces_p99_ms = String(t.p99Ms);
    if (t.top.length > 0) a.traces_top = t.top.map((x) => `${x.traceId} ${x.rootOperation} ${x.durationMs}ms`).join('; ');
    a.traces_url = t.url;
  }
  return a;
}

/** The one-paragraph summary for `description` (undefined when nothing was found). */
export function buildSummary(r: CorrelationResult, windowMs: number): string | undefined {
  const parts: string[] = [];
  const l = r.logs;
  if (l) {
    let s = `${l.errors} error log lines of ${l.total}${l.totalRelation === 'gte' ? '+' : ''}`;
    if (l.topErrors[0]) s += ` (top: "${clip(l.topErrors[0].message, 120)}")`;
    parts.push(s);
  }
  const t = r.traces;
  if (t) parts.push(`${t.errorCount}${t.errorCountCapped ? '+' : ''} error traces${t.p99Ms !== undefined ? `, p99 ${t.p99Ms}ms` : ''}`);
  if (r.exemplarTraceIds.length > 0) parts.push(`exemplar trace ${r.exemplarTraceIds[0]}`);
  if (parts.length === 0) return undefined;
  return `Correlation (${Math.round(windowMs / 60_000)}m before activation until now): ${parts.join('; ')}.`;
}

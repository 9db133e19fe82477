/**
 * Glue between the rule engine's alerts and the {@link Correlator} (used by `app-alerting.ts`):
 * before alerts go to the notifier, firing ones are handed to `request` (background, cached)
 * and whatever `annotate` already has is merged into their annotations — so the first
 * notification leaves at once, possibly without correlation, and a resend carries it. The same
 * merge is applied to the `/api/v1/alerts` and `/api/v1/rules` JSON.
 */
import { labelsFrom, labelsGet, labelsToObject } from '../model/labels.js';
import type { Alert } from '../rules/rule.js';
import type { VigilSpan } from '../tracing/tracer.js';
import type { Correlator } from './correlator.js';

/** The part of {@link Correlator} the glue uses (tests pass fakes). */
export type AlertCorrelator = Pick<Correlator, 'attach' | 'annotate'>;

/**
 * Requests correlation for the firing alerts (with `parent` as the parent span of the
 * correlation spans) and returns the alerts with the cached correlation annotations merged in
 * (correlation values win over same-named rule annotations). Alerts without a cached result are
 * returned as they are. Never throws, never waits.
 */
export function correlateAlerts(alerts: readonly Alert[], correlator: AlertCorrelator, parent?: VigilSpan): Alert[] {
  const out: Alert[] = [];
  for (const a of alerts) {
    try {
      const view = { labels: a.labels, annotations: a.annotations, activeAt: a.activeAt };
      const extra = correlator.attach(view, a.state === 'firing' && a.resolvedAt === 0, parent);
      if (extra === undefined || Object.keys(extra).length === 0) {
        out.push(a);
        continue;
      }
      out.push({ ...a, annotations: labelsFrom({ ...labelsToObject(a.annotations), ...extra }) });
    } catch {
      out.push(a);
    }
  }
  return out;
}

/** The `alertname` of the first alert (span tags, span parents). */
export function firstAlertName(alerts: readonly Alert[]): string | undefined {
  const a = alerts[0];
  if (a === undefined) return undefined;
  const n = labelsGet(a.labels, 'alertname');
  return n === '' ? undefined : n;
}

/** An alert in the Prometheus API JSON shape (only the fields used here). */
interface ApiAlertLike {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  activeAt: string;
}

function annotateApiAlert(a: ApiAlertLike, correlator: AlertCorrelator): void {
  const activeAt = Date.parse(a.activeAt);
  if (!Number.isFinite(activeAt)) return;
  const extra = correlator.annotate({ labels: a.labels, annotations: a.annotations, activeAt });
  if (extra !== undefined) a.annotations = { ...a.annotations, ...extra };
}

/** Merges cached correlation annotations into `/api/v1/alerts` data (`{alerts: [...]}`), in place. */
export function annotateAlertsApi<T>(data: T, correlator: AlertCorrelator | undefined): T {
  if (correlator === undefined) return data;
  const alerts = (data as { alerts?: unknown }).alerts;
  if (!Array.isArray(alerts)) return data;
  for (const a of alerts as ApiAlertLike[]) {
    try {
      annotateApiAlert(a, correlator);
    } catch {
      /* leave it as it is */
    }
  }
  return data;
}

/** Merges cached correlation annotations into the alerts of `/api/v1/rules` data, in place. */
export function annotateRulesApi<T>(data: T, correlator: AlertCorrelator | undefined): T {
  if (correlator === undefined) return data;
  const groups = (data as { groups?: unknown }).groups;
  if (!Array.isArray(groups)) return data;
  for (const g of groups as { rules?: unknown }[]) {
    if (!Array.isArray(g.rules)) continue;
    for (const r of g.rules as { alerts?: unknown }[]) annotateAlertsApi(r, correlator);
  }
  return data;
}

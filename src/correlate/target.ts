/**
 * What an alert is about, for correlation: its service, namespace and pod and its time window.
 * Roles come from alert labels (configurable names, first present wins) and may be overridden
 * per alert by annotations:
 *
 * - `vigil_correlate: "false"` — opt out (no correlation at all for this alert);
 * - `vigil_correlate_service` / `vigil_correlate_namespace` / `vigil_correlate_pod` — override a
 *   role (rule templates such as `"{{ $labels.app }}"` are usually expanded by the rule engine;
 *   a value still holding `{{ $labels.x }}` is expanded here against the alert's labels);
 * - `vigil_correlate_summary: "true"` — append a short summary to the alert's `description`.
 */
import type { Labels } from '../model/labels.js';
import type { RoleLabels } from './config.js';

/** An alert as correlation sees it: labels/annotations as a sorted label set or a plain object. */
export interface CorrelationAlert {
  readonly labels: Labels | Readonly<Record<string, string>>;
  readonly annotations?: Labels | Readonly<Record<string, string>>;
  /** When the alert became active (ms). */
  readonly activeAt: number;
}

/** Annotation names this module reads. */
export const ANNOTATION = {
  optOut: 'vigil_correlate',
  service: 'vigil_correlate_service',
  namespace: 'vigil_correlate_namespace',
  pod: 'vigil_correlate_pod',
  summary: 'vigil_correlate_summary',
} as const;

/** The resolved correlation target of an alert. Empty string = role unknown. */
export interface CorrelationTarget {
  readonly alertname: string;
  readonly service: string;
  readonly namespace: string;
  readonly pod: string;
  /** Whether the rule asked for a summary in `description`. */
  readonly summary: boolean;
  /** Alert labels as a plain object. */
  readonly labels: Readonly<Record<string, string>>;
}

/** Plain-object view of labels given either way. */
export function toRecord(ls: Labels | Readonly<Record<string, string>> | undefined): Record<string, string> {
  if (ls === undefined) return {};
  if (Array.isArray(ls)) {
    const o: Record<string, string> = {};
    for (const l of ls as Labels) o[l.name] = l.value;
    return o;
  }
  return { ...(ls as Readonly<Record<string, string>>) };
}

const TEMPLATE_RE = /\{\{\s*\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}/g;
const MAX_ROLE_LEN = 256;

/** Expands `{{ $labels.x }}` (only that form) against `labels`. */
export function expandLabelsTemplate(s: string, labels: Readonly<Record<string, string>>): string {
  return s.replace(TEMPLATE_RE, (_m, name: string) => labels[name] ?? '');
}

function falsy(v: string | undefined): boolean {
  return v !== undefined && /^(false|no|off|0)$/i.test(v.trim());
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(true|yes|on|1)$/i.test(v.trim());
}

/**
 * Resolves the target of an alert, or undefined when the alert opted out. Never throws; values
 * are trimmed and capped at 256 characters.
 */
export function resolveTarget(alert: CorrelationAlert, roles: RoleLabels): CorrelationTarget | undefined {
  const labels = toRecord(alert.labels);
  const ann = toRecord(alert.annotations);
  if (falsy(ann[ANNOTATION.optOut])) return undefined;
  const pick = (names: readonly string[], override: string | undefined): string => {
    let v: string | undefined;
    if (override !== undefined) v = override.includes('{{') ? expandLabelsTemplate(override, labels) : override;
    else {
      for (const n of names) {
        const x = labels[n];
        if (x !== undefined && x !== '') {
          v = x;
          break;
        }
      }
    }
    return (v ?? '').trim().slice(0, MAX_ROLE_LEN);
  };
  return {
    alertname: labels.alertname ?? '',
    service: pick(roles.service, ann[ANNOTATION.service]),
    namespace: pick(roles.namespace, ann[ANNOTATION.namespace]),
    pod: pick(roles.pod, ann[ANNOTATION.pod]),
    summary: truthy(ann[ANNOTATION.summary]),
    labels,
  };
}

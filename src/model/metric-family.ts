/**
 * Metric families as collectors produce them, and their Prometheus text exposition (0.0.4).
 */
import { labelsGet, METRIC_NAME, type Labels } from './labels.js';

/** A metric family: one name, one type, samples with full label sets (including __name__). */
export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'untyped';
  readonly samples: readonly { readonly labels: Labels; readonly value: number }[];
}

/** Formats a float the way Prometheus's exposition does (NaN, +Inf, -Inf, shortest form). */
export function formatExpositionValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** Renders families in the Prometheus text format 0.0.4. */
export function formatExposition(families: readonly MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const name = labelsGet(s.labels, METRIC_NAME) || f.name;
      const ls = s.labels.filter((l) => l.name !== METRIC_NAME).map((l) => `${l.name}="${escapeLabelValue(l.value)}"`);
      out.push(`${name}${ls.length ? `{${ls.join(',')}}` : ''} ${formatExpositionValue(s.value)}`);
    }
  }
  return out.length ? out.join('\n') + '\n' : '';
}

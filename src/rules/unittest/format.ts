/**
 * Text formatting that mimics promtool's unit-test output (Go's `%E`-style floats, Go
 * `time.Duration` strings, `labels.Labels.String()`), so diffs read the same as promtool's.
 */
import { formatDuration } from '../../config/duration.js';
import type { FloatHistogram } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import { histogramString } from '../../promql/engine/format.js';

/** Go's `strconv.FormatFloat(v, 'E', -1, 64)`: `1E+00`, `1.5E-10`, `NaN`, `+Inf`. */
export function formatGoE(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  const s = (Object.is(v, -0) ? '-' : '') + v.toExponential();
  const m = /^(-?[\d.]+)e([+-])(\d+)$/.exec(s);
  if (!m) return s;
  return `${m[1]}E${m[2]}${m[3]!.padStart(2, '0')}`;
}

/** Go's `time.Duration.String()` for a non-negative number of ms: `0s`, `1m0s`, `1h2m3.5s`. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const neg = ms < 0;
  let rest = Math.abs(ms);
  let out = '';
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  if (h === 0 && m === 0 && rest < 1000) return `${neg ? '-' : ''}${rest}ms`;
  if (h > 0) out += `${h}h`;
  if (h > 0 || m > 0) out += `${m}m`;
  const sec = Math.floor(rest / 1000);
  const frac = rest - sec * 1000;
  out += frac > 0 ? `${sec}.${String(frac).padStart(3, '0').replace(/0+$/, '')}s` : `${sec}s`;
  return (neg ? '-' : '') + out;
}

/** Prometheus's `model.Duration.String()` (`0s`, `5m`, `1d`, `2m59s999ms`). */
export function formatModelDuration(ms: number): string {
  return formatDuration(ms);
}

/** Go's `strconv.Quote` for label values (enough for printable text and common escapes). */
function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + '"';
}

/** `labels.Labels.String()`: `{a="b", c="d"}` (sorted input). */
export function labelsString(ls: Labels | readonly { name: string; value: string }[]): string {
  return `{${ls.map((l) => `${l.name}=${goQuote(l.value)}`).join(', ')}}`;
}

/** One labels + value (or histogram) line of a PromQL test diff. */
export function sampleString(labels: Labels, v: number, h?: FloatHistogram): string {
  return `${labelsString(labels)} ${h ? histogramString(h) : formatGoE(v)}`;
}

/** Indents every line but the first by `indent` (promtool's indentLines). */
export function indentLines(lines: string, indent: string): string {
  return lines.split('\n').join(`\n${indent}`);
}

/** An alert as the diff prints it. */
export interface AlertText {
  readonly labels: Labels;
  readonly annotations: Labels;
}

/** promtool's `labelsAndAnnotations.String()`: `[\n0:\n  Labels:{…}\n  Annotations:{…}\n]`. */
export function alertsString(alerts: readonly AlertText[]): string {
  if (alerts.length === 0) return '[]';
  let s = '[\n0:' + indentLines(`\n${alertText(alerts[0]!)}`, '  ');
  for (let i = 1; i < alerts.length; i++) s += `\n${i}:` + indentLines(`\n${alertText(alerts[i]!)}`, '  ');
  return s + '\n]';
}

function alertText(a: AlertText): string {
  return `Labels:${labelsString(a.labels)}\nAnnotations:${labelsString(a.annotations)}`;
}

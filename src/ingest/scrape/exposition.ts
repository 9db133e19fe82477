/**
 * Common output of the exposition parsers (Prometheus text 0.0.4 and OpenMetrics 1.0 text):
 * a lazily produced sequence of {@link ExpositionEntry}. Parsing is all-or-nothing per scrape
 * (like Prometheus): the first syntax error throws an {@link ExpositionParseError} that names
 * the line; nothing else is ever thrown for any input.
 */
import { ValidationError } from '../../model/errors.js';
import type { Label, Labels } from '../../model/labels.js';
import type { Exemplar, MetricType } from '../../model/samples.js';

/** One sample line. `labels` are sorted and include `__name__`. */
export interface SampleEntry {
  readonly kind: 'sample';
  /** The metric name (also present as `__name__` in `labels`). */
  readonly name: string;
  readonly labels: Labels;
  readonly value: number;
  /** Explicit timestamp of the sample in ms (OpenMetrics seconds are converted). */
  readonly timestampMs?: number;
  /** OpenMetrics exemplar attached to the sample (t is 0 when the exemplar has no timestamp). */
  readonly exemplar?: Exemplar;
  /** 1-based line number in the body. */
  readonly line: number;
}

/** One `# TYPE`, `# HELP` or `# UNIT` line: exactly one of type/help/unit is set. */
export interface MetaEntry {
  readonly kind: 'meta';
  /** Metric family name as written in the comment. */
  readonly metric: string;
  readonly type?: MetricType;
  readonly help?: string;
  readonly unit?: string;
  readonly line: number;
}

/** What the parsers yield. */
export type ExpositionEntry = SampleEntry | MetaEntry;

/** Bounds applied to untrusted exposition bodies. */
export interface ParseLimits {
  /** Max characters per line (default 1 MiB). */
  readonly maxLineLength?: number;
  /** Max labels per sample, including `__name__` (default 512). */
  readonly maxLabels?: number;
  /** Max characters of a metric or label name (default 4096). */
  readonly maxNameLength?: number;
  /** Max characters of a label value (default 64 KiB). */
  readonly maxLabelValueLength?: number;
}

/** Resolved limits. */
export interface ResolvedLimits {
  readonly maxLineLength: number;
  readonly maxLabels: number;
  readonly maxNameLength: number;
  readonly maxLabelValueLength: number;
}

/** Defaults of {@link ParseLimits}. */
export const DEFAULT_PARSE_LIMITS: ResolvedLimits = Object.freeze({
  maxLineLength: 1 << 20,
  maxLabels: 512,
  maxNameLength: 4096,
  maxLabelValueLength: 1 << 16,
});

/** Fills in defaults. */
export function resolveLimits(l: ParseLimits | undefined): ResolvedLimits {
  return {
    maxLineLength: l?.maxLineLength ?? DEFAULT_PARSE_LIMITS.maxLineLength,
    maxLabels: l?.maxLabels ?? DEFAULT_PARSE_LIMITS.maxLabels,
    maxNameLength: l?.maxNameLength ?? DEFAULT_PARSE_LIMITS.maxNameLength,
    maxLabelValueLength: l?.maxLabelValueLength ?? DEFAULT_PARSE_LIMITS.maxLabelValueLength,
  };
}

/** A syntax error in an exposition body. The message starts with `line N: `. */
export class ExpositionParseError extends ValidationError {
  override name = 'ExpositionParseError';
  constructor(
    /** 1-based line number. */
    readonly line: number,
    /** The message without the line prefix. */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`line ${line}: ${reason}`, options);
  }
}

/** Exposition format of a body. */
export type ExpositionFormat = 'text' | 'openmetrics';

/**
 * Picks the parser for a response Content-Type: OpenMetrics for `application/openmetrics-text`,
 * the Prometheus text format for everything else (including a missing header).
 */
export function formatFromContentType(contentType: string | undefined | null): ExpositionFormat {
  const media = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return media === 'application/openmetrics-text' ? 'openmetrics' : 'text';
}

/**
 * Sorts scraped label pairs, drops empty values and rejects duplicate names.
 * Returns an error reason string instead of throwing.
 */
export function finishLabels(pairs: Label[]): Labels | string {
  pairs.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let w = 0;
  for (let i = 0; i < pairs.length; i++) {
    const p = pairs[i]!;
    if (i > 0 && p.name === pairs[i - 1]!.name) return `duplicate label name ${JSON.stringify(p.name)}`;
    if (p.value !== '') pairs[w++] = p;
  }
  pairs.length = w;
  return pairs;
}

/** Collects every entry (convenience for tests and small bodies). */
export function collectEntries(it: Iterable<ExpositionEntry>): ExpositionEntry[] {
  return Array.from(it);
}

/**
 * Shared ingest state for the remote-write decoders: receiver limits, the per-request report
 * (what was sent, what was refused by validation and why), the bounded series cache of the
 * fast path, and label-set validation.
 */
import type { Label, Labels } from '../../model/labels.js';
import { SeriesCache, type Fingerprint } from './series-cache.js';
import { METRIC_NAME } from '../../model/labels.js';
import type { MetricType } from '../../model/samples.js';
import type { SeriesRef } from '../../storage/interface.js';

/** Per-series limits (a breach answers 400 for that series; the rest of the request is kept). */
export interface ReceiverLimits {
  /** Max labels per series, `__name__` included (default 64). */
  readonly maxLabelNamesPerSeries: number;
  /** Max UTF-8 bytes of a label name (default 1024). */
  readonly maxLabelNameLength: number;
  /** Max UTF-8 bytes of a label value (default 4096). */
  readonly maxLabelValueLength: number;
  /** Refuse series without a non-empty `__name__` (default true, as Prometheus 3 does). */
  readonly requireMetricName: boolean;
}

/** Default {@link ReceiverLimits}. */
export const DEFAULT_LIMITS: ReceiverLimits = Object.freeze({
  maxLabelNamesPerSeries: 64,
  maxLabelNameLength: 1024,
  maxLabelValueLength: 4096,
  requireMetricName: true,
});

/** Why the receiver itself refused data (before the appender saw it). */
export type InvalidReason = 'invalid_labels' | 'histogram_invalid' | 'invalid_exemplar' | 'invalid_metadata';

/** Max detailed messages kept per request. */
const MAX_MESSAGES = 5;

/** What one request carried and what validation refused. Filled by the decoders. */
export class IngestReport {
  /** Float samples sent. */
  samples = 0;
  /** Histogram samples sent. */
  histograms = 0;
  /** Exemplars sent. */
  exemplars = 0;
  /** Metadata entries applied. */
  metadata = 0;
  /** Series seen. */
  series = 0;
  /** Items (samples, histograms, exemplars, metadata) refused by validation. */
  invalid = 0;
  /** Refused items by reason. */
  readonly invalidByReason = new Map<InvalidReason, number>();
  /** The first few validation messages. */
  readonly messages: string[] = [];

  /** Records `n` refused items (n may be 0 for a series without data) with a message. */
  reject(reason: InvalidReason, n: number, message: string): void {
    this.invalid += n;
    if (n > 0) this.invalidByReason.set(reason, (this.invalidByReason.get(reason) ?? 0) + n);
    if (this.messages.length < MAX_MESSAGES) this.messages.push(message);
  }

  /** True when validation refused something (the request then answers 400). */
  get failed(): boolean {
    return this.messages.length > 0;
  }
}

export { SeriesCache, hashBytes, hashLabelStrings } from './series-cache.js';
export type { Fingerprint } from './series-cache.js';

/** Label set passed with a cached ref: the storage knows the series by ref (see {@link IngestContext.hasSeries}). */
export const NO_LABELS: Labels = Object.freeze([]) as Labels;

/** What the decoders need besides the appender. */
export interface IngestContext {
  readonly limits: ReceiverLimits;
  readonly cache: SeriesCache;
  /**
   * True when `ref` still exists in storage; cached refs failing it are looked up again. With
   * it, a cached series is appended by ref alone ({@link NO_LABELS}, labels are decoded only for
   * messages); without it, cached refs are trusted but labels are still decoded and sent along.
   */
  readonly hasSeries?: ((ref: SeriesRef) => boolean) | undefined;
  /** Cache entries to add once the transaction commits, flat `(h1, h2, len, ref)` quadruples (filled by the decoders). */
  readonly pending: number[];
}

/**
 * The cached series ref of fingerprint `fp`, or 0. A cached ref that storage no longer has
 * (dropped by retention) is removed from the cache and 0 is returned.
 */
export function cachedSeriesRef(ctx: IngestContext, fp: Fingerprint): SeriesRef {
  const ref = ctx.cache.get(fp);
  if (ref === 0 || ctx.hasSeries === undefined || ctx.hasSeries(ref)) return ref;
  ctx.cache.delete(fp);
  return 0;
}

/** Creates an {@link IngestContext}. */
export function newIngestContext(
  limits: ReceiverLimits = DEFAULT_LIMITS,
  cache: SeriesCache = new SeriesCache(),
  hasSeries?: (ref: SeriesRef) => boolean,
): IngestContext {
  return { limits, cache, hasSeries, pending: [] };
}

/** Applies the cache entries of a committed transaction. */
export function flushPending(ctx: IngestContext): void {
  const p = ctx.pending;
  for (let i = 0; i + 3 < p.length; i += 4) ctx.cache.set(p[i]!, p[i + 1]!, p[i + 2]!, p[i + 3]!);
  p.length = 0;
}

/** Raw label pairs as decoded, with UTF-8 byte lengths for the limits. */
export interface RawLabels {
  names: string[];
  values: string[];
  nameBytes: number[];
  valueBytes: number[];
  n: number;
}

/** A reusable {@link RawLabels}. */
export function newRawLabels(): RawLabels {
  return { names: [], values: [], nameBytes: [], valueBytes: [], n: 0 };
}

/** Short printable form of raw labels for messages (bounded length). */
export function formatRaw(raw: RawLabels): string {
  let s = '{';
  for (let i = 0; i < raw.n; i++) {
    if (i > 0) s += ', ';
    s += `${raw.names[i]!}=${JSON.stringify(raw.values[i]!)}`;
    if (s.length > 200) {
      s = s.slice(0, 200) + `… (${raw.n} labels)`;
      break;
    }
  }
  return s + '}';
}

/** Short printable form of a label set for messages (bounded length). */
export function formatLabels(ls: Labels): string {
  let s = '{';
  for (let i = 0; i < ls.length; i++) {
    if (i > 0) s += ', ';
    s += `${ls[i]!.name}=${JSON.stringify(ls[i]!.value)}`;
    if (s.length > 200) return s.slice(0, 200) + `… (${ls.length} labels)}`;
  }
  return s + '}';
}

/**
 * Validates raw series labels and builds the sorted label set. Empty values are dropped (the
 * label is absent); unsorted input is sorted (as Prometheus does). Returns an error message
 * instead of throwing.
 */
export function buildSeriesLabels(raw: RawLabels, limits: ReceiverLimits): Labels | string {
  if (raw.n > limits.maxLabelNamesPerSeries) {
    return `series has ${raw.n} labels, more than the limit of ${limits.maxLabelNamesPerSeries}: ${formatRaw(raw)}`;
  }
  const out: Label[] = [];
  let sorted = true;
  for (let i = 0; i < raw.n; i++) {
    const name = raw.names[i]!;
    const value = raw.values[i]!;
    if (name === '') return `empty label name in series ${formatRaw(raw)}`;
    if (raw.nameBytes[i]! > limits.maxLabelNameLength) {
      return `label name of ${raw.nameBytes[i]} bytes exceeds the limit of ${limits.maxLabelNameLength} in series ${formatRaw(raw)}`;
    }
    if (raw.valueBytes[i]! > limits.maxLabelValueLength) {
      return `value of label ${JSON.stringify(name)} (${raw.valueBytes[i]} bytes) exceeds the limit of ${limits.maxLabelValueLength} in series ${formatRaw(raw)}`;
    }
    if (value === '') continue;
    if (out.length > 0 && out[out.length - 1]!.name >= name) sorted = false;
    out.push({ name, value });
  }
  if (!sorted) out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.name === out[i - 1]!.name) return `duplicate label name ${JSON.stringify(out[i]!.name)} in series ${formatRaw(raw)}`;
  }
  if (limits.requireMetricName && (out.length === 0 || !hasName(out))) {
    return `series without a metric name (${METRIC_NAME} label): ${formatRaw(raw)}`;
  }
  return out;
}

function hasName(ls: readonly Label[]): boolean {
  for (const l of ls) if (l.name === METRIC_NAME) return true;
  return false;
}

/** Max total length of exemplar label names and values (OpenMetrics: 128 UTF-8 characters). */
export const MAX_EXEMPLAR_LABELS_LENGTH = 128;

/** Validates exemplar labels (no empty or duplicate names, bounded total size) and sorts them. */
export function buildExemplarLabels(raw: RawLabels): Labels | string {
  const out: Label[] = [];
  let total = 0;
  for (let i = 0; i < raw.n; i++) {
    const name = raw.names[i]!;
    if (name === '') return `empty label name in exemplar labels ${formatRaw(raw)}`;
    total += codePoints(name) + codePoints(raw.values[i]!);
    if (raw.values[i] === '') continue;
    out.push({ name, value: raw.values[i]! });
  }
  if (total > MAX_EXEMPLAR_LABELS_LENGTH) {
    return `exemplar labels of ${total} characters exceed the limit of ${MAX_EXEMPLAR_LABELS_LENGTH}`;
  }
  out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.name === out[i - 1]!.name) return `duplicate exemplar label name ${JSON.stringify(out[i]!.name)}`;
  }
  return out;
}

function codePoints(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff) n++;
  }
  return n;
}

const METRIC_TYPES: readonly MetricType[] = ['unknown', 'counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset'];

/** Metric type from the protobuf enum value (both versions share the numbering). */
export function metricTypeFromProto(n: number): MetricType {
  return METRIC_TYPES[n] ?? 'unknown';
}

/** Protobuf enum value of a metric type. */
export function metricTypeToProto(t: MetricType): number {
  const i = METRIC_TYPES.indexOf(t);
  return i < 0 ? 0 : i;
}

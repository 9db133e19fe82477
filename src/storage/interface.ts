/**
 * Storage contracts. Ingest writes only through an {@link Appender} (a transaction:
 * append… then commit or rollback); everything that reads goes through a {@link Querier}.
 * Implementations: `head/` (in-memory head with WAL). Test fakes live in `test/fakes/`.
 */
import type { FloatHistogram } from '../model/histogram.js';
import type { Labels } from '../model/labels.js';
import type { Matcher } from '../model/matchers.js';
import type { Exemplar, MetricMetadata } from '../model/samples.js';

/** Opaque series reference (> 0). 0 means "unknown, look it up by labels". */
export type SeriesRef = number;

/** Why a sample was rejected. Stable strings: used as metric label values and in messages. */
export type RejectReason =
  | 'out_of_order'
  | 'duplicate_sample_for_timestamp'
  | 'too_old'
  | 'invalid_labels'
  | 'series_limit'
  | 'histogram_invalid';

/** One rejected append, kept by the appender (bounded list) for the error message. */
export interface Rejection {
  readonly reason: RejectReason;
  readonly labels: Labels;
  readonly t: number;
  readonly message: string;
}

/**
 * A write transaction. `append*` never throws on bad data: a rejected sample returns 0 and is
 * counted in {@link Appender.rejected}. Nothing is visible to readers (or durable) before
 * {@link Appender.commit} resolves; once it resolves the data is in the WAL.
 */
export interface Appender {
  /**
   * Appends a float sample. `ref` may be a ref returned earlier by this storage for the same
   * labels (fast path) or 0. Returns the series ref, or 0 when rejected. `st` (optional) is the
   * sample's start timestamp in ms (when the counter or delta it reports started); 0 or absent
   * means unknown.
   */
  append(ref: SeriesRef, labels: Labels, t: number, v: number, st?: number): SeriesRef;
  /** Appends a native histogram sample; same contract as {@link append} (including `st`). */
  appendHistogram(ref: SeriesRef, labels: Labels, t: number, h: FloatHistogram, st?: number): SeriesRef;
  /** Attaches an exemplar to a series (kept in a bounded per-series ring). */
  appendExemplar(ref: SeriesRef, labels: Labels, e: Exemplar): SeriesRef;
  /** Records metadata for a metric family (by metric name). */
  updateMetadata(metricName: string, md: MetricMetadata): void;
  /** Samples, histograms and exemplars accepted so far in this transaction. */
  readonly counts: { readonly samples: number; readonly histograms: number; readonly exemplars: number };
  /** Rejections in this transaction: totals by reason and the first few in detail. */
  readonly rejected: { readonly total: number; readonly byReason: ReadonlyMap<RejectReason, number>; readonly first: readonly Rejection[] };
  /** Makes everything appended durable (WAL) and visible. */
  commit(): Promise<void>;
  /** Discards everything appended. */
  rollback(): void;
}

/** Something that hands out appenders. */
export interface Appendable {
  appender(): Appender;
}

/** Decoded samples of one series within the selected time range, ascending by time. */
export interface SeriesSamples {
  /** Timestamps (ms) of float samples. */
  readonly t: Float64Array;
  /** Float values (staleness markers kept bit-exact). */
  readonly v: Float64Array;
  /**
   * Native histogram samples, ascending by time; empty when the series has none. `st`: the
   * sample's start timestamp (ms), absent when unknown.
   */
  readonly histograms: readonly { readonly t: number; readonly h: FloatHistogram; readonly st?: number }[];
  /**
   * Start timestamps (ms) of the float samples, parallel to {@link t}; 0 where unknown. Absent
   * when no float sample of the series in range has one (so series without them cost nothing).
   */
  readonly st?: Float64Array;
}

/** A series returned by a select. */
export interface Series {
  readonly labels: Labels;
  /** Decodes the samples within the querier's/selection's [mint, maxt] (inclusive). */
  samples(): SeriesSamples;
}

/** Options of a select. */
export interface SelectParams {
  /** Inclusive bounds, milliseconds. */
  readonly mint: number;
  readonly maxt: number;
  /** At least one matcher; all must match. */
  readonly matchers: readonly Matcher[];
  /** Sort the result by labels (the engine needs this; label APIs do not). Default true. */
  readonly sorted?: boolean;
  /**
   * Hint (additive, optional): the caller reads only the newest float sample at or before
   * `maxt` of each series (plus its histograms), as an instant-vector selector at one
   * evaluation step does. A querier may then return just that float sample from
   * {@link Series.samples}; ignoring the hint is always correct.
   */
  readonly latestOnly?: boolean;
  /** Hard cap on the number of series returned: exceeding it throws a LimitError. */
  readonly limit?: number;
  readonly signal?: AbortSignal;
}

/** Read access over a time range. */
export interface Querier {
  /** Series matching all matchers that have at least one sample in [mint, maxt]. */
  select(params: SelectParams): Series[];
  /** Sorted label names of series matching (all series when no matchers). */
  labelNames(matchers?: readonly Matcher[]): string[];
  /** Sorted values of label `name` among series matching. */
  labelValues(name: string, matchers?: readonly Matcher[]): string[];
  /** Releases resources. */
  close(): void;
}

/** Something that hands out queriers. */
export interface Queryable {
  querier(mint: number, maxt: number): Querier;
}

/** Metadata and exemplar reads for the API. */
export interface MetadataReader {
  /** Metric name → metadata. */
  metadata(metric?: string, limit?: number): Map<string, MetricMetadata[]>;
  /** Exemplars of series matching, within [mint, maxt]. */
  exemplars(matchers: readonly Matcher[], mint: number, maxt: number): { labels: Labels; exemplars: Exemplar[] }[];
}

/** Head statistics, for /metrics and benchmarks. */
export interface HeadStats {
  readonly series: number;
  readonly chunks: number;
  readonly samples: number;
  /** Bytes held by compressed chunk data. */
  readonly chunkBytes: number;
  readonly minTime: number;
  readonly maxTime: number;
}

/** The storage as the application sees it. */
export interface Storage extends Appendable, Queryable, MetadataReader {
  stats(): HeadStats;
  close(): Promise<void>;
}

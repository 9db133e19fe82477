/**
 * Values the PromQL engine computes with. Contract between the evaluator and the function
 * library (`functions/`). Times are integer milliseconds.
 */
import type { FloatHistogram } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';

/** A float point. */
export interface FPoint {
  t: number;
  f: number;
}

/** A histogram point. */
export interface HPoint {
  t: number;
  h: FloatHistogram;
}

/** One element of an instant vector. Exactly one of `f` (when `h` is undefined) or `h` is the value. */
export interface Sample {
  metric: Labels;
  t: number;
  f: number;
  h?: FloatHistogram;
  /** Set when `__name__` must be dropped from `metric` before output (delayed name removal). */
  dropName?: boolean;
}

/** An instant vector. */
export type Vector = Sample[];

/** One series of a range vector (matrix) or of a range-query result. */
export interface RangeSeries {
  metric: Labels;
  floats: FPoint[];
  histograms: HPoint[];
  dropName?: boolean;
  /**
   * Start timestamps (ms, 0 = unknown) parallel to `floats` / `histograms`; set only on series
   * read straight from storage that had any (see `functions/start-time.ts`).
   */
  fst?: number[];
  hst?: number[];
}

/** A range vector. */
export type Matrix = RangeSeries[];

/** The result of an expression at one evaluation, or of a whole query. */
export type Value =
  | { readonly kind: 'scalar'; readonly t: number; readonly v: number }
  | { readonly kind: 'string'; readonly t: number; readonly v: string }
  | { readonly kind: 'vector'; readonly vector: Vector }
  | { readonly kind: 'matrix'; readonly matrix: Matrix };

/** Collected warnings and infos, returned beside a result (never thrown). Deduplicated. */
export class Annotations {
  readonly warnings = new Set<string>();
  readonly infos = new Set<string>();

  /** Adds a warning ("PromQL warning: ..."). */
  warn(msg: string): void {
    this.warnings.add(msg);
  }

  /** Adds an info ("PromQL info: ..."). */
  info(msg: string): void {
    this.infos.add(msg);
  }

  /** Merges another set into this one. */
  merge(o: Annotations): void {
    for (const w of o.warnings) this.warnings.add(w);
    for (const i of o.infos) this.infos.add(i);
  }
}

/** A query error with Prometheus's errorType. */
export class QueryError extends Error {
  override name = 'QueryError';
  constructor(
    message: string,
    readonly errorType: 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal' = 'execution',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

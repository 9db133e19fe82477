/**
 * WAL contract between the head and the write-ahead log. The head turns a committed transaction
 * into records and awaits {@link WalWriter.log} before making the data visible; replay hands
 * the same records back in order.
 */
import type { FloatHistogram } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import type { Exemplar, MetricMetadata } from '../../model/samples.js';

/** A WAL record. Series records always precede the first samples record that uses their refs. */
export type WalRecord =
  | { readonly kind: 'series'; readonly series: readonly { readonly ref: number; readonly labels: Labels }[] }
  /**
   * Float samples, columnar; entries [0, n) are valid. Values are written bit-exact (stale NaN).
   * `sts`: start timestamps (0 = unknown), present only when some sample has one.
   */
  | { readonly kind: 'samples'; readonly n: number; readonly refs: Uint32Array; readonly ts: Float64Array; readonly vs: Float64Array; readonly sts?: Float64Array }
  /** Histogram samples; `st`: start timestamp, only when known. */
  | { readonly kind: 'histograms'; readonly samples: readonly { readonly ref: number; readonly t: number; readonly h: FloatHistogram; readonly st?: number }[] }
  | { readonly kind: 'exemplars'; readonly exemplars: readonly { readonly ref: number; readonly e: Exemplar }[] }
  | { readonly kind: 'metadata'; readonly metadata: readonly { readonly metric: string; readonly md: MetricMetadata }[] };

/** What the head needs from a WAL. */
export interface WalWriter {
  /**
   * Writes the records of one transaction. Resolves once they are written to the file (and
   * fsynced when the policy is `always`); concurrent calls are group-committed and resolve in
   * call order.
   */
  log(records: readonly WalRecord[]): Promise<void>;
  /**
   * True when `log()` has encoded (copied) the records before it returns, so the caller may
   * reuse the arrays they reference right away (the head then recycles its staging buffers).
   */
  readonly copiesRecords?: boolean;
}

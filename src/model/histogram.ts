/**
 * Native histograms in their float form (Prometheus FloatHistogram): absolute bucket counts,
 * spans as in the exposition/remote-write formats. Integer histograms are converted to this
 * form at ingest (delta-decoded buckets become absolute counts).
 */

/** A run of consecutive buckets: `offset` buckets skipped, then `length` buckets. */
export interface BucketSpan {
  readonly offset: number;
  readonly length: number;
}

/** Counter-reset hint as in the remote-write protocol. */
export const enum CounterResetHint {
  Unknown = 0,
  Yes = 1,
  No = 2,
  Gauge = 3,
}

/** A native histogram sample value. */
export interface FloatHistogram {
  readonly counterResetHint: CounterResetHint;
  /** -4..8 exponential schemas; -53 means custom buckets (NHCB) with `customValues`. */
  readonly schema: number;
  readonly zeroThreshold: number;
  readonly zeroCount: number;
  readonly count: number;
  readonly sum: number;
  readonly positiveSpans: readonly BucketSpan[];
  readonly negativeSpans: readonly BucketSpan[];
  /** Absolute counts, one per bucket covered by the spans. */
  readonly positiveBuckets: readonly number[];
  readonly negativeBuckets: readonly number[];
  /** Upper bounds for schema -53. */
  readonly customValues?: readonly number[];
}

/** Schema number for custom-bucket histograms. */
export const CUSTOM_BUCKETS_SCHEMA = -53;

/** Converts delta-encoded integer bucket counts to absolute float counts. */
export function deltasToAbsolute(deltas: ArrayLike<number>): number[] {
  const out = new Array<number>(deltas.length);
  let acc = 0;
  for (let i = 0; i < deltas.length; i++) {
    acc += deltas[i]!;
    out[i] = acc;
  }
  return out;
}

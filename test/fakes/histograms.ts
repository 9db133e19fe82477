/** Small native histograms for tests. */
import { CounterResetHint, type FloatHistogram } from '../../src/model/histogram.js';

/** An exponential-schema histogram with no buckets, `count` observations summing to `count`. */
export function countOnlyHistogram(count: number): FloatHistogram {
  return {
    counterResetHint: CounterResetHint.Unknown,
    schema: 0,
    zeroThreshold: 0,
    zeroCount: 0,
    count,
    sum: count,
    positiveSpans: [],
    negativeSpans: [],
    positiveBuckets: [],
    negativeBuckets: [],
  };
}

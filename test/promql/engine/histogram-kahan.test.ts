import { describe, expect, it } from 'vitest';
import { CUSTOM_BUCKETS_SCHEMA, CounterResetHint, type FloatHistogram } from '../../../src/model/histogram.js';
import { bucketsToMap } from '../../../src/promql/engine/histogram-ops.js';
import { histogramMean, histogramSum, type HistogramAggNotes } from '../../../src/promql/engine/histogram-kahan.js';

function h(o: Partial<FloatHistogram> & { pos?: number[]; offset?: number }): FloatHistogram {
  const pos = o.pos ?? [];
  return {
    counterResetHint: o.counterResetHint ?? CounterResetHint.Unknown,
    schema: o.schema ?? 0,
    zeroThreshold: o.zeroThreshold ?? 0.001,
    zeroCount: o.zeroCount ?? 0,
    count: o.count ?? pos.reduce((a, b) => a + b, 0),
    sum: o.sum ?? 0,
    positiveSpans: pos.length ? [{ offset: o.offset ?? 0, length: pos.length }] : [],
    negativeSpans: [],
    positiveBuckets: pos,
    negativeBuckets: [],
    ...(o.customValues ? { customValues: o.customValues } : {}),
  };
}

function recorder(): HistogramAggNotes & { seen: string[] } {
  const seen: string[] = [];
  return {
    seen,
    mixedSchemas: () => seen.push('mixed'),
    reconciled: () => seen.push('reconciled'),
    conflictingResets: () => seen.push('conflict'),
  };
}

const buckets = (x: FloatHistogram): Record<number, number> => Object.fromEntries(bucketsToMap(x.positiveSpans, x.positiveBuckets));

describe('histogramSum', () => {
  it('compensates cancellation across magnitudes in every field', () => {
    const hs = [1, 1e100, 1, -1e100].map((sum, i) => h({ sum, pos: [i === 1 ? 1e100 : i === 3 ? -1e100 : 1] }));
    const out = histogramSum(hs, recorder())!;
    // Naive left-to-right addition gives 0 for both.
    expect(out.sum).toBe(2);
    expect(buckets(out)).toEqual({ 0: 2 });
  });

  it('reduces to the smallest schema', () => {
    // Schema 1 buckets 1 and 2 both fall into schema-0 bucket 1.
    const out = histogramSum([h({ schema: 1, pos: [3, 4], offset: 1 }), h({ schema: 0, pos: [5], offset: 1 })], recorder())!;
    expect(out.schema).toBe(0);
    expect(buckets(out)).toEqual({ 1: 12 });
  });

  it('reconciles custom bounds to the shared ones and says so', () => {
    const notes = recorder();
    const a = h({ schema: CUSTOM_BUCKETS_SCHEMA, customValues: [5, 10], pos: [1, 2, 3] });
    const b = h({ schema: CUSTOM_BUCKETS_SCHEMA, customValues: [5], pos: [10, 20] });
    const out = histogramSum([a, b], notes)!;
    expect(out.customValues).toEqual([5]);
    // a's (5,10] and (10,+Inf] merge into (5,+Inf].
    expect(buckets(out)).toEqual({ 0: 11, 1: 25 });
    expect(notes.seen).toEqual(['reconciled']);
  });

  it('refuses a mix of exponential and custom buckets', () => {
    const notes = recorder();
    expect(histogramSum([h({ pos: [1] }), h({ schema: CUSTOM_BUCKETS_SCHEMA, customValues: [1], pos: [1] })], notes)).toBeUndefined();
    expect(notes.seen).toEqual(['mixed']);
  });

  it.each([
    [[CounterResetHint.Gauge, CounterResetHint.No], CounterResetHint.Gauge, []],
    [[CounterResetHint.No, CounterResetHint.No], CounterResetHint.No, []],
    [[CounterResetHint.No, CounterResetHint.Unknown], CounterResetHint.Unknown, []],
    [[CounterResetHint.Yes, CounterResetHint.Gauge, CounterResetHint.No], CounterResetHint.Gauge, ['conflict']],
  ])('combines hints %j into %j', (hints, want, notesWanted) => {
    const notes = recorder();
    const out = histogramSum(
      hints.map((hint) => h({ counterResetHint: hint, pos: [1] })),
      notes,
    )!;
    expect(out.counterResetHint).toBe(want);
    expect(notes.seen).toEqual(notesWanted);
  });
});

describe('histogramMean', () => {
  it('divides the compensated sum', () => {
    const out = histogramMean([1, 1e100, 1, -1e100].map((sum) => h({ sum, pos: [2] })), recorder())!;
    expect(out.sum).toBe(0.5);
    expect(buckets(out)).toEqual({ 0: 2 });
  });

  it('switches to an incremental mean when a field would overflow', () => {
    const max = Number.MAX_VALUE;
    const out = histogramMean([h({ count: max, sum: 4 }), h({ count: max, sum: 8 }), h({ count: 1, sum: 0 })], recorder())!;
    expect(Number.isFinite(out.count)).toBe(true);
    expect(out.count / ((2 * (max / 3)))).toBeCloseTo(1, 12);
    expect(out.sum).toBeCloseTo(4, 12);
  });
});

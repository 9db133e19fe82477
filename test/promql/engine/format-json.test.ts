import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { labelsFrom, type Labels } from '../../../src/model/labels.js';
import { CounterResetHint, type FloatHistogram } from '../../../src/model/histogram.js';
import { formatValue, formatValueJson } from '../../../src/promql/engine/format.js';
import type { Value } from '../../../src/promql/engine/values.js';

const H: FloatHistogram = {
  counterResetHint: CounterResetHint.Unknown,
  schema: 0,
  zeroThreshold: 0.001,
  zeroCount: 2,
  count: 20,
  sum: 10,
  positiveSpans: [{ offset: 0, length: 2 }],
  negativeSpans: [],
  positiveBuckets: [1, 2],
  negativeBuckets: [],
};

const str = fc.string({ maxLength: 6, unit: fc.constantFrom('a', 'Z', '_', '"', '\\', '\n', 'é', '\u2028', '😀', '\u0001') });
const labelsArb = fc.dictionary(fc.constantFrom('__name__', 'job', 'le', 'a"b', 'x\\y', 'instance'), str).map((o) => labelsFrom(o));
const floatArb = fc.oneof(fc.double(), fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 1e21, 1e-7, 5e-324, 1.7976931348623157e308));
const tArb = fc.oneof(fc.integer({ min: -(2 ** 42), max: 2 ** 42 }), fc.constantFrom(0, 1, 999, 1_700_000_000_123));

const vectorArb: fc.Arbitrary<Value> = fc
  .array(fc.record({ metric: labelsArb, t: tArb, f: floatArb, dropName: fc.boolean(), hist: fc.boolean() }), { maxLength: 8 })
  .map((ss) => ({
    kind: 'vector',
    vector: ss.map((s) => ({ metric: s.metric as Labels, t: s.t, f: s.hist ? 0 : s.f, ...(s.hist ? { h: H } : {}), ...(s.dropName ? { dropName: true } : {}) })),
  }));
const matrixArb: fc.Arbitrary<Value> = fc
  .array(fc.record({ metric: labelsArb, floats: fc.array(fc.record({ t: tArb, f: floatArb }), { maxLength: 6 }), hists: fc.array(tArb, { maxLength: 2 }), dropName: fc.boolean() }), { maxLength: 6 })
  .map((ss) => ({
    kind: 'matrix',
    matrix: ss.map((s) => ({ metric: s.metric as Labels, floats: s.floats, histograms: s.hists.map((t) => ({ t, h: H })), ...(s.dropName ? { dropName: true } : {}) })),
  }));
const otherArb: fc.Arbitrary<Value> = fc.oneof(
  fc.record({ t: tArb, v: floatArb }).map((x) => ({ kind: 'scalar' as const, t: x.t, v: x.v })),
  fc.record({ t: tArb, v: str }).map((x) => ({ kind: 'string' as const, t: x.t, v: x.v })),
);

describe('formatValueJson', () => {
  it('is byte-identical to JSON.stringify(formatValue(v)) for vectors, matrices, scalars and strings', () => {
    fc.assert(
      fc.property(fc.oneof(vectorArb, matrixArb, otherArb), (v) => {
        const text = formatValueJson(v);
        expect(text).toBe(JSON.stringify(formatValue(v)));
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(formatValue(v))));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps Prometheus number formatting in sample values', () => {
    const v: Value = { kind: 'vector', vector: [{ metric: labelsFrom({ job: 'a' }), t: 1500, f: 1e21 }, { metric: labelsFrom({ job: 'b' }), t: 1500, f: -1.25e-7 }] };
    expect(formatValueJson(v)).toBe(
      '{"resultType":"vector","result":[{"metric":{"job":"a"},"value":[1.5,"1000000000000000000000"]},{"metric":{"job":"b"},"value":[1.5,"-0.000000125"]}]}',
    );
  });
});

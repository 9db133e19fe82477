import { describe, expect, it } from 'vitest';
import { labelsFrom } from '../../../src/model/labels.js';
import { CounterResetHint } from '../../../src/model/histogram.js';
import { formatFloat, formatHistogram, formatValue, histogramString } from '../../../src/promql/engine/format.js';

describe('formatFloat', () => {
  it('formats like Go strconv.FormatFloat(f, "f", -1, 64)', () => {
    expect(formatFloat(1)).toBe('1');
    expect(formatFloat(0.1)).toBe('0.1');
    expect(formatFloat(1e21)).toBe('1000000000000000000000');
    expect(formatFloat(1.5e22)).toBe('15000000000000000000000');
    expect(formatFloat(1e-7)).toBe('0.0000001');
    expect(formatFloat(-1.25e-7)).toBe('-0.000000125');
    expect(formatFloat(123456.789)).toBe('123456.789');
    expect(formatFloat(NaN)).toBe('NaN');
    expect(formatFloat(Infinity)).toBe('+Inf');
    expect(formatFloat(-Infinity)).toBe('-Inf');
  });
});

describe('formatValue', () => {
  it('renders a vector with delayed name removal applied', () => {
    const json = formatValue({
      kind: 'vector',
      vector: [
        { metric: labelsFrom({ __name__: 'up', job: 'a' }), t: 1500, f: 1 },
        { metric: labelsFrom({ __name__: 'x', job: 'b' }), t: 1500, f: 2.5, dropName: true },
      ],
    });
    expect(json).toEqual({
      resultType: 'vector',
      result: [
        { metric: { __name__: 'up', job: 'a' }, value: [1.5, '1'] },
        { metric: { job: 'b' }, value: [1.5, '2.5'] },
      ],
    });
  });

  it('renders matrices, scalars and strings', () => {
    expect(formatValue({ kind: 'scalar', t: 2000, v: Infinity })).toEqual({ resultType: 'scalar', result: [2, '+Inf'] });
    expect(formatValue({ kind: 'string', t: 0, v: 'x' })).toEqual({ resultType: 'string', result: [0, 'x'] });
    const m = formatValue({ kind: 'matrix', matrix: [{ metric: labelsFrom({ a: 'b' }), floats: [{ t: 0, f: 1 }, { t: 60000, f: NaN }], histograms: [] }] });
    expect(m).toEqual({ resultType: 'matrix', result: [{ metric: { a: 'b' }, values: [[0, '1'], [60, 'NaN']] }] });
  });

  it('renders native histograms with bucket boundaries', () => {
    const h = {
      counterResetHint: CounterResetHint.Unknown,
      schema: 0,
      zeroThreshold: 0.001,
      zeroCount: 2,
      count: 20,
      sum: 10,
      positiveSpans: [{ offset: 0, length: 2 }],
      negativeSpans: [{ offset: 0, length: 2 }],
      positiveBuckets: [1, 2],
      negativeBuckets: [1, 2],
    };
    expect(formatHistogram(h)).toEqual({
      count: '20',
      sum: '10',
      buckets: [
        [1, '-2', '-1', '2'],
        [1, '-1', '-0.5', '1'],
        [3, '-0.001', '0.001', '2'],
        [0, '0.5', '1', '1'],
        [0, '1', '2', '2'],
      ],
    });
    expect(histogramString(h)).toBe('{count:20, sum:10, [-2,-1):2, [-1,-0.5):1, [-0.001,0.001]:2, (0.5,1]:1, (1,2]:2}');
  });
});

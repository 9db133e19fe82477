/**
 * The expanding series notation, checked against promtool's documented meaning (and, for the
 * `0x10` / `_x3` / `stale` cases, against what the real promtool 2.42 counts).
 */
import { describe, expect, it } from 'vitest';
import { CounterResetHint } from '../../../src/model/histogram.js';
import { labelsToObject } from '../../../src/model/labels.js';
import { isStaleNaN } from '../../../src/model/samples.js';
import {
  expandSeriesValues,
  parseHistogramLiteral,
  parseSeriesLine,
  parseSeriesNumber,
  parseSeriesValues,
  SeriesNotationError,
  type SeriesValue,
} from '../../../src/promql/series-notation.js';

function show(vs: readonly SeriesValue[]): (number | string)[] {
  return vs.map((v) => (v.kind === 'float' ? v.v : v.kind === 'missing' ? '_' : v.kind === 'stale' ? 'stale' : 'H'));
}

describe('expandSeriesValues', () => {
  it.each([
    // The four examples of the promtool documentation.
    ['-2+4x3', [-2, 2, 6, 10]],
    [' 1-2x4', [1, -1, -3, -5, -7]],
    [' 1x4', [1, 1, 1, 1, 1]],
    [' 1 _x3 stale', [1, '_', '_', '_', 'stale']],
    // From the promtool example test file.
    ['1+0x6 0 0 0 0 0 0 0 0', [1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0]],
    ['10+10x2 30+20x5', [10, 20, 30, 30, 50, 70, 90, 110, 130]],
    ['10+10x7 10+30x4', [10, 20, 30, 40, 50, 60, 70, 80, 10, 40, 70, 100, 130]],
    // `0x10` is 0 repeated: 11 values (promtool 2.42 counts 11), never hex 16.
    ['0x10', new Array(11).fill(0)],
    ['0 _ _ 0', [0, '_', '_', 0]],
    ['_', ['_']],
    ['1 2 3', [1, 2, 3]],
    ['', []],
    ['  ', []],
    ['+5 .5 1e3 -1.5E-1', [5, 0.5, 1000, -0.15]],
    ['1-1x3', [1, 0, -1, -2]],
    ['0+0x0', [0]],
    ['5x0', [5]],
  ])('%j', (text, want) => {
    expect(show(expandSeriesValues(text))).toEqual(want);
  });

  it('accumulates increments by repeated addition, as Prometheus does', () => {
    const vs = expandSeriesValues('0+0.1x3');
    let cur = 0;
    const want = [0];
    for (let i = 0; i < 3; i++) want.push((cur += 0.1));
    expect(show(vs)).toEqual(want);
    expect((vs[3] as { v: number }).v).toBe(0.30000000000000004);
  });

  it('reads Inf, -Inf, +Inf and NaN in any case', () => {
    expect(show(expandSeriesValues('Inf -Inf +inf INF'))).toEqual([Infinity, -Infinity, Infinity, Infinity]);
    const nan = expandSeriesValues('NaN nan')[0]!;
    expect(nan.kind === 'float' && Number.isNaN(nan.v) && !isStaleNaN(nan.v)).toBe(true);
    // promtool lexes `Infx2` as an identifier and rejects it.
    expect(() => expandSeriesValues('Infx2')).toThrow(SeriesNotationError);
  });

  it.each(['0xa', '0x1F', '1+', 'x3', '1x', 'foo', '1+2', '1++2x3', 'stalex2', '{{schema:1'])('rejects %j', (text) => {
    expect(() => expandSeriesValues(text)).toThrow(SeriesNotationError);
  });

  it('bounds the expansion', () => {
    expect(() => expandSeriesValues('1x99999999')).toThrow(/more than/);
    expect(() => expandSeriesValues('_x99999999')).toThrow(/more than/);
  });
});

describe('parseSeriesValues', () => {
  it('places values one step apart from the start, skipping missing ones', () => {
    expect(parseSeriesValues('1 _ 3', 60_000, 1000)).toEqual([
      { t: 1000, v: 1 },
      { t: 121_000, v: 3 },
    ]);
  });

  it('turns stale into the staleness marker', () => {
    const pts = parseSeriesValues('0 stale', 1000);
    expect(pts[1]!.stale).toBe(true);
    expect(isStaleNaN(pts[1]!.v!)).toBe(true);
    expect(pts[1]!.t).toBe(1000);
  });
});

describe('histogram literals', () => {
  it('parses every documented field', () => {
    const h = parseHistogramLiteral('schema:1 sum:-0.3 count:3.1 z_bucket:7.1 z_bucket_w:0.05 buckets:[5.1 10 7] offset:-3 n_buckets:[4.1 5] n_offset:-5 counter_reset_hint:gauge');
    expect(h).toEqual({
      counterResetHint: CounterResetHint.Gauge,
      schema: 1,
      zeroThreshold: 0.05,
      zeroCount: 7.1,
      count: 3.1,
      sum: -0.3,
      positiveSpans: [{ offset: -3, length: 3 }],
      negativeSpans: [{ offset: -5, length: 2 }],
      positiveBuckets: [5.1, 10, 7],
      negativeBuckets: [4.1, 5],
    });
  });

  it('defaults every field to zero and supports custom buckets', () => {
    const h = parseHistogramLiteral('schema:-53 count:3 buckets:[1 2] custom_values:[0.1 0.5]');
    expect(h.customValues).toEqual([0.1, 0.5]);
    expect(h.sum).toBe(0);
    expect(h.zeroThreshold).toBe(0);
  });

  it.each(['schema:9', 'bogus:1', 'counter_reset_hint:maybe', 'count:x', 'schema:1.5', 'sum:1 sum:2'])('rejects %j', (body) => {
    expect(() => parseHistogramLiteral(body)).toThrow(SeriesNotationError);
  });

  it('expands {{a}}xN and {{a}}+{{b}}xN like floats', () => {
    const rep = expandSeriesValues('{{sum:3 count:2 buckets:[2]}}x2');
    expect(rep).toHaveLength(3);
    const inc = expandSeriesValues('{{sum:3 count:2 buckets:[2]}}+{{sum:1.3 count:1 buckets:[1]}}x2');
    const last = inc[2]!;
    expect(last.kind).toBe('histogram');
    if (last.kind !== 'histogram') return;
    expect(last.h.count).toBe(4);
    expect(last.h.sum).toBeCloseTo(5.6, 12);
    expect(last.h.positiveBuckets).toEqual([4]);
    const dec = expandSeriesValues('{{sum:10 count:10 buckets:[10]}}-{{sum:1 count:1 buckets:[1]}}x1')[1]!;
    expect(dec.kind === 'histogram' && dec.h.count).toBe(9);
  });
});

describe('parseSeriesLine', () => {
  it('splits the descriptor from the values', () => {
    const l = parseSeriesLine('go_goroutines{job="prometheus", instance="localhost:9090"} 10+10x2');
    expect(labelsToObject(l.labels)).toEqual({ __name__: 'go_goroutines', instance: 'localhost:9090', job: 'prometheus' });
    expect(show(l.values)).toEqual([10, 20, 30]);
  });

  it('accepts bare names, label-only descriptors and braces inside quoted values', () => {
    expect(labelsToObject(parseSeriesLine('up 1').labels)).toEqual({ __name__: 'up' });
    expect(labelsToObject(parseSeriesLine('{a="b"} 1').labels)).toEqual({ a: 'b' });
    expect(labelsToObject(parseSeriesLine('m{a="x} y"} 1 2').labels)).toEqual({ __name__: 'm', a: 'x} y' });
    expect(show(parseSeriesLine('h {{count:1}}x1').values)).toEqual(['H', 'H']);
  });

  it('reports a bad descriptor with a position, like promtool', () => {
    expect(() => parseSeriesLine('up{job="prometheus", instance="localhost:9090" 0+0x1440')).toThrow(/^1:\d+: parse error/);
    expect(() => parseSeriesLine('up{job=~"a"} 1')).toThrow(/"=" matchers only/);
  });

  it('parses numbers like Go', () => {
    expect(parseSeriesNumber('1e3')).toBe(1000);
    expect(parseSeriesNumber('0x10')).toBeUndefined();
    expect(parseSeriesNumber('-Inf')).toBe(-Infinity);
  });
});

import { describe, expect, it } from 'vitest';
import { extendedBounds, extendedFloatDelta } from '../../../src/promql/engine/functions/extended.js';
import { quote } from '../../../src/promql/engine/functions/util.js';
import { points } from './helpers.js';

const S = 1000;
const M = 60 * S;

describe('anchored / smoothed range selectors (float)', () => {
  // load 15s: metric 1+1x4 9+1x4 (values 1..5 at 0..60s, 9..13 at 75..135s)
  const pts = points('1+1x4 9+1x4', 15 * S);
  const win = (ts: number, range: number, smoothed: boolean): typeof pts => {
    // The evaluator's widened window: the last point at or before the start, and for smoothed
    // the first one after the end.
    const start = ts - range;
    let from = pts.findIndex((p) => p.t > start);
    if (from < 0) from = pts.length;
    if (from > 0) from--;
    let to = pts.findIndex((p) => p.t > ts);
    if (to < 0) to = pts.length;
    else if (smoothed) to++;
    return pts.slice(from, to);
  };

  it('anchored increase uses the anchor value at the window start, without extrapolation', () => {
    expect(extendedFloatDelta(win(5 * S, M, false), 5 * S - M, 5 * S, false, true)).toBe(0);
    expect(extendedFloatDelta(win(20 * S, M, false), 20 * S - M, 20 * S, false, true)).toBe(1);
    expect(extendedFloatDelta(win(80 * S, M, false), 20 * S, 80 * S, false, true)).toBe(7);
  });

  it('smoothed increase interpolates both boundaries', () => {
    expect(extendedFloatDelta(win(5 * S, M, true), 5 * S - M, 5 * S, true, true)).toBeCloseTo(1 / 3, 12);
    expect(extendedFloatDelta(win(65 * S, M, true), 5 * S, 65 * S, true, true)).toBeCloseTo(5, 12);
    expect(extendedFloatDelta(win(125 * S, M, true), 65 * S, 125 * S, true, true)).toBeCloseTo(6, 12);
  });

  it('smoothed counter interpolation across a reset restarts from zero', () => {
    // 100 at 0s, 10 at 15s; window [2s, 12s]: left 10·2/15, right 10·12/15.
    const p = [
      { t: 0, f: 100 },
      { t: 15 * S, f: 10 },
    ];
    expect(extendedFloatDelta(p, 2 * S, 12 * S, true, true)).toBeCloseTo(20 / 3, 12);
    // As a gauge (delta) the same window interpolates linearly: 100 − 90·(2/15) → 100 − 90·(12/15).
    expect(extendedFloatDelta(p, 2 * S, 12 * S, true, false)).toBeCloseTo(-60, 12);
  });

  it('resets inside the window add the value before the reset (9 8 5 4 → 12)', () => {
    const p = points('9 8 5 4', M);
    expect(extendedFloatDelta(p, 15 * S, 135 * S, true, true)).toBeCloseTo(12, 12);
  });

  it('is empty when all points are at or before the start, or (smoothed) all after the end', () => {
    expect(extendedBounds([{ t: 0 }, { t: M }], M, 2 * M, false)).toBeUndefined();
    expect(extendedBounds([{ t: 10 * S }], 0, 5 * S, true)).toBeUndefined();
    expect(extendedBounds([{ t: M }, { t: 3 * M }], M, 2 * M, true)).toEqual({ first: 0, last: 1 });
  });
});

describe('quote (Go %q)', () => {
  it('escapes quotes and backslashes and writes invalid bytes back as \\xNN', () => {
    expect(quote('a"b\\c')).toBe('"a\\"b\\\\c"');
    expect(quote('a\udcc5z')).toBe('"a\\xc5z"');
    expect(quote('π\n')).toBe('"π\\n"');
  });
});

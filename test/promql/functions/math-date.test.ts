import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../../src/promql/engine/functions/index.js';
import { datePart } from '../../../src/promql/engine/functions/date.js';
import { roundToNearest } from '../../../src/promql/engine/functions/math.js';
import type { FunctionArg } from '../../../src/promql/engine/functions/contract.js';
import { close, hist, makeCtx, N, S, V, only } from './helpers.js';
import type { Vector } from '../../../src/promql/engine/values.js';

const call = (fn: string, args: FunctionArg[], ts = 0): Vector => FUNCTIONS[fn]!(args, [], makeCtx(ts));
const byType = (out: Vector): Record<string, number> => Object.fromEntries(out.map((s) => [s.metric.find((l) => l.name === 'type' || l.name === 'l' || l.name === 'src')?.value ?? '', s.f]));

const data = [
  S({ type: 'positive' }, 2.5),
  S({ type: 'whole' }, 2),
  S({ type: 'negative' }, -2.5),
  S({ type: 'nwhole' }, -2),
  S({ type: 'zero' }, 0),
  S({ type: 'nzero' }, -0),
  S({ type: 'inf' }, Infinity),
  S({ type: 'ninf' }, -Infinity),
  S({ type: 'nan' }, NaN),
  { ...S({ type: 'histogram' }, 0), h: hist({ count: 1, sum: 1 }) },
];

describe('math functions', () => {
  it('abs/ceil/floor/round drop histograms and follow Go semantics', () => {
    const exp = {
      abs: [2.5, 2, 2.5, 2, 0, 0, Infinity, Infinity, NaN],
      ceil: [3, 2, -2, -2, 0, 0, Infinity, -Infinity, NaN],
      floor: [2, 2, -3, -2, 0, 0, Infinity, -Infinity, NaN],
      round: [3, 2, -2, -2, 0, 0, Infinity, -Infinity, NaN],
    };
    for (const [fn, want] of Object.entries(exp)) {
      const out = call(fn, [V(data)]);
      expect(out).toHaveLength(9);
      out.forEach((s, i) => {
        expect(close(s.f, want[i]!)).toBe(true);
        expect(s.dropName).toBe(true);
      });
    }
    expect(roundToNearest(0.15, 0.1)).toBeCloseTo(0.2, 12);
    expect(only(call('round', [V([S({}, 17)]), N(5)])).f).toBe(15);
    expect(only(call('round', [V([S({}, -17.5)]), N(5)])).f).toBe(-15);
  });

  it('clamp family (including NaN bounds and min > max)', () => {
    const v = V([S({ src: 'a' }, -50), S({ src: 'b' }, 0), S({ src: 'c' }, 100)]);
    expect(byType(call('clamp_max', [v, N(75)]))).toEqual({ a: -50, b: 0, c: 75 });
    expect(byType(call('clamp_min', [v, N(-25)]))).toEqual({ a: -25, b: 0, c: 100 });
    expect(byType(call('clamp', [v, N(-25), N(75)]))).toEqual({ a: -25, b: 0, c: 75 });
    expect(call('clamp', [v, N(0), N(NaN)]).every((s) => Number.isNaN(s.f))).toBe(true);
    expect(call('clamp', [v, N(NaN), N(0)]).every((s) => Number.isNaN(s.f))).toBe(true);
    expect(call('clamp', [v, N(5), N(-5)])).toEqual([]);
  });

  it('sgn, exp, ln, log2, log10, sqrt', () => {
    const sgn = call('sgn', [V([S({}, -Infinity), S({}, Infinity), S({}, NaN), S({}, -50), S({}, 0), S({}, 100)])]).map((s) => s.f);
    expect(sgn.slice(0, 2)).toEqual([-1, 1]);
    expect(Number.isNaN(sgn[2])).toBe(true);
    expect(sgn.slice(3)).toEqual([-1, 0, 1]);
    const x = V([S({ l: 'x' }, 10), S({ l: 'y' }, 20)]);
    expect(close(call('exp', [x])[0]!.f, 22026.465794806718)).toBe(true);
    expect(close(call('exp', [x])[1]!.f, 485165195.4097903)).toBe(true);
    expect(close(call('ln', [x])[0]!.f, 2.302585092994046)).toBe(true);
    expect(close(call('log2', [x])[1]!.f, 4.321928094887363)).toBe(true);
    expect(close(call('log10', [x])[1]!.f, 1.301029995663981)).toBe(true);
    expect(close(call('sqrt', [x])[0]!.f, 3.1622776601683795)).toBe(true);
    expect(call('ln', [V([S({}, 0)])])[0]!.f).toBe(-Infinity);
    expect(Number.isNaN(call('ln', [V([S({}, -10)])])[0]!.f)).toBe(true);
  });

  it('trigonometry and deg/rad/pi (trig_functions.test)', () => {
    const x = V([S({}, 10)]);
    const y = V([S({}, 20)]);
    const want: [string, FunctionArg, number][] = [
      ['sin', x, -0.5440211108893699],
      ['cos', y, 0.40808206181339196],
      ['tan', x, 0.6483608274590867],
      ['asin', V([S({}, -0.1)]), -0.10016742116155944],
      ['acos', V([S({}, -0.1)]), 1.670963747956456],
      ['atan', y, 1.5208379310729538],
      ['sinh', y, 2.4258259770489514e8],
      ['cosh', x, 11013.232920103324],
      ['tanh', x, 0.9999999958776927],
      ['asinh', x, 2.99822295029797],
      ['acosh', y, 3.6882538673612966],
      ['atanh', V([S({}, -0.1)]), -0.10033534773107522],
      ['rad', x, 0.17453292519943295],
      ['deg', y, 1145.9155902616465],
    ];
    for (const [fn, arg, v] of want) expect(close(only(call(fn, [arg])).f, v, 1e-12)).toBe(true);
    expect(only(call('pi', [])).f).toBe(3.141592653589793);
  });
});

describe('time and date functions', () => {
  it('time() and timestamp()', () => {
    expect(only(call('time', [], 1)).f).toBe(0.001);
    expect(only(call('time', [], 3_000_000)).f).toBe(3000);
    const out = call('timestamp', [V([S({ __name__: 'metric' }, 1, 10_000), { ...S({}, 0, 20_000), h: hist({}) }])], 25_000);
    expect(out.map((s) => s.f)).toEqual([10, 20]);
    expect(out[0]!.dropName).toBe(true);
  });

  it('calendar fields of 1136239445 (2006-01-02 22:04:05 UTC, Monday)', () => {
    const v = V([S({}, 1136239445)]);
    const want: Record<string, number> = { year: 2006, month: 1, day_of_month: 2, day_of_year: 2, day_of_week: 1, hour: 22, minute: 4, days_in_month: 31 };
    for (const [fn, w] of Object.entries(want)) expect(only(call(fn, [v])).f).toBe(w);
  });

  it('defaults to vector(time())', () => {
    expect(only(call('year', [], 0)).f).toBe(1970);
    expect(only(call('day_of_week', [], 0)).f).toBe(4);
    expect(only(call('month', [], 0)).f).toBe(1);
  });

  it('leap years and boundaries', () => {
    expect(datePart('year', 1230767999)).toBe(2008);
    expect(datePart('year', 1230768000)).toBe(2009);
    expect(datePart('month', 1456790399) + datePart('day_of_month', 1456790399) / 100).toBeCloseTo(2.29, 12);
    expect(datePart('month', 1456790400) + datePart('day_of_month', 1456790400) / 100).toBeCloseTo(3.01, 12);
    expect(datePart('day_of_year', 1483191420)).toBe(366);
    expect(datePart('day_of_year', 1672493820)).toBe(365);
    expect(datePart('days_in_month', 1454284800)).toBe(29);
    expect(datePart('days_in_month', 1485907200)).toBe(28);
    expect(Number.isNaN(datePart('year', NaN))).toBe(true);
  });

  it('ignores histograms', () => {
    expect(call('hour', [V([{ ...S({}, 0), h: hist({}) }])])).toEqual([]);
  });
});

describe('vector, scalar, min_of, max_of', () => {
  it('vector and scalar', () => {
    expect(call('vector', [N(1)])).toEqual([{ metric: [], t: 0, f: 1 }]);
    expect(Number.isNaN(only(call('scalar', [V([S({ l: 'x' }, 1), S({ l: 'y' }, 2)])])).f)).toBe(true);
    expect(Number.isNaN(only(call('scalar', [V([{ ...S({}, 0), h: hist({}) }])])).f)).toBe(true);
    expect(only(call('scalar', [V([S({ l: 'x' }, 1), { ...S({ l: 'x' }, 0), h: hist({}) }])])).f).toBe(1);
  });
  it('min_of / max_of propagate NaN', () => {
    expect(only(call('min_of', [N(3), N(5)])).f).toBe(3);
    expect(only(call('max_of', [N(-2), N(-5)])).f).toBe(-2);
    expect(Number.isNaN(only(call('min_of', [N(NaN), N(3)])).f)).toBe(true);
  });
});

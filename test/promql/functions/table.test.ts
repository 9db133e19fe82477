import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVALUATOR_HANDLED, FUNCTIONS, SCALAR_RESULT } from '../../../src/promql/engine/functions/index.js';
import { MSG, formatF, formatG, isValidLabelName, kahanSumInc, parseGoFloat } from '../../../src/promql/engine/functions/util.js';
import { doubleExponentialSmoothing } from '../../../src/promql/engine/functions/smoothing.js';
import { callRange, L, only, points, windowed } from './helpers.js';

const parserTable = new URL('../../../src/promql/parser/functions.ts', import.meta.url);

describe('function table', () => {
  it.runIf(existsSync(parserTable))('covers every function of the parser signature table', async () => {
    const mod = (await import(parserTable.href)) as { listFunctions: () => { name: string; returnType: string }[] };
    const sigs = mod.listFunctions();
    expect(sigs.length).toBeGreaterThan(50);
    const missing = sigs.map((s) => s.name).filter((n) => !(n in FUNCTIONS) && !EVALUATOR_HANDLED.includes(n));
    expect(missing).toEqual([]);
    for (const s of sigs) {
      if (s.name in FUNCTIONS) expect(SCALAR_RESULT.has(s.name), s.name).toBe(s.returnType === 'scalar');
    }
  });

  it('has no implementation the parser would reject', async () => {
    if (!existsSync(parserTable)) return;
    const mod = (await import(parserTable.href)) as { getFunction: (n: string) => unknown };
    expect(Object.keys(FUNCTIONS).filter((n) => mod.getFunction(n) === undefined)).toEqual([]);
  });
});

describe('helpers', () => {
  it('formatG follows Go %g', () => {
    expect([0.5, -1, 2, 1.01, 1e-5, 123456, 1234567, 1e21, NaN, Infinity, -Infinity, -0.1].map(formatG)).toEqual([
      '0.5', '-1', '2', '1.01', '1e-05', '123456', '1.234567e+06', '1e+21', 'NaN', '+Inf', '-Inf', '-0.1',
    ]);
    expect(formatF(1)).toBe('1.000000');
    expect(MSG.invalidQuantile(1.1)).toBe('PromQL warning: quantile value should be between 0 and 1, got 1.1');
  });

  it('parseGoFloat accepts what strconv.ParseFloat accepts', () => {
    expect(['0.1', '.2', '1e0', '+Inf', '+inf', '-Infinity', '2.0e-1', '0x1p-2', '1_0'].map(parseGoFloat)).toEqual([
      0.1, 0.2, 1, Infinity, Infinity, -Infinity, 0.2, 0.25, undefined,
    ]);
    expect(parseGoFloat('')).toBeUndefined();
    expect(parseGoFloat('Hello World')).toBeUndefined();
    expect(Number.isNaN(parseGoFloat('NaN'))).toBe(true);
  });

  it('Neumaier summation compensates and survives infinities', () => {
    let s = 0;
    let c = 0;
    for (const v of [1, 1e100, 1, -1e100]) [s, c] = kahanSumInc(v, s, c);
    expect(s + c).toBe(2);
    expect(kahanSumInc(Infinity, 1, 0.5)).toEqual([Infinity, 0]);
  });

  it('label name validity (UTF-8 scheme)', () => {
    expect(isValidLabelName('a.b-c')).toBe(true);
    expect(isValidLabelName('')).toBe(false);
    expect(isValidLabelName('\ud800x')).toBe(false);
    expect(isValidLabelName('x\ufffd')).toBe(false);
  });
});

describe('double_exponential_smoothing', () => {
  it('reproduces straight lines (functions.test)', () => {
    for (const [spec, want] of [
      ['0+10x1000 100+30x1000', 8000],
      ['0+20x1000 200+30x1000', 16000],
      ['0+40x2000', 32000],
      ['8000-10x1000', 0],
      ['0-20x1000', -16000],
    ] as const) {
      const s = windowed(L({}), points(spec, 10_000), 8_000_000, 60_000);
      const out = callRange('double_exponential_smoothing', s, 8_000_000, 60_000, {
        after: [
          { kind: 'scalar', value: 0.01 },
          { kind: 'scalar', value: 0.1 },
        ],
      }).out;
      expect(only(out).f).toBeCloseTo(want, 6);
    }
    expect(doubleExponentialSmoothing([1], 0.5, 0.5)).toBeUndefined();
    // Hand-computed: s1=1, b=1; x=2: s=0.5*2+0.5*(1+1)=2; x=4: b=0.5*(2-1)+0.5*1=1, s=0.5*4+0.5*(2+1)=3.5
    expect(doubleExponentialSmoothing([1, 2, 4], 0.5, 0.5)).toBe(3.5);
  });

  it('rejects factors outside (0, 1) with Prometheus wording', () => {
    const s = windowed(L({}), points('1 2 3', 10_000), 20_000, 60_000);
    const call = (sf: number, tf: number) =>
      callRange('double_exponential_smoothing', s, 20_000, 60_000, { after: [{ kind: 'scalar', value: sf }, { kind: 'scalar', value: tf }] });
    expect(() => call(1, 0.5)).toThrow('invalid smoothing factor. Expected: 0 < sf < 1, got: 1.000000');
    expect(() => call(0.5, 0)).toThrow('invalid trend factor. Expected: 0 < tf < 1, got: 0.000000');
  });
});

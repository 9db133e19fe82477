import { describe, expect, it } from 'vitest';
import { parseExpr, prettyExpr, printExpr } from '../../../src/promql/parser/index.js';
import type { Expr } from '../../../src/promql/parser/ast.js';
import { newMatcher } from '../../../src/model/matchers.js';
import { strip } from './helpers.js';

const roundTrip = (q: string): string => {
  const e = parseExpr(q);
  const p = printExpr(e);
  expect(strip(parseExpr(p)), `${q} → ${p}`).toEqual(strip(e));
  return p;
};

describe('printExpr', () => {
  it.each([
    ['foo', 'foo'],
    ['foo{a="b",c=~"d"}', 'foo{a="b", c=~"d"}'],
    ['{__name__="foo"}', '{__name__="foo"}'],
    ['{"metric.name", "a.b"="c"}', '{"metric.name", "a.b"="c"}'],
    ['{"foo"}', 'foo'],
    ['{"sum"}', '{"sum"}'],
    ['foo[90s]', 'foo[1m30s]'],
    ['foo[60]', 'foo[1m]'],
    ['foo[5m] offset 1h30m @ 100', 'foo[5m] offset 1h30m @ 100'],
    ['foo @ start() offset -5m', 'foo offset -5m @ start()'],
    ['foo[26m+4m]', 'foo[26m + 4m]'],
    ['foo[(5m)]', 'foo[(5m)]'],
    ['foo[2m*(10+5)]', 'foo[2m * (10s + 5s)]'],
    ['foo offset (1h+5m)', 'foo offset (1h + 5m)'],
    ['foo offset -step()*2', 'foo offset (-step()) * 2'],
    ['rate(foo[5m:])', 'rate(foo[5m:])'],
    ['foo[5m:step()]', 'foo[5m:step()]'],
    ['a + on(b) group_left(c) d', 'a + on(b) group_left(c) d'],
    ['a * on() group_right() (b)', 'a * on() group_right() (b)'],
    ['a > bool ignoring(x) b', 'a > bool ignoring(x) b'],
    ['a + fill_left(1) fill_right(2) b', 'a + fill_left(1) fill_right(2) b'],
    ['a + fill(NaN) b', 'a + fill(NaN) b'],
    ['sum by (a) (x)', 'sum by (a) (x)'],
    ['sum(x) without (a)', 'sum without (a) (x)'],
    ['topk(5, x)', 'topk(5, x)'],
    ['-2^2', '-2 ^ 2'],
    ['2 ^ -1', '2 ^ -1'],
    ['- -a', '--a'],
    ['1 - -1', '1 - -1'],
    ['(1 + 2) * 3', '(1 + 2) * 3'],
    ['a - (b - c)', 'a - (b - c)'],
    ['"a\\"b\\n"', '"a\\"b\\n"'],
    ['"\\xff"', '"\\xff"'],
    ['Inf', 'Inf'],
    ['-Inf', '-Inf'],
    ['NaN', 'NaN'],
    ['5m', '5m'],
    ['0x10', '16'],
    ['foo[1m] anchored', 'foo[1m] anchored'],
    ['foo smoothed', 'foo smoothed'],
    ['time()', 'time()'],
    ['a AND b', 'a and b'],
  ])('%s', (q, want) => {
    expect(roundTrip(q)).toBe(want);
  });

  it('adds parentheses needed by constructed trees', () => {
    const num = (value: number): Expr => ({ kind: 'NumberLiteral', value, pos: { start: 0, end: 0 } });
    const vs: Expr = { kind: 'VectorSelector', name: 'x', matchers: [newMatcher('=', '__name__', 'x')], offset: 0, at: null, atModifier: null, pos: { start: 0, end: 0 } };
    const sum: Expr = { kind: 'BinaryExpr', op: '+', lhs: vs, rhs: num(1), returnBool: false, matching: null, pos: { start: 0, end: 0 } };
    const mul: Expr = { kind: 'BinaryExpr', op: '*', lhs: sum, rhs: sum, returnBool: false, matching: null, pos: { start: 0, end: 0 } };
    expect(printExpr(mul)).toBe('(x + 1) * (x + 1)');
    expect(printExpr({ kind: 'UnaryExpr', op: '-', expr: sum, pos: { start: 0, end: 0 } })).toBe('-(x + 1)');
    expect(printExpr({ kind: 'StepInvariantExpr', expr: vs, pos: { start: 0, end: 0 } })).toBe('x');
  });
});

describe('prettyExpr', () => {
  it('keeps short expressions on one line', () => {
    expect(prettyExpr(parseExpr('sum by (job) (rate(foo[5m]))'))).toBe('sum by (job) (rate(foo[5m]))');
  });

  it('splits long expressions and the result parses to the same tree', () => {
    const call = prettyExpr(parseExpr(`rate(${'a'.repeat(60)}{${'b'.repeat(30)}="${'c'.repeat(20)}"}[5m])`));
    expect(call).toBe(`rate(\n  ${'a'.repeat(60)}{${'b'.repeat(30)}="${'c'.repeat(20)}"}[5m]\n)`);
    const q =
      'sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!="", image!=""}[5m])) / on(namespace, pod) group_left() sum by (namespace, pod) (kube_pod_container_resource_requests{resource="cpu"}) > 0.9';
    const p = prettyExpr(parseExpr(q));
    expect(p.split('\n').length).toBeGreaterThan(3);
    for (const line of p.split('\n')) expect(line.length).toBeLessThanOrEqual(100);
    expect(strip(parseExpr(p))).toEqual(strip(parseExpr(q)));
    expect(p).toBe(
      [
        '    sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!="", image!=""}[5m]))',
        '  / on(namespace, pod) group_left()',
        '    sum by (namespace, pod) (kube_pod_container_resource_requests{resource="cpu"})',
        '>',
        '  0.9',
      ].join('\n'),
    );
  });
});

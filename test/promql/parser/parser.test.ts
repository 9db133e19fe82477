import { describe, expect, it } from 'vitest';
import { parseExpr, parseMetricSelector, ParseError } from '../../../src/promql/parser/index.js';
import type { AggregateExpr, BinaryExpr, Call, MatrixSelector, SubqueryExpr, VectorSelector } from '../../../src/promql/parser/ast.js';
import { sexpr } from './helpers.js';

const tree = (q: string): string => sexpr(parseExpr(q));
const matchers = (vs: VectorSelector): string[] => vs.matchers.map((m) => `${m.name}${m.type}${m.value}`);

describe('operator precedence and associativity', () => {
  it.each([
    ['a or b and c', '(or a (and b c))'],
    ['a and b unless c', '(unless (and a b) c)'],
    ['a unless b or c', '(or (unless a b) c)'],
    ['a + b > c and d', '(and (> (+ a b) c) d)'],
    ['a + b * c', '(+ a (* b c))'],
    ['a - b - c', '(- (- a b) c)'],
    ['a / b * c % d', '(% (* (/ a b) c) d)'],
    ['a * b atan2 c', '(atan2 (* a b) c)'],
    ['a ^ b ^ c', '(^ a (^ b c))'],
    ['a * b ^ c', '(* a (^ b c))'],
    ['-2 ^ 2', '(- (^ 2 2))'],
    ['-a * b', '(* (- a) b)'],
    ['-a + b', '(+ (- a) b)'],
    ['a * -b + c', '(+ (* a (- b)) c)'],
    ['2 ^ -1', '(^ 2 -1)'],
    ['-1', '-1'],
    ['+1', '1'],
    ['- -1', '1'],
    ['(a + b) * c', '(* ((+ a b)) c)'],
    ['a == b != c', '(!= (== a b) c)'],
    ['h </ 2 + 1', '(+ (</ h 2) 1)'],
    ['a AND b OR c', '(or (and a b) c)'],
  ])('%s', (q, want) => {
    expect(tree(q)).toBe(want);
  });

  it('folds unary minus into number literals with the sign position', () => {
    const e = parseExpr('-5m');
    expect(e).toMatchObject({ kind: 'NumberLiteral', value: -300, duration: true, pos: { start: 0, end: 3 } });
  });
});

describe('literals', () => {
  it.each([
    ['1', 1], ['1.5e3', 1500], ['0x1f', 31], ['.5', 0.5], ['Inf', Infinity], ['-inf', -Infinity], ['+Inf', Infinity], ['1m', 60], ['1h30m', 5400],
  ])('%s', (q, v) => {
    expect(parseExpr(q)).toMatchObject({ kind: 'NumberLiteral', value: v });
  });
  it('NaN', () => {
    const e = parseExpr('nan');
    expect(e.kind === 'NumberLiteral' && Number.isNaN(e.value)).toBe(true);
  });
  it('strings', () => {
    expect(parseExpr('"a\\tb"')).toMatchObject({ kind: 'StringLiteral', value: 'a\tb' });
    expect(parseExpr("'x'")).toMatchObject({ kind: 'StringLiteral', value: 'x' });
    expect(parseExpr('`y\\n`')).toMatchObject({ kind: 'StringLiteral', value: 'y\\n' });
  });
});

describe('selectors', () => {
  it('metric name and matchers', () => {
    const vs = parseExpr('foo{a="b", c!="d", e=~"f.*", g!~"h",}') as VectorSelector;
    expect(vs.name).toBe('foo');
    expect(matchers(vs)).toEqual(['a=b', 'c!=d', 'e=~f.*', 'g!~h', '__name__=foo']);
    expect(vs.pos).toEqual({ start: 0, end: 37 });
    expect(vs.matchers[2]!.matches('fxx')).toBe(true);
    expect(vs.matchers[2]!.matches('xf')).toBe(false);
  });

  it('quoted UTF-8 metric and label names', () => {
    const vs = parseExpr('{"metric.name", "a.b"="c"}') as VectorSelector;
    expect(vs.name).toBe('metric.name');
    expect(matchers(vs)).toEqual(['a.b=c', '__name__=metric.name']);
    expect(matchers(parseExpr('{"foo"}') as VectorSelector)).toEqual(['__name__=foo']);
  });

  it('keywords as metric and label names', () => {
    for (const name of ['by', 'offset', 'on', 'without', 'bool', 'fill', 'anchored']) {
      expect((parseExpr(name) as VectorSelector).name, name).toBe(name);
    }
    const vs = parseExpr('foo{by="1", and="2", offset="3"}') as VectorSelector;
    expect(matchers(vs)).toEqual(['by=1', 'and=2', 'offset=3', '__name__=foo']);
    expect(tree('fill + fill(0) other')).toBe('(+ fill other)');
    expect(tree('other + fill')).toBe('(+ other fill)');
    expect(tree('other + fill_left(0) fill_left')).toBe('(+ other fill_left)');
  });

  it('metric identifiers with colons', () => {
    expect((parseExpr('job:rate5m:sum{a="b"}') as VectorSelector).name).toBe('job:rate5m:sum');
  });

  it('matrix selectors with plain, numeric and expression ranges', () => {
    expect((parseExpr('foo[5m]') as MatrixSelector).range).toBe(300000);
    expect((parseExpr('foo[60]') as MatrixSelector).range).toBe(60000);
    const m = parseExpr('foo[2m*(10+5)]') as MatrixSelector;
    expect(m.range).toBe(1800000);
    expect(m.rangeExpr).toMatchObject({ kind: 'DurBinary', op: '*' });
    expect((parseExpr('foo[30m1s-30m1s % 1m]') as MatrixSelector).range).toBe(1800000);
    expect((parseExpr('foo[1h/2]') as MatrixSelector).range).toBe(1800000);
    const dyn = parseExpr('foo[step()+1ms]') as MatrixSelector;
    expect(dyn.range).toBe(0);
    expect(dyn.rangeExpr).toEqual({ kind: 'DurBinary', op: '+', lhs: { kind: 'DurStep' }, rhs: { kind: 'DurNumber', ms: 1 } });
    expect((parseExpr('foo[max_of(min_of(step()+1,1h),1ms)]') as MatrixSelector).rangeExpr).toMatchObject({ kind: 'DurCall', func: 'max_of' });
    expect((parseExpr('foo[range()]') as MatrixSelector).rangeExpr).toEqual({ kind: 'DurRange' });
    expect((parseExpr('foo[1+(STep()-5)*2]') as MatrixSelector).rangeExpr).toBeDefined();
  });

  it('offset and @ in any order, on selectors, ranges and subqueries', () => {
    const a = parseExpr('foo offset 5m @ 100') as VectorSelector;
    const b = parseExpr('foo @ 100 offset 5m') as VectorSelector;
    expect([a.offset, a.at, b.offset, b.at]).toEqual([300000, 100000, 300000, 100000]);
    expect((parseExpr('foo offset -1h') as VectorSelector).offset).toBe(-3600000);
    expect((parseExpr('foo @ -1.5') as VectorSelector).at).toBe(-1500);
    expect((parseExpr('foo @ start()') as VectorSelector).atModifier).toBe('start');
    expect((parseExpr('foo @ end()') as VectorSelector).atModifier).toBe('end');
    const m = parseExpr('foo[5m] offset 1m @ 10') as MatrixSelector;
    expect([m.vectorSelector.offset, m.vectorSelector.at, m.pos.end]).toEqual([60000, 10000, 22]);
    const sq = parseExpr('rate(foo[1m])[5m:30s] offset 1m @ end()') as SubqueryExpr;
    expect([sq.range, sq.step, sq.offset, sq.atModifier]).toEqual([300000, 30000, 60000, 'end']);
    expect((parseExpr('foo[5m:]') as SubqueryExpr).step).toBe(0);
    expect(sexpr(parseExpr('foo offset 5m [10m:1m]'))).toBe('foo[600000:60000]');
  });

  it('offset takes one duration operand; operators after it apply to the selector', () => {
    expect(tree('foo offset 100 + 2')).toBe('(+ foo 2)');
    expect((parseExpr('foo offset 100 + 2') as BinaryExpr).lhs).toMatchObject({ offset: 100000 });
    const t = parseExpr('foo offset -step()*2') as BinaryExpr;
    expect(t.lhs).toMatchObject({ kind: 'VectorSelector', offsetExpr: { kind: 'DurUnary', op: '-', expr: { kind: 'DurStep' } } });
    expect(parseExpr('foo offset (2 ^ 2)')).toMatchObject({ offset: 4000, offsetExpr: { kind: 'DurBinary', op: '^' } });
    expect(parseExpr('foo offset (-2 * 2)')).toMatchObject({ offset: -4000 });
    expect(parseExpr('foo offset min_of(step(), 1s)')).toMatchObject({ offset: 0, offsetExpr: { kind: 'DurCall', func: 'min_of' } });
    expect(parseExpr('foo offset STEP()')).toMatchObject({ offsetExpr: { kind: 'DurStep' } });
  });

  it('anchored and smoothed', () => {
    expect((parseExpr('foo[1m] anchored') as MatrixSelector).vectorSelector.anchored).toBe(true);
    expect((parseExpr('foo smoothed') as VectorSelector).smoothed).toBe(true);
    expect((parseExpr('foo @ 100 smoothed + 0') as BinaryExpr).lhs).toMatchObject({ smoothed: true, at: 100000 });
    expect((parseExpr('foo offset -100 smoothed') as VectorSelector).offset).toBe(-100000);
  });

  it('parseMetricSelector', () => {
    expect(parseMetricSelector('up{job="x"}').map((m) => `${m.name}${m.type}${m.value}`)).toEqual(['job=x', '__name__=up']);
    expect(parseMetricSelector('{__name__=~"a.*"}')).toHaveLength(1);
    expect(() => parseMetricSelector('up + 1')).toThrow(ParseError);
    expect(() => parseMetricSelector('{a=""}')).toThrow(/at least one non-empty matcher/);
    expect(() => parseMetricSelector('rate(x[5m])')).toThrow(ParseError);
  });
});

describe('binary modifiers', () => {
  it('bool, on/ignoring, group_left/right', () => {
    const b = parseExpr('a > bool b') as BinaryExpr;
    expect([b.returnBool, b.matching]).toEqual([true, { card: 'one-to-one', on: false, labels: [], include: [] }]);
    expect((parseExpr('a * on(x, "y.z") group_left(w) b') as BinaryExpr).matching).toEqual({
      card: 'many-to-one', on: true, labels: ['x', 'y.z'], include: ['w'],
    });
    expect((parseExpr('a * ignoring(x) group_right b') as BinaryExpr).matching).toEqual({
      card: 'one-to-many', on: false, labels: ['x'], include: [],
    });
    expect((parseExpr('a and on() b') as BinaryExpr).matching).toMatchObject({ card: 'many-to-many', on: true, labels: [] });
    expect((parseExpr('a + 1') as BinaryExpr).matching).toBeNull();
    expect((parseExpr('1 == bool 2') as BinaryExpr).returnBool).toBe(true);
    expect((parseExpr('a * group_left b') as BinaryExpr).matching).toMatchObject({ card: 'many-to-one' });
  });

  it('fill modifiers', () => {
    const m = (q: string) => (parseExpr(q) as BinaryExpr).matching;
    expect(m('a + fill(0) b')).toMatchObject({ fillLeft: 0, fillRight: 0 });
    expect(m('a + fill_left(5) fill_right(7) b')).toMatchObject({ fillLeft: 5, fillRight: 7 });
    expect(m('a + fill_right(-Inf) b')).toEqual({ card: 'one-to-one', on: false, labels: [], include: [], fillRight: -Infinity });
    expect(m('a == bool fill(30) b')).toMatchObject({ fillLeft: 30 });
    expect(m('a + on(job) group_left(x) fill(1) b')).toMatchObject({ card: 'many-to-one', fillLeft: 1, include: ['x'] });
    expect(Number.isNaN(m('a + fill(NaN) b')!.fillLeft)).toBe(true);
  });
});

describe('aggregations', () => {
  it('grouping before or after, params, trailing comma, case-insensitive keywords', () => {
    const a = parseExpr('sum by (a, b) (x)') as AggregateExpr;
    const b = parseExpr('sum(x) by (a, b)') as AggregateExpr;
    expect([a.grouping, a.without, b.grouping]).toEqual([['a', 'b'], false, ['a', 'b']]);
    expect((parseExpr('avg without (a) (x)') as AggregateExpr).without).toBe(true);
    const t = parseExpr('topk(3, x)') as AggregateExpr;
    expect([t.op, sexpr(t.param!), sexpr(t.expr)]).toEqual(['topk', '3', 'x']);
    expect((parseExpr('count_values("v", x)') as AggregateExpr).param).toMatchObject({ kind: 'StringLiteral', value: 'v' });
    expect(tree('limitk(2, x)')).toBe('(limitk 2 x)');
    expect(tree('limit_ratio(0.5, x)')).toBe('(limit_ratio 0.5 x)');
    expect(tree('SUM(x) BY (a)')).toBe('(sum x)');
    expect((parseExpr('sum by (a,) (x,)') as AggregateExpr).grouping).toEqual(['a']);
    expect(parseExpr('sum(x) by (a)').pos).toEqual({ start: 0, end: 13 });
  });
});

describe('function calls', () => {
  it('checks signatures and accepts optional args', () => {
    expect(tree('rate(x[5m])')).toBe('(rate x[300000])');
    expect(tree('round(x)')).toBe('(round x)');
    expect(tree('round(x, 5)')).toBe('(round x 5)');
    expect(tree('hour()')).toBe('(hour)');
    expect(tree('label_join(x, "a", ",", "b", "c", "d")')).toBe('(label_join x "a" "," "b" "c" "d")');
    expect(tree('time()')).toBe('(time)');
    expect(tree('info(x, {data=~".*"})')).toBe('(info x {})');
    expect(tree('histogram_quantiles(x, "q", 0.1, 0.5, 0.9)')).toBe('(histogram_quantiles x "q" 0.1 0.5 0.9)');
    expect((parseExpr('vector(1)') as Call).pos).toEqual({ start: 0, end: 9 });
  });
});

describe('bounds', () => {
  it('rejects over-long input and deep nesting with ParseError', () => {
    expect(() => parseExpr('a'.repeat(70000))).toThrow(/too long/);
    expect(() => parseExpr('x+1', { maxLength: 2 })).toThrow(/too long/);
    const deep = '('.repeat(300) + '1' + ')'.repeat(300);
    expect(() => parseExpr(deep)).toThrow(/nesting depth exceeds maximum of 256/);
    expect(parseExpr(deep, { maxDepth: 1000 }).kind).toBe('ParenExpr');
    expect(() => parseExpr(Array(400).fill('a').join(' + '))).toThrow(ParseError);
    expect(parseExpr(Array(100).fill('a').join(' or ')).kind).toBe('BinaryExpr');
  });
});

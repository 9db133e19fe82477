import { describe, expect, it } from 'vitest';
import type { Expr } from '../../../src/promql/parser/ast.js';
import { parseExpr } from '../../../src/promql/parser/index.js';
import { preprocess, queryTimeRange } from '../../../src/promql/engine/preprocess.js';

/** Compact shape of a tree: node kinds, with `SI(...)` for step-invariant wrappers. */
function shape(e: Expr): string {
  switch (e.kind) {
    case 'StepInvariantExpr':
      return `SI(${shape(e.expr)})`;
    case 'BinaryExpr':
      return `${shape(e.lhs)} ${e.op} ${shape(e.rhs)}`;
    case 'Call':
      return `${e.func}(${e.args.map(shape).join(', ')})`;
    case 'AggregateExpr':
      return `${e.op}(${e.param ? shape(e.param) + ', ' : ''}${shape(e.expr)})`;
    case 'ParenExpr':
      return `(${shape(e.expr)})`;
    case 'VectorSelector':
      return e.at !== null ? `${e.name}@${e.at}` : e.name;
    case 'MatrixSelector':
      return `${shape(e.vectorSelector)}[${e.range}]`;
    case 'SubqueryExpr':
      return `(${shape(e.expr)})[${e.range}:${e.step}]${e.at !== null ? '@' + e.at : ''}`;
    case 'NumberLiteral':
      return String(e.value);
    default:
      return e.kind;
  }
}

const p = { start: 10_000, end: 70_000, step: 30_000 };

describe('preprocess', () => {
  it('wraps @-pinned subtrees and leaves time-dependent ones alone', () => {
    expect(shape(preprocess(parseExpr('foo @ 100 + bar'), p))).toBe('SI(foo@100000) + bar');
    expect(shape(preprocess(parseExpr('rate(foo[1m] @ 100)'), p))).toBe('SI(rate(foo@100000[60000]))');
    expect(shape(preprocess(parseExpr('sum(foo @ 100) * 2'), p))).toBe('SI(sum(foo@100000) * 2)');
    expect(shape(preprocess(parseExpr('time() + foo @ 1'), p))).toBe('time() + SI(foo@1000)');
    expect(shape(preprocess(parseExpr('timestamp(foo @ 1)'), p))).toBe('timestamp(SI(foo@1000))');
    expect(shape(preprocess(parseExpr('foo + 1'), p))).toBe('foo + 1');
  });

  it('resolves @ start()/end() to the query range', () => {
    expect(shape(preprocess(parseExpr('foo @ start() - foo @ end()'), p))).toBe('SI(foo@10000 - foo@70000)');
  });

  it('wraps the inside of a subquery when it is invariant', () => {
    expect(shape(preprocess(parseExpr('max_over_time((foo @ 5)[1m:10s])'), p))).toBe('max_over_time((SI((foo@5000)))[60000:10000])');
  });

  it('evaluates duration expressions with step() and range()', () => {
    const e = preprocess(parseExpr('rate(foo[step() * 2])'), p);
    expect(shape(e)).toBe('rate(foo[60000])');
    const r = preprocess(parseExpr('foo offset (range() + 1m)'), p);
    expect(r.kind === 'VectorSelector' && r.offset).toBe(120_000);
  });

  it('computes the storage time range over offsets, ranges and subqueries', () => {
    const e = preprocess(parseExpr('rate(foo[5m] offset 1m) + max_over_time(bar[10m:1m])'), { start: 3_600_000, end: 3_600_000, step: 0 });
    const r = queryTimeRange(e, 3_600_000, 3_600_000, 300_000);
    expect(r.mint).toBe(3_600_000 - 600_000 - 300_000);
    expect(r.maxt).toBe(3_600_000);
  });
});

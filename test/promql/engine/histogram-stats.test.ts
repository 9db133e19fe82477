import { describe, expect, it } from 'vitest';
import type { Expr, VectorSelector } from '../../../src/promql/parser/ast.js';
import { parseExpr } from '../../../src/promql/parser/index.js';
import { statsOnlySelectors } from '../../../src/promql/engine/histogram-stats.js';

/** Metric names of the selectors in stats mode. */
function statsNames(q: string): string[] {
  const set = statsOnlySelectors(parseExpr(q) as Expr);
  return [...set].map((vs: VectorSelector) => vs.name).sort();
}

describe('statsOnlySelectors', () => {
  it('marks selectors under histogram_count/sum/avg, through aggregations and range functions', () => {
    expect(statsNames('histogram_count(sum(a))')).toEqual(['a']);
    expect(statsNames('histogram_sum(rate(a[5m]))')).toEqual(['a']);
    expect(statsNames('histogram_avg(sum_over_time(a[10m:1m]))')).toEqual(['a']);
    expect(statsNames('sum(a)')).toEqual([]);
  });

  it('the innermost histogram function decides; binary operators cut the relation', () => {
    expect(statsNames('histogram_count(histogram_quantile(0.9, a))')).toEqual([]);
    expect(statsNames('histogram_quantile(0.9, histogram_count(a))')).toEqual(['a']);
    expect(statsNames('histogram_count(a + b)')).toEqual([]);
    expect(statsNames('histogram_count(a) + b')).toEqual(['a']);
  });
});

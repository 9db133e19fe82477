/**
 * Which selectors read native histograms "for their statistics only".
 *
 * Prometheus reads a stored counter-reset hint of a histogram sample back as `unknown` (see the
 * note in its native_histograms test script about prometheus/prometheus#15346), except for
 * selectors whose histograms only feed `histogram_count`, `histogram_sum` or `histogram_avg`:
 * those are read with an iterator that detects counter resets on the fly and so reports `reset`.
 * The innermost of those functions or of `histogram_quantile`/`histogram_fraction` (which need
 * the buckets) above a selector decides; a binary operator between them cuts the relation.
 */
import type { Expr, VectorSelector } from '../parser/ast.js';

const STATS_FUNCS = new Set(['histogram_count', 'histogram_sum', 'histogram_avg']);
const BUCKET_FUNCS = new Set(['histogram_quantile', 'histogram_fraction']);

/** The selectors of `expr` whose histograms keep their stored `reset` hints. */
export function statsOnlySelectors(expr: Expr): ReadonlySet<VectorSelector> {
  const out = new Set<VectorSelector>();
  const walk = (e: Expr, stats: boolean): void => {
    switch (e.kind) {
      case 'VectorSelector':
        if (stats) out.add(e);
        return;
      case 'MatrixSelector':
        return walk(e.vectorSelector, stats);
      case 'SubqueryExpr':
      case 'ParenExpr':
      case 'UnaryExpr':
      case 'StepInvariantExpr':
        return walk(e.expr, stats);
      case 'BinaryExpr':
        walk(e.lhs, false);
        return walk(e.rhs, false);
      case 'AggregateExpr':
        if (e.param) walk(e.param, stats);
        return walk(e.expr, stats);
      case 'Call': {
        const inner = STATS_FUNCS.has(e.func) ? true : BUCKET_FUNCS.has(e.func) ? false : stats;
        for (const a of e.args) walk(a, inner);
        return;
      }
      default:
        return;
    }
  };
  walk(expr, false);
  return out;
}

/**
 * Which metric names an expression selects (for ingest-triggered evaluation).
 */
import { assertNever } from '../model/errors.js';
import { METRIC_NAME } from '../model/labels.js';
import type { Expr, VectorSelector } from '../promql/parser/ast.js';

/** Metric names selected by an expression; `all` when some selector has no fixed name. */
export interface SelectedNames {
  all: boolean;
  readonly names: Set<string>;
}

function addSelector(vs: VectorSelector, out: SelectedNames): void {
  const eq = vs.matchers.find((m) => m.name === METRIC_NAME && m.type === '=');
  if (eq) out.names.add(eq.value);
  else if (vs.name !== '') out.names.add(vs.name);
  else out.all = true;
}

/** Adds the metric names `e` selects to `out` (creates a new set when omitted). */
export function selectedNames(e: Expr, out: SelectedNames = { all: false, names: new Set() }): SelectedNames {
  switch (e.kind) {
    case 'NumberLiteral':
    case 'StringLiteral':
      break;
    case 'VectorSelector':
      addSelector(e, out);
      break;
    case 'MatrixSelector':
      addSelector(e.vectorSelector, out);
      break;
    case 'SubqueryExpr':
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      selectedNames(e.expr, out);
      break;
    case 'BinaryExpr':
      selectedNames(e.lhs, out);
      selectedNames(e.rhs, out);
      break;
    case 'AggregateExpr':
      if (e.param) selectedNames(e.param, out);
      selectedNames(e.expr, out);
      break;
    case 'Call':
      for (const a of e.args) selectedNames(a, out);
      break;
    default:
      assertNever(e, 'expression');
  }
  return out;
}

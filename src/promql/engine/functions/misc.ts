/**
 * `vector`, `scalar`, `absent`, `absent_over_time`, `min_of`, `max_of`.
 *
 * Scalar-valued functions return a one-element vector with no labels; the evaluator turns it
 * into a scalar (see index.ts).
 */
import type { Expr } from '../../parser/ast.js';
import { LabelsBuilder, METRIC_NAME, type Labels } from '../../../model/labels.js';
import type { Vector } from '../values.js';
import type { FunctionImpl } from './contract.js';
import { scalarArg } from './util.js';

/** `vector(s)`: the scalar as a one-element vector without labels. */
export const vector: FunctionImpl = (args, _exprs, ctx) => [{ metric: [], t: ctx.ts, f: scalarArg(args, 0) }];

/** `scalar(v)`: the value of the only float sample, else NaN (histograms are ignored). */
export const scalar: FunctionImpl = (args, _exprs, ctx) => {
  const a = args[0];
  let value = Number.NaN;
  if (a?.kind === 'vector') {
    const floats = a.vector.filter((s) => s.h === undefined);
    if (floats.length === 1) value = floats[0]!.f;
  } else if (a?.kind === 'scalar') {
    value = a.value;
  }
  return [{ metric: [], t: ctx.ts, f: value }];
};

function unwrap(e: Expr | undefined): Expr | undefined {
  let cur = e;
  while (cur && (cur.kind === 'ParenExpr' || cur.kind === 'StepInvariantExpr')) cur = cur.expr;
  return cur;
}

/**
 * Labels for `absent`/`absent_over_time` output: from a (matrix) selector's equality matchers,
 * except `__name__`; a label with more than one matcher is dropped (Prometheus's historic
 * behaviour). Anything that is not a selector gives no labels.
 */
export function absentLabels(expr: Expr | undefined): Labels {
  const e = unwrap(expr);
  let vs;
  if (e?.kind === 'VectorSelector') vs = e;
  else if (e?.kind === 'MatrixSelector') vs = e.vectorSelector;
  else return [];
  const b = new LabelsBuilder();
  const seen = new Set<string>();
  for (const m of vs.matchers) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === '=' && !seen.has(m.name)) {
      b.set(m.name, m.value);
      seen.add(m.name);
    } else {
      b.del(m.name);
    }
  }
  return b.labels();
}

/** `absent(v)`: `{labels} 1` when the vector is empty. */
export const absent: FunctionImpl = (args, exprs, ctx): Vector => {
  const a = args[0];
  if (a?.kind === 'vector' && a.vector.length > 0) return [];
  return [{ metric: absentLabels(exprs[0]), t: ctx.ts, f: 1 }];
};

/**
 * `absent_over_time(v range-vector)`: `{labels} 1` when no series has a sample in the window.
 * The evaluator must call it once per step with ALL series of the argument (possibly none),
 * not once per series.
 */
export const absentOverTime: FunctionImpl = (args, exprs, ctx): Vector => {
  const a = args[0];
  if (a?.kind === 'matrix' && a.matrix.some((s) => s.floats.length + s.histograms.length > 0)) return [];
  return [{ metric: absentLabels(exprs[0]), t: ctx.ts, f: 1 }];
};

/** `min_of(a, b)` (scalar). */
export const minOf: FunctionImpl = (args, _exprs, ctx) => [{ metric: [], t: ctx.ts, f: Math.min(scalarArg(args, 0), scalarArg(args, 1)) }];

/** `max_of(a, b)` (scalar). */
export const maxOf: FunctionImpl = (args, _exprs, ctx) => [{ metric: [], t: ctx.ts, f: Math.max(scalarArg(args, 0), scalarArg(args, 1)) }];

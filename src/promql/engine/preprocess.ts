/**
 * Query preprocessing, run once per query before evaluation:
 * 1. resolves `@ start()` / `@ end()` to absolute timestamps and duration expressions
 *    (`step()`, `range()`, `min_of`, `max_of`, arithmetic) to milliseconds;
 * 2. wraps every subtree whose value does not depend on the evaluation time in a
 *    `StepInvariantExpr` (the evaluator computes it once and broadcasts it).
 */
import { assertNever } from '../../model/errors.js';
import type { DurationExpr, Expr, MatrixSelector, SubqueryExpr, VectorSelector } from '../parser/ast.js';
import { DurationExprError, evalDurationExpr } from '../parser/duration.js';
import { QueryError } from './values.js';

/** Query-wide parameters the preprocessing needs. */
export interface PreprocessParams {
  /** Query start and end (ms); equal for instant queries. */
  readonly start: number;
  readonly end: number;
  /** Query step (ms); 0 for instant queries. */
  readonly step: number;
}

/**
 * Functions whose result depends on the evaluation time even when their arguments do not.
 * Calls to them are never step invariant (and the test framework's `@` re-run skips them).
 */
export const AT_MODIFIER_UNSAFE_FUNCTIONS: ReadonlySet<string> = new Set([
  'days_in_month',
  'day_of_month',
  'day_of_week',
  'day_of_year',
  'hour',
  'minute',
  'month',
  'year',
  'predict_linear',
  'time',
  'timestamp',
]);

/**
 * Evaluates a duration expression to milliseconds with the parser's evaluator (arithmetic in
 * seconds, as Prometheus does); its errors become `bad_data` query errors.
 */
export function evalDuration(d: DurationExpr, p: PreprocessParams): number {
  try {
    return evalDurationExpr(d, { stepMs: p.step, rangeMs: p.end - p.start });
  } catch (e) {
    if (e instanceof DurationExprError) throw new QueryError(e.message, 'bad_data', { cause: e });
    throw e;
  }
}

function resolveVS(vs: VectorSelector, p: PreprocessParams): VectorSelector {
  const at = vs.atModifier === 'start' ? p.start : vs.atModifier === 'end' ? p.end : vs.at;
  const offset = vs.offsetExpr ? evalDuration(vs.offsetExpr, p) : vs.offset;
  if (at === vs.at && offset === vs.offset && !vs.offsetExpr) return vs;
  return { ...vs, at, offset, atModifier: null, offsetExpr: undefined };
}

/** Resolves `@ start()/end()` and duration expressions everywhere in the tree. */
export function resolveTimes(e: Expr, p: PreprocessParams): Expr {
  switch (e.kind) {
    case 'NumberLiteral':
    case 'StringLiteral':
      return e;
    case 'VectorSelector':
      return resolveVS(e, p);
    case 'MatrixSelector': {
      const range = e.rangeExpr ? evalDuration(e.rangeExpr, p) : e.range;
      if (e.rangeExpr && range <= 0) throw new QueryError(`range duration must be positive, got ${range / 1000}s`, 'bad_data');
      const ms: MatrixSelector = { ...e, vectorSelector: resolveVS(e.vectorSelector, p), range, rangeExpr: undefined };
      return ms;
    }
    case 'SubqueryExpr': {
      const range = e.rangeExpr ? evalDuration(e.rangeExpr, p) : e.range;
      const step = e.stepExpr ? evalDuration(e.stepExpr, p) : e.step;
      if (e.rangeExpr && range <= 0) throw new QueryError(`range duration must be positive, got ${range / 1000}s`, 'bad_data');
      if (e.stepExpr && step <= 0) throw new QueryError(`step duration must be positive, got ${step / 1000}s`, 'bad_data');
      const at = e.atModifier === 'start' ? p.start : e.atModifier === 'end' ? p.end : e.at;
      const offset = e.offsetExpr ? evalDuration(e.offsetExpr, p) : e.offset;
      const sq: SubqueryExpr = {
        ...e,
        expr: resolveTimes(e.expr, p),
        range,
        step,
        at,
        offset,
        atModifier: null,
        rangeExpr: undefined,
        stepExpr: undefined,
        offsetExpr: undefined,
      };
      return sq;
    }
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return { ...e, expr: resolveTimes(e.expr, p) };
    case 'BinaryExpr':
      return { ...e, lhs: resolveTimes(e.lhs, p), rhs: resolveTimes(e.rhs, p) };
    case 'AggregateExpr':
      return { ...e, expr: resolveTimes(e.expr, p), param: e.param ? resolveTimes(e.param, p) : null };
    case 'Call':
      return { ...e, args: e.args.map((a) => resolveTimes(a, p)) };
    default:
      return assertNever(e, 'expression');
  }
}

function wrap(e: Expr): Expr {
  if (e.kind === 'StepInvariantExpr') return e;
  return { kind: 'StepInvariantExpr', expr: e, pos: e.pos };
}

/** Returns [rewritten, isStepInvariant]. */
function invariant(e: Expr): [Expr, boolean] {
  switch (e.kind) {
    case 'NumberLiteral':
    case 'StringLiteral':
      return [e, true];
    case 'VectorSelector':
      return [e, e.at !== null];
    case 'MatrixSelector':
      return [e, e.vectorSelector.at !== null];
    case 'SubqueryExpr': {
      const [inner, inv] = invariant(e.expr);
      const expr = inv ? wrap(inner) : inner;
      return [{ ...e, expr }, e.at !== null];
    }
    case 'ParenExpr': {
      const [inner, inv] = invariant(e.expr);
      return [{ ...e, expr: inner }, inv];
    }
    case 'UnaryExpr': {
      const [inner, inv] = invariant(e.expr);
      return [{ ...e, expr: inner }, inv];
    }
    case 'StepInvariantExpr':
      return [e, true];
    case 'BinaryExpr': {
      const [l, li] = invariant(e.lhs);
      const [r, ri] = invariant(e.rhs);
      if (li && ri) return [{ ...e, lhs: l, rhs: r }, true];
      return [{ ...e, lhs: li ? wrapIfUseful(l) : l, rhs: ri ? wrapIfUseful(r) : r }, false];
    }
    case 'AggregateExpr': {
      const [inner, inv] = invariant(e.expr);
      let param = e.param;
      let pinv = true;
      if (param) [param, pinv] = invariant(param);
      if (inv && pinv) return [{ ...e, expr: inner, param }, true];
      return [{ ...e, expr: inv ? wrapIfUseful(inner) : inner, param: param && pinv ? wrapIfUseful(param) : param }, false];
    }
    case 'Call': {
      let all = !AT_MODIFIER_UNSAFE_FUNCTIONS.has(e.func);
      const res = e.args.map((a) => invariant(a));
      for (const [, inv] of res) all = all && inv;
      if (all) return [{ ...e, args: res.map(([a]) => a) }, true];
      return [{ ...e, args: res.map(([a, inv]) => (inv ? wrapIfUseful(a) : a)) }, false];
    }
    default:
      return assertNever(e, 'expression');
  }
}

/** Literals are cheap to evaluate per step; wrapping them changes nothing. */
function wrapIfUseful(e: Expr): Expr {
  if (e.kind === 'NumberLiteral' || e.kind === 'StringLiteral') return e;
  if (e.kind === 'ParenExpr' && (e.expr.kind === 'NumberLiteral' || e.expr.kind === 'StringLiteral')) return e;
  return wrap(e);
}

/** Wraps step-invariant subtrees (and the whole tree when it is invariant) in StepInvariantExpr. */
export function wrapStepInvariant(e: Expr): Expr {
  const [out, inv] = invariant(e);
  return inv ? wrapIfUseful(out) : out;
}

/** Full preprocessing: time resolution, then the step-invariance rewrite. */
export function preprocess(e: Expr, p: PreprocessParams): Expr {
  return wrapStepInvariant(resolveTimes(e, p));
}

/**
 * The [mint, maxt] a query needs from storage: the union over all selectors of their windows,
 * accounting for offsets, `@`, ranges, subquery ranges and the lookback delta.
 */
export function queryTimeRange(e: Expr, start: number, end: number, lookback: number): { mint: number; maxt: number } {
  let mint = Infinity;
  let maxt = -Infinity;
  const visit = (n: Expr, lo: number, hi: number): void => {
    switch (n.kind) {
      case 'NumberLiteral':
      case 'StringLiteral':
        return;
      case 'VectorSelector': {
        const a = (n.at ?? lo) - n.offset;
        const b = (n.at ?? hi) - n.offset;
        mint = Math.min(mint, a - lookback);
        maxt = Math.max(maxt, b + (n.smoothed ? lookback : 0));
        return;
      }
      case 'MatrixSelector': {
        const vs = n.vectorSelector;
        const a = (vs.at ?? lo) - vs.offset;
        const b = (vs.at ?? hi) - vs.offset;
        const ext = vs.anchored || vs.smoothed ? lookback : 0;
        mint = Math.min(mint, a - n.range - ext);
        maxt = Math.max(maxt, b + (vs.smoothed ? lookback : 0));
        return;
      }
      case 'SubqueryExpr': {
        const a = (n.at ?? lo) - n.offset;
        const b = (n.at ?? hi) - n.offset;
        visit(n.expr, a - n.range, b);
        return;
      }
      case 'ParenExpr':
      case 'UnaryExpr':
      case 'StepInvariantExpr':
        visit(n.expr, lo, hi);
        return;
      case 'BinaryExpr':
        visit(n.lhs, lo, hi);
        visit(n.rhs, lo, hi);
        return;
      case 'AggregateExpr':
        visit(n.expr, lo, hi);
        if (n.param) visit(n.param, lo, hi);
        return;
      case 'Call':
        for (const a of n.args) visit(a, lo, hi);
        return;
      default:
        assertNever(n, 'expression');
    }
  };
  visit(e, start, end);
  if (mint === Infinity) return { mint: start, maxt: end };
  return { mint, maxt };
}

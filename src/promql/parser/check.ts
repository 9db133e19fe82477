/**
 * Static type checks Prometheus performs at parse time, with its error wording.
 */
import { typeOf, type AggregateExpr, type BinaryExpr, type Call, type Expr, type PosRange, type UnaryExpr, type ValueType } from './ast.js';
import { AGGREGATORS, argType, functionReturnType, getFunction, maxArgs, minArgs } from './functions.js';
import type { TokenStream } from './stream.js';

/** Static type of an expression. */
export function exprType(e: Expr): ValueType {
  return typeOf(e, functionReturnType);
}

/** Prometheus's documented name of a value type: `instant vector`, `range vector`, `scalar`, `string`. */
export function typeName(t: ValueType): string {
  switch (t) {
    case 'vector':
      return 'instant vector';
    case 'matrix':
      return 'range vector';
    case 'scalar':
      return 'scalar';
    case 'string':
      return 'string';
  }
}

function expectType(s: TokenStream, e: Expr, want: ValueType, context: string): void {
  const got = exprType(e);
  if (got !== want) throw s.error(e.pos, `expected type ${typeName(want)} in ${context}, got ${typeName(got)}`);
}

/** Checks operand types and modifiers of a binary expression. */
export function checkBinary(
  s: TokenStream,
  e: BinaryExpr,
  lt: ValueType,
  rt: ValueType,
  opPos: PosRange,
  isComparison: boolean,
  isSet: boolean,
): void {
  if (e.returnBool && !isComparison) throw s.error(opPos, 'bool modifier can only be used on comparison operators');
  if (lt !== 'scalar' && lt !== 'vector') throw s.error(e.lhs.pos, 'binary expression must contain only scalar and instant vector types');
  if (rt !== 'scalar' && rt !== 'vector') throw s.error(e.rhs.pos, 'binary expression must contain only scalar and instant vector types');
  if (isComparison && !e.returnBool && lt === 'scalar' && rt === 'scalar') {
    throw s.error(opPos, 'comparisons between scalars must use BOOL modifier');
  }
  if (isSet && (lt === 'scalar' || rt === 'scalar')) {
    throw s.error(e.pos, `set operator ${JSON.stringify(e.op)} not allowed in binary scalar expression`);
  }
}

/** Unary minus/plus only applies to scalars and instant vectors. */
export function checkUnary(s: TokenStream, e: UnaryExpr): void {
  const t = exprType(e.expr);
  if (t !== 'scalar' && t !== 'vector') {
    throw s.error(e.pos, `unary expression only allowed on expressions of type scalar or instant vector, got ${JSON.stringify(typeName(t))}`);
  }
}

/** Argument types of an aggregation. */
export function checkAggregate(s: TokenStream, e: AggregateExpr): void {
  const want = AGGREGATORS.get(e.op)?.param ?? null;
  if (want !== null && e.param) expectType(s, e.param, want, 'aggregation parameter');
  expectType(s, e.expr, 'vector', 'aggregation expression');
}

/** Arity and argument types of a function call. */
export function checkCall(s: TokenStream, e: Call): void {
  const sig = getFunction(e.func);
  if (!sig) throw s.error(e.pos, `unknown function with name ${JSON.stringify(e.func)}`);
  const n = e.args.length;
  const lo = minArgs(sig);
  const hi = maxArgs(sig);
  const fn = JSON.stringify(e.func);
  if (sig.variadic === 0) {
    if (n !== lo) throw s.error(e.pos, `expected ${lo} argument(s) in call to ${fn}, got ${n}`);
  } else if (n < lo) {
    throw s.error(e.pos, `expected at least ${lo} argument(s) in call to ${fn}, got ${n}`);
  } else if (n > hi) {
    throw s.error(e.pos, `expected at most ${hi} argument(s) in call to ${fn}, got ${n}`);
  }
  for (let i = 0; i < n; i++) {
    expectType(s, e.args[i]!, argType(sig, i), `call to function ${fn}`);
  }
}

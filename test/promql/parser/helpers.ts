/** Test helpers for the PromQL parser tests. */
import type { Expr } from '../../../src/promql/parser/ast.js';

/** Plain-data view of an AST without positions or matcher closures, for deep equality. */
export function strip(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(strip);
  if (x && typeof x === 'object') {
    const o: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(x)) {
      if (k === 'pos' || typeof v === 'function' || v === undefined) continue;
      o[k] = strip(v);
    }
    return o;
  }
  return x;
}

/** Compact S-expression of an AST, to assert tree shape (precedence, associativity). */
export function sexpr(e: Expr): string {
  switch (e.kind) {
    case 'NumberLiteral':
      return String(e.value);
    case 'StringLiteral':
      return JSON.stringify(e.value);
    case 'VectorSelector':
      return e.name || '{}';
    case 'MatrixSelector':
      return `${sexpr(e.vectorSelector)}[${e.range}]`;
    case 'SubqueryExpr':
      return `${sexpr(e.expr)}[${e.range}:${e.step}]`;
    case 'ParenExpr':
      return `(${sexpr(e.expr)})`;
    case 'UnaryExpr':
      return `(${e.op} ${sexpr(e.expr)})`;
    case 'BinaryExpr':
      return `(${e.op} ${sexpr(e.lhs)} ${sexpr(e.rhs)})`;
    case 'AggregateExpr':
      return `(${e.op}${e.param ? ` ${sexpr(e.param)}` : ''} ${sexpr(e.expr)})`;
    case 'Call':
      return `(${e.func}${e.args.map((a) => ` ${sexpr(a)}`).join('')})`;
    case 'StepInvariantExpr':
      return sexpr(e.expr);
  }
}

/** Location of the shared data folder (`/work/shared`), relative to this file. */
export const SHARED = new URL('../../../../shared/', import.meta.url);

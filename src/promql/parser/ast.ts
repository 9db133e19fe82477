/**
 * The PromQL abstract syntax tree: readonly nodes discriminated by `kind`.
 * This file is the contract between the parser, the printer and the engine. Adding a node kind
 * makes every exhaustive visitor (switch with `assertNever`) fail to compile until handled.
 *
 * Times and durations are integer milliseconds. Positions are 0-based offsets into the query.
 */
import type { Matcher } from '../../model/matchers.js';

/** Source span of a node: [start, end) offsets in the query string. */
export interface PosRange {
  readonly start: number;
  readonly end: number;
}

/** Result type of an expression, as PromQL names them in errors. */
export type ValueType = 'scalar' | 'vector' | 'matrix' | 'string';

/** Any PromQL expression. */
export type Expr =
  | NumberLiteral
  | StringLiteral
  | VectorSelector
  | MatrixSelector
  | SubqueryExpr
  | ParenExpr
  | UnaryExpr
  | BinaryExpr
  | AggregateExpr
  | Call
  | StepInvariantExpr;

/** `1`, `1e3`, `0x1f`, `Inf`, `NaN`, or a duration used as a number (`1m` → 60). */
export interface NumberLiteral {
  readonly kind: 'NumberLiteral';
  readonly value: number;
  /** Set when the literal was written as a duration (`5m`), for printing. */
  readonly duration?: boolean;
  readonly pos: PosRange;
}

/** `"..."`, `'...'` or a backtick string (already unescaped). */
export interface StringLiteral {
  readonly kind: 'StringLiteral';
  readonly value: string;
  readonly pos: PosRange;
}

/** `@ start()` / `@ end()` as written. */
export type AtModifier = 'start' | 'end';

/**
 * Modifiers shared by vector selectors and subqueries.
 * `offset` and `at` are resolved values; `offsetExpr` keeps a duration expression
 * (`offset (1h + step())`) that the engine resolves per query before evaluation.
 */
export interface TimeModifiers {
  /** Offset in ms (0 when none); negative offsets look forward. */
  readonly offset: number;
  /** Duration expression for the offset when it was not a plain duration. */
  readonly offsetExpr?: DurationExpr;
  /** `@ <timestamp>` in ms, or null. */
  readonly at: number | null;
  /** `@ start()` / `@ end()`, or null. Resolved to `at` by the engine's preprocessing. */
  readonly atModifier: AtModifier | null;
}

/** `metric{label="x"}`. `matchers` include the `__name__` matcher when a name was given. */
export interface VectorSelector extends TimeModifiers {
  readonly kind: 'VectorSelector';
  /** Metric name as written before the braces, or '' when none. */
  readonly name: string;
  readonly matchers: readonly Matcher[];
  /** `anchored` / `smoothed` modifiers (experimental extended range selectors). */
  readonly anchored?: boolean;
  readonly smoothed?: boolean;
  readonly pos: PosRange;
}

/** `selector[5m]`. Offsets and `@` live on the inner vector selector. */
export interface MatrixSelector {
  readonly kind: 'MatrixSelector';
  readonly vectorSelector: VectorSelector;
  /** Range in ms. */
  readonly range: number;
  /** Duration expression for the range when it was not a plain duration. */
  readonly rangeExpr?: DurationExpr;
  readonly pos: PosRange;
}

/** `expr[range:step]`; `step` 0 means the default evaluation interval. */
export interface SubqueryExpr extends TimeModifiers {
  readonly kind: 'SubqueryExpr';
  readonly expr: Expr;
  readonly range: number;
  readonly rangeExpr?: DurationExpr;
  readonly step: number;
  readonly stepExpr?: DurationExpr;
  readonly pos: PosRange;
}

/** `( expr )`. */
export interface ParenExpr {
  readonly kind: 'ParenExpr';
  readonly expr: Expr;
  readonly pos: PosRange;
}

/** `-expr` / `+expr`. */
export interface UnaryExpr {
  readonly kind: 'UnaryExpr';
  readonly op: '-' | '+';
  readonly expr: Expr;
  readonly pos: PosRange;
}

/** Binary operators, lowest precedence first: `or`; `and unless`; comparisons; `+ -`; `* / % atan2`; `^`. */
export type BinaryOp =
  | 'or'
  | 'and'
  | 'unless'
  | '=='
  | '!='
  | '>'
  | '<'
  | '>='
  | '<='
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | 'atan2'
  | '^'
  /** Native-histogram trim operators (trim upper / trim lower); same precedence as `*`. */
  | '</'
  | '>/';

/** Vector matching cardinality. */
export type Cardinality = 'one-to-one' | 'many-to-one' | 'one-to-many' | 'many-to-many';

/** `on(...)`/`ignoring(...)`, `group_left(...)`/`group_right(...)`, `fill*(...)`. */
export interface VectorMatching {
  readonly card: Cardinality;
  /** True for `on(labels)`, false for `ignoring(labels)` (or no clause). */
  readonly on: boolean;
  readonly labels: readonly string[];
  /** Extra labels of `group_left(...)`/`group_right(...)`. */
  readonly include: readonly string[];
  /** Experimental fill modifiers: value used for a missing left/right operand, or undefined. */
  readonly fillLeft?: number;
  readonly fillRight?: number;
}

/** `lhs op rhs`. `matching` is null when either side is a scalar. */
export interface BinaryExpr {
  readonly kind: 'BinaryExpr';
  readonly op: BinaryOp;
  readonly lhs: Expr;
  readonly rhs: Expr;
  /** The `bool` modifier on a comparison. */
  readonly returnBool: boolean;
  readonly matching: VectorMatching | null;
  readonly pos: PosRange;
}

/** Aggregation operators. */
export type AggregateOp =
  | 'sum'
  | 'avg'
  | 'count'
  | 'min'
  | 'max'
  | 'group'
  | 'stddev'
  | 'stdvar'
  | 'topk'
  | 'bottomk'
  | 'quantile'
  | 'count_values'
  | 'limitk'
  | 'limit_ratio';

/** `sum by (a) (expr)`, `topk(3, expr)`. */
export interface AggregateExpr {
  readonly kind: 'AggregateExpr';
  readonly op: AggregateOp;
  readonly expr: Expr;
  /** The parameter of topk/bottomk/quantile/count_values/limitk/limit_ratio, else null. */
  readonly param: Expr | null;
  /** Grouping labels. */
  readonly grouping: readonly string[];
  /** True for `without`, false for `by` (or no clause). */
  readonly without: boolean;
  readonly pos: PosRange;
}

/** A function call, checked against the signature table in `functions.ts`. */
export interface Call {
  readonly kind: 'Call';
  readonly func: string;
  readonly args: readonly Expr[];
  readonly pos: PosRange;
}

/** Wraps a subtree whose value does not depend on the evaluation time (added by the engine). */
export interface StepInvariantExpr {
  readonly kind: 'StepInvariantExpr';
  readonly expr: Expr;
  readonly pos: PosRange;
}

/**
 * Duration arithmetic (experimental `promql-duration-expr`): `[5m * 2]`, `offset (1h + step())`,
 * `min_of(a, b)`. Evaluated by the engine once per query into milliseconds.
 */
export type DurationExpr =
  | { readonly kind: 'DurNumber'; readonly ms: number }
  | { readonly kind: 'DurStep' }
  | { readonly kind: 'DurRange' }
  | { readonly kind: 'DurUnary'; readonly op: '-' | '+'; readonly expr: DurationExpr }
  | { readonly kind: 'DurBinary'; readonly op: '+' | '-' | '*' | '/' | '%' | '^'; readonly lhs: DurationExpr; readonly rhs: DurationExpr }
  | { readonly kind: 'DurCall'; readonly func: 'min_of' | 'max_of'; readonly args: readonly DurationExpr[] };

/** Static result type of an expression. */
export function typeOf(e: Expr, fnReturn: (name: string) => ValueType): ValueType {
  switch (e.kind) {
    case 'NumberLiteral':
      return 'scalar';
    case 'StringLiteral':
      return 'string';
    case 'VectorSelector':
      return 'vector';
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return typeOf(e.expr, fnReturn);
    case 'BinaryExpr':
      return typeOf(e.lhs, fnReturn) === 'scalar' && typeOf(e.rhs, fnReturn) === 'scalar' ? 'scalar' : 'vector';
    case 'AggregateExpr':
      return 'vector';
    case 'Call':
      return fnReturn(e.func);
  }
}

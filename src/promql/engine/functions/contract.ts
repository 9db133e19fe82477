/**
 * The function-library contract. Signatures (argument and return types, variadic) live in the
 * parser's table (`parser/functions.ts`); implementations live here, one table keyed by name.
 *
 * The evaluator calls an implementation once per evaluation step:
 * - instant-vector arguments arrive as {@link Vector}s evaluated at that step;
 * - a range-vector argument arrives as a {@link Matrix} holding ONE series with only the points
 *   inside that step's window (left-open: `rangeStart < t <= rangeEnd`); the evaluator loops
 *   over series, so a range function returns at most one sample (label handling included);
 * - scalars and strings arrive evaluated.
 * The returned vector's samples get `t = ctx.ts` from the evaluator.
 */
import type { Expr, PosRange } from '../../parser/ast.js';
import type { Annotations, Matrix, Vector } from '../values.js';

/** An evaluated argument. */
export type FunctionArg =
  | { readonly kind: 'vector'; readonly vector: Vector }
  | { readonly kind: 'matrix'; readonly matrix: Matrix }
  | { readonly kind: 'scalar'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string };

/** Per-call context. */
export interface FunctionContext {
  /** Evaluation timestamp (ms). */
  readonly ts: number;
  /** For calls with a range-vector argument: the window, `start` exclusive, `end` inclusive. */
  readonly rangeStart: number;
  readonly rangeEnd: number;
  /** The selector's `anchored` / `smoothed` modifier, for rate-family functions. */
  readonly anchored?: boolean;
  readonly smoothed?: boolean;
  /** Sink for warnings/infos. Messages end with the position: `PromQL info: ... (1:15)`. */
  readonly annotations: Annotations;
  /** Formats a node position as Prometheus does in annotations: `line:column` (1-based). */
  readonly position: (pos: PosRange) => string;
}

/**
 * A function implementation. `exprs` are the unevaluated argument expressions (needed by e.g.
 * `absent`, `absent_over_time` for their labels, and for annotation messages naming the metric).
 */
export type FunctionImpl = (args: readonly FunctionArg[], exprs: readonly Expr[], ctx: FunctionContext) => Vector;

/**
 * Signatures of every PromQL (Prometheus 3) function. The engine keeps the implementations in a
 * separate table keyed by the same names.
 */
import type { ValueType } from './ast.js';

/**
 * A function signature.
 *
 * Arity follows Prometheus: with `variadic === 0` exactly `argTypes.length` arguments; otherwise
 * at least `argTypes.length - 1`, and, when `variadic > 0`, at most `argTypes.length - 1 + variadic`
 * (`-1` = unlimited). Arguments beyond `argTypes` have the type of the last entry.
 */
export interface FunctionSignature {
  readonly name: string;
  readonly argTypes: readonly ValueType[];
  readonly variadic: number;
  readonly returnType: ValueType;
  /** Behind `promql-experimental-functions` in Prometheus. vigil accepts them. */
  readonly experimental?: boolean;
}

const V: ValueType = 'vector';
const M: ValueType = 'matrix';
const S: ValueType = 'scalar';
const STR: ValueType = 'string';

const table = new Map<string, FunctionSignature>();

function def(name: string, argTypes: ValueType[], returnType: ValueType, variadic = 0, experimental = false): void {
  table.set(name, experimental ? { name, argTypes, variadic, returnType, experimental } : { name, argTypes, variadic, returnType });
}

// Instant-vector math, one argument.
for (const f of [
  'abs', 'absent', 'ceil', 'exp', 'floor', 'ln', 'log2', 'log10', 'sgn', 'sqrt', 'sort', 'sort_desc', 'timestamp',
  'histogram_avg', 'histogram_count', 'histogram_sum', 'histogram_stddev', 'histogram_stdvar', 'start_timestamp',
  'acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'cos', 'cosh', 'sin', 'sinh', 'tan', 'tanh', 'deg', 'rad',
]) {
  def(f, [V], V);
}
// Range-vector functions.
for (const f of [
  'absent_over_time', 'avg_over_time', 'count_over_time', 'last_over_time', 'max_over_time', 'min_over_time',
  'present_over_time', 'stddev_over_time', 'stdvar_over_time', 'sum_over_time',
  'changes', 'delta', 'deriv', 'idelta', 'increase', 'irate', 'rate', 'resets',
]) {
  def(f, [M], V);
}
for (const f of ['first_over_time', 'mad_over_time', 'ts_of_first_over_time', 'ts_of_last_over_time', 'ts_of_max_over_time', 'ts_of_min_over_time']) {
  def(f, [M], V, 0, true);
}
// Date functions: the vector argument is optional (defaults to vector(time())).
for (const f of ['day_of_month', 'day_of_week', 'day_of_year', 'days_in_month', 'hour', 'minute', 'month', 'year']) {
  def(f, [V], V, 1);
}
def('clamp', [V, S, S], V);
def('clamp_max', [V, S], V);
def('clamp_min', [V, S], V);
def('double_exponential_smoothing', [M, S, S], V, 0, true);
def('histogram_fraction', [S, S, V], V);
def('histogram_quantile', [S, V], V);
def('histogram_quantiles', [V, STR, S, S], V, 9, true);
def('info', [V, V], V, 1, true);
def('label_join', [V, STR, STR, STR], V, -1);
def('label_replace', [V, STR, STR, STR, STR], V);
def('pi', [], S);
def('predict_linear', [M, S], V);
def('quantile_over_time', [S, M], V);
def('round', [V, S], V, 1);
def('scalar', [V], S);
def('sort_by_label', [V, STR], V, -1, true);
def('sort_by_label_desc', [V, STR], V, -1, true);
def('time', [], S);
def('vector', [S], V);
def('step', [], S, 0, true);
def('range', [], S, 0, true);
def('start', [], S, 0, true);
def('end', [], S, 0, true);
def('min_of', [S, S], S, 0, true);
def('max_of', [S, S], S, 0, true);

/** The signature of a function, or undefined when there is no such function. */
export function getFunction(name: string): FunctionSignature | undefined {
  return table.get(name);
}

/** Return type of a function; `'vector'` for unknown names (they never pass the parser). */
export function functionReturnType(name: string): ValueType {
  return table.get(name)?.returnType ?? 'vector';
}

/** All function signatures, sorted by name. */
export function listFunctions(): FunctionSignature[] {
  return [...table.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Minimum number of arguments the function accepts. */
export function minArgs(sig: FunctionSignature): number {
  return sig.variadic === 0 ? sig.argTypes.length : sig.argTypes.length - 1;
}

/** Maximum number of arguments (Infinity when unlimited). */
export function maxArgs(sig: FunctionSignature): number {
  if (sig.variadic === 0) return sig.argTypes.length;
  if (sig.variadic < 0) return Infinity;
  return sig.argTypes.length - 1 + sig.variadic;
}

/** Expected type of argument `i` (arguments past the end repeat the last type). */
export function argType(sig: FunctionSignature, i: number): ValueType {
  return sig.argTypes[Math.min(i, sig.argTypes.length - 1)] ?? 'vector';
}

/** The aggregation operators and whether they take a parameter. */
export const AGGREGATORS: ReadonlyMap<string, { readonly param: ValueType | null }> = new Map([
  ['sum', { param: null }],
  ['avg', { param: null }],
  ['count', { param: null }],
  ['min', { param: null }],
  ['max', { param: null }],
  ['group', { param: null }],
  ['stddev', { param: null }],
  ['stdvar', { param: null }],
  ['topk', { param: S }],
  ['bottomk', { param: S }],
  ['quantile', { param: S }],
  ['count_values', { param: STR }],
  ['limitk', { param: S }],
  ['limit_ratio', { param: S }],
]);

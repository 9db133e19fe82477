/**
 * The value model of the template engine: JavaScript stand-ins for the Go values a template
 * sees. `undefined` is Go's invalid value ("<no value>"), `null` an untyped nil, `number` a
 * float64, `bigint` an int, `string`/`boolean` themselves; composites are the classes below.
 */

/** Types a function or method parameter can declare (drives Go-style argument conversion). */
export type ParamType =
  | 'any' // interface{}
  | 'value' // reflect.Value (builtins: receive anything, even no value)
  | 'string'
  | 'float64'
  | 'int'
  | 'bool'
  | 'sample' // *template.sample
  | 'queryResult'; // template.queryResult

/** A callable: template function, method, or function value for `call`. */
export interface GoCallable {
  readonly params: readonly ParamType[];
  /** Type of the variadic tail, if any. */
  readonly variadic?: ParamType;
  /** Implementation; throw an Error to report `error calling NAME: message`. */
  call(args: GoValue[]): GoValue;
}

/** Function lookup by name, as the executor needs it (a `ReadonlyMap` will do). */
export interface FuncLookup {
  get(name: string): GoCallable | undefined;
}

/**
 * Thrown by a function to abort the whole execution without being wrapped as
 * `error calling X` (used by the async query driver). Propagates out of executeTemplate.
 */
export class ExecInterrupt extends Error {
  override name = 'ExecInterrupt';
}

/** A function value (usable with the `call` builtin). */
export class GoFunc implements GoCallable {
  constructor(
    readonly typeName: string,
    readonly params: readonly ParamType[],
    readonly call: (args: GoValue[]) => GoValue,
    readonly variadic?: ParamType,
  ) {}
}

/** A slice; `typeName` is its Go type (e.g. `[]interface {}`, `template.queryResult`). */
export class GoSlice {
  constructor(
    readonly items: readonly GoValue[],
    readonly typeName = '[]interface {}',
  ) {}
}

/** A map with string keys. `zero` is what a missing key yields under missingkey=zero. */
export class GoMap {
  constructor(
    readonly entries: ReadonlyMap<string, GoValue>,
    readonly typeName = 'map[string]interface {}',
    readonly zero: GoValue = undefined,
  ) {}

  /** A `map[string]string` from a plain record. */
  static ofStrings(rec: Readonly<Record<string, string>>): GoMap {
    // Object.keys rather than Object.entries: no [key, value] array per label (hot: every alert).
    const m = new Map<string, GoValue>();
    for (const k of Object.keys(rec)) m.set(k, rec[k]!);
    return new GoMap(m, 'map[string]string', '');
  }
}

/** Options of a {@link GoStruct}. */
export interface GoStructOptions {
  /** Printed with `&` at top level and typed as a pointer (`*pkg.T`). */
  readonly pointer?: boolean;
  /** Methods callable as `.Name args`. */
  readonly methods?: Readonly<Record<string, GoCallable>>;
  /** A `String()` method: used for printing, like Go's fmt.Stringer. */
  readonly stringer?: () => string;
}

/** A struct (or pointer to struct) with exported fields, methods and an optional Stringer. */
export class GoStruct {
  constructor(
    readonly typeName: string,
    readonly fields: ReadonlyMap<string, GoValue>,
    readonly opts: GoStructOptions = {},
  ) {}
}

/** Any value a template can hold. */
export type GoValue = undefined | null | boolean | string | number | bigint | GoSlice | GoMap | GoStruct | GoFunc;

/** Go's type name of a value, as used in error messages and `%T`. */
export function typeName(v: GoValue): string {
  if (v === undefined || v === null) return '<nil>';
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'string':
      return 'string';
    case 'number':
      return 'float64';
    case 'bigint':
      return 'int';
    default:
      return v.typeName;
  }
}

/** Go's isTrue: the truth of a value for if/with/and/or/not. */
export function truth(v: GoValue): boolean {
  if (v === undefined || v === null) return false;
  switch (typeof v) {
    case 'boolean':
      return v;
    case 'string':
      return v.length > 0;
    case 'number':
      return v !== 0;
    case 'bigint':
      return v !== 0n;
    default:
      if (v instanceof GoSlice) return v.items.length > 0;
      if (v instanceof GoMap) return v.entries.size > 0;
      return true; // structs, pointers and funcs (non-nil)
  }
}

/** Basic kinds used by the comparison builtins. */
export type BasicKind = 'bool' | 'int' | 'float' | 'string';

/** The basic kind of a value, or undefined for composites and nil. */
export function basicKind(v: GoValue): BasicKind | undefined {
  switch (typeof v) {
    case 'boolean':
      return 'bool';
    case 'bigint':
      return 'int';
    case 'number':
      return 'float';
    case 'string':
      return 'string';
    default:
      return undefined;
  }
}

/** Converts JSON-like JavaScript data into template values (objects become maps). */
export function fromJS(x: unknown, depth = 0): GoValue {
  if (depth > 32) return undefined;
  if (x === undefined) return undefined;
  if (x === null) return null;
  if (typeof x === 'boolean' || typeof x === 'string' || typeof x === 'bigint') return x;
  if (typeof x === 'number') return x;
  if (x instanceof GoSlice || x instanceof GoMap || x instanceof GoStruct || x instanceof GoFunc) return x;
  if (Array.isArray(x)) return new GoSlice(x.map((e) => fromJS(e, depth + 1)));
  if (typeof x === 'object') {
    const entries = Object.entries(x as Record<string, unknown>);
    if (entries.every(([, v]) => typeof v === 'string')) return GoMap.ofStrings(x as Record<string, string>);
    return new GoMap(new Map(entries.map(([k, v]) => [k, fromJS(v, depth + 1)])));
  }
  return undefined;
}

/** Go type name of a parameter type (for messages). */
export function goTypeOf(t: ParamType): string {
  switch (t) {
    case 'any':
      return 'interface {}';
    case 'value':
      return 'reflect.Value';
    case 'sample':
      return '*template.sample';
    case 'queryResult':
      return 'template.queryResult';
    default:
      return t;
  }
}

/**
 * Go text/template's predefined functions: and, or, not, len, index, slice, print, printf,
 * println, html, js, urlquery, call, eq, ne, lt, le, gt, ge — with Go's error messages.
 */

import { sprint, sprintf, sprintln } from './fmt.js';
import { GoFunc, GoMap, GoSlice, GoStruct, basicKind, truth, typeName, type GoCallable, type GoValue } from './values.js';

function fn(params: GoCallable['params'], call: (args: GoValue[]) => GoValue, variadic?: GoCallable['variadic']): GoCallable {
  return { params, call, variadic };
}

function indexArg(index: GoValue, cap: number): number {
  if (index === undefined || index === null) throw new Error('cannot index slice/array with nil');
  if (typeof index !== 'bigint') throw new Error(`cannot index slice/array with type ${typeName(index)}`);
  if (index < 0n || index > BigInt(cap)) throw new Error(`index out of range: ${index}`);
  return Number(index);
}

function index(args: GoValue[]): GoValue {
  let item = args[0];
  if (item === undefined || item === null) throw new Error('index of untyped nil');
  for (const idx of args.slice(1)) {
    if (item === undefined || item === null) throw new Error('index of nil pointer');
    if (item instanceof GoSlice || typeof item === 'string') {
      const len = item instanceof GoSlice ? item.items.length : Buffer.byteLength(item, 'utf8');
      const x = indexArg(idx, len);
      if (x >= len) throw new Error(`index out of range: ${x}`);
      item = item instanceof GoSlice ? item.items[x] : BigInt(Buffer.from(item, 'utf8')[x]!);
    } else if (item instanceof GoMap) {
      if (idx === undefined || idx === null) throw new Error('value is nil; should be of type string');
      if (typeof idx !== 'string') throw new Error(`value has type ${typeName(idx)}; should be string`);
      item = item.entries.has(idx) ? item.entries.get(idx) : item.zero;
    } else {
      throw new Error(`can't index item of type ${typeName(item)}`);
    }
  }
  return item;
}

function slice(args: GoValue[]): GoValue {
  const item = args[0];
  const idxs = args.slice(1);
  if (item === undefined || item === null) throw new Error('slice of untyped nil');
  if (idxs.length > 3) throw new Error(`too many slice indexes: ${idxs.length}`);
  let len: number;
  if (typeof item === 'string') {
    if (idxs.length === 3) throw new Error('cannot 3-index slice a string');
    len = Buffer.byteLength(item, 'utf8');
  } else if (item instanceof GoSlice) len = item.items.length;
  else throw new Error(`can't slice item of type ${typeName(item)}`);
  const idx = [0, len, len];
  idxs.forEach((x, i) => {
    idx[i] = indexArg(x, len);
  });
  if (idx[0]! > idx[1]!) throw new Error(`invalid slice index: ${idx[0]} > ${idx[1]}`);
  if (idxs.length === 3 && idx[1]! > idx[2]!) throw new Error(`invalid slice index: ${idx[1]} > ${idx[2]}`);
  if (typeof item === 'string') return Buffer.from(item, 'utf8').subarray(idx[0], idx[1]).toString('utf8');
  return new GoSlice(item.items.slice(idx[0], idx[1]), item.typeName);
}

function length(args: GoValue[]): GoValue {
  const v = args[0];
  if (typeof v === 'string') return BigInt(Buffer.byteLength(v, 'utf8'));
  if (v instanceof GoSlice) return BigInt(v.items.length);
  if (v instanceof GoMap) return BigInt(v.entries.size);
  if (v === undefined || v === null) throw new Error('len of untyped nil');
  throw new Error(`len of type ${typeName(v)}`);
}

/** Go's evalArgs: a single string as is, otherwise fmt.Sprint of the arguments. */
function evalArgs(args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args);
}

/** Go's template.HTMLEscapeString. */
export function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => ({ '\0': '\uFFFD', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c]!);
}

/** Go's template.JSEscapeString. */
export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
      default:
        break;
    }
    if (c < 0x20 || c === 0x7f || (c >= 0x80 && !/^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]$/u.test(ch))) {
      out += '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
    } else out += ch;
  }
  return out;
}

/** Go's url.QueryEscape. */
export function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const errBadComparisonType = 'invalid type for comparison';
const errBadComparison = 'incompatible types for comparison';

function eqOne(a: GoValue, b: GoValue): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  const va = a !== undefined && a !== null;
  const vb = b !== undefined && b !== null;
  if (ka !== kb) {
    if (va && vb) throw new Error(errBadComparison);
    return !va && !vb;
  }
  if (ka !== undefined) return a === b;
  if (!va || !vb) return va === vb;
  if (a instanceof GoMap || a instanceof GoSlice || a instanceof GoFunc) throw new Error(`non-comparable type ${formatForErr(a)}: ${typeName(a)}`);
  if (b instanceof GoMap || b instanceof GoSlice || b instanceof GoFunc) throw new Error(`non-comparable type ${formatForErr(b)}: ${typeName(b)}`);
  if (typeName(a) !== typeName(b)) throw new Error(errBadComparison);
  return a === b;
}

function formatForErr(v: GoValue): string {
  return sprint([v]);
}

function eq(args: GoValue[]): GoValue {
  if (args.length < 2) throw new Error('missing argument for comparison');
  const [a, ...rest] = args;
  for (const b of rest) if (eqOne(a, b)) return true;
  return false;
}

function lt(a: GoValue, b: GoValue): boolean {
  const ka = basicKind(a);
  const kb = basicKind(b);
  if (ka === undefined || kb === undefined) throw new Error(errBadComparisonType);
  if (ka !== kb) throw new Error(errBadComparison);
  if (ka === 'bool') throw new Error(errBadComparisonType);
  return (a as number | bigint | string) < (b as number | bigint | string);
}

function call(args: GoValue[]): GoValue {
  const f = args[0];
  if (f === undefined || f === null) throw new Error('call of nil');
  if (!(f instanceof GoFunc)) throw new Error(`non-function of type ${typeName(f)}`);
  const rest = args.slice(1);
  const nFixed = f.params.length;
  if (f.variadic === undefined ? rest.length !== nFixed : rest.length < nFixed) {
    throw new Error(`wrong number of args: got ${rest.length} want ${nFixed}`);
  }
  rest.forEach((a, i) => {
    const t = i < nFixed ? f.params[i]! : f.variadic!;
    const ok =
      t === 'any' ||
      t === 'value' ||
      (t === 'string' && typeof a === 'string') ||
      (t === 'float64' && typeof a === 'number') ||
      (t === 'int' && typeof a === 'bigint') ||
      (t === 'bool' && typeof a === 'boolean') ||
      (t === 'sample' && (a === null || (a instanceof GoStruct && a.typeName === '*template.sample'))) ||
      (t === 'queryResult' && (a === null || (a instanceof GoSlice && a.typeName === 'template.queryResult')));
    if (!ok) throw new Error(`arg ${i}: value has type ${typeName(a)}; should be ${t}`);
  });
  return f.call(rest);
}

/** Names of the Go builtins (for the and/or short-circuit in the executor). */
export const BUILTIN_NAMES: ReadonlySet<string> = new Set([
  'and', 'or', 'not', 'len', 'index', 'slice', 'print', 'printf', 'println', 'html', 'js', 'urlquery', 'call', 'eq', 'ne', 'lt', 'le', 'gt', 'ge',
]);

/** The builtin function table. `and`/`or` entries carry arity; the executor evaluates them lazily. */
export function builtinFuncs(): Map<string, GoCallable> {
  return new Map<string, GoCallable>([
    ['and', fn(['value'], (a) => a.find((x) => !truth(x)) ?? a[a.length - 1], 'value')],
    ['or', fn(['value'], (a) => a.find((x) => truth(x)) ?? a[a.length - 1], 'value')],
    ['not', fn(['value'], ([a]) => !truth(a))],
    ['len', fn(['value'], length)],
    ['index', fn(['value'], index, 'value')],
    ['slice', fn(['value'], slice, 'value')],
    ['print', fn([], sprint, 'any')],
    ['printf', fn(['string'], ([f, ...rest]) => sprintf(f as string, rest), 'any')],
    ['println', fn([], sprintln, 'any')],
    ['html', fn([], (a) => htmlEscape(evalArgs(a)), 'any')],
    ['js', fn([], (a) => jsEscape(evalArgs(a)), 'any')],
    ['urlquery', fn([], (a) => queryEscape(evalArgs(a)), 'any')],
    ['call', fn(['value'], call, 'value')],
    ['eq', fn(['value'], eq, 'value')],
    ['ne', fn(['value', 'value'], ([a, b]) => !eqOne(a, b))],
    ['lt', fn(['value', 'value'], ([a, b]) => lt(a, b))],
    ['le', fn(['value', 'value'], ([a, b]) => lt(a, b) || eqOne(a, b))],
    ['gt', fn(['value', 'value'], ([a, b]) => !(lt(a, b) || eqOne(a, b)))],
    ['ge', fn(['value', 'value'], ([a, b]) => !lt(a, b))],
  ]);
}

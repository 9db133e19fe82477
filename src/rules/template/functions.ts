/**
 * Prometheus's template functions (template_reference.md), with the output formats of
 * Prometheus's implementation: humanize*, toTime/toDuration, string helpers, query helpers,
 * links and URL functions. Nothing here touches files, the network or processes; `query` goes
 * through the injected synchronous {@link QueryFn}.
 */

import { isIP } from 'node:net';
import { parseDuration as parsePromDuration } from '../../config/duration.js';
import { queryEscape } from './builtins.js';
import { formatFloat } from './go-float.js';
import { sprintf } from './fmt.js';
import { goMatch, goReplaceAll } from './go-regexp.js';
import { goDuration, goTime, goTimeString } from './go-time.js';
import { parseGoFloat } from './literals.js';
import { GoMap, GoSlice, GoStruct, typeName, type GoCallable, type GoValue } from './values.js';

/** One sample of a query result as templates see it (`.Labels`, `.Value`). */
export interface QuerySample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * Synchronous query seam for the `query` template function: runs an instant PromQL query at
 * the evaluation time and returns a vector. Throw to report a query error. See
 * `expandAlertTemplateAsync` in index.ts for running real (async) queries.
 */
export type QueryFn = (q: string) => readonly QuerySample[];

/** Context of the Prometheus functions. */
export interface PromFuncContext {
  /** `query` implementation; without one, `query` fails with a clear error. */
  readonly query?: QueryFn;
  /** Evaluation time in ms (for `now`). */
  readonly timestampMs: number;
  /** `--web.external-url` (for `externalURL`, `pathPrefix`). */
  readonly externalURL: string;
}

const SAMPLE_TYPE = '*template.sample';
const NIL_DEREF = 'runtime error: invalid memory address or nil pointer dereference';

/** Builds a `*template.sample` value. */
export function sampleValue(s: QuerySample): GoStruct {
  return new GoStruct(
    SAMPLE_TYPE,
    new Map<string, GoValue>([
      ['Labels', GoMap.ofStrings(s.labels)],
      ['Value', s.value],
    ]),
    { pointer: true },
  );
}

/** Builds a `template.queryResult` value. */
export function queryResultValue(v: readonly QuerySample[]): GoSlice {
  return new GoSlice(v.map(sampleValue), 'template.queryResult');
}

/** Prometheus's convertToFloat: float64, ints, numeric strings (strconv.ParseFloat), durations. */
export function convertToFloat(v: GoValue): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string') return parseGoFloat(v);
  if (v instanceof GoStruct && v.typeName === '*time.Duration') return v.opts.methods!.Seconds!.call([]) as number;
  throw new Error(`can't convert ${typeName(v)} to float`);
}

const g4 = (v: number): string => sprintf('%.4g', [v]);

/** Prometheus `humanize`: metric prefixes, 4 significant digits (`1.235M`, `120m`). */
export function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return g4(v);
  let prefix = '';
  if (Math.abs(v) >= 1) {
    for (const p of ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y']) {
      if (Math.abs(v) < 1000) break;
      prefix = p;
      v /= 1000;
    }
    return g4(v) + prefix;
  }
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return g4(v) + prefix;
}

/** Prometheus `humanize1024`: binary prefixes (`1Mi`); |v| ≤ 1 printed plainly. */
export function humanize1024(v: number): string {
  if (Math.abs(v) <= 1 || !Number.isFinite(v)) return g4(v);
  let prefix = '';
  for (const p of ['ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei', 'Zi', 'Yi']) {
    if (Math.abs(v) < 1024) break;
    prefix = p;
    v /= 1024;
  }
  return g4(v) + prefix;
}

/** Prometheus `humanizeDuration`: seconds → `1d 2h 3m 4s`, `1.234s`, `100ms`. */
export function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  if (v === 0) return g4(v) + 's';
  if (Math.abs(v) >= 1) {
    let sign = '';
    if (v < 0) {
      sign = '-';
      v = -v;
    }
    const d = Math.trunc(v);
    const seconds = d % 60;
    const minutes = Math.floor(d / 60) % 60;
    const hours = Math.floor(d / 3600) % 24;
    const days = Math.floor(d / 86400);
    if (days !== 0) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours !== 0) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes !== 0) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${g4(v)}s`;
  }
  let prefix = '';
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(v) >= 1) break;
    prefix = p;
    v *= 1000;
  }
  return `${g4(v)}${prefix}s`;
}

/** Prometheus `humanizePercentage`: ratio → `12.34%`. */
export function humanizePercentage(v: number): string {
  return g4(v * 100) + '%';
}

const MAX_INT64_F = 2 ** 63;

/** Prometheus floatToTime: seconds → UTC ms (ms precision, like model.TimeFromUnixNano). */
function floatToTimeMs(v: number): number {
  if (!Number.isFinite(v)) throw new Error('value is NaN or Inf');
  const ns = v * 1e9;
  if (ns > MAX_INT64_F || ns < -MAX_INT64_F) {
    throw new Error(`${formatFloat(v, 'g', -1)} cannot be represented as a nanoseconds timestamp since it overflows int64`);
  }
  return Number(BigInt(Math.trunc(ns)) / 1_000_000n);
}

/** Prometheus `humanizeTimestamp`: seconds → `2015-06-23 13:19:44.128 +0000 UTC`. */
export function humanizeTimestamp(v: number): string {
  if (!Number.isFinite(v)) return g4(v);
  return goTimeString(floatToTimeMs(v));
}

/** Go's strings.Title: upper-cases letters that follow a separator. */
export function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    out += isSeparator(prev) ? upperRune(ch) : ch;
    prev = ch;
  }
  return out;
}

function isSeparator(ch: string): boolean {
  const c = ch.codePointAt(0)!;
  if (c <= 0x7f) return !/[0-9A-Za-z_]/.test(ch);
  if (/[\p{L}\p{Nd}]/u.test(ch)) return false;
  return /\s/u.test(ch);
}

function upperRune(ch: string): string {
  const u = ch.toUpperCase();
  return Array.from(u).length === 1 ? u : ch;
}

function lowerRune(ch: string): string {
  const l = ch.toLowerCase();
  return Array.from(l).length === 1 ? l : ch;
}

/** Go's net.SplitHostPort; throws with Go's messages. */
export function splitHostPort(hostport: string): { host: string; port: string } {
  const err = (why: string): never => {
    throw new Error(`address ${hostport}: ${why}`);
  };
  const i = hostport.lastIndexOf(':');
  if (i < 0) return err('missing port in address');
  let host: string;
  let j = 0;
  let k = 0;
  if (hostport[0] === '[') {
    const end = hostport.indexOf(']');
    if (end < 0) return err("missing ']' in address");
    if (end + 1 === hostport.length) return err('missing port in address');
    if (end + 1 !== i) return err(hostport[end + 1] === ':' ? 'too many colons in address' : 'missing port in address');
    host = hostport.slice(1, end);
    j = 1;
    k = end + 1;
  } else {
    host = hostport.slice(0, i);
    if (host.includes(':')) return err('too many colons in address');
  }
  if (hostport.slice(j).includes('[')) return err("unexpected '[' in address");
  if (hostport.slice(k).includes(']')) return err("unexpected ']' in address");
  return { host, port: hostport.slice(i + 1) };
}

/** Prometheus `stripPort`. */
export function stripPort(hostPort: string): string {
  try {
    return splitHostPort(hostPort).host;
  } catch {
    return hostPort;
  }
}

/** Prometheus `stripDomain`: first label of a hostname, port kept; IPs untouched. */
export function stripDomain(hostPort: string): string {
  let host = hostPort;
  let port = '';
  try {
    ({ host, port } = splitHostPort(hostPort));
  } catch {
    host = hostPort;
  }
  if (isIP(host) !== 0) return hostPort;
  host = host.split('.')[0]!;
  if (port !== '') return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return host;
}

function urlPath(u: string): string {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/?#]*([^?#]*)/.exec(u);
  return m ? m[1]! : '';
}

function reReplaceAll(pattern: string, repl: string, text: string): string {
  try {
    return goReplaceAll(pattern, repl, text);
  } catch (e) {
    // Prometheus uses regexp.MustCompile; the panic surfaces as this message.
    throw new Error(`regexp: Compile(\`${pattern}\`): ${e instanceof Error ? e.message : String(e)}`);
  }
}

function asSample(v: GoValue): GoStruct {
  if (!(v instanceof GoStruct)) throw new Error(NIL_DEREF);
  return v;
}

function labelsOf(s: GoStruct): GoMap {
  return s.fields.get('Labels') as GoMap;
}

function f(params: GoCallable['params'], call: (args: GoValue[]) => GoValue, variadic?: GoCallable['variadic']): GoCallable {
  return { params, call, variadic };
}

/** The Prometheus function table for alert templates. */
export function prometheusFuncs(ctx: PromFuncContext): Map<string, GoCallable> {
  const m = staticPrometheusFuncs();
  for (const [k, v] of contextFuncs(ctx)) m.set(k, v);
  return m;
}

/** Names of the functions that depend on the expansion context (query, time, external URL). */
export const CONTEXT_FUNC_NAMES: readonly string[] = ['query', 'now', 'pathPrefix', 'externalURL'];

/**
 * The context function `name` bound to `ctx`, or undefined when `name` is not one of
 * {@link CONTEXT_FUNC_NAMES}. Built one at a time so an expansion only pays for what it calls.
 */
export function contextFunc(name: string, ctx: PromFuncContext): GoCallable | undefined {
  switch (name) {
    case 'query':
      return f(['string'], ([q]) => {
        if (!ctx.query) throw new Error('query is not available in this context');
        return queryResultValue(ctx.query(q as string));
      });
    case 'now':
      return f([], () => ctx.timestampMs / 1000);
    case 'pathPrefix':
      return f([], () => urlPath(ctx.externalURL));
    case 'externalURL':
      return f([], () => ctx.externalURL);
    default:
      return undefined;
  }
}

/** The functions that depend on the expansion context (query, time, external URL). */
export function contextFuncs(ctx: PromFuncContext): [string, GoCallable][] {
  return CONTEXT_FUNC_NAMES.map((n) => [n, contextFunc(n, ctx)!]);
}

/** The context-free Prometheus functions (a new map each call; callers may cache it). */
export function staticPrometheusFuncs(): Map<string, GoCallable> {
  const num = (fn: (v: number) => GoValue): GoCallable => f(['any'], ([a]) => fn(convertToFloat(a)));
  return new Map<string, GoCallable>([
    [
      'first',
      f(['queryResult'], ([v]) => {
        if (v instanceof GoSlice && v.items.length > 0) return v.items[0];
        throw new Error('first() called on vector with no elements');
      }),
    ],
    ['label', f(['string', 'sample'], ([l, s]) => labelsOf(asSample(s)).entries.get(l as string) ?? '')],
    ['value', f(['sample'], ([s]) => asSample(s).fields.get('Value'))],
    ['strvalue', f(['sample'], ([s]) => labelsOf(asSample(s)).entries.get('__value__') ?? '')],
    ['args', f([], (a) => new GoMap(new Map(a.map((v, i) => [`arg${i}`, v]))), 'any')],
    ['reReplaceAll', f(['string', 'string', 'string'], ([p, r, t]) => reReplaceAll(p as string, r as string, t as string))],
    ['safeHtml', f(['string'], ([s]) => s)],
    ['match', f(['string', 'string'], ([p, s]) => goMatch(p as string, s as string))],
    ['title', f(['string'], ([s]) => title(s as string))],
    ['toUpper', f(['string'], ([s]) => Array.from(s as string, upperRune).join(''))],
    ['toLower', f(['string'], ([s]) => Array.from(s as string, lowerRune).join(''))],
    ['graphLink', f(['string'], ([e]) => `/graph?g0.expr=${queryEscape(e as string)}&g0.tab=0`)],
    ['tableLink', f(['string'], ([e]) => `/graph?g0.expr=${queryEscape(e as string)}&g0.tab=1`)],
    [
      'sortByLabel',
      f(['string', 'queryResult'], ([l, v]) => {
        if (!(v instanceof GoSlice)) return null;
        const key = (s: GoValue): string => (s instanceof GoStruct ? ((labelsOf(s).entries.get(l as string) as string | undefined) ?? '') : '');
        const sorted = [...v.items].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
        return new GoSlice(sorted, v.typeName);
      }),
    ],
    ['stripPort', f(['string'], ([s]) => stripPort(s as string))],
    ['stripDomain', f(['string'], ([s]) => stripDomain(s as string))],
    ['humanize', num(humanize)],
    ['humanize1024', num(humanize1024)],
    ['humanizeDuration', num(humanizeDuration)],
    ['humanizePercentage', num(humanizePercentage)],
    ['humanizeTimestamp', num(humanizeTimestamp)],
    ['toTime', num((v) => goTime(floatToTimeMs(v)))],
    [
      'toDuration',
      num((v) => {
        if (!Number.isFinite(v)) throw new Error('value is NaN or Inf');
        const ns = v * 1e9;
        if (ns > MAX_INT64_F || ns < -MAX_INT64_F) {
          throw new Error(`${formatFloat(v, 'g', -1)} cannot be represented as a nanoseconds duration since it overflows int64`);
        }
        return goDuration(BigInt(Math.trunc(ns)));
      }),
    ],
    ['parseDuration', f(['string'], ([d]) => parsePromDuration(d as string) / 1000)],
    ['urlQueryEscape', f(['string'], ([s]) => queryEscape(s as string))],
  ]);
}

/** Names of the Prometheus functions (for parse-time checks). */
export const PROMETHEUS_FUNC_NAMES: ReadonlySet<string> = new Set(prometheusFuncs({ timestampMs: 0, externalURL: '' }).keys());

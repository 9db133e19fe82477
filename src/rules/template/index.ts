/**
 * Alert label/annotation templates, Prometheus-compatible: Go `text/template` syntax and
 * semantics plus Prometheus's template functions, run by our own engine.
 *
 * Query design: templates execute synchronously. `query` calls the caller's synchronous
 * {@link QueryFn}. A rule engine whose queries are async uses
 * {@link expandAlertTemplateAsync}: it runs the template with a cache-backed query function;
 * a query not yet in the cache aborts the run, is awaited, cached, and the template is re-run
 * from scratch (templates are deterministic for given data and query results), at most
 * `maxQueries` distinct queries.
 */

import { BUILTIN_NAMES, builtinFuncs } from './builtins.js';
import { TemplateError } from './errors.js';
import { executeTemplate } from './exec.js';
import { PROMETHEUS_FUNC_NAMES, type PromFuncContext, type QueryFn, type QuerySample, contextFunc, staticPrometheusFuncs } from './functions.js';
import { parseTemplate, asTemplateError } from './parser.js';
import type { ParsedTemplates } from './ast.js';
import { ExecInterrupt, GoMap, GoStruct, fromJS, type FuncLookup, type GoCallable, type GoValue } from './values.js';

export { TemplateError } from './errors.js';
export type { TemplateErrorPhase } from './errors.js';
export type { QueryFn, QuerySample } from './functions.js';
export { humanize, humanize1024, humanizeDuration, humanizePercentage, humanizeTimestamp } from './functions.js';

/** Data of an alert template (`.Labels`, `.ExternalLabels`, `.ExternalURL`, `.Value`). */
export interface TemplateData {
  readonly labels: Readonly<Record<string, string>>;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
  /** The alert's sample value (a float64 in Prometheus; a string is passed through as is). */
  readonly value: number | string;
}

/** Options of {@link expandAlertTemplate}. */
export interface ExpandOptions {
  /** Implementation of the `query` function (synchronous). */
  readonly query?: QueryFn;
  /** Evaluation time in ms (for `now`); default 0. */
  readonly timestampMs?: number;
  /** Output limit in UTF-8 bytes; default 1 MiB. */
  readonly maxOutputBytes?: number;
  /** Step limit (node evaluations and loop iterations); default 1,000,000. */
  readonly maxSteps?: number;
  /** `{{template}}` nesting limit; default 100. */
  readonly maxDepth?: number;
}

/** Prometheus prepends these definitions to every alert template. */
export const ALERT_PREAMBLE =
  '{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}';

const ALERT_DATA_TYPE = 'struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }';

/** Prometheus's template name for an alerting rule's templates: `__alert_<rule name>`. */
export function alertTemplateName(name: string): string {
  return name.startsWith('__alert_') ? name : `__alert_${name}`;
}

const ALL_FUNC_NAMES: ReadonlySet<string> = new Set([...BUILTIN_NAMES, ...PROMETHEUS_FUNC_NAMES]);
const PARSE_CACHE_SIZE = 8192;
const parseCache = new Map<string, ParsedTemplates | TemplateError>();

function parseCached(name: string, text: string): ParsedTemplates {
  const key = `${name}\u0000${text}`;
  let hit = parseCache.get(key);
  if (hit === undefined) {
    try {
      hit = parseTemplate(name, text, { funcs: ALL_FUNC_NAMES });
    } catch (e) {
      hit = asTemplateError(e, name);
    }
    if (parseCache.size >= PARSE_CACHE_SIZE) parseCache.delete(parseCache.keys().next().value!);
    parseCache.set(key, hit);
  }
  if (hit instanceof TemplateError) throw hit;
  return hit;
}

/**
 * Go builtins plus the context-free Prometheus functions: built once, shared by every expansion
 * and never modified after construction (expansions must not see each other's bindings).
 */
let baseFuncs: ReadonlyMap<string, GoCallable> | undefined;

function sharedBaseFuncs(): ReadonlyMap<string, GoCallable> {
  if (!baseFuncs) {
    const m = builtinFuncs();
    for (const [k, v] of staticPrometheusFuncs()) m.set(k, v);
    baseFuncs = m;
  }
  return baseFuncs;
}

/**
 * The function table of one expansion: its context functions (`query`, `now`, `pathPrefix`,
 * `externalURL`) looked up first, then the shared base table. Copying the ~70-entry base table
 * for every expansion used to be the largest allocation of a rule evaluation cycle; this object
 * costs a few fields, and a context function is only built when the template calls it.
 */
class ExpansionFuncs implements FuncLookup {
  private readonly base = sharedBaseFuncs();
  private readonly ctx: PromFuncContext;
  private bound: Map<string, GoCallable> | undefined;

  constructor(externalURL: string, opts: ExpandOptions) {
    this.ctx = { query: opts.query, timestampMs: opts.timestampMs ?? 0, externalURL };
  }

  get(name: string): GoCallable | undefined {
    let fn = this.bound?.get(name);
    if (fn !== undefined) return fn;
    fn = contextFunc(name, this.ctx);
    if (fn === undefined) return this.base.get(name);
    (this.bound ??= new Map()).set(name, fn);
    return fn;
  }
}

/**
 * `.ExternalLabels` as a Go map, reused while the caller passes the same record: it is the same
 * object for every alert of a rule group. Safe to share because no template function mutates a
 * map (the template language cannot either).
 */
let extLabels: { rec: Readonly<Record<string, string>>; map: GoMap } | undefined;

function externalLabelsMap(rec: Readonly<Record<string, string>>): GoMap {
  if (extLabels?.rec !== rec) extLabels = { rec, map: GoMap.ofStrings(rec) };
  return extLabels.map;
}

/**
 * The last alert dot built, by identity of the data and its fields: a rule expands all label and
 * annotation templates of one alert with the same data object, so only the first builds the Go
 * values. The dot is never mutated by execution (no template function writes to a map or struct).
 */
let lastDot: { data: TemplateData; labels: TemplateData['labels']; ext: TemplateData['externalLabels']; url: string; value: number | string; dot: GoStruct } | undefined;

function alertDot(data: TemplateData): GoStruct {
  const c = lastDot;
  if (c !== undefined && c.data === data && c.labels === data.labels && c.ext === data.externalLabels && c.url === data.externalURL && Object.is(c.value, data.value)) return c.dot;
  const dot = new GoStruct(
    ALERT_DATA_TYPE,
    new Map<string, GoValue>([
      ['Labels', GoMap.ofStrings(data.labels)],
      ['ExternalLabels', externalLabelsMap(data.externalLabels)],
      ['ExternalURL', data.externalURL],
      ['Value', data.value],
    ]),
  );
  lastDot = { data, labels: data.labels, ext: data.externalLabels, url: data.externalURL, value: data.value, dot };
  return dot;
}

/**
 * Expands a label or annotation template like Prometheus: template name `__alert_<name>`,
 * the preamble defining `$labels`, `$externalLabels`, `$externalURL`, `$value`, missing
 * map keys as empty strings, text output (no escaping). Throws {@link TemplateError}.
 */
export function expandAlertTemplate(name: string, text: string, data: TemplateData, opts: ExpandOptions = {}): string {
  const tname = alertTemplateName(name);
  // Fast path: no actions at all.
  if (!text.includes('{{')) return text;
  const parsed = parseCached(tname, ALERT_PREAMBLE + text);
  const dot = alertDot(data);
  return executeTemplate(parsed, dot, {
    funcs: new ExpansionFuncs(data.externalURL, opts),
    builtins: BUILTIN_NAMES,
    missingKeyZero: true,
    maxOutputBytes: opts.maxOutputBytes,
    maxSteps: opts.maxSteps,
    maxDepth: opts.maxDepth,
  });
}

/**
 * Like {@link expandAlertTemplate} but never throws: on error returns Prometheus's
 * `<error expanding template: error parsing|executing template NAME: ...>` text.
 */
export function expandOrError(name: string, text: string, data: TemplateData, opts: ExpandOptions = {}): string {
  try {
    return expandAlertTemplate(name, text, data, opts);
  } catch (e) {
    return errorText(alertTemplateName(name), e);
  }
}

/** Prometheus's annotation text for a failed expansion. */
export function errorText(templateName: string, e: unknown): string {
  const err = e instanceof TemplateError ? e : asTemplateError(e, templateName);
  const what = err.phase === 'parse' ? 'parsing' : 'executing';
  return `<error expanding template: error ${what} template ${templateName}: ${err.message}>`;
}

/** Parse-only check of an alert template (for `vigil check rules`); undefined if it is valid. */
export function checkTemplate(name: string, text: string): TemplateError | undefined {
  try {
    parseCached(alertTemplateName(name), ALERT_PREAMBLE + text);
    return undefined;
  } catch (e) {
    return asTemplateError(e, alertTemplateName(name));
  }
}

class QueryPending extends ExecInterrupt {
  constructor(readonly query: string) {
    super(`query ${JSON.stringify(query)} pending`);
  }
}

/** Options of {@link expandAlertTemplateAsync}. */
export interface AsyncExpandOptions extends Omit<ExpandOptions, 'query'> {
  /** Runs an instant query at the evaluation time. */
  readonly queryAsync: (q: string) => Promise<readonly QuerySample[]>;
  /** Maximum distinct queries one expansion may run; default 16. */
  readonly maxQueries?: number;
}

/**
 * Expands an alert template whose `query` calls are served by an async function (see the
 * module comment for how). Throws {@link TemplateError}.
 */
export async function expandAlertTemplateAsync(name: string, text: string, data: TemplateData, opts: AsyncExpandOptions): Promise<string> {
  const results = new Map<string, readonly QuerySample[] | Error>();
  const maxQueries = opts.maxQueries ?? 16;
  const query: QueryFn = (q) => {
    const r = results.get(q);
    if (r === undefined) throw new QueryPending(q);
    if (r instanceof Error) throw r;
    return r;
  };
  for (;;) {
    try {
      return expandAlertTemplate(name, text, data, { ...opts, query });
    } catch (e) {
      if (!(e instanceof QueryPending)) throw e;
      if (results.size >= maxQueries) {
        const tname = alertTemplateName(name);
        throw new TemplateError(`template: ${tname}: more than ${maxQueries} distinct queries`, tname, 'limit');
      }
      try {
        results.set(e.query, await opts.queryAsync(e.query));
      } catch (qe) {
        results.set(e.query, qe instanceof Error ? qe : new Error(String(qe)));
      }
    }
  }
}

/** Options of {@link expandTemplate}. */
export interface GenericExpandOptions extends ExpandOptions {
  /** Missing map keys print `<no value>` instead of the zero value when false; default true. */
  readonly missingKeyZero?: boolean;
  /** External URL for `externalURL`/`pathPrefix`; default empty. */
  readonly externalURL?: string;
}

/**
 * Expands any template text with arbitrary data (JSON-like values become Go maps/slices;
 * numbers are float64, bigints are ints) — the Go text/template engine without the alert
 * preamble. Throws {@link TemplateError}.
 */
export function expandTemplate(name: string, text: string, data: unknown, opts: GenericExpandOptions = {}): string {
  const parsed = parseCached(name, text);
  return executeTemplate(parsed, fromJS(data), {
    funcs: new ExpansionFuncs(opts.externalURL ?? '', opts),
    builtins: BUILTIN_NAMES,
    missingKeyZero: opts.missingKeyZero ?? true,
    maxOutputBytes: opts.maxOutputBytes,
    maxSteps: opts.maxSteps,
    maxDepth: opts.maxDepth,
  });
}

/**
 * Trace correlation against the Jaeger query HTTP API (`GET /api/traces`): error traces
 * (`tags={"error":"true"}`) and the sampled set of the service's traces in the window, from
 * which the p99 duration and the slowest traces are computed. Bodies are read with a byte cap
 * and validated. Also: exemplar trace ids from the head's exemplar ring (they come first).
 */
import { labelsGet, type Labels } from '../model/labels.js';
import { newMatcher, type Matcher } from '../model/matchers.js';
import type { MetadataReader } from '../storage/interface.js';
import type { JaegerConfig } from './config.js';
import { BackendError, CallTimeoutError, clip } from './errors.js';
import { jaegerSearchUrl } from './links.js';
import type { TimeWindow } from './logs.js';
import type { CorrelationTarget } from './target.js';

/** A fetch function (global `fetch` by default; injectable for tests). */
export type FetchFn = (url: string, init: { signal?: AbortSignal; headers?: Record<string, string> }) => Promise<Response>;

/** One trace summarised. */
export interface TraceSummary {
  readonly traceId: string;
  readonly rootOperation: string;
  readonly durationMs: number;
  readonly error: boolean;
}

/** What Jaeger says about an alert. */
export interface TracesResult {
  /** Error traces found (capped by the search limit). */
  readonly errorCount: number;
  /** Whether `errorCount` hit the limit (the real number may be larger). */
  readonly errorCountCapped: boolean;
  /** p99 of the durations of the sampled set (error ∪ recent traces), ms; undefined when empty. */
  readonly p99Ms?: number;
  /** Up to 3: error traces slowest first, then the slowest others. */
  readonly top: readonly TraceSummary[];
  readonly url: string;
}

/** Per-call options. */
export interface TraceCallOptions {
  readonly signal?: AbortSignal;
  readonly headers?: Readonly<Record<string, string>>;
  readonly maxResponseBytes: number;
}

/** Max spans looked at per trace (bounded work on a huge answer). */
export const MAX_SPANS_PER_TRACE = 10_000;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(msg: string): never {
  throw new BackendError(`jaeger: malformed response: ${msg}`, 'bad_response');
}

/**
 * Reads a response body up to `max` bytes; a larger body (declared or actual) is rejected with
 * a `bad_response` {@link BackendError} and the stream cancelled.
 */
export async function readBodyCapped(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => {});
    throw new BackendError(`jaeger: response too large: content-length ${declared} > ${max} bytes`, 'bad_response');
  }
  if (res.body === null) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (n > max) {
      await reader.cancel().catch(() => {});
      throw new BackendError(`jaeger: response too large: more than ${max} bytes`, 'bad_response');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, n).toString('utf8');
}

/**
 * Summarises one trace of a Jaeger answer: the root is the span without a CHILD_OF/FOLLOWS_FROM
 * reference to a span of the same trace (else the earliest); the duration is the trace's extent.
 * Throws on a malformed trace.
 */
export function summarizeTrace(tr: unknown): TraceSummary {
  if (!isObj(tr)) bad('trace is not an object');
  const traceId = tr.traceID;
  if (typeof traceId !== 'string' || !/^[0-9a-fA-F]{1,32}$/.test(traceId)) bad(`traceID ${clip(JSON.stringify(traceId) ?? 'undefined', 60)} is not a hex id`);
  if (!Array.isArray(tr.spans)) bad(`trace ${traceId}: spans is not a list`);
  const spans = tr.spans.slice(0, MAX_SPANS_PER_TRACE);
  if (spans.length === 0) bad(`trace ${traceId}: no spans`);
  const ids = new Set<string>();
  for (const s of spans) if (isObj(s) && typeof s.spanID === 'string') ids.add(s.spanID);
  let min = Infinity;
  let max = -Infinity;
  let root: Obj | undefined;
  let earliest: Obj | undefined;
  let error = false;
  for (const s of spans) {
    if (!isObj(s)) bad(`trace ${traceId}: span is not an object`);
    const st = s.startTime;
    const d = s.duration;
    if (typeof st !== 'number' || typeof d !== 'number' || !Number.isFinite(st) || !Number.isFinite(d) || d < 0) bad(`trace ${traceId}: span startTime/duration are not numbers`);
    if (st < min) {
      min = st;
      earliest = s;
    }
    if (st + d > max) max = st + d;
    const refs = Array.isArray(s.references) ? s.references : [];
    const hasParent = refs.some((r) => isObj(r) && typeof r.spanID === 'string' && ids.has(r.spanID));
    if (!hasParent && (root === undefined || st < (root.startTime as number))) root = s;
    if (!error && Array.isArray(s.tags)) {
      error = s.tags.some((t) => isObj(t) && t.key === 'error' && (t.value === true || t.value === 'true'));
    }
  }
  const r = root ?? earliest!;
  const op = typeof r.operationName === 'string' ? clip(r.operationName, 120) : '';
  return { traceId, rootOperation: op, durationMs: Math.round((max - min) / 1000), error };
}

/** Parses a `/api/traces` answer (`{data, total, limit, offset, errors}`). Throws {@link BackendError}. */
export function parseTracesResponse(text: string): TraceSummary[] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    bad(`not JSON (${clip((e as Error).message, 80)})`);
  }
  if (!isObj(body)) bad('expected a JSON object');
  if (Array.isArray(body.errors) && body.errors.length > 0 && !Array.isArray(body.data)) {
    const e0 = body.errors[0];
    const msg = isObj(e0) ? `${String(e0.code ?? '')} ${String(e0.msg ?? '')}` : 'error';
    throw new BackendError(`jaeger: ${clip(msg)}`, 'error');
  }
  if (body.data === null) return [];
  if (!Array.isArray(body.data)) bad('data is not a list');
  return body.data.map(summarizeTrace);
}

/** Nearest-rank percentile of `xs` (q in [0, 1]); undefined for an empty list. */
export function percentile(xs: readonly number[], q: number): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * s.length));
  return s[Math.min(s.length, rank) - 1];
}

/** Trace correlation for one Jaeger query service. */
export class JaegerTraces {
  constructor(
    readonly config: JaegerConfig,
    private readonly fetchFn: FetchFn = (u, i) => fetch(u, i),
  ) {}

  /** True when the alert has a service to search for. */
  applies(t: CorrelationTarget): boolean {
    return t.service !== '';
  }

  /** The `/api/traces` URL for the service in the window. */
  searchUrl(service: string, w: TimeWindow, errorsOnly: boolean): string {
    const q = new URLSearchParams({ service, start: String(w.from * 1000), end: String(w.to * 1000), limit: String(this.config.limit) });
    if (errorsOnly) q.set('tags', JSON.stringify({ error: 'true' }));
    return `${this.config.queryUrl}/api/traces?${q.toString()}`;
  }

  private async get(url: string, opts: TraceCallOptions): Promise<TraceSummary[]> {
    let res: Response;
    try {
      res = await this.fetchFn(url, { ...(opts.signal ? { signal: opts.signal } : {}), headers: { accept: 'application/json', ...opts.headers } });
    } catch (e) {
      if (opts.signal?.aborted && opts.signal.reason instanceof CallTimeoutError) throw new BackendError('jaeger: timed out', 'timeout', undefined, { cause: e });
      const cause = (e as { cause?: { code?: string } }).cause;
      throw new BackendError(`jaeger: request failed: ${cause?.code ?? (e as Error).message}`, 'error', undefined, { cause: e });
    }
    let text: string;
    try {
      text = await readBodyCapped(res, opts.maxResponseBytes);
    } catch (e) {
      if (e instanceof BackendError) throw e;
      if (opts.signal?.aborted && opts.signal.reason instanceof CallTimeoutError) throw new BackendError('jaeger: timed out reading the body', 'timeout', undefined, { cause: e });
      throw new BackendError(`jaeger: reading the body failed: ${(e as Error).message}`, 'error', undefined, { cause: e });
    }
    if (res.status === 404) throw new BackendError(`jaeger: HTTP 404: ${clip(text, 120)}`, 'not_found', 404);
    if (res.status !== 200) throw new BackendError(`jaeger: HTTP ${res.status}: ${clip(text, 200)}`, res.status === 408 || res.status === 504 ? 'timeout' : 'error', res.status);
    return parseTracesResponse(text);
  }

  /** Error traces and the sampled set for `t` in `w`. Throws {@link BackendError}. */
  async correlate(t: CorrelationTarget, w: TimeWindow, opts: TraceCallOptions): Promise<TracesResult> {
    const [errs, sampled] = await Promise.all([this.get(this.searchUrl(t.service, w, true), opts), this.get(this.searchUrl(t.service, w, false), opts)]);
    const byId = new Map<string, TraceSummary>();
    for (const tr of errs) byId.set(tr.traceId, { ...tr, error: true });
    for (const tr of sampled) if (!byId.has(tr.traceId)) byId.set(tr.traceId, tr);
    const all = [...byId.values()];
    const slowest = (a: TraceSummary, b: TraceSummary): number => b.durationMs - a.durationMs || (a.traceId < b.traceId ? -1 : 1);
    const top = [...all.filter((x) => x.error).sort(slowest), ...all.filter((x) => !x.error).sort(slowest)].slice(0, 3);
    const p99 = percentile(
      all.map((x) => x.durationMs),
      0.99,
    );
    return {
      errorCount: errs.length,
      errorCountCapped: errs.length >= this.config.limit,
      ...(p99 !== undefined ? { p99Ms: p99 } : {}),
      top,
      url: jaegerSearchUrl(this.config.uiUrl, t.service, w.from, w.to, this.config.limit, errs.length > 0),
    };
  }
}

/** Labels of an exemplar that carry the trace id (OpenMetrics/OTel conventions). */
export const EXEMPLAR_TRACE_LABELS = ['trace_id', 'traceID', 'traceId', 'trace.id'] as const;

/**
 * Trace ids of exemplars on the alert's series: matchers are the alert labels named in
 * `labelNames` that the alert has; newest first, unique, at most `max`. Never throws (a
 * failing reader gives []).
 */
export function exemplarTraceIds(reader: MetadataReader, alertLabels: Readonly<Record<string, string>>, labelNames: readonly string[], w: TimeWindow, max = 10): string[] {
  const ms: Matcher[] = [];
  for (const n of labelNames) {
    const v = alertLabels[n];
    if (v !== undefined && v !== '') ms.push(newMatcher('=', n, v));
  }
  if (ms.length === 0) return [];
  let res: { labels: Labels; exemplars: { labels: Labels; t: number }[] }[];
  try {
    res = reader.exemplars(ms, w.from, w.to);
  } catch {
    return [];
  }
  const found: { id: string; t: number }[] = [];
  for (const s of res) {
    for (const e of s.exemplars) {
      for (const name of EXEMPLAR_TRACE_LABELS) {
        const id = labelsGet(e.labels, name);
        if (id !== '' && /^[0-9a-fA-F-]{1,40}$/.test(id)) {
          found.push({ id, t: e.t });
          break;
        }
      }
    }
  }
  found.sort((a, b) => b.t - a.t);
  const out: string[] = [];
  for (const f of found) {
    if (!out.includes(f.id)) out.push(f.id);
    if (out.length >= max) break;
  }
  return out;
}

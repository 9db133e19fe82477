/**
 * Log correlation against Elasticsearch with the official client: ONE `_search` request with
 * aggregations per alert. For the alert's service/namespace/pod and window it gets the total
 * and error-level line counts, the top 3 error messages (terms on `<message>.keyword`, or —
 * when that gives nothing — the newest error lines grouped by a normalised pattern), the first
 * and last error timestamps, and the trace ids of the error lines; plus a Kibana Discover link
 * with the same query. Answers are validated; anything malformed is a `bad_response`.
 */
import { readFileSync, statSync } from 'node:fs';
import { Client } from '@elastic/elasticsearch';

/**
 * Request headers asking for the Elasticsearch 8 REST compatibility level. Client 9.x asks for
 * `compatible-with=9`, which Elasticsearch 8 rejects; `compatible-with=8` is accepted by 8.x
 * and (REST API compatibility, N-1) by 9.x, so correlation works against both.
 */
export const ES_COMPAT_HEADERS: Readonly<Record<string, string>> = {
  accept: 'application/vnd.elasticsearch+json; compatible-with=8',
  'content-type': 'application/vnd.elasticsearch+json; compatible-with=8',
};

/** Options of the official client's constructor. */
export type ClientOptions = ConstructorParameters<typeof Client>[0];
import type { ElasticsearchConfig, EsAuth } from './config.js';
import { BackendError, CallTimeoutError, clip } from './errors.js';
import { kibanaDiscoverUrl, kqlQuery } from './links.js';
import { topPatterns } from './normalize.js';
import type { CorrelationTarget } from './target.js';

/** Number of top error messages reported. */
export const TOP_ERRORS = 3;
/** Max trace ids taken from error logs. */
export const MAX_LOG_TRACE_IDS = 10;
/** Error lines fetched for the pattern fallback. */
export const SAMPLE_SIZE = 50;
/** Max length of a reported message. */
export const MAX_MESSAGE_LEN = 300;

/** What the logs say about an alert. Times are ms. */
export interface LogsResult {
  readonly total: number;
  /** `gte` when Elasticsearch reports the total as a lower bound. */
  readonly totalRelation: 'eq' | 'gte';
  readonly errors: number;
  readonly topErrors: readonly { readonly message: string; readonly count: number }[];
  /** Whether `topErrors` are normalised patterns (fallback) rather than exact messages. */
  readonly patterns: boolean;
  readonly firstError?: number;
  readonly lastError?: number;
  readonly traceIds: readonly string[];
  readonly url?: string;
  /** Some shards failed or the search timed out server-side. */
  readonly partial: boolean;
}

/** The time window of a correlation, ms. */
export interface TimeWindow {
  readonly from: number;
  readonly to: number;
}

/** Per-call options. */
export interface CallOptions {
  readonly signal?: AbortSignal;
  /** Extra request headers (tracing context). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Client-side timeout in ms (the caller's signal usually enforces it too). */
  readonly timeout: number;
  readonly maxResponseBytes: number;
}

/** Field conditions that select the alert's logs (empty when no role is known). */
export function targetConditions(cfg: ElasticsearchConfig, t: CorrelationTarget): { field: string; value: string }[] {
  const out: { field: string; value: string }[] = [];
  if (t.service !== '') out.push({ field: cfg.fields.service, value: t.service });
  if (t.namespace !== '') out.push({ field: cfg.fields.namespace, value: t.namespace });
  if (t.pod !== '') out.push({ field: cfg.fields.pod, value: t.pod });
  return out;
}

/** The `_search` body (size 0 + aggregations). */
export function buildLogsSearch(cfg: ElasticsearchConfig, t: CorrelationTarget, w: TimeWindow, timeoutMs: number): Record<string, unknown> {
  const tf = cfg.timeField;
  return {
    size: 0,
    track_total_hits: true,
    timeout: `${Math.max(1, Math.floor(timeoutMs))}ms`,
    query: {
      bool: {
        filter: [
          { range: { [tf]: { gte: w.from, lte: w.to, format: 'epoch_millis' } } },
          ...targetConditions(cfg, t).map((c) => ({ term: { [c.field]: c.value } })),
        ],
      },
    },
    aggs: {
      errors: {
        filter: { terms: { [cfg.fields.level]: [...cfg.errorLevels] } },
        aggs: {
          top_messages: { terms: { field: `${cfg.fields.message}.keyword`, size: TOP_ERRORS } },
          first_error: { min: { field: tf } },
          last_error: { max: { field: tf } },
          trace_ids: { terms: { field: cfg.fields.traceId, size: MAX_LOG_TRACE_IDS } },
          samples: { top_hits: { size: SAMPLE_SIZE, _source: { includes: [cfg.fields.message] }, sort: [{ [tf]: { order: 'desc' } }] } },
        },
      },
    },
  };
}

/** The KQL equivalent of the search (for the Discover link): target fields and error levels. */
export function logsKql(cfg: ElasticsearchConfig, t: CorrelationTarget): string {
  return kqlQuery([...targetConditions(cfg, t).map((c) => ({ field: c.field, values: [c.value] })), { field: cfg.fields.level, values: cfg.errorLevels }]);
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function bad(msg: string): never {
  throw new BackendError(`elasticsearch: malformed search response: ${msg}`, 'bad_response');
}

function count(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) bad(`${what} is not a count`);
  return Math.floor(v);
}

function buckets(agg: unknown, what: string): { key: string; count: number }[] {
  if (agg === undefined) return [];
  if (!isObj(agg) || !Array.isArray(agg.buckets)) bad(`${what}.buckets is not a list`);
  const out: { key: string; count: number }[] = [];
  for (const b of agg.buckets.slice(0, 100)) {
    if (!isObj(b)) bad(`${what} bucket is not an object`);
    const key = typeof b.key === 'string' ? b.key : typeof b.key === 'number' ? String(b.key) : bad(`${what} bucket key is not a string`);
    out.push({ key, count: count(b.doc_count, `${what} bucket doc_count`) });
  }
  return out;
}

function metricValue(agg: unknown, what: string): number | undefined {
  if (agg === undefined) return undefined;
  if (!isObj(agg)) bad(`${what} is not an object`);
  if (agg.value === null || agg.value === undefined) return undefined;
  if (typeof agg.value !== 'number' || !Number.isFinite(agg.value)) bad(`${what}.value is not a number`);
  return Math.round(agg.value);
}

function getPath(o: unknown, dotted: string): unknown {
  let cur: unknown = o;
  if (isObj(cur) && dotted in cur) return cur[dotted];
  for (const part of dotted.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[part];
  }
  return cur;
}

const TRACE_ID_RE = /^[0-9a-fA-F]{1,32}$|^[0-9a-fA-F-]{36}$/;

/** Validates a `_search` answer (Elasticsearch 8 shape) and extracts the result. Throws {@link BackendError}. */
export function parseLogsResponse(body: unknown, cfg: ElasticsearchConfig): Omit<LogsResult, 'url'> {
  if (!isObj(body)) bad(`expected a JSON object, got ${body === null ? 'null' : typeof body}`);
  if (!isObj(body.hits)) bad('hits is missing');
  const tot = body.hits.total;
  let total: number;
  let totalRelation: 'eq' | 'gte' = 'eq';
  if (typeof tot === 'number') total = count(tot, 'hits.total');
  else if (isObj(tot)) {
    total = count(tot.value, 'hits.total.value');
    if (tot.relation === 'gte') totalRelation = 'gte';
  } else bad('hits.total is missing');
  if (!isObj(body.aggregations)) bad('aggregations are missing');
  const errAgg = body.aggregations.errors;
  if (!isObj(errAgg)) bad('aggregations.errors is missing');
  const errors = count(errAgg.doc_count, 'aggregations.errors.doc_count');
  const shards = isObj(body._shards) ? body._shards : {};
  const partial = body.timed_out === true || (typeof shards.failed === 'number' && shards.failed > 0);
  let topErrors = buckets(errAgg.top_messages, 'top_messages')
    .slice(0, TOP_ERRORS)
    .map((b) => ({ message: clip(b.key.replace(/\s+/g, ' ').trim(), MAX_MESSAGE_LEN), count: b.count }));
  let patterns = false;
  if (topErrors.length === 0 && errors > 0 && errAgg.samples !== undefined) {
    const s = errAgg.samples;
    const hits = isObj(s) && isObj(s.hits) ? s.hits.hits : undefined;
    if (!Array.isArray(hits)) bad('samples.hits.hits is not a list');
    const msgs: string[] = [];
    for (const h of hits.slice(0, SAMPLE_SIZE)) {
      const m = isObj(h) ? getPath(h._source, cfg.fields.message) : undefined;
      if (typeof m === 'string') msgs.push(m);
      else if (Array.isArray(m) && typeof m[0] === 'string') msgs.push(m[0]);
    }
    topErrors = topPatterns(msgs, TOP_ERRORS);
    patterns = true;
  }
  const traceIds = buckets(errAgg.trace_ids, 'trace_ids')
    .map((b) => b.key)
    .filter((k) => TRACE_ID_RE.test(k))
    .slice(0, MAX_LOG_TRACE_IDS);
  const firstError = metricValue(errAgg.first_error, 'first_error');
  const lastError = metricValue(errAgg.last_error, 'last_error');
  return {
    total,
    totalRelation,
    errors,
    topErrors,
    patterns,
    ...(firstError !== undefined ? { firstError } : {}),
    ...(lastError !== undefined ? { lastError } : {}),
    traceIds,
    partial,
  };
}

function errorReason(body: unknown): string {
  if (isObj(body) && isObj(body.error)) {
    const e = body.error;
    return clip(`${String(e.type ?? 'error')}: ${String(e.reason ?? '')}`);
  }
  if (typeof body === 'string') return clip(body);
  return 'no error body';
}

/**
 * Maps whatever the client threw to a {@link BackendError}. Classifies by `name` and status
 * (the client ships as ESM and CJS builds, so `instanceof` is not reliable).
 */
export function classifyEsError(err: unknown, signal?: AbortSignal): BackendError {
  if (err instanceof BackendError) return err;
  if (signal?.aborted && signal.reason instanceof CallTimeoutError) return new BackendError('elasticsearch: timed out', 'timeout', undefined, { cause: err });
  const e = err as { name?: string; message?: string; statusCode?: number; meta?: { statusCode?: number; body?: unknown }; body?: unknown };
  const name = typeof e?.name === 'string' ? e.name : 'Error';
  const msg = clip(typeof e?.message === 'string' ? e.message : String(err));
  switch (name) {
    case 'ResponseError': {
      const status = e.statusCode ?? e.meta?.statusCode;
      const body = e.meta?.body ?? e.body;
      const reason = errorReason(body);
      if (status === 404 && /index_not_found_exception/.test(reason)) return new BackendError(`elasticsearch: ${reason}`, 'not_found', 404, { cause: err });
      if (status === 408 || status === 504) return new BackendError(`elasticsearch: HTTP ${status}: ${reason}`, 'timeout', status, { cause: err });
      return new BackendError(`elasticsearch: HTTP ${status ?? '?'}: ${reason}`, 'error', status, { cause: err });
    }
    case 'TimeoutError':
      return new BackendError(`elasticsearch: ${msg}`, 'timeout', undefined, { cause: err });
    case 'RequestAbortedError':
      // maxResponseSize overruns surface as aborted requests.
      if (/bigger than the maximum allowed/.test(msg)) return new BackendError(`elasticsearch: response too large: ${msg}`, 'bad_response', undefined, { cause: err });
      return new BackendError(`elasticsearch: ${msg}`, 'timeout', undefined, { cause: err });
    case 'DeserializationError':
    case 'ProductNotSupportedError':
      return new BackendError(`elasticsearch: ${msg}`, 'bad_response', undefined, { cause: err });
    default:
      return new BackendError(`elasticsearch: ${name}: ${msg}`, 'error', undefined, { cause: err });
  }
}

/** Client options for `new Client(...)` from the config (auth, TLS CA, no retries). Reads the CA file (≤ 1 MiB). */
export function elasticsearchClientOptions(cfg: ElasticsearchConfig, timeoutMs: number): ClientOptions {
  const opts: ClientOptions = { nodes: [...cfg.nodes], requestTimeout: timeoutMs, maxRetries: 0, sniffOnStart: false };
  if (cfg.auth) opts.auth = authOption(cfg.auth);
  if (cfg.tls) {
    const tls: NonNullable<ClientOptions['tls']> = { rejectUnauthorized: !cfg.tls.insecureSkipVerify };
    if (cfg.tls.caFile !== undefined) {
      if (statSync(cfg.tls.caFile).size > 1024 * 1024) throw new Error('correlation.elasticsearch.tls.ca_file: file larger than 1MiB');
      tls.ca = readFileSync(cfg.tls.caFile);
    }
    opts.tls = tls;
  }
  return opts;
}

function authOption(a: EsAuth): NonNullable<ClientOptions['auth']> {
  switch (a.kind) {
    case 'api_key':
      return { apiKey: a.apiKey };
    case 'basic':
      return { username: a.username, password: a.password };
    case 'bearer':
      return { bearer: a.token };
  }
}

/** Creates the official client from the config. */
export function createElasticsearchClient(cfg: ElasticsearchConfig, timeoutMs: number): Client {
  return new Client(elasticsearchClientOptions(cfg, timeoutMs));
}

/** The client this module uses (the official one; tests build it with a mocked connection). */
export type EsSearchClient = Client;

/** Log correlation for one Elasticsearch. */
export class ElasticsearchLogs {
  constructor(
    readonly config: ElasticsearchConfig,
    private readonly client: EsSearchClient,
  ) {}

  /** True when the alert has something to search for. */
  applies(t: CorrelationTarget): boolean {
    return targetConditions(this.config, t).length > 0;
  }

  /** Runs the one search for `t` in `w`. Throws {@link BackendError}. */
  async correlate(t: CorrelationTarget, w: TimeWindow, opts: CallOptions): Promise<LogsResult> {
    let body: unknown;
    try {
      const params = buildLogsSearch(this.config, t, w, opts.timeout);
      body = await this.client.search({ index: this.config.index, ...params } as Parameters<Client['search']>[0], {
        ...(opts.signal ? { signal: opts.signal } : {}),
        headers: { ...ES_COMPAT_HEADERS, ...opts.headers },
        requestTimeout: opts.timeout,
        maxRetries: 0,
        maxResponseSize: opts.maxResponseBytes,
        maxCompressedResponseSize: opts.maxResponseBytes,
        meta: false,
      });
    } catch (e) {
      throw classifyEsError(e, opts.signal);
    }
    const r = parseLogsResponse(body, this.config);
    const url = this.config.kibanaUrl !== undefined ? kibanaDiscoverUrl(this.config.kibanaUrl, logsKql(this.config, t), w.from, w.to) : undefined;
    return { ...r, ...(url !== undefined ? { url } : {}) };
  }
}

/**
 * Prometheus-compatible HTTP API v1 (`/api/v1/...`): query, query_range, series, labels,
 * label values, metadata, targets, status pages. JSON envelopes and error types follow
 * Prometheus: 400 bad_data, 422 execution, 503 timeout/unavailable, 404 not_found.
 */
import express, { type Request, type Response, type Router } from 'express';
import { LimitError, ValidationError } from '../model/errors.js';
import { isLegacyLabelName, labelsCompare, labelsKey, labelsToObject, type Labels } from '../model/labels.js';
import { MatcherError, type Matcher } from '../model/matchers.js';
import { nopLogger } from '../model/logger.js';
import { systemClock } from '../model/clock.js';
import { formatValue, formatValueJson } from '../promql/engine/format.js';
import { QueryError } from '../promql/engine/values.js';
import { MAX_TIME, MIN_TIME, ParamError, parseDurationParam, parseLimit, parseTimeParam, readForm, timeOr } from './params.js';
import type { ApiBackend, ApiQueryResult, RequestTenant, WebOptions } from './types.js';

/** Tenant of requests when tenancy is not configured: the single tenant, with every right. */
export const SINGLE_TENANT: RequestTenant = Object.freeze({ tenant: 'anonymous', privileged: true, admin: false });

/** The tenant the tenancy middleware attached to a response (or {@link SINGLE_TENANT}). */
export function tenantOf(res: Response): RequestTenant {
  return (res.locals.tenant as RequestTenant | undefined) ?? SINGLE_TENANT;
}

/** Prometheus's cap on points per series of a range query. */
export const MAX_POINTS_PER_SERIES = 11_000;

/** An API error with its Prometheus error type and HTTP status. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly errorType: 'bad_data' | 'execution' | 'timeout' | 'canceled' | 'internal' | 'not_found' | 'unavailable',
    readonly status: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const STATUS_BY_TYPE: Record<ApiError['errorType'], number> = {
  bad_data: 400,
  execution: 422,
  timeout: 503,
  canceled: 503,
  internal: 500,
  not_found: 404,
  unavailable: 503,
};

/** Maps any thrown value to an {@link ApiError}. `fromEngine` makes unknown errors `execution` (422). */
export function toApiError(e: unknown, fromEngine = false): ApiError {
  if (e instanceof ApiError) return e;
  if (e instanceof ParamError) return new ApiError(e.message, 'bad_data', e.status, { cause: e });
  if (e instanceof QueryError) return new ApiError(e.message, e.errorType, STATUS_BY_TYPE[e.errorType], { cause: e });
  if (e instanceof LimitError) {
    const type = e.status === 503 || e.status === 429 ? 'unavailable' : e.status === 422 ? 'execution' : 'bad_data';
    return new ApiError(e.message, type, e.status, { cause: e });
  }
  const err = e as { name?: unknown; message?: unknown };
  const name = typeof err?.name === 'string' ? err.name : '';
  const message = typeof err?.message === 'string' ? err.message : String(e);
  if (name === 'TimeoutError') return new ApiError('query timed out in query execution', 'timeout', 503, { cause: e });
  if (name === 'AbortError') return new ApiError('query was canceled', 'canceled', 503, { cause: e });
  if (e instanceof MatcherError || e instanceof ValidationError || name === 'ParseError') return new ApiError(message, 'bad_data', 400, { cause: e });
  return fromEngine ? new ApiError(message, 'execution', 422, { cause: e }) : new ApiError(message, 'internal', 500, { cause: e });
}

/** Writes the error envelope. */
export function sendError(res: Response, e: ApiError): void {
  if (res.headersSent) return;
  res.status(e.status).json({ status: 'error', errorType: e.errorType, error: e.message });
}

/** Writes the success envelope (empty warnings/infos omitted). */
export function sendData(res: Response, data: unknown, warnings: readonly string[] = [], infos: readonly string[] = []): void {
  const body: Record<string, unknown> = { status: 'success', data };
  if (warnings.length > 0) body.warnings = warnings;
  if (infos.length > 0) body.infos = infos;
  res.status(200).json(body);
}

/** Like {@link sendData} with `data` given as JSON text. */
export function sendJsonData(res: Response, dataJson: string, warnings: readonly string[] = [], infos: readonly string[] = []): void {
  let body = '{"status":"success","data":' + dataJson;
  if (warnings.length > 0) body += ',"warnings":' + JSON.stringify(warnings);
  if (infos.length > 0) body += ',"infos":' + JSON.stringify(infos);
  res.status(200).type('application/json').send(body + '}');
}

type Handler = (req: Request, res: Response, form: URLSearchParams, backend: ApiBackend) => Promise<void> | void;

/** How an endpoint is guarded. */
interface Guard {
  readonly needsBackend?: boolean;
  readonly fromEngine?: boolean;
  /** Counts against the tenant's query concurrency. */
  readonly query?: boolean;
  /** Server-wide data: privileged requests only (403 otherwise). */
  readonly privileged?: boolean;
}

/**
 * Builds the `/api/v1` router. `backend()` returns undefined until storage is open; endpoints
 * that need it answer 503 meanwhile.
 */
export function createApiRouter(opts: WebOptions, backend: () => ApiBackend | undefined): Router {
  const r = express.Router();
  const log = opts.logger ?? nopLogger;
  const clock = opts.clock ?? systemClock;
  const maxForm = opts.maxFormBytes;

  const wrap =
    (h: Handler, g: Guard = {}) =>
    async (req: Request, res: Response): Promise<void> => {
      let release: (() => void) | undefined;
      try {
        const t = tenantOf(res);
        if (g.privileged && !t.privileged) throw new ApiError('forbidden: this endpoint shows server-wide data and needs an admin credential', 'bad_data', 403);
        const ready = backend();
        if ((g.needsBackend ?? true) && !ready) throw new ApiError('vigil is starting up (WAL replay in progress)', 'unavailable', 503);
        const b = ready && opts.tenancy ? opts.tenancy.backend(t) : ready;
        if (g.query && opts.tenancy?.admitQuery) release = opts.tenancy.admitQuery(t);
        const form = await readForm(req, maxForm);
        await h(req, res, form, b!);
      } catch (e) {
        const ae = toApiError(e, g.fromEngine ?? false);
        if (ae.status >= 500 && ae.errorType === 'internal') log.error('API request failed', { path: req.path, err: ae.message });
        if (ae.status === 429) res.setHeader('Retry-After', String((e as { retryAfterSeconds?: number }).retryAfterSeconds ?? 1));
        sendError(res, ae);
      } finally {
        release?.();
      }
    };

  /** An AbortSignal for a query: the effective timeout and the client going away. */
  const querySignal = (form: URLSearchParams, res: Response): AbortSignal => {
    let timeout = opts.queryTimeoutMs;
    const t = form.get('timeout');
    if (t !== null && t !== '') {
      const d = parseDurationParam('timeout', t);
      if (d <= 0) throw new ParamError('invalid parameter "timeout": must be positive');
      timeout = Math.min(timeout, d);
    }
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    return AbortSignal.any([AbortSignal.timeout(timeout), ac.signal]);
  };

  const requireQuery = (form: URLSearchParams): string => {
    const q = form.get('query');
    if (q === null || q === '') throw new ParamError('invalid parameter "query": query must not be empty');
    return q;
  };

  const sendResult = (res: Response, result: ApiQueryResult): void => {
    // The engine's own formatter: write the JSON text directly (no intermediate object tree).
    if (opts.formatValue === formatValue) sendJsonData(res, formatValueJson(result.value), result.warnings, result.infos);
    else sendData(res, opts.formatValue(result.value), result.warnings, result.infos);
  };

  const query: Handler = async (_req, res, form, b) => {
    const q = requireQuery(form);
    const ts = timeOr(form, 'time', clock.now());
    const signal = querySignal(form, res);
    const result = await b.engine.instantQuery(b.storage, q, ts, { signal });
    sendResult(res, result);
  };

  const queryRange: Handler = async (_req, res, form, b) => {
    const q = requireQuery(form);
    const get = (n: string): string => {
      const v = form.get(n);
      if (v === null || v === '') throw new ParamError(`invalid parameter ${JSON.stringify(n)}: missing`);
      return v;
    };
    const start = parseTimeParam('start', get('start'));
    const end = parseTimeParam('end', get('end'));
    if (end < start) throw new ParamError('invalid parameter "end": end timestamp must not be before start time');
    const step = parseDurationParam('step', get('step'));
    if (step <= 0) throw new ParamError('invalid parameter "step": zero or negative query resolution step widths are not accepted. Try a positive integer');
    if ((end - start) / step > MAX_POINTS_PER_SERIES) {
      throw new ParamError('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)');
    }
    const signal = querySignal(form, res);
    const result = await b.engine.rangeQuery(b.storage, q, start, end, step, { signal });
    sendResult(res, result);
  };

  const matchersOf = (form: URLSearchParams, required: boolean): Matcher[][] => {
    const raw = form.getAll('match[]');
    if (required && raw.length === 0) throw new ParamError('no match[] parameter provided');
    return raw.map((s) => {
      let ms: Matcher[];
      try {
        ms = opts.parseMatchers(s);
      } catch (e) {
        // The selector parser may itself refuse all-empty matchers; answer as Prometheus's API does.
        if (/at least one non-empty matcher/.test((e as Error).message)) throw new ParamError('match[] must contain at least one non-empty matcher');
        throw new ApiError(`invalid parameter "match[]": ${(e as Error).message}`, 'bad_data', 400, { cause: e });
      }
      if (!ms.some((m) => !m.matches(''))) throw new ParamError('match[] must contain at least one non-empty matcher');
      return ms;
    });
  };

  const range = (form: URLSearchParams): { start: number; end: number } => {
    const start = timeOr(form, 'start', MIN_TIME);
    const end = timeOr(form, 'end', MAX_TIME);
    if (end < start) throw new ParamError('invalid parameter "end": end timestamp must not be before start time');
    return { start, end };
  };

  const truncate = <T>(xs: T[], limit: number): { items: T[]; warnings: string[] } =>
    limit > 0 && xs.length > limit ? { items: xs.slice(0, limit), warnings: ['results truncated due to limit'] } : { items: xs, warnings: [] };

  const series: Handler = (_req, res, form, b) => {
    const sets = matchersOf(form, true);
    const { start, end } = range(form);
    const limit = parseLimit(form);
    const q = b.storage.querier(start, end);
    try {
      const found = new Map<string, Labels>();
      for (const ms of sets) {
        for (const s of q.select({ mint: start, maxt: end, matchers: ms, sorted: false })) found.set(labelsKey(s.labels), s.labels);
      }
      const all = [...found.values()].sort(labelsCompare);
      const { items, warnings } = truncate(all, limit);
      sendData(res, items.map(labelsToObject), warnings);
    } finally {
      q.close();
    }
  };

  const stringUnion = (lists: string[][]): string[] => [...new Set(lists.flat())].sort((a, c) => (a < c ? -1 : a > c ? 1 : 0));

  const labels: Handler = (_req, res, form, b) => {
    const sets = matchersOf(form, false);
    const { start, end } = range(form);
    const limit = parseLimit(form);
    const q = b.storage.querier(start, end);
    try {
      const names = sets.length === 0 ? q.labelNames() : stringUnion(sets.map((ms) => q.labelNames(ms)));
      const { items, warnings } = truncate(names, limit);
      sendData(res, items, warnings);
    } finally {
      q.close();
    }
  };

  const labelValues: Handler = (req, res, form, b) => {
    const name = String(req.params.name ?? '');
    if (!isLegacyLabelName(name)) throw new ParamError(`invalid label name: ${JSON.stringify(name)}`);
    const sets = matchersOf(form, false);
    const { start, end } = range(form);
    const limit = parseLimit(form);
    const q = b.storage.querier(start, end);
    try {
      const vals = sets.length === 0 ? q.labelValues(name) : stringUnion(sets.map((ms) => q.labelValues(name, ms)));
      const { items, warnings } = truncate(vals, limit);
      sendData(res, items, warnings);
    } finally {
      q.close();
    }
  };

  const metadata: Handler = (_req, res, form, b) => {
    const limit = parseLimit(form);
    const perMetric = parseLimit(form, 'limit_per_metric');
    const metric = form.get('metric') || undefined;
    const md = b.storage.metadata(metric, limit > 0 ? limit : undefined);
    const out: Record<string, unknown[]> = {};
    let n = 0;
    for (const [name, list] of md) {
      if (limit > 0 && n >= limit) break;
      out[name] = (perMetric > 0 ? list.slice(0, perMetric) : list).map((m) => ({ type: m.type, help: m.help, unit: m.unit }));
      n++;
    }
    sendData(res, out);
  };

  const targets: Handler = (_req, res, form) => {
    const tenant = tenantOf(res);
    // Scrapes write to the default tenant: other tenants see no targets.
    const t = (tenant.privileged ? opts.targets?.(tenant) : undefined) ?? { activeTargets: [], droppedTargets: [] };
    const state = form.get('state') ?? 'any';
    if (!['any', 'active', 'dropped', ''].includes(state)) throw new ParamError(`invalid parameter "state": ${JSON.stringify(state)}`);
    const pool = form.get('scrapePool');
    const active = t.activeTargets.filter((x) => !pool || x.scrapePool === pool);
    sendData(res, {
      activeTargets: state === 'dropped' ? [] : active,
      droppedTargets: state === 'active' ? [] : t.droppedTargets,
      droppedTargetCounts: {},
    });
  };

  const both = (path: string, h: Handler, g: Guard = {}): void => {
    r.get(path, wrap(h, g));
    r.post(path, wrap(h, g));
  };
  both('/query', query, { fromEngine: true, query: true });
  both('/query_range', queryRange, { fromEngine: true, query: true });
  both('/series', series, { query: true });
  both('/labels', labels, { query: true });
  r.get('/label/:name/values', wrap(labelValues, { query: true }));
  r.get('/metadata', wrap(metadata, { query: true }));
  r.get('/targets', wrap(targets, { needsBackend: false }));
  r.get('/rules', wrap((_q, res, form) => sendData(res, opts.rules?.(form, tenantOf(res)) ?? { groups: [] }), { needsBackend: false }));
  r.get('/alerts', wrap((_q, res) => sendData(res, opts.alerts?.(tenantOf(res)) ?? { alerts: [] }), { needsBackend: false }));
  r.get('/status/buildinfo', wrap((_q, res) => sendData(res, opts.buildInfo), { needsBackend: false }));
  r.get('/status/flags', wrap((_q, res) => sendData(res, opts.flags), { needsBackend: false, privileged: true }));
  r.get('/status/config', wrap((_q, res) => sendData(res, { yaml: opts.configYaml() }), { needsBackend: false, privileged: true }));
  r.get('/status/runtimeinfo', wrap((_q, res) => sendData(res, opts.runtimeInfo()), { needsBackend: false, privileged: true }));
  r.use((req, res) => {
    sendError(res, new ApiError(`unknown API endpoint: ${req.method} /api/v1${req.path}`, 'not_found', 404));
  });
  return r;
}

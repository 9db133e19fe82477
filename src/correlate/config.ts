/**
 * The `correlation:` section of the config file → a validated {@link CorrelationConfig}.
 * The config loader keeps this section raw (`VigilConfig.correlation: unknown`, plain JS from
 * YAML); {@link parseCorrelationConfig} validates it with messages naming the key
 * (`correlation.elasticsearch.nodes[0]: ...`). Secrets (API key, basic-auth password, bearer
 * token, TLS CA path) are never put into messages; {@link redactCorrelationConfig} gives a
 * loggable copy.
 *
 * Keys (issue "Correlation"; extras are optional and documented on the types):
 * ```yaml
 * correlation:
 *   elasticsearch: {nodes, index, time_field, fields: {service, namespace, pod, level, message, trace_id},
 *                   kibana_url, error_levels, api_key | basic_auth: {username, password} | bearer_token,
 *                   tls: {ca_file, insecure_skip_verify}}
 *   jaeger: {query_url, ui_url, limit}
 *   window: 15m; timeout: 2s; max_concurrent: 4; cache_ttl: 1m
 *   labels: {service: [...], namespace: [...], pod: [...]}   # alert label names per role
 *   exemplar_labels: [...]; breaker: {failures: 5, cooldown: 30s}; max_queue: 1000; max_response_size: 4MiB
 * ```
 */
import { DurationError, parseByteSize, parseDuration } from '../config/duration.js';
import { ValidationError } from '../model/errors.js';

/** A validation error of the `correlation:` section; the message starts with the key path. */
export class CorrelationConfigError extends ValidationError {
  override name = 'CorrelationConfigError';
}

/** Elasticsearch authentication (one of). */
export type EsAuth =
  | { readonly kind: 'api_key'; readonly apiKey: string }
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string };

/** Log-document fields the correlation queries use (ECS names by default). */
export interface EsFields {
  readonly service: string;
  readonly namespace: string;
  readonly pod: string;
  readonly level: string;
  readonly message: string;
  readonly traceId: string;
}

/** `correlation.elasticsearch`. */
export interface ElasticsearchConfig {
  readonly nodes: readonly string[];
  readonly index: string;
  readonly timeField: string;
  readonly fields: EsFields;
  /** Base URL of Kibana for Discover links; undefined = no `logs_url`. */
  readonly kibanaUrl?: string;
  /** Values of the level field counted as errors (extra key `error_levels`). */
  readonly errorLevels: readonly string[];
  readonly auth?: EsAuth;
  readonly tls?: { readonly caFile?: string; readonly insecureSkipVerify: boolean };
}

/** `correlation.jaeger`. */
export interface JaegerConfig {
  /** Base URL of the Jaeger query HTTP API. */
  readonly queryUrl: string;
  /** Base URL of the Jaeger UI for links (defaults to `queryUrl`). */
  readonly uiUrl: string;
  /** `limit` of each `/api/traces` search (extra key `limit`, default 20). */
  readonly limit: number;
}

/** Alert label names that give each correlation role, first present wins (extra key `labels`). */
export interface RoleLabels {
  readonly service: readonly string[];
  readonly namespace: readonly string[];
  readonly pod: readonly string[];
}

/** The validated `correlation:` section. Durations and sizes are ms and bytes. */
export interface CorrelationConfig {
  readonly elasticsearch?: ElasticsearchConfig;
  readonly jaeger?: JaegerConfig;
  /** How far before the alert's activeAt the window starts (it ends now). */
  readonly window: number;
  /** Per backend, per alert. */
  readonly timeout: number;
  /** Alerts correlated at the same time. */
  readonly maxConcurrent: number;
  /** How long a result is fresh; a stale result is still shown until it is refreshed. */
  readonly cacheTtl: number;
  readonly labels: RoleLabels;
  /** Alert labels used as exemplar matchers (those present on the alert). */
  readonly exemplarLabels: readonly string[];
  /** Consecutive failures that open a backend's breaker, and the cool-down before a probe. */
  readonly breaker: { readonly failures: number; readonly cooldown: number };
  /** Pending correlation requests kept; more are dropped (counted). */
  readonly maxQueue: number;
  /** Cap on one backend response body. */
  readonly maxResponseBytes: number;
}

/** Defaults of the optional keys. */
export const CORRELATION_DEFAULTS = {
  window: 15 * 60_000,
  timeout: 2000,
  maxConcurrent: 4,
  cacheTtl: 60_000,
  labels: { service: ['service', 'app', 'app_kubernetes_io_name', 'job'], namespace: ['namespace'], pod: ['pod'] },
  exemplarLabels: ['__name__', 'job', 'instance', 'service', 'namespace', 'pod'],
  breaker: { failures: 5, cooldown: 30_000 },
  maxQueue: 1000,
  maxResponseBytes: 4 * 1024 * 1024,
  esFields: { service: 'service.name', namespace: 'kubernetes.namespace', pod: 'kubernetes.pod.name', level: 'log.level', message: 'message', traceId: 'trace.id' },
  errorLevels: ['error', 'ERROR', 'Error', 'err', 'fatal', 'FATAL', 'critical', 'CRITICAL', 'crit', 'emerg', 'alert'],
  jaegerLimit: 20,
} as const;

type Obj = Record<string, unknown>;

function fail(path: string, msg: string): never {
  throw new CorrelationConfigError(`${path}: ${msg}`);
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v === 'string' ? `string ${JSON.stringify(v.slice(0, 40))}` : `${typeof v} ${String(v)}`;
}

function mapping(v: unknown, path: string, allowed: readonly string[]): Obj {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(path, `expected a mapping, got ${typeOf(v)}`);
  for (const k of Object.keys(v as Obj)) {
    if (!allowed.includes(k)) fail(path, `unknown key ${JSON.stringify(k)} (allowed: ${allowed.join(', ')})`);
  }
  return v as Obj;
}

/** A string value; `secret` keeps the value out of the message. */
function str(o: Obj, key: string, path: string, opts: { def?: string; secret?: boolean; nonEmpty?: boolean } = {}): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return opts.def;
  if (typeof v !== 'string') fail(`${path}.${key}`, opts.secret ? 'expected a string' : `expected a string, got ${typeOf(v)}`);
  if (opts.nonEmpty && v === '') fail(`${path}.${key}`, 'must not be empty');
  return v;
}

function strList(o: Obj, key: string, path: string, def: readonly string[]): readonly string[] {
  const v = o[key];
  if (v === undefined || v === null) return def;
  if (!Array.isArray(v)) fail(`${path}.${key}`, `expected a list of strings, got ${typeOf(v)}`);
  return v.map((x, i) => {
    if (typeof x !== 'string' || x === '') fail(`${path}.${key}[${i}]`, `expected a non-empty string, got ${typeOf(x)}`);
    return x;
  });
}

function duration(o: Obj, key: string, path: string, def: number, min = 0): number {
  const v = o[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'string') fail(`${path}.${key}`, `expected a duration like "15m", got ${typeOf(v)}`);
  let ms: number;
  try {
    ms = parseDuration(v);
  } catch (e) {
    fail(`${path}.${key}`, (e as DurationError).message);
  }
  if (ms < min) fail(`${path}.${key}`, `must be at least ${min}ms, got ${JSON.stringify(v)}`);
  return ms;
}

function int(o: Obj, key: string, path: string, def: number, min: number, max: number): number {
  const v = o[key];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'number' || !Number.isInteger(v)) fail(`${path}.${key}`, `expected an integer, got ${typeOf(v)}`);
  if (v < min || v > max) fail(`${path}.${key}`, `must be between ${min} and ${max}, got ${v}`);
  return v;
}

function url(o: Obj, key: string, path: string, required: boolean): string | undefined {
  const s = str(o, key, path);
  if (s === undefined) {
    if (required) fail(`${path}.${key}`, 'is required');
    return undefined;
  }
  return checkUrl(s, `${path}.${key}`);
}

function checkUrl(s: string, path: string): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    fail(path, `not a valid URL: ${JSON.stringify(s)}`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(path, `scheme must be http or https, got ${JSON.stringify(u.protocol)}`);
  if (u.username !== '' || u.password !== '') fail(path, 'must not contain credentials (use the auth keys)');
  return s.replace(/\/+$/, '');
}

function parseEs(raw: unknown, path: string): ElasticsearchConfig {
  const o = mapping(raw, path, ['nodes', 'index', 'time_field', 'fields', 'kibana_url', 'error_levels', 'api_key', 'basic_auth', 'bearer_token', 'tls']);
  const nodesRaw = o.nodes;
  let nodes: string[];
  if (typeof nodesRaw === 'string') nodes = [nodesRaw];
  else if (Array.isArray(nodesRaw)) nodes = nodesRaw as string[];
  else fail(`${path}.nodes`, nodesRaw === undefined ? 'is required' : `expected a list of URLs, got ${typeOf(nodesRaw)}`);
  if (nodes.length === 0) fail(`${path}.nodes`, 'must list at least one node');
  nodes = nodes.map((n, i) => {
    if (typeof n !== 'string') fail(`${path}.nodes[${i}]`, `expected a URL string, got ${typeOf(n)}`);
    return checkUrl(n, `${path}.nodes[${i}]`);
  });
  const index = str(o, 'index', path, { def: 'logs-*', nonEmpty: true })!;
  if (/[\s,]{2,}|^,|,$/.test(index)) fail(`${path}.index`, `not a valid index pattern: ${JSON.stringify(index)}`);
  const timeField = str(o, 'time_field', path, { def: '@timestamp', nonEmpty: true })!;
  const f = mapping(o.fields, `${path}.fields`, ['service', 'namespace', 'pod', 'level', 'message', 'trace_id']);
  const d = CORRELATION_DEFAULTS.esFields;
  const fp = `${path}.fields`;
  const fields: EsFields = {
    service: str(f, 'service', fp, { def: d.service, nonEmpty: true })!,
    namespace: str(f, 'namespace', fp, { def: d.namespace, nonEmpty: true })!,
    pod: str(f, 'pod', fp, { def: d.pod, nonEmpty: true })!,
    level: str(f, 'level', fp, { def: d.level, nonEmpty: true })!,
    message: str(f, 'message', fp, { def: d.message, nonEmpty: true })!,
    traceId: str(f, 'trace_id', fp, { def: d.traceId, nonEmpty: true })!,
  };
  const kibanaUrl = url(o, 'kibana_url', path, false);
  const errorLevels = strList(o, 'error_levels', path, CORRELATION_DEFAULTS.errorLevels);
  const auths: EsAuth[] = [];
  const apiKey = str(o, 'api_key', path, { secret: true, nonEmpty: true });
  if (apiKey !== undefined) auths.push({ kind: 'api_key', apiKey });
  if (o.basic_auth !== undefined && o.basic_auth !== null) {
    const b = mapping(o.basic_auth, `${path}.basic_auth`, ['username', 'password']);
    const username = str(b, 'username', `${path}.basic_auth`, { nonEmpty: true });
    if (username === undefined) fail(`${path}.basic_auth.username`, 'is required');
    const password = str(b, 'password', `${path}.basic_auth`, { secret: true, def: '' })!;
    auths.push({ kind: 'basic', username, password });
  }
  const bearer = str(o, 'bearer_token', path, { secret: true, nonEmpty: true });
  if (bearer !== undefined) auths.push({ kind: 'bearer', token: bearer });
  if (auths.length > 1) fail(path, 'at most one of api_key, basic_auth and bearer_token may be set');
  let tls: ElasticsearchConfig['tls'];
  if (o.tls !== undefined && o.tls !== null) {
    const t = mapping(o.tls, `${path}.tls`, ['ca_file', 'insecure_skip_verify']);
    const caFile = str(t, 'ca_file', `${path}.tls`, { secret: true, nonEmpty: true });
    const isv = t.insecure_skip_verify;
    if (isv !== undefined && typeof isv !== 'boolean') fail(`${path}.tls.insecure_skip_verify`, `expected a boolean, got ${typeOf(isv)}`);
    tls = { ...(caFile !== undefined ? { caFile } : {}), insecureSkipVerify: isv === true };
  }
  return { nodes, index, timeField, fields, errorLevels, ...(kibanaUrl !== undefined ? { kibanaUrl } : {}), ...(auths[0] ? { auth: auths[0] } : {}), ...(tls ? { tls } : {}) };
}

function parseJaeger(raw: unknown, path: string): JaegerConfig {
  const o = mapping(raw, path, ['query_url', 'ui_url', 'limit']);
  const queryUrl = url(o, 'query_url', path, true)!;
  const uiUrl = url(o, 'ui_url', path, false) ?? queryUrl;
  return { queryUrl, uiUrl, limit: int(o, 'limit', path, CORRELATION_DEFAULTS.jaegerLimit, 1, 1500) };
}

const TOP = ['elasticsearch', 'jaeger', 'window', 'timeout', 'max_concurrent', 'cache_ttl', 'labels', 'exemplar_labels', 'breaker', 'max_queue', 'max_response_size'];

/**
 * Validates the raw `correlation:` section. Returns undefined when the section is absent
 * (correlation off). Throws {@link CorrelationConfigError} naming the key on bad input.
 */
export function parseCorrelationConfig(raw: unknown, path = 'correlation'): CorrelationConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  const o = mapping(raw, path, TOP);
  const D = CORRELATION_DEFAULTS;
  const es = o.elasticsearch === undefined || o.elasticsearch === null ? undefined : parseEs(o.elasticsearch, `${path}.elasticsearch`);
  const jaeger = o.jaeger === undefined || o.jaeger === null ? undefined : parseJaeger(o.jaeger, `${path}.jaeger`);
  const l = mapping(o.labels, `${path}.labels`, ['service', 'namespace', 'pod']);
  const labels: RoleLabels = {
    service: strList(l, 'service', `${path}.labels`, D.labels.service),
    namespace: strList(l, 'namespace', `${path}.labels`, D.labels.namespace),
    pod: strList(l, 'pod', `${path}.labels`, D.labels.pod),
  };
  const b = mapping(o.breaker, `${path}.breaker`, ['failures', 'cooldown']);
  let maxResponseBytes: number = D.maxResponseBytes;
  if (o.max_response_size !== undefined && o.max_response_size !== null) {
    const v = o.max_response_size;
    try {
      maxResponseBytes = typeof v === 'number' ? v : parseByteSize(String(v));
    } catch (e) {
      fail(`${path}.max_response_size`, (e as Error).message);
    }
    if (!Number.isSafeInteger(maxResponseBytes) || maxResponseBytes < 1024 || maxResponseBytes > 256 * 1024 * 1024) {
      fail(`${path}.max_response_size`, 'must be between 1KiB and 256MiB');
    }
  }
  return {
    ...(es ? { elasticsearch: es } : {}),
    ...(jaeger ? { jaeger } : {}),
    window: duration(o, 'window', path, D.window, 1000),
    timeout: duration(o, 'timeout', path, D.timeout, 1),
    maxConcurrent: int(o, 'max_concurrent', path, D.maxConcurrent, 1, 256),
    cacheTtl: duration(o, 'cache_ttl', path, D.cacheTtl, 1000),
    labels,
    exemplarLabels: strList(o, 'exemplar_labels', path, D.exemplarLabels),
    breaker: { failures: int(b, 'failures', `${path}.breaker`, D.breaker.failures, 1, 1000), cooldown: duration(b, 'cooldown', `${path}.breaker`, D.breaker.cooldown, 1) },
    maxQueue: int(o, 'max_queue', path, D.maxQueue, 1, 1_000_000),
    maxResponseBytes,
  };
}

/** Placeholder for secrets in {@link redactCorrelationConfig}. */
export const REDACTED = '<secret>';

/** A copy safe to log or show: API key, password, bearer token and CA path replaced. */
export function redactCorrelationConfig(cfg: CorrelationConfig): CorrelationConfig {
  const es = cfg.elasticsearch;
  if (es === undefined) return cfg;
  let auth: EsAuth | undefined;
  if (es.auth !== undefined) {
    switch (es.auth.kind) {
      case 'api_key':
        auth = { kind: 'api_key', apiKey: REDACTED };
        break;
      case 'basic':
        auth = { kind: 'basic', username: es.auth.username, password: REDACTED };
        break;
      case 'bearer':
        auth = { kind: 'bearer', token: REDACTED };
        break;
    }
  }
  const tls = es.tls ? { insecureSkipVerify: es.tls.insecureSkipVerify, ...(es.tls.caFile !== undefined ? { caFile: REDACTED } : {}) } : undefined;
  return { ...cfg, elasticsearch: { ...es, ...(auth ? { auth } : {}), ...(tls ? { tls } : {}) } };
}

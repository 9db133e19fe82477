/**
 * The `tracing:` section (self-tracing with jaeger-client), off by default:
 * ```yaml
 * tracing:
 *   service_name: vigil
 *   sampler: {type: const | probabilistic | ratelimiting, param: 1}
 *   agent: {host: localhost, port: 6832}          # UDP, Thrift binary `emitBatch`
 *   # or collector: {endpoint: http://jaeger-collector:14268/api/traces, username, password}
 *   flush_interval: 1s
 *   tags: {cluster: prod}
 * ```
 * Exactly one of `agent` and `collector`; with neither, the agent default localhost:6832 is
 * used. `enabled: false` turns it off while keeping the section.
 */
import { parseDuration } from '../config/duration.js';
import { ValidationError } from '../model/errors.js';

/** A validation error of the `tracing:` section (message starts with the key path). */
export class TracingConfigError extends ValidationError {
  override name = 'TracingConfigError';
}

/** Sampler kinds jaeger-client implements without a remote sampling server. */
export type SamplerType = 'const' | 'probabilistic' | 'ratelimiting';

/** Where spans go. */
export type TracingReporter =
  | { readonly kind: 'agent'; readonly host: string; readonly port: number }
  | { readonly kind: 'collector'; readonly endpoint: string; readonly username?: string; readonly password?: string };

/** The validated `tracing:` section. */
export interface TracingConfig {
  readonly serviceName: string;
  readonly sampler: { readonly type: SamplerType; readonly param: number };
  readonly reporter: TracingReporter;
  /** How often buffered spans are flushed (ms). */
  readonly flushInterval: number;
  /** Process-level tags. */
  readonly tags: Readonly<Record<string, string>>;
}

type Obj = Record<string, unknown>;

function fail(path: string, msg: string): never {
  throw new TracingConfigError(`${path}: ${msg}`);
}

function mapping(v: unknown, path: string, allowed: readonly string[]): Obj {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail(path, 'expected a mapping');
  for (const k of Object.keys(v as Obj)) if (!allowed.includes(k)) fail(path, `unknown key ${JSON.stringify(k)} (allowed: ${allowed.join(', ')})`);
  return v as Obj;
}

function str(o: Obj, k: string, path: string, def?: string): string | undefined {
  const v = o[k];
  if (v === undefined || v === null) return def;
  if (typeof v !== 'string' || v === '') fail(`${path}.${k}`, 'expected a non-empty string');
  return v;
}

/**
 * Validates the raw `tracing:` section; undefined when absent or `enabled: false` (tracing
 * off). Throws {@link TracingConfigError}; the collector password never appears in messages.
 */
export function parseTracingConfig(raw: unknown, path = 'tracing'): TracingConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  const o = mapping(raw, path, ['enabled', 'service_name', 'sampler', 'agent', 'collector', 'flush_interval', 'tags']);
  if (o.enabled !== undefined && typeof o.enabled !== 'boolean') fail(`${path}.enabled`, 'expected a boolean');
  if (o.enabled === false) return undefined;
  const serviceName = str(o, 'service_name', path, 'vigil')!;
  const s = mapping(o.sampler, `${path}.sampler`, ['type', 'param']);
  const type = str(s, 'type', `${path}.sampler`, 'const')!;
  if (type !== 'const' && type !== 'probabilistic' && type !== 'ratelimiting') fail(`${path}.sampler.type`, `must be one of const, probabilistic, ratelimiting, got ${JSON.stringify(type)}`);
  const param = s.param === undefined ? 1 : s.param;
  if (typeof param !== 'number' || !Number.isFinite(param) || param < 0) fail(`${path}.sampler.param`, 'expected a non-negative number');
  if (type === 'const' && param !== 0 && param !== 1) fail(`${path}.sampler.param`, 'must be 0 or 1 for the const sampler');
  if (type === 'probabilistic' && param > 1) fail(`${path}.sampler.param`, 'must be a probability in [0, 1]');
  if (o.agent != null && o.collector != null) fail(path, 'set only one of agent and collector');
  let reporter: TracingReporter;
  if (o.collector != null) {
    const c = mapping(o.collector, `${path}.collector`, ['endpoint', 'username', 'password']);
    const endpoint = str(c, 'endpoint', `${path}.collector`);
    if (endpoint === undefined) fail(`${path}.collector.endpoint`, 'is required');
    let u: URL;
    try {
      u = new URL(endpoint);
    } catch {
      fail(`${path}.collector.endpoint`, `not a valid URL: ${JSON.stringify(endpoint)}`);
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') fail(`${path}.collector.endpoint`, 'scheme must be http or https');
    const username = str(c, 'username', `${path}.collector`);
    const pw = c.password;
    if (pw !== undefined && typeof pw !== 'string') fail(`${path}.collector.password`, 'expected a string');
    reporter = { kind: 'collector', endpoint, ...(username !== undefined ? { username } : {}), ...(typeof pw === 'string' ? { password: pw } : {}) };
  } else {
    const a = mapping(o.agent, `${path}.agent`, ['host', 'port']);
    const host = str(a, 'host', `${path}.agent`, 'localhost')!;
    const port = a.port === undefined ? 6832 : a.port;
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) fail(`${path}.agent.port`, 'expected a port number 1-65535');
    reporter = { kind: 'agent', host, port };
  }
  let flushInterval = 1000;
  if (o.flush_interval !== undefined) {
    if (typeof o.flush_interval !== 'string') fail(`${path}.flush_interval`, 'expected a duration like "1s"');
    try {
      flushInterval = parseDuration(o.flush_interval);
    } catch (e) {
      fail(`${path}.flush_interval`, (e as Error).message);
    }
    if (flushInterval < 10) fail(`${path}.flush_interval`, 'must be at least 10ms');
  }
  const t = mapping(o.tags, `${path}.tags`, Object.keys((o.tags as Obj | undefined) ?? {}));
  const tags: Record<string, string> = {};
  for (const [k, v] of Object.entries(t)) {
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') fail(`${path}.tags.${k}`, 'expected a scalar');
    tags[k] = String(v);
  }
  return { serviceName, sampler: { type, param }, reporter, flushInterval, tags };
}

/**
 * Backend answers shaped like the real ones: Elasticsearch 8 `_search` with aggregations and its
 * error bodies, Jaeger query API `/api/traces` answers (as jaeger-query 1.x returns them).
 */
import { createRequire } from 'node:module';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseCorrelationConfig, type CorrelationConfig } from '../../src/correlate/config.js';

/** The client's error classes from its CJS build (see PITFALLS.md). */
export const esErrors = createRequire(import.meta.url)('@elastic/elasticsearch').errors as typeof import('@elastic/elasticsearch').errors;
/** The mock (CJS). */
export const EsMock = createRequire(import.meta.url)('@elastic/elasticsearch-mock') as typeof import('@elastic/elasticsearch-mock').default;

/** Options of {@link esSearchResponse}. */
export interface EsAnswer {
  total?: number;
  relation?: 'eq' | 'gte';
  errors?: number;
  messages?: [string, number][];
  samples?: string[];
  traceIds?: [string, number][];
  first?: number | null;
  last?: number | null;
  timedOut?: boolean;
  failedShards?: number;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** An Elasticsearch 8.x `_search` answer for the correlation query. */
export function esSearchResponse(a: EsAnswer = {}): Record<string, unknown> {
  const errors = a.errors ?? 57;
  const first = a.first === undefined ? 1_700_000_100_000 : a.first;
  const last = a.last === undefined ? 1_700_000_800_000 : a.last;
  const msgs = a.messages ?? [
    ['connection refused to payments:8080', 30],
    ['timeout waiting for db pool', 17],
    ['NullPointerException in CartService.checkout', 5],
  ];
  const sumMsgs = msgs.reduce((s, [, c]) => s + c, 0);
  const tids = a.traceIds ?? [
    ['4bf92f3577b34da6a3ce929d0e0e4736', 12],
    ['00f067aa0ba902b7', 3],
  ];
  const samples = a.samples ?? [];
  return {
    took: 17,
    timed_out: a.timedOut ?? false,
    _shards: { total: 5, successful: 5 - (a.failedShards ?? 0), skipped: 0, failed: a.failedShards ?? 0 },
    hits: { total: { value: a.total ?? 1234, relation: a.relation ?? 'eq' }, max_score: null, hits: [] },
    aggregations: {
      errors: {
        doc_count: errors,
        top_messages: { doc_count_error_upper_bound: 0, sum_other_doc_count: Math.max(0, errors - sumMsgs), buckets: msgs.map(([key, doc_count]) => ({ key, doc_count })) },
        first_error: first === null ? { value: null } : { value: first, value_as_string: iso(first) },
        last_error: last === null ? { value: null } : { value: last, value_as_string: iso(last) },
        trace_ids: { doc_count_error_upper_bound: 0, sum_other_doc_count: 0, buckets: tids.map(([key, doc_count]) => ({ key, doc_count })) },
        samples: {
          hits: {
            total: { value: errors, relation: 'eq' },
            max_score: null,
            hits: samples.map((m, i) => ({ _index: '.ds-logs-app-2024.01.01-000001', _id: `id${i}`, _score: null, _source: { message: m }, sort: [1_700_000_800_000 - i * 1000] })),
          },
        },
      },
    },
  };
}

/** Elasticsearch 8 error bodies. */
export const esErrorBodies = {
  unauthorized: {
    error: {
      root_cause: [{ type: 'security_exception', reason: 'missing authentication credentials for REST request [/logs-*/_search]', header: { 'WWW-Authenticate': ['Basic realm="security" charset="UTF-8"', 'ApiKey'] } }],
      type: 'security_exception',
      reason: 'missing authentication credentials for REST request [/logs-*/_search]',
      header: { 'WWW-Authenticate': ['Basic realm="security" charset="UTF-8"', 'ApiKey'] },
    },
    status: 401,
  },
  indexNotFound: {
    error: {
      root_cause: [{ type: 'index_not_found_exception', reason: 'no such index [logs-app]', 'resource.type': 'index_or_alias', 'resource.id': 'logs-app', index_uuid: '_na_', index: 'logs-app' }],
      type: 'index_not_found_exception',
      reason: 'no such index [logs-app]',
      'resource.type': 'index_or_alias',
      'resource.id': 'logs-app',
      index_uuid: '_na_',
      index: 'logs-app',
    },
    status: 404,
  },
  tooMany: {
    error: {
      root_cause: [{ type: 'es_rejected_execution_exception', reason: 'rejected execution of coordinating operation [coordinating_and_primary_bytes=0, replica_bytes=0, all_bytes=0, coordinating_operation_bytes=55, max_coordinating_and_primary_bytes=0]' }],
      type: 'es_rejected_execution_exception',
      reason: 'rejected execution of coordinating operation',
    },
    status: 429,
  },
  unavailable: {
    error: {
      root_cause: [],
      type: 'search_phase_execution_exception',
      reason: 'all shards failed',
      phase: 'query',
      grouped: true,
      failed_shards: [],
    },
    status: 503,
  },
};

/** A Jaeger span as the query API returns it. */
export function jSpan(traceID: string, spanID: string, op: string, startUs: number, durUs: number, parent?: string, error = false): Record<string, unknown> {
  return {
    traceID,
    spanID,
    operationName: op,
    references: parent ? [{ refType: 'CHILD_OF', traceID, spanID: parent }] : [],
    startTime: startUs,
    duration: durUs,
    tags: [
      { key: 'span.kind', type: 'string', value: 'server' },
      ...(error ? [{ key: 'error', type: 'bool', value: true }] : []),
    ],
    logs: [],
    processID: 'p1',
    warnings: null,
  };
}

/** A Jaeger trace: a root span plus one child. */
export function jTrace(traceID: string, rootOp: string, startUs: number, durUs: number, error = false): Record<string, unknown> {
  return {
    traceID,
    // The child comes first: the root must be found by references, not position.
    spans: [jSpan(traceID, 'b' + traceID.slice(1, 16), 'SELECT cart', startUs + 1000, Math.max(1, durUs - 2000), 'a' + traceID.slice(1, 16), error), jSpan(traceID, 'a' + traceID.slice(1, 16), rootOp, startUs, durUs, undefined, error)],
    processes: { p1: { serviceName: 'checkout', tags: [{ key: 'hostname', type: 'string', value: 'checkout-7d9f' }, { key: 'jaeger.version', type: 'string', value: 'Go-2.30.0' }] } },
    warnings: null,
  };
}

/** The `/api/traces` envelope. */
export function jEnvelope(data: unknown[] | null, errors: unknown[] | null = null): Record<string, unknown> {
  return { data, total: 0, limit: 0, offset: 0, errors };
}

/** A local HTTP server; `handler` answers each request. */
export async function startServer(handler: http.RequestListener): Promise<{ url: string; server: http.Server; close: () => Promise<void> }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A port that refuses connections (a server bound and closed). */
export async function refusedPort(): Promise<number> {
  const s = await startServer(() => {});
  const port = Number(new URL(s.url).port);
  await s.close();
  return port;
}

/** A validated config with the example plus overrides. */
export function testConfig(raw: Record<string, unknown> = {}, es: Record<string, unknown> = {}, jaeger: Record<string, unknown> = {}): CorrelationConfig {
  return parseCorrelationConfig({
    elasticsearch: { nodes: ['http://es.test:9200'], index: 'logs-*', kibana_url: 'https://kibana:5601', ...es },
    jaeger: { query_url: 'http://jaeger-query:16686', ui_url: 'http://jaeger:16686', limit: 20, ...jaeger },
    window: '15m',
    timeout: '2s',
    max_concurrent: 4,
    cache_ttl: '1m',
    ...raw,
  })!;
}

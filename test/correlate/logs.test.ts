import { Client } from '@elastic/elasticsearch';
import { afterEach, describe, expect, it } from 'vitest';
import { CallTimeoutError } from '../../src/correlate/errors.js';
import { buildLogsSearch, ElasticsearchLogs, logsKql, parseLogsResponse } from '../../src/correlate/logs.js';
import type { CorrelationTarget } from '../../src/correlate/target.js';
import { EsMock, esErrorBodies, esErrors, esSearchResponse, startServer, testConfig } from './fixtures.js';

const cfg = testConfig().elasticsearch!;
const target: CorrelationTarget = { alertname: 'HighErrorRate', service: 'checkout', namespace: 'shop', pod: 'checkout-7d9f', summary: false, labels: {} };
const w = { from: 1_700_000_000_000, to: 1_700_000_900_000 };
const opts = { timeout: 2000, maxResponseBytes: 1 << 20 };

function mocked(resolver: (p: { body: Record<string, unknown>; path: string }) => unknown): { logs: ElasticsearchLogs; calls: { body: Record<string, unknown>; path: string }[] } {
  const mock = new EsMock();
  const calls: { body: Record<string, unknown>; path: string }[] = [];
  mock.add({ method: ['GET', 'POST'], path: '/:index/_search' }, (p) => {
    const params = p as unknown as { body: Record<string, unknown>; path: string };
    calls.push(params);
    return resolver(params) as Record<string, unknown>;
  });
  const client = new Client({ node: 'http://es.test:9200', Connection: mock.getConnection() as never, maxRetries: 0 });
  return { logs: new ElasticsearchLogs(cfg, client), calls };
}

describe('ElasticsearchLogs with @elastic/elasticsearch-mock', () => {
  it('sends one search with the target filters and aggregations and reads the answer', async () => {
    const { logs, calls } = mocked(() => esSearchResponse());
    const r = await logs.correlate(target, w, opts);
    expect(calls).toHaveLength(1);
    expect(decodeURIComponent(calls[0]!.path)).toBe('/logs-*/_search');
    const body = calls[0]!.body as { size: number; query: { bool: { filter: unknown[] } }; aggs: { errors: { filter: unknown; aggs: Record<string, unknown> } } };
    expect(body.size).toBe(0);
    expect(body.query.bool.filter).toEqual([
      { range: { '@timestamp': { gte: w.from, lte: w.to, format: 'epoch_millis' } } },
      { term: { 'service.name': 'checkout' } },
      { term: { 'kubernetes.namespace': 'shop' } },
      { term: { 'kubernetes.pod.name': 'checkout-7d9f' } },
    ]);
    expect(body.aggs.errors.filter).toEqual({ terms: { 'log.level': [...cfg.errorLevels] } });
    expect(body.aggs.errors.aggs.top_messages).toEqual({ terms: { field: 'message.keyword', size: 3 } });
    expect(body.aggs.errors.aggs.trace_ids).toEqual({ terms: { field: 'trace.id', size: 10 } });
    expect(r).toMatchObject({
      total: 1234,
      errors: 57,
      patterns: false,
      firstError: 1_700_000_100_000,
      lastError: 1_700_000_800_000,
      traceIds: ['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7'],
      partial: false,
    });
    expect(r.topErrors.map((t) => t.message)).toEqual(['connection refused to payments:8080', 'timeout waiting for db pool', 'NullPointerException in CartService.checkout']);
    expect(r.url).toContain('https://kibana:5601/app/discover#/?_g=');
    expect(decodeURIComponent(r.url!)).toContain(`query:'service.name:"checkout" and kubernetes.namespace:"shop"`);
  });

  it('falls back to normalised patterns when the keyword terms give nothing', async () => {
    const { logs } = mocked(() =>
      esSearchResponse({ messages: [], errors: 5, samples: ['order 1001 failed: card declined', 'order 1002 failed: card declined', 'db timeout after 3000ms', 'order 77 failed: card declined', 'db timeout after 2500ms'] }),
    );
    const r = await logs.correlate(target, w, opts);
    expect(r.patterns).toBe(true);
    expect(r.topErrors).toEqual([
      { message: 'order <n> failed: card declined', count: 3 },
      { message: 'db timeout after <n>ms', count: 2 },
    ]);
  });

  it('reports gte totals, partial results and no errors', async () => {
    const { logs } = mocked(() => esSearchResponse({ total: 10000, relation: 'gte', errors: 0, messages: [], traceIds: [], first: null, last: null, failedShards: 1 }));
    const r = await logs.correlate(target, w, opts);
    expect(r).toMatchObject({ total: 10000, totalRelation: 'gte', errors: 0, topErrors: [], traceIds: [], partial: true });
    expect(r.firstError).toBeUndefined();
  });

  const errorCases: [string, () => unknown, string, number | undefined][] = [
    ['401', () => new esErrors.ResponseError({ body: esErrorBodies.unauthorized, statusCode: 401 } as never), 'error', 401],
    ['404 index_not_found', () => new esErrors.ResponseError({ body: esErrorBodies.indexNotFound, statusCode: 404 } as never), 'not_found', 404],
    ['429', () => new esErrors.ResponseError({ body: esErrorBodies.tooMany, statusCode: 429 } as never), 'error', 429],
    ['503', () => new esErrors.ResponseError({ body: esErrorBodies.unavailable, statusCode: 503 } as never), 'error', 503],
    ['timeout', () => new esErrors.TimeoutError('Request timed out'), 'timeout', undefined],
    ['connection', () => new esErrors.ConnectionError('connect ECONNREFUSED 10.0.0.1:9200'), 'error', undefined],
  ];
  for (const [name, make, result, status] of errorCases) {
    it(`classifies ${name}`, async () => {
      const { logs } = mocked(make);
      const e = await logs.correlate(target, w, opts).then(
        () => undefined,
        (x: unknown) => x as { result: string; status?: number; message: string; breaker: boolean },
      );
      expect(e).toBeDefined();
      expect(e!.result).toBe(result);
      expect(e!.status).toBe(status);
      expect(e!.breaker).toBe(result !== 'not_found');
      if (status === 401) expect(e!.message).toContain('security_exception');
    });
  }

  it('rejects malformed answers with a reason', async () => {
    for (const [body, reason] of [
      [{ hits: { total: { value: 3 } } }, 'aggregations are missing'],
      [{ hits: { total: { value: -1 } }, aggregations: { errors: { doc_count: 1 } } }, 'hits.total.value is not a count'],
      [{ hits: { total: 3 }, aggregations: { errors: { doc_count: 1, top_messages: { buckets: 'x' } } } }, 'top_messages.buckets is not a list'],
      ['<html>502 Bad Gateway</html>', 'expected a JSON object'],
    ] as const) {
      const { logs } = mocked(() => body);
      await expect(logs.correlate(target, w, opts)).rejects.toMatchObject({ result: 'bad_response', message: expect.stringContaining(reason) });
    }
  });

  it('drops invalid trace ids and clips huge messages', () => {
    const r = parseLogsResponse(esSearchResponse({ messages: [['x'.repeat(10_000), 1]], traceIds: [['not a trace id!', 1], ['abc123', 1]] }), cfg);
    expect(r.traceIds).toEqual(['abc123']);
    expect(r.topErrors[0]!.message.length).toBeLessThanOrEqual(301);
  });

  it('builds a KQL query equal in meaning to the search', () => {
    expect(logsKql(cfg, { ...target, pod: '', namespace: '' })).toMatch(/^service\.name:"checkout" and log\.level:\("error" or /);
    expect(buildLogsSearch(cfg, target, w, 1500).timeout).toBe('1500ms');
  });
});

describe('ElasticsearchLogs over HTTP (real client connection, local server)', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('rejects a response larger than maxResponseSize', async () => {
    const big = JSON.stringify({ ...esSearchResponse(), pad: 'x'.repeat(200_000) });
    const s = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(big);
    });
    close = s.close;
    const logs = new ElasticsearchLogs(cfg, new Client({ node: s.url, maxRetries: 0 }));
    await expect(logs.correlate(target, w, { timeout: 2000, maxResponseBytes: 64 * 1024 })).rejects.toMatchObject({ result: 'bad_response', message: expect.stringContaining('too large') });
  });

  it('passes tracing headers and reads a normal answer', async () => {
    let seen: string | undefined;
    let accept: string | undefined;
    const s = await startServer((req, res) => {
      seen = req.headers['uber-trace-id'] as string | undefined;
      accept = req.headers.accept;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(JSON.stringify(esSearchResponse({ errors: 2 })));
    });
    close = s.close;
    const logs = new ElasticsearchLogs(cfg, new Client({ node: s.url, maxRetries: 0 }));
    const r = await logs.correlate(target, w, { ...opts, headers: { 'uber-trace-id': 'abc:def:0:1' } });
    expect(r.errors).toBe(2);
    expect(seen).toBe('abc:def:0:1');
    expect(accept).toBe('application/vnd.elasticsearch+json; compatible-with=8'); // accepted by ES 8 and 9
  });

  it('classifies an abort by our timeout signal as a timeout', async () => {
    const s = await startServer(() => {
      /* never answers */
    });
    close = s.close;
    const logs = new ElasticsearchLogs(cfg, new Client({ node: s.url, maxRetries: 0 }));
    const ctl = new AbortController();
    setTimeout(() => ctl.abort(new CallTimeoutError('t')), 50);
    await expect(logs.correlate(target, w, { ...opts, signal: ctl.signal })).rejects.toMatchObject({ result: 'timeout' });
  });
});

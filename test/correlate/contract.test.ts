/**
 * Contract tests against real servers, skipped unless configured:
 *
 *   VIGIL_TEST_ES_URL=http://127.0.0.1:9200 [VIGIL_TEST_ES_API_KEY=...] \
 *   VIGIL_TEST_JAEGER_URL=http://127.0.0.1:16686 [VIGIL_TEST_JAEGER_AGENT=127.0.0.1:6832] \
 *     npx vitest run test/correlate/contract.test.ts
 *
 * Elasticsearch: creates a temporary index with ECS-shaped documents, runs the correlation
 * search against it, deletes it. Jaeger: sends spans with vigil's own tracer to the agent (UDP),
 * then finds them through the query API.
 */
import { describe, expect, it } from 'vitest';
import { parseCorrelationConfig } from '../../src/correlate/config.js';
import { createElasticsearchClient, ElasticsearchLogs, ES_COMPAT_HEADERS } from '../../src/correlate/logs.js';
import type { CorrelationTarget } from '../../src/correlate/target.js';
import { JaegerTraces } from '../../src/correlate/traces.js';
import { createTracer, withSpan } from '../../src/tracing/tracer.js';

const ES_URL = process.env.VIGIL_TEST_ES_URL;
const JAEGER_URL = process.env.VIGIL_TEST_JAEGER_URL;
if (!ES_URL) console.info('[contract] VIGIL_TEST_ES_URL not set: skipping the Elasticsearch contract test');
if (!JAEGER_URL) console.info('[contract] VIGIL_TEST_JAEGER_URL not set: skipping the Jaeger contract test');

describe.skipIf(!ES_URL)('Elasticsearch contract (real server)', () => {
  it('answers the correlation search as the parser expects', async () => {
    const index = `vigil-contract-${Date.now()}`;
    const cfg = parseCorrelationConfig({
      elasticsearch: { nodes: [ES_URL!], index, ...(process.env.VIGIL_TEST_ES_API_KEY ? { api_key: process.env.VIGIL_TEST_ES_API_KEY } : {}) },
    })!.elasticsearch!;
    const client = createElasticsearchClient(cfg, 10_000);
    const now = Date.now();
    try {
      await client.indices.create({
        index,
        mappings: {
          properties: {
            '@timestamp': { type: 'date' },
            message: { type: 'text', fields: { keyword: { type: 'keyword', ignore_above: 256 } } },
            log: { properties: { level: { type: 'keyword' } } },
            service: { properties: { name: { type: 'keyword' } } },
            trace: { properties: { id: { type: 'keyword' } } },
          },
        },
      }, { headers: { ...ES_COMPAT_HEADERS } });
      const docs = [
        ...Array.from({ length: 3 }, (_, i) => ({ '@timestamp': now - 60_000 + i, message: 'db timeout', log: { level: 'error' }, service: { name: 'checkout' }, trace: { id: 'abc123' } })),
        { '@timestamp': now - 30_000, message: 'card declined', log: { level: 'error' }, service: { name: 'checkout' } },
        { '@timestamp': now - 20_000, message: 'ok', log: { level: 'info' }, service: { name: 'checkout' } },
        { '@timestamp': now - 20_000, message: 'other service', log: { level: 'error' }, service: { name: 'payments' } },
      ];
      await client.bulk(
        { refresh: true, operations: docs.flatMap((d) => [{ index: { _index: index } }, d]) },
        { headers: { accept: ES_COMPAT_HEADERS.accept!, 'content-type': 'application/vnd.elasticsearch+x-ndjson; compatible-with=8' } },
      );
      const logs = new ElasticsearchLogs(cfg, client);
      const t: CorrelationTarget = { alertname: 'A', service: 'checkout', namespace: '', pod: '', summary: false, labels: {} };
      const r = await logs.correlate(t, { from: now - 600_000, to: now }, { timeout: 10_000, maxResponseBytes: 1 << 20 });
      expect(r.total).toBe(5);
      expect(r.errors).toBe(4);
      expect(r.topErrors[0]).toEqual({ message: 'db timeout', count: 3 });
      expect(r.traceIds).toEqual(['abc123']);
      expect(r.firstError).toBe(now - 60_000);
      const missing = new ElasticsearchLogs({ ...cfg, index: `${index}-missing` }, client);
      await expect(missing.correlate(t, { from: now - 600_000, to: now }, { timeout: 10_000, maxResponseBytes: 1 << 20 })).rejects.toMatchObject({ result: 'not_found' });
    } finally {
      await client.indices.delete({ index }, { ignore: [404], headers: { ...ES_COMPAT_HEADERS } }).catch(() => {});
      await client.close();
    }
  });
});

describe.skipIf(!JAEGER_URL)('Jaeger contract (real server)', () => {
  it('finds spans vigil emitted, through the query API', async () => {
    const agent = process.env.VIGIL_TEST_JAEGER_AGENT ?? `${new URL(JAEGER_URL!).hostname}:6832`;
    const [host, port] = agent.split(':');
    const service = `vigil-contract-${Date.now()}`;
    const tracer = createTracer({ serviceName: service, sampler: { type: 'const', param: 1 }, reporter: { kind: 'agent', host: host!, port: Number(port) }, flushInterval: 100, tags: {} });
    const start = Date.now();
    await withSpan(tracer, 'contract.root', undefined, async (s) => {
      await withSpan(tracer, 'contract.child', s, () => new Promise((r) => setTimeout(r, 20)));
      s.setTag('error', true);
    });
    await tracer.close();
    const jt = new JaegerTraces(parseCorrelationConfig({ jaeger: { query_url: JAEGER_URL! } })!.jaeger!);
    const t: CorrelationTarget = { alertname: 'A', service, namespace: '', pod: '', summary: false, labels: {} };
    let r: Awaited<ReturnType<JaegerTraces['correlate']>> | undefined;
    for (let i = 0; i < 20 && (r === undefined || r.errorCount === 0); i++) {
      await new Promise((res) => setTimeout(res, 500));
      r = await jt.correlate(t, { from: start - 60_000, to: Date.now() + 1000 }, { maxResponseBytes: 1 << 20 });
    }
    expect(r!.errorCount).toBe(1);
    expect(r!.top[0]!.rootOperation).toBe('contract.root');
    expect(r!.top[0]!.durationMs).toBeGreaterThanOrEqual(20);
  }, 30_000);
});

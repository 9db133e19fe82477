import { createRequire } from 'node:module';
import { Client } from '@elastic/elasticsearch';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { Correlator } from '../../src/correlate/correlator.js';
import type { CorrelationConfig } from '../../src/correlate/config.js';
import type { FetchFn } from '../../src/correlate/traces.js';
import { FakeClock } from '../../src/model/clock.js';
import { labelsFrom, labelsGet } from '../../src/model/labels.js';
import { createLogger } from '../../src/model/logger.js';
import type { MetadataReader } from '../../src/storage/interface.js';
import { createTracer } from '../../src/tracing/tracer.js';
import { EsMock, esSearchResponse, jEnvelope, jTrace, testConfig } from './fixtures.js';

const NOW = 1_700_000_900_000;
const alert = (service = 'checkout', extra: Record<string, string> = {}, annotations: Record<string, string> = {}) => ({
  labels: labelsFrom({ alertname: 'HighErrorRate', service, namespace: 'shop', severity: 'page', ...extra }),
  annotations: labelsFrom({ summary: 'errors', description: 'Error rate above 5%', ...annotations }),
  activeAt: NOW - 120_000,
});

function esClient(onSearch: () => void = () => {}, answer: () => unknown = () => esSearchResponse()): Client {
  const mock = new EsMock();
  mock.add({ method: ['GET', 'POST'], path: '/:index/_search' }, () => {
    onSearch();
    return answer() as Record<string, unknown>;
  });
  return new Client({ node: 'http://es.test:9200', Connection: mock.getConnection() as never, maxRetries: 0 });
}

const jaegerOk: FetchFn = async (url) => {
  const u = new URL(url);
  const data = u.searchParams.has('tags') ? [jTrace('aaaa0000000000000000000000000001', 'POST /checkout', (NOW - 600_000) * 1000, 850_000, true)] : [jTrace('bbbb0000000000000000000000000002', 'GET /cart', (NOW - 500_000) * 1000, 1_200_000)];
  return new Response(JSON.stringify(jEnvelope(data)), { status: 200, headers: { 'content-type': 'application/json' } });
};

async function counter(reg: Registry, backend: string, result: string): Promise<number> {
  const m = await reg.getSingleMetric('vigil_correlation_requests_total')!.get();
  return m.values.find((v) => v.labels.backend === backend && v.labels.result === result)?.value ?? 0;
}

async function gauge(reg: Registry, name: string, backend: string): Promise<number | undefined> {
  const m = await reg.getSingleMetric(name)!.get();
  return m.values.find((v) => v.labels.backend === backend)?.value;
}

function make(cfg: CorrelationConfig, o: { fetch?: FetchFn; es?: Client; storage?: MetadataReader } = {}) {
  const clock = new FakeClock(NOW);
  const registry = new Registry();
  const c = new Correlator({ config: cfg, esClient: o.es ?? esClient(), fetch: o.fetch ?? jaegerOk, clock, registry, ...(o.storage ? { storage: o.storage } : {}) });
  return { c, clock, registry };
}

describe('Correlator', () => {
  it('never waits: the first annotate is empty, the result is attached once ready, and cached', async () => {
    let searches = 0;
    const { c, clock } = make(testConfig(), { es: esClient(() => searches++) });
    const a = alert();
    expect(c.annotate(a)).toBeUndefined();
    c.request(a);
    expect(c.annotate(a)).toBeUndefined(); // still running: nothing yet, no waiting
    await c.idle();
    const ann = c.annotate(a)!;
    expect(ann).toMatchObject({
      logs_error_count: '57',
      logs_total_count: '1234',
      logs_top_error: 'connection refused to payments:8080',
      logs_first_error: new Date(1_700_000_100_000).toISOString(),
      logs_last_error: new Date(1_700_000_800_000).toISOString(),
      traces_error_count: '1',
      traces_p99_ms: '1200',
    });
    expect(ann.logs_url).toContain('https://kibana:5601/app/discover');
    expect(ann.traces_url).toContain('http://jaeger:16686/search?service=checkout');
    expect(ann.trace_ids!.split(',')).toEqual(['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 'aaaa0000000000000000000000000001', 'bbbb0000000000000000000000000002']);
    expect(ann.description).toBeUndefined(); // the rule did not ask for a summary
    expect(searches).toBe(1);
    c.request(a); // fresh: no new search
    await c.idle();
    expect(searches).toBe(1);
    clock.advance(61_000); // past cache_ttl: refresh, the stale result stays visible meanwhile
    c.request(a);
    expect(c.annotate(a)?.logs_error_count).toBe('57');
    await c.idle();
    expect(searches).toBe(2);
  });

  it('respects opt-out and skips backends without a target', async () => {
    let searches = 0;
    const { c, registry } = make(testConfig(), { es: esClient(() => searches++) });
    const out = alert('checkout', {}, { vigil_correlate: 'false' });
    c.request(out);
    await c.idle();
    expect(searches).toBe(0);
    expect(c.annotate(out)).toBeUndefined();
    const anon = { labels: labelsFrom({ alertname: 'Watchdog' }), annotations: labelsFrom({}), activeAt: NOW };
    c.request(anon);
    await c.idle();
    expect(searches).toBe(0);
    expect(await counter(registry, 'elasticsearch', 'skipped')).toBe(1);
    expect(await counter(registry, 'jaeger', 'skipped')).toBe(1);
  });

  it('adds a summary to description only when the rule asks', async () => {
    const { c } = make(testConfig());
    const a = alert('checkout', {}, { vigil_correlate_summary: 'true' });
    c.request(a);
    await c.idle();
    const d = c.annotate(a)!.description!;
    expect(d.startsWith('Error rate above 5%\n\nCorrelation (15m before activation until now): 57 error log lines of 1234')).toBe(true);
    expect(d).toContain('1 error traces, p99 1200ms');
  });

  it('caps concurrency and drops beyond the queue bound', async () => {
    let active = 0;
    let maxActive = 0;
    const gates: (() => void)[] = [];
    const held: FetchFn = (url, init) =>
      new Promise((resolve) => {
        active++;
        maxActive = Math.max(maxActive, active);
        gates.push(() => {
          active--;
          resolve(jaegerOk(url, init) as unknown as Response);
        });
      });
    const cfg = testConfig({ elasticsearch: null, max_concurrent: 2, max_queue: 5, timeout: '10s' });
    const { c, registry } = make(cfg, { fetch: held });
    for (let i = 0; i < 10; i++) c.request(alert(`svc${i}`));
    expect(c.pending).toBe(5); // request() only enqueues (work starts on a later turn); 5 over the bound dropped
    expect((await registry.getSingleMetric('vigil_correlation_dropped_total')!.get()).values[0]!.value).toBe(5);
    while (c.pending > 0) {
      await new Promise((r) => setImmediate(r));
      gates.splice(0).forEach((g) => g());
    }
    await c.idle();
    expect(maxActive).toBe(4); // 2 alerts × 2 Jaeger searches each
    expect(await counter(registry, 'jaeger', 'success')).toBe(5);
  });

  it('times out a backend that ignores its abort signal, without blocking annotate', async () => {
    const hang: FetchFn = () => new Promise(() => {});
    const { c, registry } = make(testConfig({ timeout: '50ms' }), { fetch: hang });
    const a = alert();
    const t0 = performance.now();
    c.request(a);
    for (let i = 0; i < 1000; i++) c.annotate(a);
    expect(performance.now() - t0).toBeLessThan(50);
    await c.idle();
    expect(await counter(registry, 'jaeger', 'timeout')).toBe(1);
    // Logs still arrived; traces did not.
    expect(c.annotate(a)).toMatchObject({ logs_error_count: '57' });
    expect(c.annotate(a)!.traces_url).toBeUndefined();
  });

  it('opens the breaker after N failures, probes after the cool-down, closes on success', async () => {
    let up = false;
    let calls = 0;
    const flaky: FetchFn = async (url, init) => {
      calls++;
      if (!up) throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:16686'), { code: 'ECONNREFUSED' }) });
      return jaegerOk(url, init);
    };
    const cfg = testConfig({ elasticsearch: null, breaker: { failures: 3, cooldown: '30s' }, max_concurrent: 1 });
    const { c, clock, registry } = make(cfg, { fetch: flaky });
    for (let i = 0; i < 6; i++) {
      c.request(alert(`s${i}`));
      await c.idle();
    }
    expect(await counter(registry, 'jaeger', 'error')).toBe(3);
    expect(await counter(registry, 'jaeger', 'breaker_open')).toBe(3);
    expect(calls).toBe(6); // 3 failed correlations × 2 searches; none while open
    expect(c.breakerState('jaeger')).toBe('open');
    expect(await gauge(registry, 'vigil_correlation_breaker_state', 'jaeger')).toBe(1);
    clock.advance(30_000);
    expect(c.breakerState('jaeger')).toBe('half_open');
    expect(await gauge(registry, 'vigil_correlation_breaker_state', 'jaeger')).toBe(2);
    c.request(alert('probe-fails'));
    await c.idle();
    expect(c.breakerState('jaeger')).toBe('open');
    clock.advance(30_000);
    up = true;
    c.request(alert('probe-ok'));
    await c.idle();
    expect(c.breakerState('jaeger')).toBe('closed');
    expect(await gauge(registry, 'vigil_correlation_breaker_state', 'jaeger')).toBe(0);
    expect(c.annotate(alert('probe-ok'))!.traces_error_count).toBe('1');
  });

  it('does not cache an empty answer when backends failed: the next request retries', async () => {
    let up = false;
    const f: FetchFn = async (url, init) => {
      if (!up) throw new TypeError('fetch failed');
      return jaegerOk(url, init);
    };
    const { c, registry } = make(testConfig({ elasticsearch: null }), { fetch: f });
    const a = alert();
    c.request(a);
    await c.idle();
    expect(c.annotate(a)).toBeUndefined();
    up = true;
    c.request(a); // no cache_ttl wait
    await c.idle();
    expect(c.annotate(a)!.traces_error_count).toBe('1');
    expect(await counter(registry, 'jaeger', 'error')).toBe(1);
    expect(await counter(registry, 'jaeger', 'success')).toBe(1);
  });

  it('rejects a huge backend answer with a logged reason', async () => {
    const lines: string[] = [];
    const huge: FetchFn = async () => new Response('{"data":[' + '"x",'.repeat(400_000) + '"x"]}', { status: 200 });
    const c = new Correlator({
      config: testConfig({ elasticsearch: null, max_response_size: '64KiB' }),
      fetch: huge,
      clock: new FakeClock(NOW),
      logger: createLogger({ level: 'debug', write: (l) => lines.push(l) }),
    });
    c.request(alert());
    await c.idle();
    expect(c.annotate(alert())).toBeUndefined();
    expect(lines.some((l) => l.includes('result=bad_response') && l.includes('response too large') && l.includes('backend=jaeger'))).toBe(true);
  });

  it('puts exemplar trace ids first and exports series', async () => {
    const storage: MetadataReader = {
      metadata: () => new Map(),
      exemplars: () => [{ labels: labelsFrom({ __name__: 'http_requests_total', service: 'checkout' }), exemplars: [{ labels: labelsFrom({ trace_id: 'e0e0e0e0e0e0e0e0' }), value: 1, t: NOW - 1000 }] }],
    };
    const { c } = make(testConfig(), { storage });
    const a = alert();
    c.request(a);
    await c.idle();
    expect(c.annotate(a)!.trace_ids!.split(',')[0]).toBe('e0e0e0e0e0e0e0e0');
    const s = c.series(NOW);
    const byName = new Map(s.map((x) => [labelsGet(x.metric, '__name__'), x]));
    expect(byName.get('vigil_alert_correlated_log_errors')!.f).toBe(57);
    expect(byName.get('vigil_alert_correlated_error_traces')!.f).toBe(1);
    expect(labelsGet(byName.get('vigil_alert_correlated_log_errors')!.metric, 'alertname')).toBe('HighErrorRate');
    expect(labelsGet(byName.get('vigil_alert_correlated_log_errors')!.metric, 'service')).toBe('checkout');
  });

  it('propagates the span context to backends and reports correlation spans', async () => {
    const jaeger = createRequire(import.meta.url)('jaeger-client') as { InMemoryReporter: new () => { spans: { operationName: string; context(): { traceIdStr: string; parentIdStr?: string; spanIdStr: string } }[] } };
    const reporter = new jaeger.InMemoryReporter();
    const tracer = createTracer({ serviceName: 'vigil-test', sampler: { type: 'const', param: 1 }, reporter: { kind: 'agent', host: '127.0.0.1', port: 6832 }, flushInterval: 1000, tags: {} }, { reporter });
    const headers: string[] = [];
    const fetchSpy: FetchFn = (url, init) => {
      headers.push(init.headers?.['uber-trace-id'] ?? '');
      return jaegerOk(url, init);
    };
    const c = new Correlator({ config: testConfig({ elasticsearch: null }), fetch: fetchSpy, clock: new FakeClock(NOW), tracer });
    const parent = tracer.startSpan('notify');
    c.request(alert(), parent);
    await c.idle();
    parent.finish();
    await tracer.close();
    const names = reporter.spans.map((s) => s.operationName).sort();
    expect(names).toEqual(['correlate', 'correlate.jaeger', 'notify']);
    const trace = parent.traceId();
    expect(reporter.spans.every((s) => s.context().traceIdStr === trace)).toBe(true);
    const cj = reporter.spans.find((s) => s.operationName === 'correlate.jaeger')!;
    expect(headers).toHaveLength(2);
    for (const h of headers) expect(h.split(':').slice(0, 2)).toEqual([trace, cj.context().spanIdStr]);
  });
});

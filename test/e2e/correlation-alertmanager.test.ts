/**
 * Correlation end to end: vigil (a child process, `--rules.alert.resend-delay=1s`,
 * `evaluation_interval: 1s`) fires a rule; real Alertmanager 0.25 receives the alert at once
 * without correlation, and a resend carries the Elasticsearch log and Jaeger trace annotations.
 * Elasticsearch and Jaeger are local HTTP servers answering with recorded Elasticsearch 8 /
 * jaeger-query responses; Elasticsearch answers late so the first notification certainly goes out
 * without. Self-tracing goes to a local UDP "agent" whose datagrams must name vigil's spans.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { esSearchResponse, jEnvelope, jTrace, startServer } from '../correlate/fixtures.js';
import { apiGet, havePeer, rmTemp, startAlertmanager, startVigil, type Peer } from './peers.js';

const HAVE = havePeer('prometheus-alertmanager');
const ES_DELAY_MS = 2500;

type AmAlert = { labels: Record<string, string>; annotations: Record<string, string> };

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

describe.skipIf(!HAVE)('correlation → real Alertmanager', () => {
  let am: Peer;
  let vigil: Peer & { storageDir: string };
  let es: Awaited<ReturnType<typeof startServer>>;
  let jaeger: Awaited<ReturnType<typeof startServer>>;
  let agent: dgram.Socket;
  const datagrams: Buffer[] = [];
  const esRequests: { url: string; traceHeader: string }[] = [];
  const jaegerRequests: string[] = [];

  beforeAll(async () => {
    es = await startServer((req, res) => {
      esRequests.push({ url: req.url ?? '', traceHeader: String(req.headers['uber-trace-id'] ?? '') });
      req.resume();
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
        res.end(JSON.stringify(esSearchResponse()));
      }, ES_DELAY_MS);
    });
    jaeger = await startServer((req, res) => {
      jaegerRequests.push(req.url ?? '');
      res.writeHead(200, { 'content-type': 'application/json' });
      const now = Date.now() * 1000;
      res.end(JSON.stringify(jEnvelope([jTrace('7a1b2c3d4e5f60718293a4b5c6d7e8f9', 'POST /checkout', now - 60e6, 1_250_000, true), jTrace('1f2e3d4c5b6a79881f2e3d4c5b6a7988', 'POST /checkout', now - 30e6, 400_000, true)])));
    });
    agent = dgram.createSocket('udp4');
    agent.on('message', (m) => datagrams.push(m));
    await new Promise<void>((r) => agent.bind(0, '127.0.0.1', r));
    am = await startAlertmanager(`
route: { receiver: 'null', group_wait: 100ms, group_interval: 500ms, repeat_interval: 1h }
receivers: [{ name: 'null' }]
`);
    vigil = await startVigil({
      config: `
global: { evaluation_interval: 1s }
rule_files: [rules.yml]
alerting:
  alertmanagers: [{ static_configs: [{ targets: ['127.0.0.1:${am.port}'] }] }]
correlation:
  elasticsearch: { nodes: ['${es.url}'], index: 'logs-*', kibana_url: 'https://kibana.example:5601' }
  jaeger: { query_url: '${jaeger.url}', ui_url: 'https://jaeger.example' }
  window: 15m
  timeout: 5s
  cache_ttl: 1m
tracing:
  service_name: vigil-e2e
  sampler: { type: const, param: 1 }
  agent: { host: 127.0.0.1, port: ${(agent.address()).port} }
  flush_interval: 200ms
`,
      files: {
        'rules.yml': `
groups:
- name: shop
  interval: 1s
  rules:
  - alert: CheckoutErrors
    expr: vector(42)
    labels: { severity: critical, service: checkout, namespace: shop }
    annotations: { summary: "checkout has {{ $value }} errors" }
`,
      },
      extraArgs: ['--rules.alert.resend-delay=1s'],
    });
  }, 90_000);

  afterAll(async () => {
    for (const p of [vigil, am]) if (p) await p.stop();
    for (const p of [vigil, am]) if (p) rmTemp(p.dir);
    await es?.close();
    await jaeger?.close();
    agent?.close();
  });

  it('the first notification goes out at once; the next carries logs and traces', async () => {
    const fetchAm = async (): Promise<AmAlert | undefined> => {
      const alerts = (await (await fetch(`${am.url}/api/v2/alerts`)).json()) as AmAlert[];
      return alerts.find((a) => a.labels.alertname === 'CheckoutErrors');
    };
    const first = await until('the alert in Alertmanager', fetchAm, 30_000, 100);
    // Elasticsearch holds its answer for 2.5 s: the alert did not wait for it.
    expect(first.annotations.summary).toBe('checkout has 42 errors');
    expect(first.annotations.logs_error_count).toBeUndefined();
    const later = await until('correlation annotations in Alertmanager', async () => {
      const a = await fetchAm();
      return a?.annotations.logs_error_count !== undefined ? a : undefined;
    });
    expect(later.labels).toMatchObject({ service: 'checkout', namespace: 'shop', severity: 'critical' });
    expect(later.annotations).toMatchObject({
      summary: 'checkout has 42 errors',
      logs_error_count: '57',
      logs_total_count: '1234',
      logs_top_error: 'connection refused to payments:8080',
      traces_error_count: '2',
    });
    expect(later.annotations.logs_top_errors!.split('\n')).toHaveLength(3);
    expect(later.annotations.logs_url).toMatch(/^https:\/\/kibana\.example:5601\/app\/discover/);
    expect(later.annotations.traces_url).toMatch(/^https:\/\/jaeger\.example\/search\?/);
    const ids = later.annotations.trace_ids!.split(',');
    // Trace ids of the error logs first, then Jaeger's top traces.
    expect(ids.slice(0, 2)).toEqual(['4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7']);
    expect(ids).toEqual(expect.arrayContaining(['7a1b2c3d4e5f60718293a4b5c6d7e8f9', '1f2e3d4c5b6a79881f2e3d4c5b6a7988']));
    expect(later.annotations.traces_top).toMatch(/^7a1b2c3d4e5f60718293a4b5c6d7e8f9 POST \/checkout 1250ms/);

    // The backends were asked about the alert's service, with vigil's trace context.
    expect(esRequests[0]!.url).toMatch(/^\/logs-\*\/_search/);
    expect(esRequests[0]!.traceHeader).toMatch(/^[0-9a-f]+:[0-9a-f]+:[0-9a-f]+:1$/);
    expect(jaegerRequests[0]).toMatch(/service=checkout/);

    // vigil's own API and /metrics show the same.
    const api = await apiGet<{ alerts: AmAlert[] }>(vigil.url, '/api/v1/alerts');
    expect(api.alerts.find((a) => a.labels.alertname === 'CheckoutErrors')!.annotations.logs_error_count).toBe('57');
    const metrics = await (await fetch(`${vigil.url}/metrics`)).text();
    expect(metrics).toMatch(/vigil_alert_correlated_log_errors\{alertname="CheckoutErrors",namespace="shop",service="checkout",severity="critical"\} 57/);
    expect(metrics).toMatch(/vigil_alert_correlated_error_traces\{alertname="CheckoutErrors",namespace="shop",service="checkout",severity="critical"\} 2/);
    expect(metrics).toMatch(/vigil_correlation_requests_total\{backend="jaeger",result="success"\} [1-9]/);

    // Self-tracing reached the UDP agent (Thrift strings are plain bytes in the batches).
    await until('spans at the agent', async () => (Buffer.concat(datagrams).includes('correlate.elasticsearch') ? true : undefined), 10_000, 200);
    const all = Buffer.concat(datagrams);
    for (const op of ['vigil-e2e', 'rules.group', 'rules.query', 'rules.notify', 'correlate', 'notify.send']) expect(all.includes(op), op).toBe(true);
  }, 60_000);
});

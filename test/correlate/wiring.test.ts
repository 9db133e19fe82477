/**
 * Correlation and self-tracing wired into one tenant's alerting path (`createAlerting`): a rule
 * fires, the first notification leaves at once, a resend carries the log and trace annotations,
 * `/api/v1/alerts` and `/metrics` show them, and one trace links group → rule → query and
 * rule → notify → correlate; a remote-write request traces request → decode / commit. Elasticsearch, Jaeger and Alertmanager are local HTTP servers.
 */
import { createRequire } from 'node:module';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createAlerting, type Alerting } from '../../src/app-alerting.js';
import { createRemoteWriteHandler } from '../../src/ingest/remote-write/handler.js';
import { encodeWriteRequestV1, snappyCompress } from '../../src/ingest/remote-write/index.js';
import { parseConfig } from '../../src/config/loader.js';
import { parseRuleFileText } from '../../src/config/rule-files.js';
import { parseCorrelationConfig } from '../../src/correlate/config.js';
import { annotateAlertsApi, correlateAlerts, type AlertCorrelator } from '../../src/correlate/wiring.js';
import { labelsFrom, labelsToObject } from '../../src/model/labels.js';
import { systemClock } from '../../src/model/clock.js';
import { nopLogger } from '../../src/model/logger.js';
import { Engine } from '../../src/promql/engine/index.js';
import type { Alert } from '../../src/rules/rule.js';
import { Head } from '../../src/storage/head/index.js';
import { createTracer } from '../../src/tracing/tracer.js';
import { esSearchResponse, jEnvelope, jTrace, startServer } from './fixtures.js';

function alert(state: Alert['state'], labels: Record<string, string>, resolvedAt = 0): Alert {
  return { labels: labelsFrom(labels), annotations: labelsFrom({ summary: 's' }), state, value: 1, activeAt: 1000, firedAt: state === 'firing' ? 2000 : 0, resolvedAt, lastSentAt: 0, validUntil: 0, keepFiringSince: 0 };
}

describe('correlateAlerts / annotateAlertsApi', () => {
  it('requests correlation for firing alerts only and merges cached annotations', () => {
    const requested: string[] = [];
    const annotate: AlertCorrelator['annotate'] = (a) => (a.activeAt === 1000 && JSON.stringify(a.labels).includes('"Hot"') ? { logs_error_count: '7', summary: 'from correlation' } : undefined);
    const fake: AlertCorrelator = {
      attach: (a, request) => {
        if (request) requested.push(String((a.labels as { name: string; value: string }[]).find((l) => l.name === 'alertname')?.value));
        return annotate(a);
      },
      annotate,
    };
    const out = correlateAlerts([alert('firing', { alertname: 'Hot' }), alert('pending', { alertname: 'Warm' }), alert('firing', { alertname: 'Cold' }, 5000)], fake);
    expect(requested).toEqual(['Hot']);
    expect(labelsToObject(out[0]!.annotations)).toEqual({ summary: 'from correlation', logs_error_count: '7' });
    expect(labelsToObject(out[1]!.annotations)).toEqual({ summary: 's' });
    const api = annotateAlertsApi({ alerts: [{ labels: { alertname: 'Hot' }, annotations: { a: 'b' }, activeAt: new Date(1000).toISOString() }] }, fake);
    expect(api.alerts[0]!.annotations).toEqual({ a: 'b', logs_error_count: '7', summary: 'from correlation' });
  });

  it('never lets a throwing correlator stop an alert', () => {
    const bad: AlertCorrelator = {
      attach: () => {
        throw new Error('boom');
      },
      annotate: () => undefined,
    };
    const a = alert('firing', { alertname: 'X' });
    expect(correlateAlerts([a], bad)).toEqual([a]);
  });
});

describe('remote-write handler spans', () => {
  it('traces remote_write.request → remote_write.decode and remote_write.commit with tenant and status', async () => {
    const jc = createRequire(import.meta.url)('jaeger-client') as { InMemoryReporter: new () => { spans: { operationName: string; _tags: { key: string; value: unknown }[]; context(): { traceIdStr: string; spanIdStr: string; parentIdStr?: string } }[] } };
    const reporter = new jc.InMemoryReporter();
    const tracer = createTracer({ serviceName: 't', sampler: { type: 'const', param: 1 }, reporter: { kind: 'agent', host: '127.0.0.1', port: 9 }, flushInterval: 1000, tags: {} }, { reporter });
    const head = new Head({ retentionMs: 3_600_000, clock: systemClock });
    const h = createRemoteWriteHandler({ appendable: head, tracer, spanTags: { tenant: 'team-a' } });
    const s = await startServer((req, res) => void h(req, res));
    const body = snappyCompress(encodeWriteRequestV1([{ labels: [{ name: '__name__', value: 'rw_metric' }], samples: [{ t: Date.now(), v: 1 }, { t: Date.now() + 1, v: 2 }] }], []));
    try {
      const r = await fetch(s.url + '/api/v1/write', { method: 'POST', body, headers: { 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf' } });
      expect(r.status).toBe(204);
      const bad = await fetch(s.url + '/api/v1/write', { method: 'POST', body: 'not snappy', headers: { 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf' } });
      expect(bad.status).toBe(400);
    } finally {
      await s.close();
    }
    const spans = reporter.spans;
    const reqs = spans.filter((x) => x.operationName === 'remote_write.request');
    expect(reqs).toHaveLength(2);
    const tag = (sp: (typeof spans)[number], k: string) => sp._tags.find((t) => t.key === k)?.value;
    const ok = reqs.find((x) => tag(x, 'http.status_code') === 204)!;
    expect([tag(ok, 'tenant'), tag(ok, 'encoding'), tag(ok, 'http.request_content_length'), tag(ok, 'version')]).toEqual(['team-a', 'snappy', body.length, '1.0']);
    const children = (p: typeof ok) => spans.filter((x) => x.context().parentIdStr === p.context().spanIdStr).map((x) => x.operationName).sort();
    expect(children(ok)).toEqual(['remote_write.commit', 'remote_write.decode']);
    const decode = spans.find((x) => x.operationName === 'remote_write.decode' && x.context().parentIdStr === ok.context().spanIdStr)!;
    expect(tag(decode, 'samples')).toBe(2);
    const commit = spans.find((x) => x.operationName === 'remote_write.commit' && x.context().parentIdStr === ok.context().spanIdStr)!;
    expect(tag(commit, 'samples')).toBe(2);
    expect(new Set([ok, decode, commit].map((x) => x.context().traceIdStr)).size).toBe(1);
    // the invalid body: decode span failed, no commit
    const failed = reqs.find((x) => tag(x, 'http.status_code') === 400)!;
    expect(children(failed)).toEqual(['remote_write.decode']);
    const fd = spans.find((x) => x.context().parentIdStr === failed.context().spanIdStr)!;
    expect(tag(fd, 'error')).toBe(true);
    // tracing off: no spans, same handler behaviour
    const n = spans.length;
    const off = createRemoteWriteHandler({ appendable: new Head({ retentionMs: 3_600_000, clock: systemClock }), tracer: createTracer(undefined) });
    const s2 = await startServer((req, res) => void off(req, res));
    try {
      expect((await fetch(s2.url + '/api/v1/write', { method: 'POST', body, headers: { 'content-encoding': 'snappy' } })).status).toBe(204);
    } finally {
      await s2.close();
    }
    expect(reporter.spans.length).toBe(n);
  });
});

describe('config', () => {
  it('accepts tracing: and validates correlation: with file:line', () => {
    const c = parseConfig('tracing:\n  sampler: {type: probabilistic, param: 0.5}\n  agent: {host: 127.0.0.1, port: 6831}\n', 'v.yml');
    expect(c.tracing).toMatchObject({ sampler: { type: 'probabilistic', param: 0.5 }, reporter: { kind: 'agent', host: '127.0.0.1', port: 6831 } });
    expect(parseConfig('tracing: {enabled: false}\n', 'v.yml').tracing).toBeUndefined();
    expect(() => parseConfig('global: {}\ncorrelation:\n  elasticsearch:\n    nodes: [ftp://x]\n', 'v.yml')).toThrow(/v\.yml:4.*correlation\.elasticsearch\.nodes/s);
    expect(() => parseConfig('tracing:\n  sampler:\n    type: nope\n', 'v.yml')).toThrow(/v\.yml:3.*tracing\.sampler\.type/s);
    expect(() => parseConfig('tenancy:\n  tenants:\n    t1:\n      correlation:\n        window: -5\n', 'v.yml')).toThrow(/tenancy\.tenants\.t1\.correlation\.window/);
  });
});

describe('createAlerting with correlation and tracing', () => {
  const closers: (() => Promise<void>)[] = [];
  let alerting: Alerting | undefined;
  afterEach(async () => {
    await alerting?.stop();
    alerting = undefined;
    for (const c of closers.splice(0)) await c();
  });

  it('first notification at once, a resend carries the annotations; API, /metrics and spans agree', async () => {
    const posts: { labels: Record<string, string>; annotations: Record<string, string> }[][] = [];
    const am = await startServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        posts.push(JSON.parse(Buffer.concat(chunks).toString()));
        res.end();
      });
    });
    const esHeaders: string[] = [];
    const es = await startServer((req, res) => {
      esHeaders.push(String(req.headers['uber-trace-id'] ?? ''));
      req.resume();
      // Answer a little late, so the first notification certainly goes out without.
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
        res.end(JSON.stringify(esSearchResponse()));
      }, 150);
    });
    const jaeger = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(jEnvelope([jTrace('7a1b2c3d4e5f60718293a4b5c6d7e8f9', 'POST /checkout', Date.now() * 1000, 850_000, true)])));
    });
    closers.push(am.close, es.close, jaeger.close);
    const jc = createRequire(import.meta.url)('jaeger-client') as { InMemoryReporter: new () => { spans: { operationName: string; _tags: { key: string; value: unknown }[]; context(): { traceIdStr: string; spanIdStr: string; parentIdStr?: string } }[] } };
    const reporter = new jc.InMemoryReporter();
    const tracer = createTracer({ serviceName: 'vigil-test', sampler: { type: 'const', param: 1 }, reporter: { kind: 'agent', host: '127.0.0.1', port: 9 }, flushInterval: 1000, tags: {} }, { reporter });
    const registry = new Registry();
    const head = new Head({ retentionMs: 3_600_000, clock: systemClock });
    const engine = new Engine({ lookbackDeltaMs: 300_000, clock: systemClock });
    alerting = createAlerting({ engine, storage: head, registry, logger: nopLogger, clock: systemClock, externalUrl: 'http://vigil', resendDelayMs: 400, outageToleranceMs: 3_600_000, gracePeriodMs: 600_000, tracer });
    const { groups, errors } = parseRuleFileText(
      'groups:\n- name: shop\n  interval: 200ms\n  rules:\n  - alert: CheckoutErrors\n    expr: vector(3)\n    labels: {service: checkout, namespace: shop}\n    annotations: {summary: checkout is failing}\n',
      'rules.yml',
    );
    expect(errors).toEqual([]);
    const correlation = parseCorrelationConfig({ elasticsearch: { nodes: [es.url], kibana_url: 'https://kibana:5601' }, jaeger: { query_url: jaeger.url, ui_url: 'https://jaeger' }, timeout: '2s', cache_ttl: '1m' })!;
    const amCfg = { scheme: 'http' as const, pathPrefix: '', timeout: 5000, apiVersion: 'v2' as const, staticConfigs: [{ targets: [new URL(am.url).host], labels: {} }] };
    await alerting.apply({ alerting: { alertmanagers: [amCfg], alertRelabelConfigs: [] }, remoteWrite: [], externalLabels: {}, evaluationInterval: 1000, correlation }, groups);

    const find = (p: (typeof posts)[number]) => p.find((a) => a.labels.alertname === 'CheckoutErrors');
    const deadline = Date.now() + 8000;
    while (!posts.some((p) => find(p)?.annotations.logs_error_count !== undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const withAnn = posts.map(find).filter((a) => a !== undefined);
    expect(withAnn.length).toBeGreaterThanOrEqual(2);
    // The first notification did not wait for Elasticsearch (which answers after 150 ms).
    expect(withAnn[0]!.annotations.logs_error_count).toBeUndefined();
    expect(withAnn[0]!.annotations.summary).toBe('checkout is failing');
    const later = withAnn.find((a) => a.annotations.logs_error_count !== undefined)!;
    expect(later.annotations).toMatchObject({
      summary: 'checkout is failing',
      logs_error_count: '57',
      logs_top_error: 'connection refused to payments:8080',
      traces_error_count: '1',
    });
    expect(later.annotations.logs_url).toMatch(/^https:\/\/kibana:5601\//);
    expect(later.annotations.traces_url).toMatch(/^https:\/\/jaeger\//);
    expect(later.annotations.trace_ids!.split(',')).toEqual(expect.arrayContaining(['4bf92f3577b34da6a3ce929d0e0e4736', '7a1b2c3d4e5f60718293a4b5c6d7e8f9']));

    const api = alerting.alerts() as { alerts: { annotations: Record<string, string> }[] };
    expect(api.alerts[0]!.annotations.logs_error_count).toBe('57');
    const rulesApi = alerting.rules() as { groups: { rules: { alerts?: { annotations: Record<string, string> }[] }[] }[] };
    expect(rulesApi.groups[0]!.rules[0]!.alerts![0]!.annotations.traces_error_count).toBe('1');
    const text = await alerting.exposition(registry);
    expect(text).toMatch(/vigil_alert_correlated_log_errors\{alertname="CheckoutErrors",namespace="shop",service="checkout"\} 57/);
    expect(text).toMatch(/vigil_alert_correlated_error_traces\{alertname="CheckoutErrors",namespace="shop",service="checkout"\} 1/);
    expect(await registry.getSingleMetricAsString('vigil_correlation_requests_total')).toMatch(/backend="elasticsearch",result="success"\} [1-9]/);

    // Spans: one trace from the group evaluation down to the correlation calls.
    await alerting.stop();
    alerting = undefined;
    const spans = reporter.spans;
    const byOp = (op: string) => spans.filter((s) => s.operationName === op);
    const corr = byOp('correlate')[0]!;
    expect(corr).toBeDefined();
    const parentOf = (s: (typeof spans)[number]) => spans.find((p) => p.context().spanIdStr === s.context().parentIdStr);
    // correlate → rules.notify → rules.rule → rules.group (root)
    const notify = parentOf(corr)!;
    expect(notify.operationName).toBe('rules.notify');
    const rule = parentOf(notify)!;
    expect(rule.operationName).toBe('rules.rule');
    expect(rule._tags.find((t) => t.key === 'rule')?.value).toBe('CheckoutErrors');
    expect(rule._tags.find((t) => t.key === 'kind')?.value).toBe('alerting');
    const group = parentOf(rule)!;
    expect(group.operationName).toBe('rules.group');
    expect(group._tags.find((t) => t.key === 'group')?.value).toBe('shop');
    expect(group.context().parentIdStr ?? '0').toMatch(/^0*$/);
    // rules.query is a child of the rule span, with the rule's expression
    const query = byOp('rules.query').find((s) => s.context().parentIdStr === rule.context().spanIdStr)!;
    expect(query._tags.find((t) => t.key === 'rule')?.value).toBe('CheckoutErrors');
    expect(query._tags.find((t) => t.key === 'expr')?.value).toBe('vector(3)');
    // every rules.query and rules.rule span has the expected parent kind
    for (const q of byOp('rules.query')) expect(parentOf(q)?.operationName).toBe('rules.rule');
    for (const r of byOp('rules.rule')) expect(parentOf(r)?.operationName).toBe('rules.group');
    expect(new Set([corr, notify, rule, group, query].map((s) => s.context().traceIdStr)).size).toBe(1);
    expect(byOp('correlate.elasticsearch')[0]!.context().traceIdStr).toBe(group.context().traceIdStr);
    expect(esHeaders[0]).toContain(group.context().traceIdStr);
    expect(byOp('notify.send').length).toBeGreaterThan(0);
    expect(byOp('notify.post').length).toBeGreaterThan(0);
  }, 15_000);
});

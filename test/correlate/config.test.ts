import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CorrelationConfigError, parseCorrelationConfig, redactCorrelationConfig } from '../../src/correlate/config.js';

const ISSUE_YAML = `
correlation:
  elasticsearch:
    nodes: [https://es:9200]
    index: "logs-*"
    time_field: "@timestamp"
    fields: {service: "service.name", namespace: "kubernetes.namespace", pod: "kubernetes.pod.name", level: "log.level", message: "message", trace_id: "trace.id"}
    kibana_url: https://kibana:5601
  jaeger:
    query_url: http://jaeger-query:16686
    ui_url: http://jaeger:16686
  window: 15m
  timeout: 2s
  max_concurrent: 4
  cache_ttl: 1m
`;

function err(raw: unknown): string {
  try {
    parseCorrelationConfig(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(CorrelationConfigError);
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

describe('parseCorrelationConfig', () => {
  it('parses the example of the issue', () => {
    const c = parseCorrelationConfig((parse(ISSUE_YAML) as { correlation: unknown }).correlation)!;
    expect(c.elasticsearch).toMatchObject({
      nodes: ['https://es:9200'],
      index: 'logs-*',
      timeField: '@timestamp',
      fields: { service: 'service.name', namespace: 'kubernetes.namespace', pod: 'kubernetes.pod.name', level: 'log.level', message: 'message', traceId: 'trace.id' },
      kibanaUrl: 'https://kibana:5601',
    });
    expect(c.jaeger).toEqual({ queryUrl: 'http://jaeger-query:16686', uiUrl: 'http://jaeger:16686', limit: 20 });
    expect([c.window, c.timeout, c.maxConcurrent, c.cacheTtl]).toEqual([900_000, 2000, 4, 60_000]);
    expect(c.breaker).toEqual({ failures: 5, cooldown: 30_000 });
  });

  it('is off when the section is absent', () => {
    expect(parseCorrelationConfig(undefined)).toBeUndefined();
    expect(parseCorrelationConfig(null)).toBeUndefined();
  });

  it('names the key in validation messages', () => {
    expect(err({ window: 15 })).toMatch(/^correlation\.window: expected a duration/);
    expect(err({ timeout: '2 seconds' })).toMatch(/^correlation\.timeout: not a valid duration/);
    expect(err({ max_concurrent: 0 })).toMatch(/^correlation\.max_concurrent: must be between 1 and 256/);
    expect(err({ elasticsearch: {} })).toMatch(/^correlation\.elasticsearch\.nodes: is required/);
    expect(err({ elasticsearch: { nodes: ['ftp://x'] } })).toMatch(/^correlation\.elasticsearch\.nodes\[0\]: scheme must be http or https/);
    expect(err({ elasticsearch: { nodes: [42] } })).toMatch(/^correlation\.elasticsearch\.nodes\[0\]: expected a URL string/);
    expect(err({ elasticsearch: { nodes: ['http://x'], fields: { svc: 'a' } } })).toMatch(/^correlation\.elasticsearch\.fields: unknown key "svc"/);
    expect(err({ jaeger: { ui_url: 'http://j' } })).toMatch(/^correlation\.jaeger\.query_url: is required/);
    expect(err({ cache: '1m' })).toMatch(/^correlation: unknown key "cache"/);
    expect(err({ breaker: { failures: 'many' } })).toMatch(/^correlation\.breaker\.failures: expected an integer/);
    expect(err({ max_response_size: '1TB' })).toMatch(/^correlation\.max_response_size: must be between/);
  });

  it('accepts exactly one auth method and keeps secrets out of messages and logs', () => {
    const secret = 'c2VjcmV0LWFwaS1rZXk=';
    const m = err({ elasticsearch: { nodes: ['http://x'], api_key: secret, bearer_token: 'tok-123' } });
    expect(m).toMatch(/at most one of api_key, basic_auth and bearer_token/);
    expect(m).not.toContain(secret);
    expect(err({ elasticsearch: { nodes: ['http://x'], api_key: 12345 } })).not.toContain('12345');
    expect(err({ elasticsearch: { nodes: ['http://user:pw@x'] } })).toMatch(/must not contain credentials/);
    const c = parseCorrelationConfig({ elasticsearch: { nodes: ['http://x'], basic_auth: { username: 'vigil', password: 'hunter2' }, tls: { ca_file: '/etc/ca.pem' } } })!;
    expect(c.elasticsearch!.auth).toEqual({ kind: 'basic', username: 'vigil', password: 'hunter2' });
    const red = JSON.stringify(redactCorrelationConfig(c));
    expect(red).not.toContain('hunter2');
    expect(red).not.toContain('/etc/ca.pem');
    expect(red).toContain('vigil');
    const k = JSON.stringify(redactCorrelationConfig(parseCorrelationConfig({ elasticsearch: { nodes: ['http://x'], api_key: secret } })!));
    expect(k).not.toContain(secret);
    const b = JSON.stringify(redactCorrelationConfig(parseCorrelationConfig({ elasticsearch: { nodes: ['http://x'], bearer_token: 'tok-123' } })!));
    expect(b).not.toContain('tok-123');
  });

  it('parses label mappings and defaults ui_url to query_url', () => {
    const c = parseCorrelationConfig({ labels: { service: ['app'] }, jaeger: { query_url: 'http://jq:16686/' } })!;
    expect(c.labels.service).toEqual(['app']);
    expect(c.labels.pod).toEqual(['pod']);
    expect(c.jaeger!.uiUrl).toBe('http://jq:16686');
  });
});

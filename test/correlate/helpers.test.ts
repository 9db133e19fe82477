import { describe, expect, it } from 'vitest';
import { jaegerSearchUrl, kibanaDiscoverUrl, kqlQuery, risonString } from '../../src/correlate/links.js';
import { normalizeMessage, topPatterns } from '../../src/correlate/normalize.js';
import { expandLabelsTemplate, resolveTarget } from '../../src/correlate/target.js';
import { CORRELATION_DEFAULTS } from '../../src/correlate/config.js';
import { labelsFrom } from '../../src/model/labels.js';

describe('normalizeMessage', () => {
  it('replaces numbers, hex ids, uuids, IPs and timestamps', () => {
    expect(normalizeMessage('user 12345 not found in 550e8400-e29b-41d4-a716-446655440000')).toBe('user <n> not found in <uuid>');
    expect(normalizeMessage('2024-01-02T03:04:05.123Z conn to 10.0.0.12:5432 failed  after 3.5s')).toBe('<ts> conn to <ip> failed after <n>s');
    expect(normalizeMessage('span 4bf92f3577b34da6 at 0xdeadbeef')).toBe('span <hex> at <hex>');
    expect(normalizeMessage('deadline exceeded')).toBe('deadline exceeded');
  });
  it('groups by pattern, most frequent first', () => {
    const top = topPatterns(['timeout after 30ms', 'user 1 missing', 'timeout after 31ms', 'user 2 missing', 'timeout after 2ms', 'boom'], 2);
    expect(top).toEqual([
      { message: 'timeout after <n>ms', count: 3 },
      { message: 'user <n> missing', count: 2 },
    ]);
  });
});

describe('links', () => {
  it('rison-escapes quotes and bangs', () => {
    expect(risonString("it's!")).toBe("'it!'s!!'");
  });
  it('builds KQL with quoted values', () => {
    expect(kqlQuery([{ field: 'service.name', values: ['a"b'] }, { field: 'log.level', values: ['error', 'fatal'] }, { field: 'x', values: [] }])).toBe(
      'service.name:"a\\"b" and log.level:("error" or "fatal")',
    );
  });
  it('builds a Kibana Discover URL whose decoded state carries the time range and query', () => {
    const u = kibanaDiscoverUrl('https://kibana:5601', 'service.name:"checkout"', Date.UTC(2024, 0, 1), Date.UTC(2024, 0, 1, 0, 15));
    expect(u.startsWith('https://kibana:5601/app/discover#/?_g=')).toBe(true);
    const hash = new URLSearchParams(u.split('#/?')[1]);
    expect(hash.get('_g')).toBe("(filters:!(),time:(from:'2024-01-01T00:00:00.000Z',to:'2024-01-01T00:15:00.000Z'))");
    expect(hash.get('_a')).toBe(`(query:(language:kuery,query:'service.name:"checkout"'))`);
  });
  it('builds a Jaeger search URL in microseconds', () => {
    const u = new URL(jaegerSearchUrl('http://jaeger:16686', 'checkout', 1000, 2000, 20, true));
    expect(u.pathname).toBe('/search');
    expect(u.searchParams.get('start')).toBe('1000000');
    expect(u.searchParams.get('end')).toBe('2000000');
    expect(JSON.parse(u.searchParams.get('tags')!)).toEqual({ error: 'true' });
  });
});

describe('resolveTarget', () => {
  const roles = CORRELATION_DEFAULTS.labels;
  it('maps labels to roles, first configured label wins', () => {
    const t = resolveTarget({ labels: labelsFrom({ alertname: 'HighErrorRate', app: 'cart', job: 'cart-job', namespace: 'shop', pod: 'cart-1' }), activeAt: 0 }, roles)!;
    expect([t.alertname, t.service, t.namespace, t.pod, t.summary]).toEqual(['HighErrorRate', 'cart', 'shop', 'cart-1', false]);
  });
  it('honours override, template and opt-out annotations', () => {
    const labels = { alertname: 'A', app: 'cart', job: 'j' };
    expect(resolveTarget({ labels, annotations: { vigil_correlate_service: 'payments' }, activeAt: 0 }, roles)!.service).toBe('payments');
    expect(resolveTarget({ labels, annotations: { vigil_correlate_service: '{{ $labels.job }}-svc' }, activeAt: 0 }, roles)!.service).toBe('j-svc');
    expect(resolveTarget({ labels, annotations: { vigil_correlate: 'false' }, activeAt: 0 }, roles)).toBeUndefined();
    expect(resolveTarget({ labels, annotations: { vigil_correlate: 'true', vigil_correlate_summary: 'true' }, activeAt: 0 }, roles)!.summary).toBe(true);
    expect(expandLabelsTemplate('{{$labels.missing}}x', labels)).toBe('x');
  });
});

import { describe, expect, it } from 'vitest';
import { expandAlertTemplate, expandAlertTemplateAsync, expandTemplate, type TemplateData } from '../../../src/rules/template/index.js';

// The per-expansion function table is the shared base table plus context functions looked up
// first; these pin down that expansions never see each other's context.
describe('template function table per expansion', () => {
  const data = (instance: string, value: number): TemplateData => ({ labels: { instance }, externalLabels: { c: 'x' }, externalURL: 'http://a:9090/p', value });

  it('binds now, externalURL, pathPrefix and query to each expansion', () => {
    const t = '{{ now }} {{ externalURL }} {{ pathPrefix }} {{ query "up" | first | value }}';
    const a = expandAlertTemplate('A', t, data('i', 1), { timestampMs: 1_000, query: () => [{ labels: {}, value: 7 }] });
    const b = expandAlertTemplate('A', t, { ...data('i', 1), externalURL: 'http://b/q' }, { timestampMs: 2_000, query: () => [{ labels: {}, value: 8 }] });
    const a2 = expandAlertTemplate('A', t, data('i', 1), { timestampMs: 1_000, query: () => [{ labels: {}, value: 7 }] });
    expect(a).toBe('1 http://a:9090/p /p 7');
    expect(b).toBe('2 http://b/q /q 8');
    expect(a2).toBe(a);
    expect(expandTemplate('t', '{{ externalURL }}|{{ toUpper "x" }}', null, { externalURL: 'http://e' })).toBe('http://e|X');
  });

  it('reports query as unavailable without a query function, after one had been given', () => {
    expandAlertTemplate('A', '{{ query "up" }}', data('i', 1), { query: () => [] });
    expect(() => expandAlertTemplate('A', '{{ query "up" }}', data('i', 1))).toThrow(/query is not available/);
  });

  it('keeps interleaved async expansions apart', async () => {
    const run = (i: string, v: number) =>
      expandAlertTemplateAsync('A', `{{ $labels.instance }} {{ $value }} {{ query "${i}" | first | value }}`, data(i, v), {
        queryAsync: async (q) => [{ labels: {}, value: q === 'i1' ? 10 : 20 }],
      });
    expect(await Promise.all([run('i1', 1), run('i2', 2)])).toEqual(['i1 1 10', 'i2 2 20']);
  });

  it('sees the current data even when one data object is expanded repeatedly', () => {
    const d = data('i', 1);
    expect(expandAlertTemplate('A', '{{ $labels.instance }} {{ $value }} {{ $externalLabels.c }}', d)).toBe('i 1 x');
    expect(expandAlertTemplate('A', '{{ .Value }}', d)).toBe('1');
    expect(expandAlertTemplate('A', '{{ $labels.instance }} {{ $value }}', data('j', 2))).toBe('j 2');
    expect(expandAlertTemplate('A', '{{ $labels.instance }} {{ $value }}', { ...d, value: 3 })).toBe('i 3');
  });
});

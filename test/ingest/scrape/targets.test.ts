import { describe, expect, it } from 'vitest';
import { buildTargets, formatPromDuration, parsePromDuration, staticGroups } from '../../../src/ingest/scrape/targets.js';
import { labelsToObject } from '../../../src/model/labels.js';
import { parseRelabelConfig } from '../../../src/model/relabel.js';
import { scrapeConfig } from './helpers.js';

describe('durations', () => {
  it('parses and formats Prometheus durations', () => {
    expect(parsePromDuration('1m30s')).toBe(90_000);
    expect(parsePromDuration('500ms')).toBe(500);
    expect(parsePromDuration('1h')).toBe(3_600_000);
    expect(parsePromDuration('0')).toBe(0);
    expect(parsePromDuration('abc')).toBeUndefined();
    expect(parsePromDuration('')).toBeUndefined();
    expect(formatPromDuration(90_000)).toBe('1m30s');
    expect(formatPromDuration(15_000)).toBe('15s');
    expect(formatPromDuration(1500)).toBe('1s500ms');
    for (const ms of [1, 999, 61_001, 86_400_000 * 8 + 5]) expect(parsePromDuration(formatPromDuration(ms))).toBe(ms);
  });
});

describe('buildTargets', () => {
  it('static targets get job, instance, URL and public labels', () => {
    const cfg = scrapeConfig({ staticConfigs: [{ targets: ['a:9100', 'b:9100'], labels: { env: 'prod' } }], params: { module: ['m1', 'm2'] } });
    const { active, dropped } = buildTargets(cfg, staticGroups(cfg));
    expect(dropped).toEqual([]);
    expect(active).toHaveLength(2);
    const t = active[0]!;
    expect(t.url).toBe('http://a:9100/metrics?module=m1&module=m2');
    expect(labelsToObject(t.labels)).toEqual({ env: 'prod', instance: 'a:9100', job: 'job1' });
    expect(labelsToObject(t.discoveredLabels)).toMatchObject({
      __address__: 'a:9100',
      __scheme__: 'http',
      __metrics_path__: '/metrics',
      __scrape_interval__: '15s',
      __scrape_timeout__: '10s',
      __param_module: 'm1',
      job: 'job1',
    });
    expect(t.intervalMs).toBe(15_000);
    expect(t.timeoutMs).toBe(10_000);
    expect(active[1]!.hash).not.toBe(t.hash);
  });

  it('relabel_configs rewrite address, scheme, path, params, interval; drop targets', () => {
    const rc = [
      parseRelabelConfig({ source_labels: ['__address__'], regex: 'skip.*', action: 'drop' }, 'r0'),
      parseRelabelConfig({ source_labels: ['__address__'], target_label: '__param_target' }, 'r1'),
      parseRelabelConfig({ target_label: '__address__', replacement: 'blackbox:9115' }, 'r2'),
      parseRelabelConfig({ target_label: '__metrics_path__', replacement: '/probe' }, 'r3'),
      parseRelabelConfig({ target_label: '__scheme__', replacement: 'https' }, 'r4'),
      parseRelabelConfig({ target_label: '__scrape_interval__', replacement: '30s' }, 'r5'),
      parseRelabelConfig({ source_labels: ['__param_target'], target_label: 'instance' }, 'r6'),
    ];
    const cfg = scrapeConfig({ staticConfigs: [{ targets: ['https://example.com', 'skip-me'], labels: {} }], relabelConfigs: rc, params: { module: ['http_2xx'] } });
    const { active, dropped } = buildTargets(cfg, staticGroups(cfg));
    expect(dropped).toHaveLength(1);
    expect(dropped[0]!.reason).toBe('relabeling');
    expect(active).toHaveLength(1);
    expect(active[0]!.url).toBe('https://blackbox:9115/probe?module=http_2xx&target=https%3A%2F%2Fexample.com');
    expect(labelsToObject(active[0]!.labels)).toEqual({ instance: 'https://example.com', job: 'job1' });
    expect(active[0]!.intervalMs).toBe(30_000);
  });

  it('invalid targets are dropped with a reason; duplicates merged', () => {
    const cfg = scrapeConfig({ staticConfigs: [{ targets: ['a/b', 'ok:1', 'ok:1'], labels: {} }] });
    const { active, dropped } = buildTargets(cfg, staticGroups(cfg));
    expect(active).toHaveLength(1);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]!.reason).toContain('not a valid hostname');
    const cfg2 = scrapeConfig({
      staticConfigs: [{ targets: ['x:1'], labels: {} }],
      relabelConfigs: [parseRelabelConfig({ target_label: '__scrape_timeout__', replacement: '1m' }, 'r')],
    });
    expect(buildTargets(cfg2, staticGroups(cfg2)).dropped[0]!.reason).toMatch(/greater than __scrape_interval__/);
  });

  it('target labels win over group labels; instance kept when set', () => {
    const cfg = scrapeConfig();
    const { active } = buildTargets(cfg, [
      { source: 's', targets: [[{ name: '__address__', value: 'h:1' }, { name: 'instance', value: 'custom' }, { name: 'zone', value: 't' }]], labels: [{ name: 'zone', value: 'g' }] },
    ]);
    expect(labelsToObject(active[0]!.labels)).toEqual({ instance: 'custom', job: 'job1', zone: 't' });
  });
});

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { RelabelConfig } from '../../src/config/types.js';
import { labelsFrom } from '../../src/model/labels.js';
import { AlertmanagerNotifier, alertmanagerURLs, encodeAlerts, makeNotifyFunc, toAmAlerts, type AlertmanagerNotifierOptions } from '../../src/notify/alertmanager.js';
import type { AmAlert, Notifier } from '../../src/notify/notifier.js';
import type { Alert } from '../../src/rules/rule.js';
import { amAlert, amConfig, fakeFetch, sentNames, type Answer } from './fake-am.js';

const live: Notifier[] = [];
afterEach(async () => {
  for (const n of live.splice(0)) await n.stop();
});

function notifier(opts: Partial<AlertmanagerNotifierOptions> & Pick<AlertmanagerNotifierOptions, 'fetch'>): { n: AlertmanagerNotifier; registry: Registry } {
  const registry = new Registry();
  const n = new AlertmanagerNotifier({ alertmanagers: [amConfig(['am1:9093'])], backoff: { initialMs: 1, maxMs: 4, random: () => 0 }, registry, ...opts });
  live.push(n);
  return { n, registry };
}

async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) throw new Error(`no metric ${name}`);
  const data = await m.get();
  const v = data.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val) && !('metricName' in x && String(x.metricName).endsWith('_bucket')));
  return v?.value ?? 0;
}

const relabelCfg = (c: Partial<RelabelConfig>): RelabelConfig => ({ sourceLabels: [], separator: ';', regex: '(.*)', modulus: 0, targetLabel: '', replacement: '$1', action: 'replace', ...c });

describe('alertmanagerURLs', () => {
  it('builds <scheme>://<target><path_prefix>/api/v2/alerts for every static target', () => {
    expect(alertmanagerURLs(amConfig(['a:9093', 'b:9093'], { pathPrefix: '/am/', scheme: 'https' }))).toEqual(['https://a:9093/am/api/v2/alerts', 'https://b:9093/am/api/v2/alerts']);
    expect(alertmanagerURLs(amConfig(['a:1'], { pathPrefix: 'x' }))).toEqual(['http://a:1/x/api/v2/alerts']);
    expect(alertmanagerURLs(amConfig(['a:1'], { pathPrefix: '/' }))).toEqual(['http://a:1/api/v2/alerts']);
  });
});

describe('toAmAlerts / makeNotifyFunc', () => {
  const base = (o: Partial<Alert>): Alert => ({
    labels: labelsFrom({ alertname: 'X', sev: 'page' }),
    annotations: labelsFrom({ summary: 's' }),
    state: 'firing',
    value: 1,
    activeAt: 1_000_000,
    firedAt: 1_060_000,
    resolvedAt: 0,
    lastSentAt: 0,
    validUntil: 1_300_000,
    keepFiringSince: 0,
    ...o,
  });

  it('startsAt = firedAt; endsAt = validUntil while firing, resolvedAt once resolved', () => {
    const [firing, resolved] = toAmAlerts([base({}), base({ state: 'inactive', resolvedAt: 1_200_000 })], (a) => `http://x/graph?${a.labels.length}`);
    expect(firing).toEqual({
      labels: { alertname: 'X', sev: 'page' },
      annotations: { summary: 's' },
      startsAt: new Date(1_060_000).toISOString(),
      endsAt: new Date(1_300_000).toISOString(),
      generatorURL: 'http://x/graph?2',
    });
    expect(resolved!.startsAt).toBe(new Date(1_060_000).toISOString());
    expect(resolved!.endsAt).toBe(new Date(1_200_000).toISOString());
  });

  it('omits unset times from the JSON body', () => {
    const [a] = toAmAlerts([base({ firedAt: 0, validUntil: 0 })], () => '');
    expect(JSON.parse(encodeAlerts([a!]))).toEqual([{ labels: { alertname: 'X', sev: 'page' }, annotations: { summary: 's' } }]);
  });

  it('makeNotifyFunc converts and enqueues', () => {
    const got: AmAlert[][] = [];
    const fake: Notifier = { send: (a) => void got.push([...a]), flush: async () => {}, stop: async () => {} };
    makeNotifyFunc(fake)([base({})], { generatorURL: () => 'u' });
    makeNotifyFunc(fake)([], { generatorURL: () => 'u' });
    expect(got).toHaveLength(1);
    expect(got[0]![0]!.generatorURL).toBe('u');
  });
});

describe('AlertmanagerNotifier', () => {
  it('POSTs JSON to every Alertmanager and counts sent alerts', async () => {
    const { fetch, calls } = fakeFetch();
    const { n, registry } = notifier({ fetch, alertmanagers: [amConfig(['am1:9093', 'am2:9093'], { pathPrefix: '/p' })] });
    n.send([amAlert('A'), amAlert('B')]);
    await n.flush(2000);
    expect(calls.map((c) => c.url).sort()).toEqual(['http://am1:9093/p/api/v2/alerts', 'http://am2:9093/p/api/v2/alerts']);
    expect(calls[0]!.headers['Content-Type']).toBe('application/json');
    expect(sentNames([calls[0]!])).toEqual(['A', 'B']);
    expect(await metric(registry, 'vigil_notifications_sent_total', { alertmanager: 'http://am1:9093/p/api/v2/alerts' })).toBe(2);
    expect(await metric(registry, 'vigil_notifications_alertmanagers_discovered')).toBe(2);
    expect(await metric(registry, 'vigil_notifications_queue_capacity')).toBe(10_000);
    expect(await metric(registry, 'vigil_notifications_queue_length')).toBe(0);
  });

  it('applies external labels (alert labels win) then alert_relabel_configs', async () => {
    const { fetch, calls } = fakeFetch();
    const { n } = notifier({
      fetch,
      externalLabels: { cluster: 'c1', env: 'ext' },
      alertRelabelConfigs: [
        relabelCfg({ action: 'drop', sourceLabels: ['alertname'], regex: 'Dropped' }),
        relabelCfg({ sourceLabels: ['env'], targetLabel: 'environment' }),
        relabelCfg({ action: 'labeldrop', regex: 'env' }),
      ],
    });
    n.send([amAlert('Kept', { env: 'alert' }), amAlert('Dropped'), amAlert('Other')]);
    await n.flush(2000);
    const bodies = calls.flatMap((c) => c.body as { labels: Record<string, string> }[]);
    expect(bodies.map((b) => b.labels)).toEqual([
      { alertname: 'Kept', cluster: 'c1', environment: 'alert' },
      { alertname: 'Other', cluster: 'c1', environment: 'ext' },
    ]);
  });

  it('batches up to batchSize alerts per POST, in order', async () => {
    const { fetch, calls } = fakeFetch();
    const { n } = notifier({ fetch, batchSize: 64 });
    const alerts = Array.from({ length: 150 }, (_, i) => amAlert(`a${i}`));
    n.send(alerts);
    await n.flush(2000);
    expect(calls.map((c) => (c.body as unknown[]).length)).toEqual([64, 64, 22]);
    expect(sentNames(calls)).toEqual(alerts.map((a) => a.labels.alertname));
  });

  it('retries failed batches with backoff, keeping order, until an Alertmanager accepts', async () => {
    const script: Answer[] = [500, 'network', 503, 200, 200];
    const { fetch, calls } = fakeFetch((i) => script[i] ?? 200);
    const { n, registry } = notifier({ fetch, batchSize: 2 });
    n.send([amAlert('a0'), amAlert('a1'), amAlert('a2')]);
    await n.flush(2000);
    expect(n.queueLength).toBe(0);
    // The first batch is tried four times, then the second one once.
    expect(calls.map((c) => sentNames([c]).join(','))).toEqual(['a0,a1', 'a0,a1', 'a0,a1', 'a0,a1', 'a2']);
    expect(await metric(registry, 'vigil_notifications_errors_total', { alertmanager: 'http://am1:9093/api/v2/alerts' })).toBe(6);
    expect(await metric(registry, 'vigil_notifications_sent_total', { alertmanager: 'http://am1:9093/api/v2/alerts' })).toBe(3);
  });

  it('counts a batch as delivered when at least one Alertmanager accepted it', async () => {
    const { fetch, calls } = fakeFetch((_i, url) => (url.includes('bad') ? 500 : 200));
    const { n, registry } = notifier({ fetch, alertmanagers: [amConfig(['bad:1', 'good:1'])] });
    n.send([amAlert('A')]);
    await n.flush(2000);
    expect(calls).toHaveLength(2); // no retry
    expect(await metric(registry, 'vigil_notifications_errors_total', { alertmanager: 'http://bad:1/api/v2/alerts' })).toBe(1);
  });

  it('drops a batch every Alertmanager rejects as invalid (4xx) instead of retrying forever', async () => {
    const { fetch, calls } = fakeFetch((i) => (i === 0 ? 422 : 200));
    const { n, registry } = notifier({ fetch, batchSize: 1 });
    n.send([amAlert('bad'), amAlert('good')]);
    await n.flush(2000);
    expect(sentNames(calls)).toEqual(['bad', 'good']);
    expect(await metric(registry, 'vigil_notifications_dropped_total')).toBe(1);
  });

  it('bounded queue: on overflow the OLDEST alerts are dropped and counted', async () => {
    let release!: (s: number) => void;
    const gate = new Promise<number>((r) => (release = r));
    const { fetch, calls } = fakeFetch((i) => (i === 0 ? gate : 200));
    const { n, registry } = notifier({ fetch, queueCapacity: 5, batchSize: 3 });
    n.send([amAlert('a0'), amAlert('a1'), amAlert('a2')]);
    await new Promise((r) => setTimeout(r, 20)); // first batch is in flight
    n.send(Array.from({ length: 7 }, (_, i) => amAlert(`a${i + 3}`)));
    expect(n.queueLength).toBe(5);
    expect(await metric(registry, 'vigil_notifications_dropped_total')).toBe(5);
    expect(await metric(registry, 'vigil_notifications_queue_length')).toBe(5);
    release(200);
    await n.flush(2000);
    // The in-flight batch was delivered; then only the newest five remain to send.
    expect(sentNames(calls)).toEqual(['a0', 'a1', 'a2', 'a5', 'a6', 'a7', 'a8', 'a9']);
  });

  it('honours the per-Alertmanager timeout and retries after it', async () => {
    const { fetch, calls } = fakeFetch((i) => (i === 0 ? 'hang' : 200));
    const { n, registry } = notifier({ fetch, alertmanagers: [amConfig(['slow:1'], { timeout: 50 })] });
    const t0 = Date.now();
    n.send([amAlert('A')]);
    await n.flush(3000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(45);
    expect(calls).toHaveLength(2);
    expect(await metric(registry, 'vigil_notifications_errors_total', { alertmanager: 'http://slow:1/api/v2/alerts' })).toBe(1);
  });

  it('sends basic auth (password file read at send time) and bearer tokens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vigil-notify-'));
    try {
      const pwFile = join(dir, 'pw');
      writeFileSync(pwFile, 'first\n');
      const { fetch, calls } = fakeFetch();
      const { n } = notifier({
        fetch,
        alertmanagers: [amConfig(['basic:1'], { basicAuth: { username: 'u', passwordFile: pwFile } }), amConfig(['bearer:1'], { bearerToken: 'tok' })],
      });
      n.send([amAlert('A')]);
      await n.flush(2000);
      writeFileSync(pwFile, 'second');
      n.send([amAlert('B')]);
      await n.flush(2000);
      const auth = (host: string): (string | undefined)[] => calls.filter((c) => c.url.includes(host)).map((c) => c.headers.Authorization);
      const b64 = (s: string): string => Buffer.from(s).toString('base64');
      expect(auth('basic')).toEqual([`Basic ${b64('u:first')}`, `Basic ${b64('u:second')}`]);
      expect(auth('bearer')).toEqual(['Bearer tok', 'Bearer tok']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stop() aborts an in-flight POST and later sends are ignored', async () => {
    const { fetch, calls } = fakeFetch(() => 'hang');
    const { n } = notifier({ fetch, alertmanagers: [amConfig(['x:1'], { timeout: 60_000 })] });
    n.send([amAlert('A')]);
    await new Promise((r) => setTimeout(r, 10));
    const t0 = Date.now();
    await n.stop();
    expect(Date.now() - t0).toBeLessThan(1000);
    n.send([amAlert('B')]);
    expect(calls).toHaveLength(1);
  });

  it('does nothing without Alertmanagers', async () => {
    const { fetch, calls } = fakeFetch();
    const { n } = notifier({ fetch, alertmanagers: [] });
    n.send([amAlert('A')]);
    await n.flush(100);
    expect(n.queueLength).toBe(0);
    expect(calls).toHaveLength(0);
  });
});

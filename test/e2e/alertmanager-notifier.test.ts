/**
 * The notifier against a real Alertmanager 0.25: alerts read back from `GET /api/v2/alerts`
 * (labels incl. external labels, annotations, startsAt, generatorURL, status), resolved alerts
 * disappear, and an Alertmanager outage loses no alert (queued and retried until it is back on
 * the same port).
 */
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertmanagerNotifier } from '../../src/notify/alertmanager.js';
import type { AmAlert } from '../../src/notify/notifier.js';
import { havePeer, rmTemp, startAlertmanager, type Peer } from './peers.js';

const HAVE = havePeer('prometheus-alertmanager');

const AM_CONFIG = `
route:
  receiver: blackhole
  group_wait: 1h
receivers:
  - name: blackhole
`;

interface GettableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  status: { state: string };
}

async function amAlerts(am: Peer): Promise<GettableAlert[]> {
  const r = await fetch(`${am.url}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) });
  if (!r.ok) throw new Error(`GET /api/v2/alerts: ${r.status}`);
  return (await r.json()) as GettableAlert[];
}

async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let v = await fn();
  while (!ok(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    v = await fn();
  }
  return v;
}

const iso = (ms: number): string => new Date(ms).toISOString();

describe.skipIf(!HAVE)('notifier → real Alertmanager 0.25', () => {
  let am: Peer;
  let notifier: AlertmanagerNotifier;
  const registry = new Registry();

  beforeAll(async () => {
    am = await startAlertmanager(AM_CONFIG);
    notifier = new AlertmanagerNotifier({
      alertmanagers: [{ scheme: 'http', pathPrefix: '/', timeout: 2000, apiVersion: 'v2', staticConfigs: [{ targets: [`127.0.0.1:${am.port}`], labels: {} }] }],
      alertRelabelConfigs: [],
      externalLabels: { cluster: 'e2e', severity: 'ext' },
      backoff: { initialMs: 50, maxMs: 500 },
      registry,
    });
  }, 60_000);

  afterAll(async () => {
    await notifier?.stop();
    await am?.stop();
    if (am) rmTemp(am.dir);
  });

  it('alerts arrive with labels, annotations, startsAt and generatorURL; resolved ones disappear', async () => {
    const now = Date.now();
    const firing: AmAlert = {
      labels: { alertname: 'E2EFiring', instance: 'host:9100', severity: 'critical' },
      annotations: { summary: 'load is high', description: 'quote " and unicode ✓' },
      startsAt: iso(now - 60_000),
      endsAt: iso(now + 300_000),
      generatorURL: 'http://vigil.example:9090/graph?g0.expr=up%3D%3D0&g0.tab=1',
    };
    const toResolve: AmAlert = { ...firing, labels: { alertname: 'E2EResolved', instance: 'host:9100' } };
    notifier.send([firing, toResolve]);
    await notifier.flush(10_000);
    const got = await until(amAlerts.bind(null, am), (as) => as.length >= 2);
    const f = got.find((a) => a.labels.alertname === 'E2EFiring')!;
    expect(f.labels).toEqual({ alertname: 'E2EFiring', instance: 'host:9100', severity: 'critical', cluster: 'e2e' });
    expect(f.annotations).toEqual(firing.annotations);
    expect(Date.parse(f.startsAt)).toBe(now - 60_000);
    expect(Date.parse(f.endsAt)).toBe(now + 300_000);
    expect(f.generatorURL).toBe(firing.generatorURL);
    expect(f.status.state).toBe('active');
    expect(got.find((a) => a.labels.alertname === 'E2EResolved')!.labels.severity).toBe('ext');

    // Resolve: endsAt in the past.
    notifier.send([{ ...toResolve, endsAt: iso(Date.now() - 1000) }]);
    await notifier.flush(10_000);
    const after = await until(amAlerts.bind(null, am), (as) => !as.some((a) => a.labels.alertname === 'E2EResolved'));
    expect(after.map((a) => a.labels.alertname)).toEqual(['E2EFiring']);
  }, 30_000);

  it('an Alertmanager outage loses no alert: queued, retried, delivered after restart on the same port', async () => {
    await am.stop();
    const now = Date.now();
    const alerts: AmAlert[] = Array.from({ length: 150 }, (_, i) => ({
      labels: { alertname: 'Outage', n: String(i).padStart(3, '0') },
      annotations: {},
      startsAt: iso(now),
      endsAt: iso(now + 600_000),
      generatorURL: '',
    }));
    notifier.send(alerts.slice(0, 100));
    await new Promise((r) => setTimeout(r, 700));
    notifier.send(alerts.slice(100));
    expect(notifier.queueLength).toBe(150);
    const errs = await registry.getSingleMetric('vigil_notifications_errors_total')!.get();
    expect(errs.values.reduce((s, v) => s + v.value, 0)).toBeGreaterThan(0);

    am = await startAlertmanager(AM_CONFIG, { port: am.port, dir: am.dir });
    await notifier.flush(20_000);
    expect(notifier.queueLength).toBe(0);
    const got = await until(amAlerts.bind(null, am), (as) => as.filter((a) => a.labels.alertname === 'Outage').length >= 150);
    const names = got.filter((a) => a.labels.alertname === 'Outage').map((a) => a.labels.n!);
    expect(names.sort()).toEqual(alerts.map((a) => a.labels.n!));
    const dropped = await registry.getSingleMetric('vigil_notifications_dropped_total')!.get();
    expect(dropped.values[0]?.value ?? 0).toBe(0);
  }, 60_000);
});

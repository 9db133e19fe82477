/**
 * The shipped `manifests/alertmanager/alertmanager.yml` in a real Alertmanager 0.25: `amtool
 * check-config` accepts it; with its receivers rewritten to local webhook servers (and short
 * timers), critical goes to the PagerDuty receiver, the warning of the same alertname/instance
 * is inhibited, info goes to the email receiver and an alert without severity to the fallback.
 * Alerts are sent by vigil's notifier.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { AlertmanagerNotifier } from '../../src/notify/alertmanager.js';
import type { AmAlert } from '../../src/notify/notifier.js';
import { havePeer, REPO_ROOT, rmTemp, startAlertmanager, type Peer } from './peers.js';

const HAVE = havePeer('prometheus-alertmanager') && havePeer('amtool');
const SHIPPED = join(REPO_ROOT, 'manifests/alertmanager/alertmanager.yml');

interface Route {
  receiver?: string;
  group_wait?: string;
  group_interval?: string;
  repeat_interval?: string;
  routes?: Route[];
}
interface AmConfig {
  route: Route;
  receivers: { name: string }[];
  inhibit_rules: unknown[];
  global?: Record<string, unknown>;
}

/** Receiver name → alertnames+severity it got, from webhook payloads. */
type Received = Map<string, { alertname: string; severity: string; status: string }[]>;

/** Short timers everywhere (children inherit unset ones from the root). */
function shortTimers(r: Route, root = true): void {
  if (root || r.group_wait !== undefined) r.group_wait = '300ms';
  if (root || r.group_interval !== undefined) r.group_interval = '1s';
  if (root || r.repeat_interval !== undefined) r.repeat_interval = '1h';
  for (const c of r.routes ?? []) shortTimers(c, false);
}

describe.skipIf(!HAVE)('shipped Alertmanager routes (real Alertmanager 0.25)', () => {
  const received: Received = new Map();
  let hook: http.Server;
  let am: Peer;
  let names: string[] = [];

  beforeAll(async () => {
    hook = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const receiver = decodeURIComponent((req.url ?? '/').slice(1));
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { alerts: { labels: Record<string, string>; status: string }[] };
        const list = received.get(receiver) ?? [];
        for (const a of body.alerts) list.push({ alertname: a.labels.alertname ?? '', severity: a.labels.severity ?? '', status: a.status });
        received.set(receiver, list);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    const port = (hook.address() as AddressInfo).port;

    const cfg = parse(readFileSync(SHIPPED, 'utf8')) as AmConfig;
    names = cfg.receivers.map((r) => r.name);
    cfg.receivers = names.map((name) => ({ name, webhook_configs: [{ url: `http://127.0.0.1:${port}/${encodeURIComponent(name)}`, send_resolved: false }] }));
    shortTimers(cfg.route);
    am = await startAlertmanager(stringify(cfg));
  }, 60_000);

  afterAll(async () => {
    await am?.stop();
    if (am) rmTemp(am.dir);
    hook?.close();
  });

  it('amtool check-config accepts the shipped file, the binary starts with it unmodified, no inline secrets', async () => {
    const r = spawnSync('amtool', ['check-config', SHIPPED], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toContain('SUCCESS');
    expect(r.status).toBe(0);
    const text = readFileSync(SHIPPED, 'utf8');
    expect(text).not.toMatch(/^\s*(routing_key|service_key|api_url|auth_password|smtp_auth_password|credentials|password|bearer_token)\s*:/m);
    expect(names).toEqual(expect.arrayContaining(['pagerduty-critical', 'slack-warning', 'email-info', 'fallback-webhook']));
    const plain = await startAlertmanager(text); // resolves once /-/ready answers
    expect(plain.output()).toContain('Completed loading of configuration file');
    await plain.stop();
    rmTemp(plain.dir);
  }, 30_000);

  it('routes by severity, inhibits the warning of a critical problem, falls back for no severity', async () => {
    const notifier = new AlertmanagerNotifier({
      alertmanagers: [{ scheme: 'http', pathPrefix: '', timeout: 2000, apiVersion: 'v2', staticConfigs: [{ targets: [`127.0.0.1:${am.port}`], labels: {} }] }],
    });
    const now = Date.now();
    const alert = (alertname: string, labels: Record<string, string>): AmAlert => ({
      labels: { alertname, namespace: 'prod', instance: 'node-1:9100', ...labels },
      annotations: { summary: alertname },
      startsAt: new Date(now).toISOString(),
      endsAt: new Date(now + 600_000).toISOString(),
      generatorURL: 'http://vigil/graph',
    });
    try {
      notifier.send([
        alert('DiskFilling', { severity: 'critical' }),
        alert('DiskFilling', { severity: 'warning' }),
        alert('OtherWarning', { severity: 'warning', instance: 'node-2:9100' }),
        alert('Heads-up', { severity: 'info' }),
        alert('Unrouted', {}),
      ]);
      await notifier.flush(10_000);
    } finally {
      await notifier.stop();
    }
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline && [...received.values()].flat().length < 4) await new Promise((r) => setTimeout(r, 100));
    await new Promise((r) => setTimeout(r, 1500)); // anything inhibited wrongly would show up by now
    const got = (name: string): string[] => (received.get(name) ?? []).map((a) => `${a.alertname}/${a.severity}`).sort();
    expect(got('pagerduty-critical')).toEqual(['DiskFilling/critical']);
    expect(got('slack-warning')).toEqual(['OtherWarning/warning']);
    expect(got('email-info')).toEqual(['Heads-up/info']);
    expect(got('fallback-webhook')).toEqual(['Unrouted/']);

    // Alertmanager itself reports the warning as suppressed by the critical alert.
    const r = await fetch(`${am.url}/api/v2/alerts`, { signal: AbortSignal.timeout(5000) });
    const all = (await r.json()) as { labels: Record<string, string>; status: { state: string; inhibitedBy: string[] } }[];
    const warn = all.find((a) => a.labels.alertname === 'DiskFilling' && a.labels.severity === 'warning')!;
    expect(warn.status.state).toBe('suppressed');
    expect(warn.status.inhibitedBy).toHaveLength(1);
  }, 40_000);
});

/**
 * The whole alerting path with real peers: real Prometheus 2.42 scrapes an app and
 * remote-writes into vigil; a vigil rule fires; real Alertmanager 0.25 (with the shipped
 * route config, receivers pointed at a local webhook) receives it and routes it by severity;
 * the alert resolves when the data recovers. Then vigil is killed with SIGKILL while an alert
 * with `for` is firing: after the restart it is firing again with the same activeAt.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { apiGet, freePort, havePeer, REPO_ROOT, rmTemp, startAlertmanager, startPrometheus, startVigil, type Peer } from './peers.js';

const HAVE = havePeer('prometheus') && havePeer('prometheus-alertmanager');

interface Hooked {
  receiver: string;
  status: string;
  alertname: string;
}
type ApiAlert = { labels: Record<string, string>; state: string; activeAt: string };

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe.skipIf(!HAVE)('Prometheus → vigil rules → Alertmanager → webhook', () => {
  const hooked: Hooked[] = [];
  let appValue = 0;
  let hook: http.Server;
  let target: http.Server;
  let am: Peer;
  let prom: Peer;
  let vigil: Peer & { storageDir: string };
  let vigil2: (Peer & { storageDir: string }) | undefined;
  let vigilConfig = '';
  let vigilPort = 0;

  beforeAll(async () => {
    hook = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { receiver: string; alerts: { labels: Record<string, string>; status: string }[] };
        for (const a of body.alerts) hooked.push({ receiver: body.receiver, status: a.status, alertname: a.labels.alertname ?? '' });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    target = http.createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/plain; version=0.0.4');
      res.end(`# TYPE app_errors gauge\napp_errors{service="checkout"} ${appValue}\n`);
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));

    // The shipped routes, receivers pointed at the local webhook, short timers.
    const cfg = parse(readFileSync(join(REPO_ROOT, 'manifests/alertmanager/alertmanager.yml'), 'utf8')) as {
      route: Record<string, unknown>;
      receivers: { name: string }[];
    };
    const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/`;
    cfg.receivers = cfg.receivers.map((r) => ({ name: r.name, webhook_configs: [{ url: hookUrl, send_resolved: true }] }));
    Object.assign(cfg.route, { group_wait: '200ms', group_interval: '500ms', repeat_interval: '1h' });
    const strip = (r: Record<string, unknown>): void => {
      delete r.group_wait;
      delete r.group_interval;
      for (const c of (r.routes as Record<string, unknown>[] | undefined) ?? []) strip(c);
    };
    for (const c of (cfg.route.routes as Record<string, unknown>[] | undefined) ?? []) strip(c);
    am = await startAlertmanager(stringify(cfg));

    vigilPort = await freePort();
    vigilConfig = `
global: { evaluation_interval: 1s }
rule_files: [rules.yml]
alerting:
  alertmanagers: [{ static_configs: [{ targets: ['127.0.0.1:${am.port}'] }] }]
`;
    vigil = await startVigil({
      config: vigilConfig,
      port: vigilPort,
      files: {
        'rules.yml': `
groups:
- name: app
  interval: 1s
  rules:
  - alert: AppErrorsHigh
    expr: app_errors > 5
    labels: { severity: critical }
    annotations: { summary: "{{ $labels.service }} has {{ $value }} errors" }
  - alert: AppErrorsSustained
    expr: app_errors > 5
    for: 3s
    labels: { severity: warning }
`,
      },
      extraArgs: ['--rules.alert.for-grace-period=1s', '--rules.alert.resend-delay=1s'],
    });
    prom = await startPrometheus(`
global: { scrape_interval: 500ms, scrape_timeout: 400ms }
scrape_configs:
  - job_name: app
    static_configs: [{ targets: ['127.0.0.1:${(target.address() as AddressInfo).port}'] }]
remote_write:
  - url: ${vigil.url}/api/v1/write
    queue_config: { batch_send_deadline: 200ms }
`);
  }, 90_000);

  afterAll(async () => {
    for (const p of [prom, am, vigil, vigil2]) if (p) await p.stop();
    for (const p of [prom, am, vigil]) if (p) rmTemp(p.dir);
    hook?.close();
    target?.close();
  });

  it('fires, routes by severity, resolves', async () => {
    await until('vigil to receive app_errors', async () => {
      const d = await apiGet<{ result: unknown[] }>(vigil.url, `/api/v1/query?query=app_errors`);
      return d.result.length ? true : undefined;
    });
    appValue = 42;
    // Alertmanager holds it, and the webhook got it through the critical route.
    const inAm = await until('the alert in Alertmanager', async () => {
      const alerts = (await (await fetch(`${am.url}/api/v2/alerts`)).json()) as { labels: Record<string, string>; annotations: Record<string, string>; generatorURL: string }[];
      return alerts.find((a) => a.labels.alertname === 'AppErrorsHigh');
    });
    expect(inAm.labels).toMatchObject({ service: 'checkout', severity: 'critical', job: 'app' });
    expect(inAm.annotations.summary).toBe('checkout has 42 errors');
    expect(inAm.generatorURL).toContain('/graph?g0.expr=');
    await until('webhook: firing AppErrorsHigh via the critical receiver', async () =>
      hooked.find((h) => h.alertname === 'AppErrorsHigh' && h.status === 'firing' && /pager|critical/i.test(h.receiver)),
    );
    // The sustained (for: 3s) alert fires after its hold time and goes to the warning receiver.
    const sustained = await until('AppErrorsSustained firing in vigil', async () => {
      const d = await apiGet<{ alerts: ApiAlert[] }>(vigil.url, '/api/v1/alerts');
      return d.alerts.find((a) => a.labels.alertname === 'AppErrorsSustained' && a.state === 'firing');
    });

    // SIGKILL and restart on the same storage: still firing with the same activeAt.
    await vigil.kill();
    vigil2 = await startVigil({ config: vigilConfig, port: vigilPort, storageDir: vigil.storageDir, files: { 'rules.yml': readFileSync(join(vigil.dir, 'rules.yml'), 'utf8') }, extraArgs: ['--rules.alert.for-grace-period=1s', '--rules.alert.resend-delay=1s'] });
    const after = await until('AppErrorsSustained firing after restart', async () => {
      const d = await apiGet<{ alerts: ApiAlert[] }>(vigil2!.url, '/api/v1/alerts');
      return d.alerts.find((a) => a.labels.alertname === 'AppErrorsSustained' && a.state === 'firing');
    });
    if (after.activeAt !== sustained.activeAt) {
      console.log(vigil2.output().slice(-4000));
      console.log(JSON.stringify(await apiGet(vigil2.url, `/api/v1/query?query=${encodeURIComponent("ALERTS_FOR_STATE[10m]")}`)));
    }
    expect(after.activeAt).toBe(sustained.activeAt);

    // Recovery: both alerts resolve and the webhook is told so.
    appValue = 0;
    await until('webhook: resolved AppErrorsHigh', async () => hooked.find((h) => h.alertname === 'AppErrorsHigh' && h.status === 'resolved'));
    await until('no active alerts in vigil', async () => {
      const d = await apiGet<{ alerts: ApiAlert[] }>(vigil2!.url, '/api/v1/alerts');
      return d.alerts.filter((a) => a.state !== 'inactive').length === 0 ? true : undefined;
    });
  }, 120_000);
});

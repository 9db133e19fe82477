/**
 * e2e: two real Prometheus 2.42 instances remote-write to vigil as two tenants; each tenant
 * owns a rule group and an Alertmanager 0.25. Each tenant's rules fire only on its own data,
 * and each Alertmanager receives only its own tenant's alerts.
 *
 * Measured: Debian's Prometheus 2.42.0+ds does not send the `headers:` of a remote_write
 * config (a capture shows only the protocol headers), so the tenant of each Prometheus is
 * carried by its `authorization` credential (bound to the tenant in vigil's web config file);
 * the `headers: {X-Scope-OrgID: ...}` stay in the config for senders that do send them.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashSecret } from '../../src/tenancy/secrets.js';
import { havePeer, makeTemp, rmTemp, startAlertmanager, startPrometheus, startVigil, type Peer } from './peers.js';

const enabled = havePeer('prometheus') && havePeer('prometheus-alertmanager');
const AM_CONFIG = 'route: {receiver: "none", group_wait: 0s}\nreceivers: [{name: "none"}]\n';
const peers: Peer[] = [];
let vigil: Peer;
const am: Record<string, Peer> = {};
const token = (t: string) => `e2e-token-${t}`;
const auth = (t: string) => ({ Authorization: `Bearer ${token(t)}` });
let webDir: string;

const RULES = (t: string, other: string) => `  - name: own-${t}
    tenant: team-${t}
    interval: 1s
    rules:
      - alert: PromUp_${t}
        expr: up{job="prom-${t}"} == 1
      - alert: SeesOther_${t}
        expr: up{job="prom-${other}"} == 1
`;

beforeAll(async () => {
  if (!enabled) return;
  for (const t of ['a', 'b']) {
    am[t] = await startAlertmanager(AM_CONFIG);
    peers.push(am[t]!);
  }
  webDir = makeTemp('webcfg');
  const cost = { N: 1024, r: 8, p: 1 };
  writeFileSync(
    join(webDir, 'web.yml'),
    `credentials:\n  - {tenant: team-a, bearer_token_hash: "${await hashSecret(token('a'), cost)}"}\n  - {tenant: team-b, bearer_token_hash: "${await hashSecret(token('b'), cost)}"}\n`,
  );
  const amCfg = (t: string) => `{alerting: {alertmanagers: [{static_configs: [{targets: ["127.0.0.1:${am[t]!.port}"]}]}]}}`;
  vigil = await startVigil({
    config: `rule_files: [rules.yml]\ntenancy:\n  required: true\n  tenants:\n    team-a: ${amCfg('a')}\n    team-b: ${amCfg('b')}\n`,
    files: { 'rules.yml': `groups:\n${RULES('a', 'b')}${RULES('b', 'a')}` },
    extraArgs: ['--rules.alert.resend-delay=1s', `--web.config.file=${join(webDir, 'web.yml')}`],
  });
  peers.push(vigil);
  for (const t of ['a', 'b']) {
    const p = await startPrometheus(`global: {scrape_interval: 1s}
scrape_configs:
  - job_name: prom-${t}
    static_configs: [{targets: ["PLACEHOLDER"]}]
remote_write:
  - url: ${vigil.url}/api/v1/write
    headers: {X-Scope-OrgID: team-${t}}
    authorization: {credentials: ${token(t)}}
    queue_config: {batch_send_deadline: 1s}
`.replace('PLACEHOLDER', '127.0.0.1:9'), []);
    peers.push(p);
    // scrape itself: rewrite the target to its own port and reload
    writeFileSync(join(p.dir, 'prometheus.yml'), `global: {scrape_interval: 1s}
scrape_configs:
  - job_name: prom-${t}
    static_configs: [{targets: ["127.0.0.1:${p.port}"]}]
remote_write:
  - url: ${vigil.url}/api/v1/write
    headers: {X-Scope-OrgID: team-${t}}
    authorization: {credentials: ${token(t)}}
    queue_config: {batch_send_deadline: 1s}
`);
    await fetch(`${p.url}/-/reload`, { method: 'POST' });
  }
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(peers.reverse().map((p) => p.stop()));
  if (webDir) rmTemp(webDir);
});

async function amAlerts(t: string): Promise<string[]> {
  const r = await fetch(`${am[t]!.url}/api/v2/alerts`);
  return ((await r.json()) as { labels: { alertname: string } }[]).map((a) => a.labels.alertname).sort();
}

describe.skipIf(!enabled)('two Prometheus tenants, two Alertmanagers', () => {
  it('each tenant\'s rules fire on its own data only and reach only its Alertmanager', async () => {
    const deadline = Date.now() + 60_000;
    let a: string[] = [];
    let b: string[] = [];
    while (Date.now() < deadline) {
      a = await amAlerts('a');
      b = await amAlerts('b');
      if (a.includes('PromUp_a') && b.includes('PromUp_b')) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    if (!a.includes('PromUp_a')) {
      for (const path of ['/api/v1/alerts', '/api/v1/label/job/values', '/api/v1/rules']) console.log(path, await (await fetch(vigil.url + path, { headers: auth('a') })).text());
      for (const p of peers) if (p !== vigil) console.log('PEER', p.output().split('\n').filter((l) => /error|warn|reload/i.test(l)).slice(-8).join('\n'));
    }
    expect(a).toEqual(['PromUp_a']);
    expect(b).toEqual(['PromUp_b']);
    // the rules that select the other tenant's job never fire
    for (const t of ['a', 'b']) {
      const r = (await (await fetch(`${vigil.url}/api/v1/alerts`, { headers: auth(t) })).json()) as { data: { alerts: { labels: { alertname: string } }[] } };
      expect(r.data.alerts.map((x) => x.labels.alertname)).toEqual([`PromUp_${t}`]);
    }
    // without credentials the request is refused; a tenant credential cannot name the other tenant
    expect((await fetch(`${vigil.url}/api/v1/alerts`)).status).toBe(401);
    expect((await fetch(`${vigil.url}/api/v1/alerts`, { headers: { ...auth('a'), 'X-Scope-OrgID': 'team-b' } })).status).toBe(403);
  }, 90_000);
});

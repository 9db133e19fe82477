/**
 * Isolation matrix: three tenants write data with colliding metric names and unique markers,
 * each owns a rule group (recording + alerting rule). For every read endpoint × every ordered
 * pair (A, B) of tenants, nothing of B is visible to A — not via `{__name__=~".+"}`, label
 * listings, metadata, rules, alerts, /metrics, targets, nor in error messages — while A's own
 * data is (positive control, so the test can fail).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { getAs, remoteWrite, waitFor, writeBody } from './helpers.js';

const TENANTS = ['alpha', 'bravo', 'charlie'] as const;
const marker = (t: string): string => `zz${t}zz`;
let dir: string;
let app: App;
const now = Date.now();

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-iso-'));
  const rules = TENANTS.map(
    (t) => `  - name: g_${marker(t)}
    tenant: ${t}
    interval: 1s
    rules:
      - record: rec_${marker(t)}
        expr: sum(shared_metric)
      - alert: Alert_${marker(t)}
        expr: shared_metric > 0
        labels: { note: ${marker(t)} }
        annotations: { summary: "{{ $labels.owner }} {{ with query \\"count({__name__=~'.+'})\\" }}{{ . | first | value }}{{ end }}" }
`,
  ).join('');
  await writeFile(path.join(dir, 'rules.yml'), `groups:\n${rules}`);
  await writeFile(
    path.join(dir, 'vigil.yml'),
    `rule_files: [rules.yml]
tenancy:
  tenants: { alpha: {}, bravo: {}, charlie: {} }
`,
  );
  app = await startApp({ configFile: path.join(dir, 'vigil.yml'), listenAddress: '127.0.0.1:0', storagePath: path.join(dir, 'data'), walFsync: 'never', registry: new Registry() });
  for (const t of TENANTS) {
    const body = writeBody(
      [
        { labels: { __name__: 'shared_metric', owner: marker(t), job: 'j' }, points: [[now - 5000, 1]] },
        { labels: { __name__: `only_${marker(t)}`, [`label_${marker(t)}`]: 'x' }, points: [[now - 5000, 2]] },
      ],
      [{ metricFamilyName: `only_${marker(t)}`, type: 'gauge', help: `help ${marker(t)}` }],
    );
    expect((await remoteWrite(app.url, body, t)).status).toBe(204);
  }
  // Wait until each tenant's alert fires (rules ran on its data).
  for (const t of TENANTS) {
    const ok = await waitFor(async () => (await getAs(app.url, '/api/v1/alerts', t)).text.includes(`Alert_${marker(t)}`), 10_000);
    expect(ok).toBe(true);
  }
}, 60_000);

afterAll(async () => {
  await app?.stop();
  await rm(dir, { recursive: true, force: true });
});

const q = encodeURIComponent;
const ENDPOINTS: readonly { name: string; path: (a: string, b: string) => string; ownVisible: boolean }[] = [
  { name: 'query {__name__=~".+"}', path: () => `/api/v1/query?query=${q('{__name__=~".+"}')}`, ownVisible: true },
  { name: 'query by other tenant name', path: (_a, b) => `/api/v1/query?query=${q(`{owner="${marker(b)}"} or only_${marker(b)}`)}`, ownVisible: false },
  { name: 'query error message', path: () => `/api/v1/query?query=${q('{__name__=~".+"} + on() group_left {__name__=~".+"}')}`, ownVisible: true },
  { name: 'query_range', path: () => `/api/v1/query_range?query=${q('{__name__=~".+"}')}&start=${(now - 60_000) / 1000}&end=${(now + 5000) / 1000}&step=5`, ownVisible: true },
  { name: 'series', path: () => `/api/v1/series?match[]=${q('{__name__=~".+"}')}`, ownVisible: true },
  { name: 'series by other owner', path: (_a, b) => `/api/v1/series?match[]=${q(`{owner=~".*${marker(b)}.*"}`)}`, ownVisible: false },
  { name: 'labels', path: () => '/api/v1/labels', ownVisible: true },
  { name: 'label values __name__', path: () => '/api/v1/label/__name__/values', ownVisible: true },
  { name: 'label values owner', path: () => '/api/v1/label/owner/values', ownVisible: true },
  { name: 'metadata', path: () => '/api/v1/metadata', ownVisible: true },
  { name: 'rules', path: () => '/api/v1/rules', ownVisible: true },
  { name: 'alerts', path: () => '/api/v1/alerts', ownVisible: true },
  { name: '/metrics', path: () => '/metrics', ownVisible: true },
  { name: 'targets', path: () => '/api/v1/targets', ownVisible: false },
  { name: 'status/config', path: () => '/api/v1/status/config', ownVisible: false },
];

describe('isolation matrix', () => {
  const pairs = TENANTS.flatMap((a) => TENANTS.filter((b) => b !== a).map((b) => [a, b] as const));
  for (const e of ENDPOINTS) {
    it(`${e.name}: nothing of B visible to A for every ordered pair`, async () => {
      for (const [a, b] of pairs) {
        const r = await getAs(app.url, e.path(a, b), a);
        expect(r.text, `${e.name} as ${a} leaks ${b}`).not.toContain(marker(b));
        if (e.ownVisible) expect(r.text, `${e.name} as ${a} shows its own data`).toContain(marker(a));
      }
    });
  }

  it('recording-rule output of a tenant is computed from its own data only', async () => {
    for (const t of TENANTS) {
      const r = JSON.parse((await getAs(app.url, `/api/v1/query?query=${q(`rec_${marker(t)}`)}`, t)).text) as { data: { result: { value: [number, string] }[] } };
      expect(r.data.result.map((x) => x.value[1])).toEqual(['1']); // one shared_metric series per tenant, not 3
    }
  });

  it('the alert annotation template query sees only the tenant\'s series', async () => {
    for (const t of TENANTS) {
      const r = JSON.parse((await getAs(app.url, '/api/v1/alerts', t)).text) as { data: { alerts: { annotations: { summary: string } }[] } };
      // shared_metric, only_<t>, rec_<t>, ALERTS, ALERTS_FOR_STATE at most — never the 3 tenants' 6+ series.
      const n = Number(r.data.alerts[0]!.annotations.summary.split(' ')[1]);
      expect(n).toBeGreaterThanOrEqual(2);
      expect(n).toBeLessThanOrEqual(5);
    }
  });

  it('an admin-less default tenant sees none of the named tenants', async () => {
    for (const p of ['/api/v1/series?match[]=' + q('{__name__=~".+"}'), '/api/v1/labels', '/api/v1/rules', '/api/v1/alerts', '/metrics']) {
      const r = await getAs(app.url, p);
      for (const t of TENANTS) expect(r.text).not.toContain(marker(t));
    }
  });

  it('refuses invalid tenant ids without echoing them', async () => {
    for (const bad of ['..', 'a/b', 'x'.repeat(151), 'a b']) {
      const r = await getAs(app.url, '/api/v1/labels', bad);
      expect(r.status).toBe(400);
      expect(r.text).not.toContain('x'.repeat(60));
    }
  });
});

/**
 * Per-tenant limits through the real app: ingestion rate (429 + Retry-After), max active
 * series and series per metric (400 naming the limit), label limits, query limits, rule
 * limits, hot reload of limits, and the vigil_tenant_* metrics.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApp, type App } from '../../src/app.js';
import { getAs, remoteWrite, writeBody } from './helpers.js';

let dir: string;
let cfgFile: string;
let app: App;
const now = Date.now();

const config = (extra = '') => `tenancy:
  max_tenants: 9
limits:
  defaults: {ingestion_rate: 0}
  overrides:
    rate: {ingestion_rate: 10, ingestion_burst_size: 20}
    small: {max_active_series: 3}
    permetric: {max_series_per_metric: 2}
    labels: {max_label_names_per_series: 3, max_label_value_length: 8}
    query: {max_query_samples: 5, max_query_series: 2, max_query_length: 40}
${extra}`;

const series = (name: string, n: number, extra: Record<string, string> = {}) =>
  Array.from({ length: n }, (_, i) => ({ labels: { __name__: name, i: String(i), ...extra }, points: [[now - 1000, i]] as [number, number][] }));

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-limits-'));
  cfgFile = path.join(dir, 'vigil.yml');
  await writeFile(cfgFile, config());
  app = await startApp({ configFile: cfgFile, listenAddress: '127.0.0.1:0', storagePath: path.join(dir, 'data'), walFsync: 'never', registry: new Registry() });
});
afterAll(async () => {
  await app?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('per-tenant write limits', () => {
  it('ingestion rate: 429 with Retry-After once the burst is used; other tenants unaffected', async () => {
    expect((await remoteWrite(app.url, writeBody(series('r', 15)), 'rate')).status).toBe(204);
    const r = await remoteWrite(app.url, writeBody(series('r2', 15)), 'rate');
    expect(r.status).toBe(429);
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await r.text()).toMatch(/ingestion_rate/);
    // a request larger than the burst can never pass: 400 naming the limit
    const big = await remoteWrite(app.url, writeBody(series('r3', 25)), 'rate');
    expect(big.status).toBe(400);
    expect(await big.text()).toMatch(/ingestion_burst_size/);
    expect((await remoteWrite(app.url, writeBody(series('r', 15)), 'other')).status).toBe(204);
    // nothing of the refused request was stored
    const s = await getAs(app.url, `/api/v1/series?match[]=r2`, 'rate');
    expect(JSON.parse(s.text).data).toEqual([]);
  });

  it('max active series: 400 naming the limit; existing series still accept samples', async () => {
    expect((await remoteWrite(app.url, writeBody(series('s', 3)), 'small')).status).toBe(204);
    const r = await remoteWrite(app.url, writeBody(series('s', 5)), 'small');
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/max_active_series \(3\)/);
    const again = writeBody(series('s', 3).map((x) => ({ ...x, points: [[now, 1]] as [number, number][] })));
    expect((await remoteWrite(app.url, again, 'small')).status).toBe(204);
  });

  it('max series per metric', async () => {
    const r = await remoteWrite(app.url, writeBody([...series('m1', 3), ...series('m2', 2)]), 'permetric');
    expect(r.status).toBe(400);
    expect(await r.text()).toMatch(/max_series_per_metric \(2\) reached for metric "m1"/);
    const s = JSON.parse((await getAs(app.url, `/api/v1/series?match[]=${encodeURIComponent('{__name__=~"m.*"}')}`, 'permetric')).text);
    expect(s.data).toHaveLength(4);
  });

  it('label names and value lengths', async () => {
    const r = await remoteWrite(app.url, writeBody([{ labels: { __name__: 'l', a: '1', b: '2', c: '3' }, points: [[now, 1]] }]), 'labels');
    expect(r.status).toBe(400);
    const r2 = await remoteWrite(app.url, writeBody([{ labels: { __name__: 'l', a: 'x'.repeat(9) }, points: [[now, 1]] }]), 'labels');
    expect(r2.status).toBe(400);
    expect(await r2.text()).toMatch(/invalid_labels/);
  });

});

describe('per-tenant query limits', () => {
  it('max query samples, max series, query length', async () => {
    expect((await remoteWrite(app.url, writeBody(series('qm', 3)), 'query')).status).toBe(204);
    const tooMany = await getAs(app.url, `/api/v1/query?query=qm&time=${now / 1000}`, 'query');
    expect(tooMany.status).toBe(422);
    expect(tooMany.text).toMatch(/more than 2 series/);
    const long = await getAs(app.url, `/api/v1/query?query=${encodeURIComponent('qm + ' + 'qm + '.repeat(20) + 'qm')}`, 'query');
    expect(long.status).toBe(400);
    const unsafe = await getAs(app.url, `/api/v1/query?query=${encodeURIComponent('{i=~"(a+)+"}')}`, 'query');
    expect(unsafe.status).toBe(400);
    expect(unsafe.text).toMatch(/nested quantifiers/);
  });
});

describe('hot reload and metrics', () => {
  it('limits change on reload without a restart', async () => {
    await writeFile(cfgFile, config().replace('small: {max_active_series: 3}', 'small: {max_active_series: 100}'));
    await app.reload();
    expect((await remoteWrite(app.url, writeBody(series('s_new', 5)), 'small')).status).toBe(204);
  });

  it('rule limits refuse a reload with a message naming the limit', async () => {
    await writeFile(path.join(dir, 'r.yml'), 'groups:\n  - {name: g1, tenant: small, rules: [{record: a, expr: "1"}, {record: b, expr: "2"}]}\n');
    await writeFile(cfgFile, config('rule_files: [r.yml]\n').replace('small: {max_active_series: 3}', 'small: {max_rules_per_group: 1}'));
    await expect(app.reload()).rejects.toThrow(/max_rules_per_group \(1\)/);
    await writeFile(cfgFile, config());
    await app.reload();
  });

  it('vigil_tenant_* metrics show usage and limits, each tenant only its own', async () => {
    const dflt = await getAs(app.url, '/metrics');
    expect(dflt.text).toMatch(/vigil_tenant_active_series\{tenant="anonymous"\} 0/);
    expect(dflt.text).not.toMatch(/tenant="(small|rate)"/); // the default tenant does not see the others
    const own = await getAs(app.url, '/metrics', 'rate');
    expect(own.text).toMatch(/vigil_tenant_limit\{tenant="rate",limit="ingestion_rate"\} 10/);
    expect(own.text).toMatch(/vigil_tenant_refused_total\{tenant="rate",reason="rate_limited"\} [1-9]/);
    expect(own.text).toMatch(/vigil_tenant_samples_accepted_total\{tenant="rate"\} 15/);
    expect(own.text).not.toMatch(/tenant="small"/);
    expect(own.text).not.toMatch(/process_cpu/);
  });
});

describe('tenants', () => {
  it('tenant count is bounded by max_tenants', async () => {
    const statuses: number[] = [];
    for (const t of ['t1', 't2', 't3', 't4', 't5']) statuses.push((await remoteWrite(app.url, writeBody(series('x', 1)), t)).status);
    expect(statuses).toContain(429);
  });
});

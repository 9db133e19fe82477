import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ScrapeManager } from '../../../src/ingest/scrape/manager.js';
import { labelsGet } from '../../../src/model/labels.js';
import { isStaleNaN } from '../../../src/model/samples.js';
import { FakeAppendable, type Transaction } from './fake-appendable.js';
import { GLOBAL, scrapeConfig } from './helpers.js';

let server: http.Server;
let addr: string;
let hits = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits++;
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(`m{path="${p}"} 1\n`);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  addr = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((res) => server.close(() => res()));
});

const staleNames = (txs: readonly Transaction[]) =>
  txs.flatMap((tx) => tx.samples.filter((s) => isStaleNaN(s.v)).map((s) => `${labelsGet(s.labels, 'job')}/${labelsGet(s.labels, '__name__')}`)).sort();

describe('ScrapeManager', () => {
  it('runs static targets, reports them, and marks removed targets and stopped jobs stale', async () => {
    const app = new FakeAppendable();
    const registry = new Registry();
    const mgr = new ScrapeManager({ appendable: app, registry });
    const a = scrapeConfig({ jobName: 'a', staticConfigs: [{ targets: [addr], labels: {} }], scrapeInterval: 3_600_000, scrapeTimeout: 5000 });
    const b = scrapeConfig({ jobName: 'b', metricsPath: '/b', staticConfigs: [{ targets: [addr], labels: {} }], scrapeInterval: 3_600_000, scrapeTimeout: 5000 });
    try {
      await mgr.applyConfig(GLOBAL, [a, b]);
      expect(mgr.targets().map((t) => t.health)).toEqual(['unknown', 'unknown']);
      await mgr.scrapeAllOnce();
      const infos = mgr.targets();
      expect(infos.map((t) => [t.scrapePool, t.health, t.scrapeUrl])).toEqual([
        ['a', 'up', `http://${addr}/metrics`],
        ['b', 'up', `http://${addr}/b`],
      ]);
      expect(infos[0]!.labels).toEqual({ instance: addr, job: 'a' });
      expect(infos[0]!.lastScrape).toBeGreaterThan(0);
      const gauge = await registry.getSingleMetric('vigil_scrape_targets')!.get();
      expect(gauge.values.map((v) => [v.labels['job'], v.value])).toEqual([
        ['a', 1],
        ['b', 1],
      ]);

      // reload: job b removed, job a unchanged (its loop keeps running, no markers for it)
      const before = app.commits.length;
      await mgr.applyConfig(GLOBAL, [a]);
      const after = app.commits.slice(before);
      expect(staleNames(after)).toEqual(['b/m', 'b/scrape_duration_seconds', 'b/scrape_samples_post_metric_relabeling', 'b/scrape_samples_scraped', 'b/scrape_series_added', 'b/up']);
      expect(mgr.targets()).toHaveLength(1);

      // reload with a changed config for a that keeps the same target: no staleness, state handed over
      const before2 = app.commits.length;
      await mgr.applyConfig(GLOBAL, [{ ...a, sampleLimit: 100 }]);
      expect(staleNames(app.commits.slice(before2))).toEqual([]);
      await mgr.scrapeAllOnce();
      expect(FakeAppendable.value(app.last(), 'scrape_series_added')).toBe(0);

      await expect(mgr.applyConfig(GLOBAL, [a, a])).rejects.toThrow(/duplicate scrape job name "a"/);
    } finally {
      const before3 = app.commits.length;
      await mgr.stop();
      expect(staleNames(app.commits.slice(before3))).toContain('a/m');
    }
  });

  it('schedules scrapes on its own at the interval', async () => {
    const app = new FakeAppendable();
    const mgr = new ScrapeManager({ appendable: app });
    const start = hits;
    await mgr.applyConfig(GLOBAL, [scrapeConfig({ jobName: 'fast', staticConfigs: [{ targets: [addr], labels: {} }], scrapeInterval: 100, scrapeTimeout: 80 })]);
    try {
      const t0 = Date.now();
      while (hits - start < 3 && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
      expect(hits - start).toBeGreaterThanOrEqual(3);
      expect(app.commits.filter((tx) => FakeAppendable.value(tx, 'up') === 1).length).toBeGreaterThanOrEqual(2);
    } finally {
      await mgr.stop();
    }
    const n = hits;
    await new Promise((r) => setTimeout(r, 250));
    expect(hits).toBe(n); // stopped means stopped
  });

  it('follows file_sd changes: new targets start, removed targets get staleness markers', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'vigil-mgr-'));
    const file = path.join(dir, 'targets.json');
    await writeFile(file, JSON.stringify([{ targets: [addr], labels: { team: 'x' } }]));
    const app = new FakeAppendable();
    const mgr = new ScrapeManager({ appendable: app });
    try {
      await mgr.applyConfig(GLOBAL, [scrapeConfig({ jobName: 'fsd', fileSdConfigs: [{ files: [path.join(dir, '*.json')], refreshInterval: 3_600_000 }], scrapeInterval: 3_600_000, scrapeTimeout: 5000 })]);
      expect(mgr.targets().map((t) => t.labels)).toEqual([{ instance: addr, job: 'fsd', team: 'x' }]);
      expect(mgr.targets()[0]!.discoveredLabels['__meta_filepath']).toBe(file);
      await mgr.scrapeAllOnce();
      const before = app.commits.length;
      await writeFile(file, JSON.stringify([{ targets: [addr], labels: { team: 'y' } }]));
      const t0 = Date.now();
      while (mgr.targets()[0]?.labels['team'] !== 'y' && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
      expect(mgr.targets().map((t) => t.labels['team'])).toEqual(['y']);
      const stale = app.commits.slice(before).flatMap((tx) => tx.samples.filter((s) => isStaleNaN(s.v)).map((s) => labelsGet(s.labels, 'team')));
      expect(stale.length).toBe(6);
      expect(new Set(stale)).toEqual(new Set(['x']));
    } finally {
      await mgr.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

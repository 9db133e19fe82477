import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScrapeConfig } from '../../../src/config/types.js';
import { ScrapeMetrics } from '../../../src/ingest/scrape/metrics.js';
import { SCRAPE_ACCEPT } from '../../../src/ingest/scrape/scrape-http.js';
import { alignScrapeTimestamp, mergeTargetLabels, ScrapeLoop } from '../../../src/ingest/scrape/scrape-loop.js';
import { buildTargets, staticGroups } from '../../../src/ingest/scrape/targets.js';
import { FakeClock } from '../../../src/model/clock.js';
import { labelsFrom, labelsGet, labelsToObject } from '../../../src/model/labels.js';
import { nopLogger } from '../../../src/model/logger.js';
import { compileRelabel, parseRelabelConfig } from '../../../src/model/relabel.js';
import { isStaleNaN } from '../../../src/model/samples.js';
import { FakeAppendable, type Transaction } from './fake-appendable.js';
import { scrapeConfig } from './helpers.js';

interface Route {
  status?: number;
  body: string | Buffer;
  contentType?: string;
  gzip?: boolean;
  delayMs?: number;
}
const routes = new Map<string, Route>();
const seenHeaders = new Map<string, http.IncomingHttpHeaders>();
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const p = new URL(req.url ?? '/', 'http://x').pathname;
    seenHeaders.set(p, req.headers);
    const r = routes.get(p);
    if (!r) {
      res.writeHead(404).end('not found');
      return;
    }
    const send = (): void => {
      if (res.destroyed) return;
      const headers: Record<string, string> = { 'Content-Type': r.contentType ?? 'text/plain; version=0.0.4' };
      let body = typeof r.body === 'string' ? Buffer.from(r.body) : r.body;
      if (r.gzip) {
        body = gzipSync(body);
        headers['Content-Encoding'] = 'gzip';
      }
      res.writeHead(r.status ?? 200, headers).end(body);
    };
    if (r.delayMs) setTimeout(send, r.delayMs);
    else send();
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((res) => server.close(() => res()));
});

interface Harness {
  loop: ScrapeLoop;
  app: FakeAppendable;
  clock: FakeClock;
  registry: Registry;
}

function harness(path: string, over: Partial<ScrapeConfig> = {}): Harness {
  const cfg = scrapeConfig({ metricsPath: path, staticConfigs: [{ targets: [base], labels: { env: 'test' } }], ...over });
  const { active } = buildTargets(cfg, staticGroups(cfg));
  const app = new FakeAppendable();
  const clock = new FakeClock(1_700_000_000_000);
  const registry = new Registry();
  const loop = new ScrapeLoop({
    target: active[0]!,
    config: cfg,
    appendable: app,
    metricRelabel: compileRelabel(cfg.metricRelabelConfigs),
    clock,
    logger: nopLogger,
    metrics: new ScrapeMetrics(registry),
  });
  return { loop, app, clock, registry };
}

const val = (tx: Transaction, name: string, match: Record<string, string> = {}) => FakeAppendable.value(tx, name, match);
const stale = (tx: Transaction) =>
  tx.samples
    .filter((s) => isStaleNaN(s.v))
    .map((s) => labelsGet(s.labels, '__name__'))
    .sort();

async function failureCount(registry: Registry, reason: string): Promise<number> {
  const m = await registry.getSingleMetric('vigil_scrape_failures_total')!.get();
  return m.values.find((v) => v.labels['reason'] === reason)?.value ?? 0;
}

describe('ScrapeLoop', () => {
  it('scrapes OpenMetrics in one transaction with target labels, report series, metadata and exemplars', async () => {
    routes.set('/om', {
      contentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8',
      body: '# TYPE req counter\n# HELP req Requests.\nreq_total{code="200"} 5 # {trace_id="abc"} 1 1700000000.5\nreq_created{code="200"} 1600000000\n# EOF\n',
    });
    const h = harness('/om');
    const r = await h.loop.scrapeOnce();
    expect(r.ok).toBe(true);
    expect(h.app.commits).toHaveLength(1);
    const tx = h.app.last();
    const req = tx.samples.find((s) => labelsGet(s.labels, '__name__') === 'req_total')!;
    expect(labelsToObject(req.labels)).toEqual({ __name__: 'req_total', code: '200', env: 'test', instance: base, job: 'job1' });
    expect(req.t).toBe(1_700_000_000_000);
    expect(req.v).toBe(5);
    expect(val(tx, 'up')).toBe(1);
    expect(val(tx, 'scrape_samples_scraped')).toBe(2);
    expect(val(tx, 'scrape_samples_post_metric_relabeling')).toBe(2);
    expect(val(tx, 'scrape_series_added')).toBe(2);
    expect(val(tx, 'scrape_duration_seconds')).toBeGreaterThan(0);
    expect(labelsToObject(tx.samples.find((s) => labelsGet(s.labels, '__name__') === 'up')!.labels)).toEqual({ __name__: 'up', env: 'test', instance: base, job: 'job1' });
    expect(tx.metadata.get('req')).toEqual({ type: 'counter', help: 'Requests.', unit: '' });
    expect(tx.exemplars).toHaveLength(1);
    expect(tx.exemplars[0]!.e).toMatchObject({ value: 1, t: 1_700_000_000_500 });
    const hdr = seenHeaders.get('/om')!;
    expect(hdr['accept']).toBe(SCRAPE_ACCEPT);
    expect(hdr['x-prometheus-scrape-timeout-seconds']).toBe('10');
    // metadata is only re-sent when it changes
    h.clock.advance(15_000);
    await h.loop.scrapeOnce();
    expect(h.app.last().metadata.size).toBe(0);
    expect(val(h.app.last(), 'scrape_series_added')).toBe(0);
  });

  it('decompresses gzip and parses the text format', async () => {
    routes.set('/gz', { body: 'a 1\nb{x="y"} 2\n', gzip: true });
    const h = harness('/gz');
    expect((await h.loop.scrapeOnce()).ok).toBe(true);
    expect(val(h.app.last(), 'b', { x: 'y' })).toBe(2);
    expect(seenHeaders.get('/gz')!['accept-encoding']).toBe('gzip');
  });

  it('marks disappeared series stale and reports up 0 with stale markers on failure', async () => {
    routes.set('/flaky', { body: 'a 1\nb 2\nc 3\n' });
    const h = harness('/flaky');
    await h.loop.scrapeOnce();
    routes.set('/flaky', { body: 'a 1\nc 3\nd 4\n' });
    h.clock.advance(15_000);
    await h.loop.scrapeOnce();
    let tx = h.app.last();
    expect(stale(tx)).toEqual(['b']);
    expect(tx.samples.find((s) => isStaleNaN(s.v))!.t).toBe(1_700_000_015_000);
    expect(val(tx, 'scrape_series_added')).toBe(1);

    routes.set('/flaky', { status: 500, body: 'oops' });
    h.clock.advance(15_000);
    const r = await h.loop.scrapeOnce();
    expect(r.ok).toBe(false);
    expect(r.error).toContain('HTTP status 500');
    tx = h.app.last();
    expect(val(tx, 'up')).toBe(0);
    expect(val(tx, 'scrape_samples_scraped')).toBe(0);
    expect(stale(tx)).toEqual(['a', 'c', 'd']);
    expect(h.loop.health()).toBe('down');
    expect(await failureCount(h.registry, 'http_status')).toBe(1);

    // recovery: nothing stale left to mark, everything counts as added again
    routes.set('/flaky', { body: 'a 1\n' });
    h.clock.advance(15_000);
    await h.loop.scrapeOnce();
    expect(stale(h.app.last())).toEqual([]);
    expect(val(h.app.last(), 'scrape_series_added')).toBe(1);
  });

  it('a parse error fails the whole scrape (no partial samples)', async () => {
    routes.set('/bad', { body: 'good 1\nbad line here\n' });
    const h = harness('/bad');
    const r = await h.loop.scrapeOnce();
    expect(r).toMatchObject({ ok: false, reason: 'parse' });
    expect(r.error).toBe('line 2: invalid value "line"');
    expect(h.app.rollbacks).toBe(1);
    expect(val(h.app.last(), 'good')).toBeUndefined();
    expect(val(h.app.last(), 'up')).toBe(0);
    expect(await failureCount(h.registry, 'parse')).toBe(1);
  });

  it('times out slow targets', async () => {
    routes.set('/slow', { body: 'a 1\n', delayMs: 2000 });
    const h = harness('/slow', {
      relabelConfigs: [parseRelabelConfig({ target_label: '__scrape_timeout__', replacement: '200ms' }, 'r')],
    });
    const t0 = Date.now();
    const r = await h.loop.scrapeOnce();
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(r).toMatchObject({ ok: false, reason: 'timeout' });
    expect(val(h.app.last(), 'up')).toBe(0);
  });

  it('enforces the body size limit (plain and gzip)', async () => {
    const big = 'x{l="' + 'v'.repeat(5000) + '"} 1\n';
    routes.set('/big', { body: big });
    routes.set('/bigz', { body: big, gzip: true });
    for (const p of ['/big', '/bigz']) {
      const h = harness(p, { bodySizeLimit: 1000 });
      const r = await h.loop.scrapeOnce();
      expect(r, p).toMatchObject({ ok: false, reason: 'body_size_limit' });
      expect(val(h.app.last(), 'up')).toBe(0);
    }
    const ok = harness('/big', { bodySizeLimit: 10_000 });
    expect((await ok.loop.scrapeOnce()).ok).toBe(true);
  });

  it('sample_limit fails the scrape; metric_relabel_configs drop before counting', async () => {
    routes.set('/many', { body: 'go_a 1\ngo_b 2\nkeep_c 3\n' });
    const limited = harness('/many', { sampleLimit: 2 });
    expect(await limited.loop.scrapeOnce()).toMatchObject({ ok: false, reason: 'sample_limit' });
    const relabeled = harness('/many', {
      sampleLimit: 2,
      metricRelabelConfigs: [
        parseRelabelConfig({ source_labels: ['__name__'], regex: 'go_a', action: 'drop' }, 'm0'),
        parseRelabelConfig({ source_labels: ['__name__'], regex: 'keep_(.*)', target_label: 'suffix' }, 'm1'),
      ],
    });
    expect((await relabeled.loop.scrapeOnce()).ok).toBe(true);
    const tx = relabeled.app.last();
    expect(val(tx, 'go_a')).toBeUndefined();
    expect(val(tx, 'keep_c', { suffix: 'c' })).toBe(3);
    expect(val(tx, 'scrape_samples_scraped')).toBe(3);
    expect(val(tx, 'scrape_samples_post_metric_relabeling')).toBe(2);
  });

  it('honor_labels and exported_ conflicts', async () => {
    routes.set('/conflict', { body: 'm{job="inner",instance="i2",exported_job="x"} 1\n' });
    const plain = harness('/conflict');
    await plain.loop.scrapeOnce();
    const s = plain.app.last().samples[0]!;
    expect(labelsToObject(s.labels)).toEqual({ __name__: 'm', env: 'test', exported_exported_job: 'inner', exported_instance: 'i2', exported_job: 'x', instance: base, job: 'job1' });
    const honored = harness('/conflict', { honorLabels: true });
    await honored.loop.scrapeOnce();
    expect(labelsToObject(honored.app.last().samples[0]!.labels)).toEqual({ __name__: 'm', env: 'test', exported_job: 'x', instance: 'i2', job: 'inner' });
  });

  it('honor_timestamps decides whether exposed timestamps are used; explicit timestamps are not made stale', async () => {
    routes.set('/ts', { body: 'a 1 1600000000000\nb 2\n' });
    const honor = harness('/ts');
    await honor.loop.scrapeOnce();
    expect(honor.app.last().samples.find((s) => labelsGet(s.labels, '__name__') === 'a')!.t).toBe(1_600_000_000_000);
    routes.set('/ts', { body: 'c 3\n' });
    honor.clock.advance(1000);
    await honor.loop.scrapeOnce();
    expect(stale(honor.app.last())).toEqual(['b']);
    routes.set('/ts', { body: 'a 1 1600000000000\n' });
    const ignore = harness('/ts', { honorTimestamps: false });
    await ignore.loop.scrapeOnce();
    expect(ignore.app.last().samples[0]!.t).toBe(1_700_000_000_000);
  });

  it('stop() writes staleness markers for all series including report series', async () => {
    routes.set('/stop', { body: 'a 1\nb 2\n' });
    const h = harness('/stop');
    await h.loop.scrapeOnce();
    h.clock.advance(5000);
    await h.loop.stop();
    const tx = h.app.last();
    expect(stale(tx)).toEqual(['a', 'b', 'scrape_duration_seconds', 'scrape_samples_post_metric_relabeling', 'scrape_samples_scraped', 'scrape_series_added', 'up']);
    expect(tx.samples.every((s) => s.t === 1_700_000_005_000)).toBe(true);
  });

  it('a failing commit is reported as a failure and does not throw', async () => {
    routes.set('/commit', { body: 'a 1\n' });
    const h = harness('/commit');
    h.app.failCommit = true;
    const r = await h.loop.scrapeOnce();
    expect(r).toMatchObject({ ok: false, reason: 'commit' });
    expect(val(h.app.last(), 'up')).toBe(0);
  });

  it('connection refused → up 0', async () => {
    const cfg = scrapeConfig({ staticConfigs: [{ targets: ['127.0.0.1:1'], labels: {} }] });
    const { active } = buildTargets(cfg, staticGroups(cfg));
    const app = new FakeAppendable();
    const loop = new ScrapeLoop({ target: active[0]!, config: cfg, appendable: app, metricRelabel: compileRelabel([]), clock: new FakeClock(1), logger: nopLogger, metrics: new ScrapeMetrics(new Registry()) });
    expect(await loop.scrapeOnce()).toMatchObject({ ok: false, reason: 'connection' });
    expect(val(app.last(), 'up')).toBe(0);
  });
});

describe('ScrapeLoop scheduling', () => {
  it('overruns skip ticks: never more than one scrape in flight', async () => {
    const cfg = scrapeConfig({ staticConfigs: [{ targets: ['127.0.0.1:9'], labels: {} }], scrapeInterval: 50, scrapeTimeout: 50 });
    const { active } = buildTargets(cfg, staticGroups(cfg));
    let inFlight = 0;
    let maxInFlight = 0;
    let calls = 0;
    const app = new FakeAppendable();
    const loop = new ScrapeLoop({
      target: active[0]!,
      config: cfg,
      appendable: app,
      metricRelabel: compileRelabel([]),
      clock: { now: () => Date.now() },
      logger: nopLogger,
      metrics: new ScrapeMetrics(new Registry()),
      fetch: async () => {
        calls++;
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((r) => setTimeout(r, 130)); // longer than the 50ms interval
        inFlight--;
        return { body: 'a 1\n', contentType: 'text/plain', bytes: 4 };
      },
    });
    loop.start();
    await new Promise((r) => setTimeout(r, 500));
    await loop.stop();
    expect(maxInFlight).toBe(1);
    expect(calls).toBeGreaterThanOrEqual(2);
    expect(calls).toBeLessThanOrEqual(5); // 500ms / 130ms per scrape, not 500/50 ticks
    // a scrape cut short by stop() commits nothing; every other one committed exactly once
    const ups = app.commits.filter((tx) => FakeAppendable.value(tx, 'up') === 1).length;
    expect(ups).toBeGreaterThanOrEqual(calls - 1);
    expect(ups).toBeLessThanOrEqual(calls);
  });
});

describe('mergeTargetLabels', () => {
  it('handles empty scraped values and repeated prefixes', () => {
    const out = mergeTargetLabels(labelsFrom({ __name__: 'm', a: '1', exported_a: '2' }), labelsFrom({ a: 't' }), false);
    expect(labelsToObject(out)).toEqual({ __name__: 'm', a: 't', exported_a: '2', exported_exported_a: '1' });
  });
});

describe('scrape timestamp tolerance', () => {
  it('alignScrapeTimestamp snaps within ±tolerance of the schedule only', () => {
    const iv = 15_000;
    const off = 1234;
    const k = 1_700_000_000_000 - ((1_700_000_000_000 - off) % iv); // a scheduled instant
    expect((k - off) % iv).toBe(0);
    for (const d of [-2, -1, 0, 1, 2]) expect(alignScrapeTimestamp(k + d, iv, off, 2)).toBe(k);
    for (const d of [-3, 3, 7, -500]) expect(alignScrapeTimestamp(k + d, iv, off, 2)).toBe(k + d);
    expect(alignScrapeTimestamp(k + 1, iv, off, 0)).toBe(k + 1); // disabled
    expect(alignScrapeTimestamp(k + 1, 150, off, 2)).toBe(k + 1); // interval ≤ 100 × tolerance
    expect(alignScrapeTimestamp(k + 9, iv, off, 10)).toBe(k);
  });

  it('jittered scrapes get the scheduled timestamps (delta-of-delta 0), larger drift is kept', async () => {
    routes.set('/jitter', { body: 'm 1\n' });
    const cfg = scrapeConfig({ metricsPath: '/jitter', staticConfigs: [{ targets: [base], labels: {} }] });
    const target = buildTargets(cfg, staticGroups(cfg)).active[0]!;
    const iv = target.intervalMs;
    const off = target.hash % iv;
    const sched = 1_700_000_000_000 - ((1_700_000_000_000 - off) % iv);
    const run = async (tolerance: number | undefined, jitter: readonly number[]): Promise<number[]> => {
      const app = new FakeAppendable();
      const clock = new FakeClock(sched);
      const loop = new ScrapeLoop({
        target,
        config: cfg,
        appendable: app,
        metricRelabel: compileRelabel([]),
        clock,
        logger: nopLogger,
        metrics: new ScrapeMetrics(new Registry()),
        ...(tolerance === undefined ? {} : { timestampToleranceMs: tolerance }),
      });
      for (let i = 0; i < jitter.length; i++) {
        clock.set(sched + i * iv + jitter[i]!);
        expect((await loop.scrapeOnce()).ok).toBe(true);
      }
      return app.commits.map((tx) => tx.samples.find((s) => labelsGet(s.labels, '__name__') === 'm')!.t);
    };
    const jitter = [0, 2, -1, 1, -2, 5];
    expect(await run(undefined, jitter)).toEqual([0, 1, 2, 3, 4, 5].map((i) => sched + i * iv + (i === 5 ? 5 : 0)));
    expect(await run(0, jitter)).toEqual(jitter.map((j, i) => sched + i * iv + j));
  });
});

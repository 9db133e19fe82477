/**
 * Real Prometheus 2.42 scrapes targets (node_exporter and vigil's own /metrics) and
 * remote-writes everything into vigil. vigil's /api/v1/series and the raw samples of a window
 * must match what Prometheus itself stored; and Prometheus's scrape of vigil is healthy (up 1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiGet, havePeer, rmTemp, startNodeExporter, startPrometheus, startVigil, type Peer } from './peers.js';

const HAVE = havePeer('prometheus') && havePeer('prometheus-node-exporter');

type SeriesList = Record<string, string>[];
type MatrixResult = { result: { metric: Record<string, string>; values: [number, string][] }[] };

const key = (m: Record<string, string>): string => JSON.stringify(Object.entries(m).sort(([a], [b]) => (a < b ? -1 : 1)));

describe.skipIf(!HAVE)('Prometheus 2.42 → remote-write → vigil', () => {
  let vigil: Peer;
  let prom: Peer;
  let ne: Peer;
  beforeAll(async () => {
    vigil = await startVigil({ config: '{}\n' });
    ne = await startNodeExporter(['--collector.disable-defaults', '--collector.cpu', '--collector.loadavg', '--collector.meminfo', '--collector.stat']);
    prom = await startPrometheus(`
global:
  scrape_interval: 1s
  scrape_timeout: 900ms
scrape_configs:
  - job_name: node
    static_configs: [{ targets: ['127.0.0.1:${ne.port}'] }]
  - job_name: vigil
    static_configs: [{ targets: ['127.0.0.1:${vigil.port}'] }]
remote_write:
  - url: ${vigil.url}/api/v1/write
    queue_config: { batch_send_deadline: 500ms, max_samples_per_send: 2000 }
    metadata_config: { send_interval: 2s }
`);
  }, 90_000);
  afterAll(async () => {
    for (const p of [prom, ne, vigil]) if (p) await p.stop();
    for (const p of [prom, ne, vigil]) if (p) rmTemp(p.dir);
  });

  it('series and raw samples match, and Prometheus scrapes vigil with up == 1', async () => {
    // Prometheus's discovery manager hands targets to the scrape manager after up to 5 s.
    for (let i = 0; i < 60; i++) {
      const up = await apiGet<{ result: unknown[] }>(prom.url, `/api/v1/query?query=${encodeURIComponent('up{job=~"node|vigil"} == 1')}`);
      if (up.result.length === 2) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, 7000));
    // A window that both have fully received: ends 3 s ago (remote-write lag < 1 s here).
    const end = Date.now() / 1000 - 3;
    const start = end - 4;
    const q = `match[]=${encodeURIComponent('{job="node"}')}&start=${start}&end=${end}`;
    let promSeries: SeriesList = [];
    let vigilSeries: SeriesList = [];
    for (let i = 0; i < 20; i++) {
      promSeries = await apiGet<SeriesList>(prom.url, `/api/v1/series?${q}`);
      vigilSeries = await apiGet<SeriesList>(vigil.url, `/api/v1/series?${q}`);
      if (vigilSeries.length === promSeries.length) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(promSeries.length).toBeGreaterThan(20);
    expect(vigilSeries.map(key).sort()).toEqual(promSeries.map(key).sort());

    // Raw samples of the window, via a range selector at `end`.
    const sel = encodeURIComponent('{job="node"}[4s]');
    const pm = await apiGet<MatrixResult>(prom.url, `/api/v1/query?query=${sel}&time=${end}`);
    const vm = await apiGet<MatrixResult>(vigil.url, `/api/v1/query?query=${sel}&time=${end}`);
    const toMap = (m: MatrixResult): Map<string, string> => new Map(m.result.map((s) => [key(s.metric), JSON.stringify(s.values)]));
    const pmap = toMap(pm);
    const vmap = toMap(vm);
    expect(pmap.size).toBeGreaterThan(20);
    // Prometheus 2.42's range selectors are closed on the left, vigil's (Prometheus 3) left-open;
    // compare samples strictly inside the window.
    const inner = (s: string): string => JSON.stringify((JSON.parse(s) as [number, string][]).filter(([t]) => t > end - 4 + 1e-3));
    for (const [k, v] of pmap) expect(inner(vmap.get(k) ?? '[]'), k).toEqual(inner(v));

    // Prometheus's own view of its scrape of vigil.
    const up = await apiGet<{ result: { value: [number, string] }[] }>(prom.url, `/api/v1/query?query=${encodeURIComponent('up{job="vigil"}')}`);
    expect(up.result.map((r) => r.value[1])).toEqual(['1']);
    // And vigil received that up series back by remote-write.
    const up2 = await apiGet<{ result: { value: [number, string] }[] }>(vigil.url, `/api/v1/query?query=${encodeURIComponent('up{job="vigil"}')}&time=${end}`);
    expect(up2.result.map((r) => r.value[1])).toEqual(['1']);
  }, 90_000);
});

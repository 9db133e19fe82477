/**
 * PromQL latency, vigil vs real Prometheus 2.42, through both HTTP APIs on the same data:
 * SERIES k8s-like series (10k and 100k by default) × 2 h of 15 s samples, remote-written into
 * both, then twelve queries typical of real rules (rate, sum by, histogram_quantile, and/unless,
 * group_left joins, predict_linear, *_over_time), each as an instant query and as a 1 h range
 * query at 60 s steps, repeated; medians per query and the ratio vigil/Prometheus.
 */
import { encodeWriteRequestV1 } from '../src/ingest/remote-write/encode.js';
import { snappyCompress } from '../src/ingest/remote-write/snappy.js';
import { labelsFrom, type Labels } from '../src/model/labels.js';
import { rmTemp, startPrometheus, startVigil, type Peer } from '../test/e2e/peers.js';
import { emit, median, postWrites, progress } from './lib.js';

const SIZES = (process.env.BENCH_SIZES ?? '10000,100000').split(',').map(Number);
const REPEAT = Number(process.env.BENCH_REPEAT ?? 5);
const STEP = 15_000;
const SPAN = 2 * 3600_000;

export const QUERIES = [
  'sum by (namespace) (rate(http_requests_total[5m]))',
  'sum by (namespace) (rate(http_requests_total{code=~"5.."}[5m])) / sum by (namespace) (rate(http_requests_total[5m]))',
  'histogram_quantile(0.99, sum by (le, namespace) (rate(http_request_duration_seconds_bucket[5m])))',
  'predict_linear(node_filesystem_avail_bytes[1h], 4 * 3600) < 0',
  'node_filesystem_avail_bytes < 5e9 and on (instance) up == 1',
  'max_over_time(container_memory_working_set_bytes[10m])',
  'avg_over_time(container_memory_working_set_bytes[5m]) * on (namespace, pod) group_left (node) kube_pod_info',
  'increase(http_requests_total[1h]) > 100',
  'count by (job) (up == 1)',
  'topk(5, sum by (pod) (rate(http_requests_total[5m])))',
  'rate(http_requests_total[5m]) unless on (pod) kube_pod_info{namespace="team-1"}',
  'quantile_over_time(0.9, container_memory_working_set_bytes[5m])',
];

interface Gen {
  labels: Labels;
  kind: 'counter' | 'gauge' | 'const' | 'fs';
}

function dataset(n: number): Gen[] {
  const out: Gen[] = [];
  const pods = Math.max(1, Math.floor(n / 40));
  for (let p = 0; p < pods && out.length < n; p++) {
    const ns = `team-${p % 25}`;
    const pod = `svc-${p}-${(p * 7919) % 100000}`;
    const instance = `10.0.${(p >> 8) & 255}.${p & 255}:8080`;
    const base = { namespace: ns, pod, instance, job: 'kubernetes-pods' };
    out.push({ kind: 'const', labels: labelsFrom({ __name__: 'up', ...base }) });
    out.push({ kind: 'const', labels: labelsFrom({ __name__: 'kube_pod_info', namespace: ns, pod, node: `node-${p % 30}` }) });
    for (const c of ['a', 'b']) out.push({ kind: 'gauge', labels: labelsFrom({ __name__: 'container_memory_working_set_bytes', ...base, container: c }) });
    out.push({ kind: 'fs', labels: labelsFrom({ __name__: 'node_filesystem_avail_bytes', ...base, mountpoint: '/data', device: '/dev/sdb', fstype: 'ext4' }) });
    for (const code of ['200', '404', '500']) {
      for (const method of ['GET', 'POST']) out.push({ kind: 'counter', labels: labelsFrom({ __name__: 'http_requests_total', ...base, code, method }) });
    }
    for (const le of ['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']) {
      for (const method of ['GET', 'POST']) out.push({ kind: 'counter', labels: labelsFrom({ __name__: 'http_request_duration_seconds_bucket', ...base, method, le }) });
    }
    for (let k = 0; out.length % 40 !== 0 && k < 40; k++) out.push({ kind: 'gauge', labels: labelsFrom({ __name__: 'process_open_fds', ...base, fd: String(k) }) });
  }
  return out.slice(0, n);
}

function value(g: Gen, i: number, k: number): number {
  switch (g.kind) {
    case 'counter':
      return k * ((i % 13) + 1) + Math.floor(k / 7) * (i % 3);
    case 'gauge':
      return 2e8 + 5e7 * Math.sin((k + i) / 40) + (i % 1000) * 1e4;
    case 'fs':
      return 8e9 - k * (i % 5) * 1.5e6;
    case 'const':
      return 1;
  }
}

async function load(peers: Peer[], gens: Gen[], t0: number): Promise<void> {
  const steps = SPAN / STEP;
  const PER = 2000;
  for (let k = 0; k <= steps; k++) {
    const bodies: Uint8Array[] = [];
    for (let off = 0; off < gens.length; off += PER) {
      const batch = [];
      for (let i = off; i < Math.min(gens.length, off + PER); i++) batch.push({ labels: gens[i]!.labels, samples: [{ t: t0 + k * STEP + 1234, v: value(gens[i]!, i, k) }] });
      bodies.push(snappyCompress(encodeWriteRequestV1(batch)));
    }
    await postWrites(peers.map((p) => p.url), bodies);
    if (k % 60 === 0) progress(`loaded step ${k}/${steps}`);
  }
}

async function timeQuery(url: string): Promise<number> {
  const t = performance.now();
  const r = await fetch(url);
  const body = (await r.json()) as { status: string; error?: string };
  if (body.status !== 'success') throw new Error(`${url}: ${body.error}`);
  return performance.now() - t;
}

const results: Record<string, unknown>[] = [];
for (const n of SIZES) {
  const gens = dataset(n);
  const t0 = Math.floor((Date.now() - SPAN - 60_000) / 60_000) * 60_000;
  const end = (t0 + SPAN) / 1000;
  const prom = await startPrometheus('global: {}\n', ['--query.max-samples=200000000']);
  const vigil = await startVigil({ config: '{}\n', extraArgs: ['--query.max-samples=200000000', '--storage.retention=24h'] });
  try {
    progress(`${n} series: loading ${(gens.length * (SPAN / STEP + 1)) / 1e6}M samples into both`);
    await load([prom, vigil], gens, t0);
    await new Promise((r) => setTimeout(r, 2000));
    const perQuery: Record<string, number | string>[] = [];
    for (const q of QUERIES) {
      const enc = encodeURIComponent(q);
      const row: Record<string, number | string> = { query: q };
      for (const [kind, path] of [
        ['instant', `/api/v1/query?query=${enc}&time=${end}`],
        ['range', `/api/v1/query_range?query=${enc}&start=${end - 3600}&end=${end}&step=60`],
      ] as const) {
        for (const [name, peer] of [['prometheus', prom], ['vigil', vigil]] as const) {
          await timeQuery(peer.url + path); // warm-up
          const ts = [];
          for (let i = 0; i < REPEAT; i++) ts.push(await timeQuery(peer.url + path));
          row[`${kind}_${name}_ms`] = Number(median(ts).toFixed(2));
        }
        row[`${kind}_ratio`] = Number(((row[`${kind}_vigil_ms`] as number) / (row[`${kind}_prometheus_ms`] as number)).toFixed(2));
      }
      perQuery.push(row);
      progress(`${n}: ${q.slice(0, 60)} → instant ${row.instant_vigil_ms}/${row.instant_prometheus_ms} ms, range ${row.range_vigil_ms}/${row.range_prometheus_ms} ms`);
    }
    const ratios = (k: string): number => median(perQuery.map((r) => r[k] as number));
    results.push({
      series: n,
      queries: perQuery,
      median_instant_ratio: ratios('instant_ratio'),
      median_range_ratio: ratios('range_ratio'),
      median_instant_ms: { vigil: ratios('instant_vigil_ms'), prometheus: ratios('instant_prometheus_ms') },
      median_range_ms: { vigil: ratios('range_vigil_ms'), prometheus: ratios('range_prometheus_ms') },
    });
  } finally {
    await prom.stop();
    await vigil.stop();
    rmTemp(prom.dir);
    rmTemp(vigil.dir);
  }
}
emit({ benchmark: 'PromQL latency vs Prometheus 2.42 (HTTP APIs, same data)', target: 'median ratio vigil/prometheus <= 1', results });

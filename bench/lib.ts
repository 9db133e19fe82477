/**
 * Shared helpers for benchmarks: process CPU time and RSS from /proc, k8s-like series
 * generation, JSON result output. Benchmarks print one JSON object on stdout.
 */
import { readFileSync } from 'node:fs';
import { labelsFrom, type Labels } from '../src/model/labels.js';

const TICKS = 100; // USER_HZ

/** CPU seconds (user+system) used so far by process `pid`. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / TICKS;
}

/** Resident set size of process `pid`, bytes. */
export function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

const METRICS = [
  ['container_cpu_usage_seconds_total', 'counter'],
  ['container_memory_working_set_bytes', 'gauge'],
  ['http_requests_total', 'counter'],
  ['http_request_duration_seconds_bucket', 'counter'],
  ['kube_pod_container_status_restarts_total', 'counter'],
] as const;

/** `n` series with k8s-like label sets (9 labels each), deterministic. */
export function k8sSeries(n: number): { labels: Labels; counter: boolean }[] {
  const out: { labels: Labels; counter: boolean }[] = [];
  for (let i = 0; i < n; i++) {
    const [name, type] = METRICS[i % METRICS.length]!;
    const pod = Math.floor(i / 20);
    out.push({
      counter: type === 'counter',
      labels: labelsFrom({
        __name__: name,
        job: 'kubernetes-pods',
        namespace: `team-${pod % 37}`,
        pod: `api-server-${(pod * 2654435761) % 0xffffff}-${pod % 7}x${pod % 13}`,
        container: `app-${i % 3}`,
        instance: `10.${(pod >> 16) & 255}.${(pod >> 8) & 255}.${pod & 255}:8080`,
        node: `node-${pod % 50}`,
        le: name.endsWith('_bucket') ? ['0.1', '0.5', '1', '5', '+Inf'][i % 5]! : '',
        code: name === 'http_requests_total' ? ['200', '404', '500'][i % 3]! : '',
        series_id: String(i),
      }),
    });
  }
  return out;
}

/** A realistic next value for a series: counters grow by small steps, gauges wander. */
export function nextValue(prev: number, counter: boolean, i: number, round: number): number {
  if (counter) return prev + ((i * 7 + round * 13) % 17);
  return Math.round(1e6 + 5e4 * Math.sin((i + round) / 10)) ;
}

/** Median of numbers. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Percentile (0..100) of numbers, nearest-rank. */
export function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

/** Prints the result JSON (the only stdout line a benchmark writes). */
export function emit(result: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(result) + '\n');
}

/** Progress to stderr. */
export function progress(msg: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

/** POSTs remote-write 1.0 bodies (snappy-compressed) to every peer's /api/v1/write, in order per peer. */
export async function postWrites(urls: readonly string[], bodies: readonly Uint8Array[]): Promise<void> {
  await Promise.all(
    urls.map(async (url) => {
      for (const body of bodies) {
        const r = await fetch(`${url}/api/v1/write`, {
          method: 'POST',
          body,
          headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
        });
        if (r.status >= 300) throw new Error(`${url}: ${r.status} ${await r.text()}`);
        await r.arrayBuffer();
      }
    }),
  );
}

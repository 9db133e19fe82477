/**
 * Head ingest benchmark: 20k k8s-like series × 240 samples (15 s interval, small timestamp
 * jitter), appended through the Appender in per-target batches. Prints JSON.
 *
 *   node --expose-gc --import tsx bench/head-ingest.bench.ts [--series 20000] [--samples 240] [--jitter 2] [--tolerance 2]
 *
 * Jittered scrape timestamps go through the scrape loop's `alignScrapeTimestamp` with
 * `--tolerance` ms (the scraper's default 2 ms; 0 stores the raw jitter).
 *
 * With `--slope A,B` it runs itself twice (A and B series, fresh processes) and reports the
 * marginal RSS per series, (rss(B) - rss(A)) / (B - A): the per-series cost without the
 * process's fixed overhead (V8 young generation, JIT code), which dominates at 20k series.
 */

const slopeArg = process.argv.indexOf('--slope');
if (slopeArg >= 0) {
  const [a, b] = process.argv[slopeArg + 1]!.split(',').map(Number) as [number, number];
  const rest = process.argv.slice(2).filter((x, i, all) => x !== '--slope' && all[i - 1] !== '--slope');
  const run = (n: number): { rssMiB: number; bytesPerSample: number; samplesPerSecond: number } =>
    JSON.parse(execFileSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), ...rest, '--series', String(n)], { encoding: 'utf8' }));
  const ra = run(a);
  const rb = run(b);
  console.log(
    JSON.stringify(
      {
        seriesA: a,
        seriesB: b,
        rssMiBA: ra.rssMiB,
        rssMiBB: rb.rssMiB,
        marginalRssPerSeries: Math.round(((rb.rssMiB - ra.rssMiB) * 2 ** 20) / (b - a)),
        bytesPerSample: rb.bytesPerSample,
        samplesPerSecond: [ra.samplesPerSecond, rb.samplesPerSecond],
      },
      null,
      2,
    ),
  );
  process.exit(0);
}
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { labelsFrom, type Labels } from '../src/model/labels.js';
import { Head } from '../src/storage/head/index.js';
import { alignScrapeTimestamp, DEFAULT_TIMESTAMP_TOLERANCE_MS } from '../src/ingest/scrape/scrape-loop.js';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}

const SERIES = arg('series', 20_000);
const SAMPLES = arg('samples', 240);
const JITTER = arg('jitter', 2); // ± ms
const TOLERANCE = arg('tolerance', DEFAULT_TIMESTAMP_TOLERANCE_MS);
const INTERVAL = 15_000;
const T0 = 1_700_000_000_000;

// Deterministic PRNG (mulberry32).
let seed = 42;
function rnd(): number {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));

type Kind = 'cpu_counter' | 'mem_gauge' | 'req_counter' | 'net_counter' | 'const' | 'small_gauge' | 'goroutines';
const METRICS: { name: string; kind: Kind }[] = [
  { name: 'container_cpu_usage_seconds_total', kind: 'cpu_counter' },
  { name: 'container_memory_working_set_bytes', kind: 'mem_gauge' },
  { name: 'http_requests_total', kind: 'req_counter' },
  { name: 'container_network_receive_bytes_total', kind: 'net_counter' },
  { name: 'kube_pod_container_status_restarts_total', kind: 'const' },
  { name: 'up', kind: 'const' },
  { name: 'kube_pod_container_status_ready', kind: 'const' },
  { name: 'process_open_fds', kind: 'small_gauge' },
  { name: 'go_goroutines', kind: 'goroutines' },
  { name: 'container_spec_memory_limit_bytes', kind: 'const' },
];

interface Gen {
  labels: Labels;
  metric: string;
  kind: Kind;
  target: number;
  v: number;
  rate: number;
}

const rss0 = await measure();
const gens: Gen[] = [];
const containersNeeded = Math.ceil(SERIES / METRICS.length);
const targetsOf = new Map<number, Gen[]>();
for (let c = 0; c < containersNeeded && gens.length < SERIES; c++) {
  const ns = `namespace-${c % 23}`;
  const pod = `app-${(c >> 1) % 997}-deployment-${(c * 2654435761) % 0xfffff}-${(c * 40503) % 0xffff}`.slice(0, 48);
  const container = ['app', 'sidecar'][c % 2]!;
  const instance = `10.${(c >> 8) & 255}.${c & 255}.${(c * 7) % 250}:8080`;
  for (const m of METRICS) {
    if (gens.length >= SERIES) break;
    const labels = labelsFrom({ __name__: m.name, namespace: ns, pod, container, instance, job: 'kubernetes-pods' });
    const base =
      m.kind === 'cpu_counter' ? rnd() * 5e4
      : m.kind === 'mem_gauge' ? randInt(20_000, 500_000) * 4096
      : m.kind === 'req_counter' ? randInt(0, 1e7)
      : m.kind === 'net_counter' ? randInt(0, 1e11)
      : m.kind === 'const' ? [0, 1, 1, 536870912][randInt(0, 3)]!
      : m.kind === 'small_gauge' ? randInt(10, 200)
      : randInt(20, 3000);
    const g: Gen = { labels, metric: m.name, kind: m.kind, target: c, v: base, rate: rnd() };
    gens.push(g);
    let t = targetsOf.get(c);
    if (t === undefined) targetsOf.set(c, (t = []));
    t.push(g);
  }
}

function next(g: Gen): number {
  switch (g.kind) {
    case 'cpu_counter': // cAdvisor: seconds with ns precision
      g.v = Math.round((g.v + g.rate * 0.5 * 15 * (0.8 + 0.4 * rnd())) * 1e9) / 1e9;
      break;
    case 'mem_gauge':
      if (rnd() < 0.7) g.v = Math.max(4096, g.v + randInt(-64, 64) * 4096);
      break;
    case 'req_counter':
      g.v += Math.round(g.rate * g.rate * 100 * rnd());
      break;
    case 'net_counter':
      g.v += Math.round(g.rate * 2e6 * rnd());
      break;
    case 'const':
      break;
    case 'small_gauge':
      if (rnd() < 0.05) g.v += randInt(-1, 1);
      break;
    case 'goroutines':
      if (rnd() < 0.5) g.v = Math.max(1, g.v + randInt(-5, 5));
      break;
  }
  return g.v;
}

const targets = [...targetsOf.values()];
const offsets = targets.map(() => randInt(0, INTERVAL - 1));
const rss1 = await measure();

const head = new Head({ retentionMs: 365 * 24 * 3_600_000, clock: { now: () => T0 + SAMPLES * INTERVAL } });
const refs = new Map<Gen, number>();
let appended = 0;
let rejected = 0;
let appendNs = 0n;
for (let i = 0; i < SAMPLES; i++) {
  // Scrape values are computed outside the timed section.
  const rounds = targets.map((tg, k) => ({
    t: alignScrapeTimestamp(T0 + offsets[k]! + i * INTERVAL + randInt(-JITTER, JITTER), INTERVAL, (T0 + offsets[k]!) % INTERVAL, TOLERANCE),
    vs: tg.map(next),
  }));
  const start = process.hrtime.bigint();
  for (let k = 0; k < targets.length; k++) {
    const tg = targets[k]!;
    const r = rounds[k]!;
    const app = head.appender();
    for (let j = 0; j < tg.length; j++) {
      const g = tg[j]!;
      const ref = app.append(refs.get(g) ?? 0, g.labels, r.t, r.vs[j]!);
      if (ref !== 0) refs.set(g, ref);
    }
    await app.commit();
    appended += app.counts.samples;
    rejected += app.rejected.total;
  }
  appendNs += process.hrtime.bigint() - start;
}
const rss2 = await measure();
const st = head.stats();

// Bytes per sample by metric kind (reads head internals; fine for a benchmark).
const byKind = new Map<string, { bytes: number; samples: number }>();
let openCap = 0;
head.series.forEach((ix) => {
  const name = head.series.labelValue(ix, '__name__');
  const kind = METRICS.find((m) => m.name === name)!.kind;
  const e = byKind.get(kind) ?? { bytes: 0, samples: 0 };
  e.bytes += head.series.floatBytes(ix);
  e.samples += head.series.floatSamples(ix);
  byKind.set(kind, e);
  openCap += head.series.openCapacity(ix);
});

async function measure(): Promise<{ rss: number; heap: number; heapUsed: number; external: number }> {
  for (let i = 0; i < 3; i++) {
    (globalThis as { gc?: () => void }).gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = process.memoryUsage();
  if (process.env.BENCH_DEBUG) console.error(JSON.stringify(m));
  return { rss: m.rss, heap: m.heapUsed + m.external, heapUsed: m.heapUsed, external: m.external };
}

const secs = Number(appendNs) / 1e9;
console.log(
  JSON.stringify(
    {
      series: st.series,
      samplesPerSeries: SAMPLES,
      jitterMs: JITTER,
      timestampToleranceMs: TOLERANCE,
      appended,
      rejected,
      gcExposed: typeof (globalThis as { gc?: unknown }).gc === 'function',
      appendSeconds: +secs.toFixed(3),
      samplesPerSecond: Math.round(appended / secs),
      chunks: st.chunks,
      chunkBytes: st.chunkBytes,
      bytesPerSample: +(st.chunkBytes / st.samples).toFixed(3),
      bytesPerSampleByKind: Object.fromEntries([...byKind].map(([k, e]) => [k, +(e.bytes / e.samples).toFixed(3)])),
      rssPerSeriesHeadOnly: Math.round((rss2.rss - rss1.rss) / st.series),
      rssPerSeriesInclLabels: Math.round((rss2.rss - rss0.rss) / st.series),
      heapPerSeriesHeadOnly: Math.round((rss2.heap - rss1.heap) / st.series),
      heapPerSeriesInclLabels: Math.round((rss2.heap - rss0.heap) / st.series),
      heapUsedPerSeriesHeadOnly: Math.round((rss2.heapUsed - rss1.heapUsed) / st.series),
      externalPerSeriesHeadOnly: Math.round((rss2.external - rss1.external) / st.series),
      openChunkCapacityPerSeries: Math.round(openCap / st.series),
      rssMiB: +(rss2.rss / 2 ** 20).toFixed(2),
      headTypedArrayBytes: head.series.memory(),
      postingsPairs: head.postings.pairs,
      symbols: head.series.symbols.size,
    },
    null,
    2,
  ),
);

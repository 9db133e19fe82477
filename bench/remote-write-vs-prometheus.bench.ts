/**
 * Remote-write ingest, vigil vs real Prometheus 2.42 (`--web.enable-remote-write-receiver`), on
 * the same pre-encoded, snappy-compressed 1.0 payloads: 20k k8s-like series, 2,000 series per
 * request (one sample each), rounds alternating between the two servers. Reports samples per
 * CPU-second of each server process (utime+stime from /proc) and their ratio, then vigil's head
 * bytes per sample, RSS per active series (the RSS growth when another SERIES series with the
 * same number of samples are added to the warm process: the marginal cost, free of V8's fixed
 * overhead; measured after full GCs in vigil, triggered by SIGUSR2 through a preload, since
 * the garbage of the last requests stays resident until V8 collects it; the same without the
 * GCs is reported as `…_after_1s`), and WAL replay time after a restart. The V8 heap and external memory (from
 * vigil's default process metrics) are reported beside RSS to show where growth comes from.
 */
import { encodeWriteRequestV1 } from '../src/ingest/remote-write/encode.js';
import { snappyCompress } from '../src/ingest/remote-write/snappy.js';
import { startPrometheus, startVigil, waitReady, rmTemp, type Peer } from '../test/e2e/peers.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { cpuSeconds, emit, k8sSeries, nextValue, progress, rssBytes } from './lib.js';

const SERIES = Number(process.env.BENCH_SERIES ?? 20_000);
// 240 rounds = 1 h at 15 s: chunks (120 samples) fill up, so bytes/sample is the steady state.
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 240);
const PER_REQUEST = 2000;
const CONCURRENCY = 4;
const STEP_MS = 15_000;
/** Full GCs (1 s apart) in vigil before each memory measurement (see `settle`). */
const SETTLE_GCS = Number(process.env.BENCH_SETTLE_GCS ?? 2);

const both = k8sSeries(2 * SERIES);
const series = both.slice(0, SERIES);
const extra = both.slice(SERIES);
const t0 = Date.now() - ROUNDS * STEP_MS - 60_000;
progress(`encoding ${ROUNDS} rounds × ${SERIES} series`);
const values = new Float64Array(SERIES);
const rounds: Uint8Array[][] = [];
let rawBytes = 0;
for (let r = 0; r < ROUNDS; r++) {
  const reqs: Uint8Array[] = [];
  for (let off = 0; off < SERIES; off += PER_REQUEST) {
    const batch = [];
    for (let i = off; i < Math.min(SERIES, off + PER_REQUEST); i++) {
      values[i] = nextValue(values[i]!, series[i]!.counter, i, r);
      batch.push({ labels: series[i]!.labels, samples: [{ t: t0 + r * STEP_MS + (i % 1000), v: values[i]! }] });
    }
    const raw = encodeWriteRequestV1(batch);
    rawBytes += raw.length;
    reqs.push(snappyCompress(raw));
  }
  rounds.push(reqs);
}

async function send(url: string, bodies: Uint8Array[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < bodies.length) {
      const body = bodies[next++]!;
      const res = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'Content-Encoding': 'snappy', 'Content-Type': 'application/x-protobuf', 'X-Prometheus-Remote-Write-Version': '0.1.0' },
      });
      if (res.status >= 300) throw new Error(`${url}: HTTP ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

async function metric(base: string, name: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** V8 heap and external memory of vigil, from its default process metrics. */
async function memory(base: string): Promise<{ heapUsed: number; heapTotal: number; external: number }> {
  return {
    heapUsed: await metric(base, 'nodejs_heap_size_used_bytes'),
    heapTotal: await metric(base, 'nodejs_heap_size_total_bytes'),
    external: await metric(base, 'nodejs_external_memory_bytes'),
  };
}

/**
 * RSS and V8 memory of vigil after full GCs: the garbage of the last requests otherwise stays
 * resident until V8 decides to collect it, which makes two RSS readings differ by whatever
 * garbage each happens to hold. vigil runs with a preload (below) that answers SIGUSR2 with a
 * full GC; `gcFirst = false` reads the numbers as they are.
 */
async function settle(peer: Peer, gcFirst: boolean): Promise<{ rss: number; mem: Awaited<ReturnType<typeof memory>> }> {
  if (gcFirst) {
    for (let i = 0; i < SETTLE_GCS; i++) {
      process.kill(peer.proc.pid!, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 1000));
    }
  } else await new Promise((r) => setTimeout(r, 1000));
  const rss = rssBytes(peer.proc.pid!);
  return { rss, mem: await memory(peer.url) };
}

// Preload for vigil: SIGUSR2 runs a full GC (V8's gc() via --expose-gc set at runtime).
const gcHook = join(mkdtempSync(join(tmpdir(), 'vigil-bench-')), 'gc-on-sigusr2.mjs');
writeFileSync(
  gcHook,
  "import v8 from 'node:v8';\nimport vm from 'node:vm';\nv8.setFlagsFromString('--expose-gc');\n" +
    "const gc = vm.runInNewContext('gc');\nprocess.on('SIGUSR2', () => { gc(); gc(); });\n",
);
const nodeOptions = process.env.NODE_OPTIONS;
process.env.NODE_OPTIONS = `${nodeOptions ?? ''} --import=${pathToFileURL(gcHook).href}`.trim();

const prom = await startPrometheus('global: {}\n');
const vigil = await startVigil({ config: '{}\n' });
if (nodeOptions === undefined) delete process.env.NODE_OPTIONS;
else process.env.NODE_OPTIONS = nodeOptions;
let vigil2: Peer | undefined;
try {
  // Warm up both (JIT, first-series paths) with a throwaway series set? No: the first round is
  // part of the measurement for both, as it is for a real sender after a restart.
  const rssBefore = (await settle(vigil, true)).rss;
  let cpuProm = 0;
  let cpuVigil = 0;
  let wallProm = 0;
  let wallVigil = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const order: [Peer, 'p' | 'v'][] = r % 2 === 0 ? [[prom, 'p'], [vigil, 'v']] : [[vigil, 'v'], [prom, 'p']];
    for (const [peer, which] of order) {
      const c0 = cpuSeconds(peer.proc.pid!);
      const w0 = performance.now();
      await send(`${peer.url}/api/v1/write`, rounds[r]!);
      const dc = cpuSeconds(peer.proc.pid!) - c0;
      const dw = performance.now() - w0;
      if (which === 'p') (cpuProm += dc), (wallProm += dw);
      else (cpuVigil += dc), (wallVigil += dw);
    }
    if (r % 10 === 9) progress(`round ${r + 1}/${ROUNDS}: cpu prometheus ${cpuProm.toFixed(2)} s, vigil ${cpuVigil.toFixed(2)} s`);
  }
  const samples = SERIES * ROUNDS;
  const quick1 = await settle(vigil, false);
  const s1 = await settle(vigil, true);
  const rssAfter = s1.rss;
  const mem1 = s1.mem;
  const chunkBytes = await metric(vigil.url, 'vigil_head_chunks_bytes');
  const headSamples = await metric(vigil.url, 'vigil_head_samples');
  // Marginal RSS: the same rounds again for SERIES new series.
  const values2 = new Float64Array(SERIES);
  for (let r = 0; r < ROUNDS; r++) {
    const reqs: Uint8Array[] = [];
    for (let off = 0; off < SERIES; off += PER_REQUEST) {
      const batch = [];
      for (let i = off; i < Math.min(SERIES, off + PER_REQUEST); i++) {
        values2[i] = nextValue(values2[i]!, extra[i]!.counter, i, r);
        batch.push({ labels: extra[i]!.labels, samples: [{ t: t0 + r * STEP_MS + (i % 1000), v: values2[i]! }] });
      }
      reqs.push(snappyCompress(encodeWriteRequestV1(batch)));
    }
    await send(`${vigil.url}/api/v1/write`, reqs);
  }
  const quick2 = await settle(vigil, false);
  const s2 = await settle(vigil, true);
  const rssAfter2 = s2.rss;
  const mem2 = s2.mem;
  const headSeries = await metric(vigil.url, 'vigil_head_series');

  // WAL replay: restart vigil on the same storage directory.
  await vigil.stop();
  const r0 = performance.now();
  vigil2 = await startVigil({ config: '{}\n', storageDir: vigil.storageDir });
  const restartMs = performance.now() - r0;
  const replaySeconds = await metric(vigil2.url, 'vigil_wal_replay_duration_seconds');
  const seriesAfterReplay = await metric(vigil2.url, 'vigil_head_series');

  emit({
    benchmark: 'remote-write ingest vs Prometheus 2.42',
    series: SERIES,
    rounds: ROUNDS,
    samples_per_server: samples,
    request_bytes_raw_avg: Math.round(rawBytes / (ROUNDS * Math.ceil(SERIES / PER_REQUEST))),
    prometheus: { cpu_seconds: cpuProm, wall_seconds: wallProm / 1000, samples_per_cpu_second: Math.round(samples / cpuProm) },
    vigil: { cpu_seconds: cpuVigil, wall_seconds: wallVigil / 1000, samples_per_cpu_second: Math.round(samples / cpuVigil) },
    ratio_vigil_over_prometheus: Number((cpuProm / cpuVigil).toFixed(2)),
    target_ratio: 2,
    head_chunk_bytes_per_sample: Number((chunkBytes / headSamples).toFixed(3)),
    target_bytes_per_sample: 1.4,
    head_series: headSeries,
    rss_bytes_per_series_marginal: Math.round((rssAfter2 - rssAfter) / SERIES),
    rss_bytes_per_series_first: Math.round((rssAfter - rssBefore) / SERIES),
    rss_bytes_per_series_marginal_after_1s: Math.round((quick2.rss - quick1.rss) / SERIES),
    rss_measured_after_full_gcs: SETTLE_GCS,
    rss_total_bytes: rssAfter2,
    heap_used_bytes_per_series_marginal: Math.round((mem2.heapUsed - mem1.heapUsed) / SERIES),
    heap_total_bytes_per_series_marginal: Math.round((mem2.heapTotal - mem1.heapTotal) / SERIES),
    external_bytes_per_series_marginal: Math.round((mem2.external - mem1.external) / SERIES),
    heap_used_bytes: mem2.heapUsed,
    heap_total_bytes: mem2.heapTotal,
    external_bytes: mem2.external,
    target_rss_bytes_per_series: 1024,
    wal_replay_seconds: replaySeconds,
    restart_to_ready_seconds: Number((restartMs / 1000).toFixed(2)),
    series_after_replay: seriesAfterReplay,
  });
} finally {
  await prom.stop();
  await vigil.stop();
  await vigil2?.stop();
  rmTemp(prom.dir);
  rmTemp(vigil.dir);
  rmTemp(dirname(gcHook));
}
void waitReady;

/**
 * Remote-write ingest, vigil vs real Prometheus 2.42 (`--web.enable-remote-write-receiver`), on
 * the same pre-encoded, snappy-compressed 1.0 payloads: 20k k8s-like series, 2,000 series per
 * request (one sample each), rounds alternating between the two servers. Reports samples per
 * CPU-second of each server process (utime+stime from /proc) and their ratio, then vigil's head
 * bytes per sample, RSS per active series (the RSS growth when another SERIES series with the
 * same number of samples are added to the warm process: the marginal cost, free of V8's fixed
 * overhead), and WAL replay time after a restart.
 */
import { encodeWriteRequestV1 } from '../src/ingest/remote-write/encode.js';
import { snappyCompress } from '../src/ingest/remote-write/snappy.js';
import { startPrometheus, startVigil, waitReady, rmTemp, type Peer } from '../test/e2e/peers.js';
import { cpuSeconds, emit, k8sSeries, nextValue, progress, rssBytes } from './lib.js';

const SERIES = Number(process.env.BENCH_SERIES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40);
const PER_REQUEST = 2000;
const CONCURRENCY = 4;
const STEP_MS = 15_000;

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

const prom = await startPrometheus('global: {}\n');
const vigil = await startVigil({ config: '{}\n' });
let vigil2: Peer | undefined;
try {
  // Warm up both (JIT, first-series paths) with a throwaway series set? No: the first round is
  // part of the measurement for both, as it is for a real sender after a restart.
  const rssBefore = rssBytes(vigil.proc.pid!);
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
  await new Promise((r) => setTimeout(r, 1000));
  const rssAfter = rssBytes(vigil.proc.pid!);
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
  await new Promise((r) => setTimeout(r, 1000));
  const rssAfter2 = rssBytes(vigil.proc.pid!);
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
    rss_total_bytes: rssAfter2,
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
}
void waitReady;

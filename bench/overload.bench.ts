/**
 * 10× overload: vigil (a child process, so RSS is its own) with a tenant limited to
 * `RATE` samples/s and a small request-concurrency limit; `WRITERS` remote-write senders
 * offer about 10× that rate on 127.0.0.1 and retry like Prometheus (exponential backoff from
 * 30 ms to 5 s, honouring Retry-After) on 429 and 5xx. Measured: requests refused (429/503),
 * vigil's RSS peak against `RSS_BOUND`, and samples lost (written − stored; must be 0).
 * Bounded: fixed number of samples, a hard deadline. Prints one JSON object.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeWriteRequestV1, snappyCompress } from '../src/ingest/remote-write/index.js';
import { rssBytes } from './lib.js';

const RATE = 50_000; // samples/s allowed for the tenant
const WRITERS = 20;
const REQUESTS_PER_WRITER = 25;
const SERIES_PER_REQUEST = 250;
const SAMPLES_PER_SERIES = 10; // 2,500 samples per request
const RSS_BOUND = 768 * 1024 * 1024;
const DEADLINE_MS = 150_000;
const TENANT = 'bench';

const repo = resolve(fileURLToPath(new URL('..', import.meta.url)));

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

function body(writer: number, req: number, t0: number): Uint8Array {
  const series = [];
  for (let s = 0; s < SERIES_PER_REQUEST; s++) {
    series.push({
      labels: [
        { name: '__name__', value: 'overload_metric' },
        { name: 'series', value: String(s) },
        { name: 'writer', value: String(writer) },
      ],
      samples: Array.from({ length: SAMPLES_PER_SERIES }, (_, k) => ({ t: t0 + (req * SAMPLES_PER_SERIES + k) * 1000, v: k })),
    });
  }
  return snappyCompress(encodeWriteRequestV1(series));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-overload-'));
  const port = await freePort();
  writeFileSync(join(dir, 'vigil.yml'), `limits:\n  overrides:\n    ${TENANT}: {ingestion_rate: ${RATE}, ingestion_burst_size: ${RATE}}\n`);
  const proc = spawn(
    process.execPath,
    ['--import', 'tsx', join(repo, 'cmd/vigil.ts'), 'run', `--config.file=${join(dir, 'vigil.yml')}`, `--web.listen-address=127.0.0.1:${port}`, `--storage.path=${join(dir, 'data')}`, '--web.max-concurrent-requests=8', '--log.level=error'],
    { cwd: repo, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const url = `http://127.0.0.1:${port}`;
  let rssPeak = 0;
  const sampler = setInterval(() => {
    try {
      rssPeak = Math.max(rssPeak, rssBytes(proc.pid!));
    } catch {
      /* exited */
    }
  }, 100);
  try {
    for (let i = 0; ; i++) {
      if (i > 600) throw new Error('vigil did not become ready');
      const ok = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
      if (ok) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const t0 = Date.now() - 3_600_000;
    const codes: Record<string, number> = {};
    let refused = 0;
    let retries = 0;
    let written = 0;
    let attempts = 0;
    let okLatency = 0;
    const deadline = Date.now() + DEADLINE_MS;
    const start = performance.now();
    const writer = async (w: number): Promise<void> => {
      for (let r = 0; r < REQUESTS_PER_WRITER; r++) {
        const b = body(w, r, t0);
        let backoff = 30;
        for (;;) {
          if (Date.now() > deadline) return;
          let status = 0;
          let retryAfter = 0;
          attempts++;
          const tq = performance.now();
          try {
            const res = await fetch(`${url}/api/v1/write`, {
              method: 'POST',
              body: b,
              headers: { 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf', 'x-prometheus-remote-write-version': '0.1.0', 'X-Scope-OrgID': TENANT },
            });
            status = res.status;
            retryAfter = Number(res.headers.get('retry-after') ?? 0);
            await res.arrayBuffer();
          } catch {
            status = -1;
          }
          codes[status] = (codes[status] ?? 0) + 1;
          if (status === 204) {
            okLatency += performance.now() - tq;
            written += SERIES_PER_REQUEST * SAMPLES_PER_SERIES;
            break;
          }
          if (status === 429 || status === 503) refused++;
          if (status !== 429 && status < 500 && status !== -1) throw new Error(`non-retryable status ${status}`);
          retries++;
          const wait = Math.max(backoff, retryAfter * 1000) * (0.5 + Math.random() / 2);
          await new Promise((res) => setTimeout(res, wait));
          backoff = Math.min(backoff * 2, 5000);
        }
      }
    };
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)));
    const seconds = (performance.now() - start) / 1000;
    const total = WRITERS * REQUESTS_PER_WRITER * SERIES_PER_REQUEST * SAMPLES_PER_SERIES;
    const q = encodeURIComponent('sum(count_over_time(overload_metric[2h]))');
    const res = (await (await fetch(`${url}/api/v1/query?query=${q}`, { headers: { 'X-Scope-OrgID': TENANT } })).json()) as { data: { result: { value: [number, string] }[] } };
    const stored = Number(res.data.result[0]?.value[1] ?? 0);
    // Demand: every writer sending back to back at the measured latency of an accepted request.
    const meanOkSeconds = okLatency / 1000 / Math.max(1, codes[204] ?? 1);
    const offeredPerSecond = (WRITERS * SERIES_PER_REQUEST * SAMPLES_PER_SERIES) / meanOkSeconds;
    console.log(
      JSON.stringify({
        bench: 'overload',
        tenantRateLimit: RATE,
        writers: WRITERS,
        demandSamplesPerSecond: Math.round(offeredPerSecond),
        attemptedSamplesPerSecond: Math.round((attempts * SERIES_PER_REQUEST * SAMPLES_PER_SERIES) / seconds),
        overloadFactor: Math.round(offeredPerSecond / RATE),
        samplesSent: total,
        samplesAcknowledged: written,
        samplesStored: stored,
        samplesLost: total - stored,
        requestsRefused: refused,
        retries,
        statusCodes: codes,
        seconds: Math.round(seconds * 10) / 10,
        acceptedSamplesPerSecond: Math.round(stored / seconds),
        rssPeakMiB: Math.round(rssPeak / 1048576),
        rssBoundMiB: RSS_BOUND / 1048576,
        rssWithinBound: rssPeak < RSS_BOUND,
      }),
    );
    if (total !== stored || rssPeak >= RSS_BOUND) process.exitCode = 1;
  } finally {
    clearInterval(sampler);
    proc.kill('SIGTERM');
    await new Promise((r) => proc.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

/**
 * Remote-write receive benchmark: decompress + decode + append + commit of pre-encoded,
 * snappy-compressed requests of 20k k8s-like series × 10 samples, for 1.0 and 2.0, into the
 * real Head (src/storage/head) and, to isolate decoder cost, into a no-op appender.
 * Prints one JSON document. Run: node --import tsx bench/remote-write-decode.ts [series] [requests]
 */
import type { FloatHistogram } from '../src/model/histogram.js';
import type { Labels } from '../src/model/labels.js';
import type { Exemplar, MetricMetadata } from '../src/model/samples.js';
import type { Appendable, Appender, RejectReason, Rejection, SeriesRef } from '../src/storage/interface.js';
import { Head } from '../src/storage/head/index.js';
import type { EncodeSeries } from '../src/ingest/remote-write/encode.js';
import { encodeWriteRequestV1, encodeWriteRequestV2, snappyCompress } from '../src/ingest/remote-write/encode.js';
import { ingestV1 } from '../src/ingest/remote-write/decode-v1.js';
import { ingestV2 } from '../src/ingest/remote-write/decode-v2.js';
import type { IngestContext } from '../src/ingest/remote-write/series.js';
import { DEFAULT_LIMITS, IngestReport, SeriesCache, flushPending } from '../src/ingest/remote-write/series.js';
import { SnappyScratch, snappyDecompress } from '../src/ingest/remote-write/snappy.js';

const SERIES = Number(process.argv[2] ?? 20_000);
const REQUESTS = Number(process.argv[3] ?? 6);
const SAMPLES_PER_SERIES = 10;
const STEP = 15_000;
const T0 = Date.now() - REQUESTS * SAMPLES_PER_SERIES * STEP;

/** An appender that accepts everything and stores nothing (decoder cost only). */
class NopAppender implements Appender {
  readonly counts = { samples: 0, histograms: 0, exemplars: 0 };
  readonly rejected = { total: 0, byReason: new Map<RejectReason, number>(), first: [] as Rejection[] };
  private next = 1;
  append(ref: SeriesRef, _l: Labels, _t: number, _v: number): SeriesRef {
    this.counts.samples++;
    return ref !== 0 ? ref : this.next++;
  }
  appendHistogram(ref: SeriesRef, _l: Labels, _t: number, _h: FloatHistogram): SeriesRef {
    this.counts.histograms++;
    return ref !== 0 ? ref : this.next++;
  }
  appendExemplar(ref: SeriesRef, _l: Labels, _e: Exemplar): SeriesRef {
    this.counts.exemplars++;
    return ref;
  }
  updateMetadata(_n: string, _md: MetricMetadata): void {}
  async commit(): Promise<void> {}
  rollback(): void {}
}
const nopAppendable: Appendable = { appender: () => new NopAppender() };

function seriesLabels(i: number): { name: string; value: string }[] {
  const ns = `ns-${i % 40}`;
  const pod = `app-${Math.floor(i / 50) % 400}-7f9c8d${(i % 97).toString(16)}-x${i % 13}`;
  return [
    { name: '__name__', value: `k8s_metric_${i % 50}_total` },
    { name: 'container', value: `c-${i % 7}` },
    { name: 'instance', value: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:9100` },
    { name: 'job', value: 'kubernetes-pods' },
    { name: 'namespace', value: ns },
    { name: 'node', value: `node-${i % 25}` },
    { name: 'pod', value: pod },
    { name: 'service', value: `svc-${i % 60}` },
  ];
}

function buildRequests(): EncodeSeries[][] {
  const labels = Array.from({ length: SERIES }, (_, i) => seriesLabels(i));
  const out: EncodeSeries[][] = [];
  for (let r = 0; r < REQUESTS; r++) {
    out.push(
      labels.map((l, i) => ({
        labels: l,
        samples: Array.from({ length: SAMPLES_PER_SERIES }, (_, k) => ({
          t: T0 + (r * SAMPLES_PER_SERIES + k) * STEP,
          v: i * 1000 + r * SAMPLES_PER_SERIES + k,
        })),
      })),
    );
  }
  return out;
}

interface Run {
  readonly requests: number;
  readonly samples: number;
  readonly wallMs: number;
  readonly cpuMs: number;
  readonly samplesPerSec: number;
  readonly samplesPerCpuSec: number;
}

async function run(version: '1.0' | '2.0', bodies: Uint8Array[], appendable: Appendable, hasSeries?: (ref: number) => boolean): Promise<{ cold: Run; warm: Run }> {
  const cache = new SeriesCache(1_000_000);
  const scratch = new SnappyScratch(); // as the handler does
  const measure = async (list: Uint8Array[]): Promise<Run> => {
    let samples = 0;
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    for (const body of list) {
      const raw = snappyDecompress(body, 256 * 1024 * 1024, scratch);
      const app = appendable.appender();
      const rep = new IngestReport();
      const ctx: IngestContext = { limits: DEFAULT_LIMITS, cache, hasSeries, pending: [] };
      if (version === '1.0') ingestV1(raw, app, ctx, rep);
      else ingestV2(raw, app, ctx, rep);
      await app.commit();
      flushPending(ctx);
      if (rep.failed || app.rejected.total > 0) throw new Error(`unexpected rejections: ${rep.messages.join('; ')} ${app.rejected.total}`);
      samples += app.counts.samples;
    }
    const wallMs = performance.now() - w0;
    const cpu = process.cpuUsage(c0);
    const cpuMs = (cpu.user + cpu.system) / 1000;
    return {
      requests: list.length,
      samples,
      wallMs: Math.round(wallMs),
      cpuMs: Math.round(cpuMs),
      samplesPerSec: Math.round(samples / (wallMs / 1000)),
      samplesPerCpuSec: Math.round(samples / (cpuMs / 1000)),
    };
  };
  const cold = await measure(bodies.slice(0, 1));
  const warm = await measure(bodies.slice(1));
  return { cold, warm };
}

async function main(): Promise<void> {
  const reqs = buildRequests();
  const result: Record<string, unknown> = {
    benchmark: 'remote-write-decode',
    node: process.version,
    series: SERIES,
    samplesPerSeries: SAMPLES_PER_SERIES,
    requests: REQUESTS,
    labelsPerSeries: 8,
    storage: 'src/storage/head Head (no WAL) and a no-op appender',
  };
  for (const version of ['1.0', '2.0'] as const) {
    const bodies = reqs.map((r) => snappyCompress(version === '1.0' ? encodeWriteRequestV1(r) : encodeWriteRequestV2(r)));
    const rawBytes = (version === '1.0' ? encodeWriteRequestV1(reqs[0]!) : encodeWriteRequestV2(reqs[0]!)).length;
    const nop = await run(version, bodies, nopAppendable);
    const head = new Head({ retentionMs: 30 * 24 * 3600 * 1000 });
    const intoHead = await run(version, bodies, head, (ref) => head.hasSeries(ref));
    const stats = head.stats();
    await head.close();
    result[`v${version}`] = {
      requestBytesCompressed: bodies[0]!.length,
      requestBytesRaw: rawBytes,
      decodeOnly: nop,
      intoHead,
      headSeries: stats.series,
      headSamples: stats.samples,
    };
  }
  console.log(JSON.stringify(result, null, 2));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});

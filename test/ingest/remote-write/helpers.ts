/** Shared helpers for the remote-write tests. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Label } from '../../../src/model/labels.js';
import { ingestV1 } from '../../../src/ingest/remote-write/decode-v1.js';
import { ingestV2 } from '../../../src/ingest/remote-write/decode-v2.js';
import type { RemoteWriteHandlerOptions } from '../../../src/ingest/remote-write/handler.js';
import { createRemoteWriteHandler } from '../../../src/ingest/remote-write/handler.js';
import type { IngestContext, ReceiverLimits } from '../../../src/ingest/remote-write/series.js';
import { DEFAULT_LIMITS, IngestReport, SeriesCache, flushPending } from '../../../src/ingest/remote-write/series.js';
import { FakeStorage } from './fake-appender.js';

/** Labels from an object, in the given (not sorted) order. */
export function L(o: Record<string, string>): Label[] {
  return Object.entries(o).map(([name, value]) => ({ name, value }));
}

/** Runs one decoder over `body` into `st` and commits; returns the report. */
export async function ingestInto(
  version: '1.0' | '2.0',
  body: Uint8Array,
  st: FakeStorage,
  opts: { limits?: Partial<ReceiverLimits>; cache?: SeriesCache; hasSeries?: boolean } = {},
): Promise<{ rep: IngestReport; ctx: IngestContext; counts: { samples: number; histograms: number; exemplars: number }; rejected: number }> {
  const ctx: IngestContext = {
    limits: { ...DEFAULT_LIMITS, ...opts.limits },
    cache: opts.cache ?? new SeriesCache(),
    hasSeries: opts.hasSeries === false ? undefined : st.hasSeries,
    pending: [],
  };
  const rep = new IngestReport();
  const app = st.appender();
  try {
    if (version === '1.0') ingestV1(body, app, ctx, rep);
    else ingestV2(body, app, ctx, rep);
  } catch (err) {
    app.rollback();
    throw err;
  }
  await app.commit();
  flushPending(ctx);
  return { rep, ctx, counts: { ...app.counts }, rejected: app.rejected.total };
}

/** Headers of a 2.0 request. */
export const V2_HEADERS = {
  'Content-Type': 'application/x-protobuf;proto=io.prometheus.write.v2.Request',
  'Content-Encoding': 'snappy',
  'X-Prometheus-Remote-Write-Version': '2.0.0',
};

/** Headers of a 1.0 request. */
export const V1_HEADERS = {
  'Content-Type': 'application/x-protobuf',
  'Content-Encoding': 'snappy',
  'X-Prometheus-Remote-Write-Version': '0.1.0',
};

/** A live receiver on 127.0.0.1 with a fake storage. */
export interface TestServer {
  readonly url: string;
  readonly st: FakeStorage;
  close(): Promise<void>;
}

/** Starts the handler on an ephemeral port. */
export async function startServer(opts: Partial<RemoteWriteHandlerOptions> = {}, st = new FakeStorage()): Promise<TestServer> {
  const handler = createRemoteWriteHandler({ appendable: st, hasSeries: st.hasSeries, ...opts });
  const server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/api/v1/write`,
    st,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** POSTs a body; returns status, text and the written-count headers (null when absent). */
export async function post(
  url: string,
  body: Uint8Array,
  headers: Record<string, string>,
): Promise<{ status: number; text: string; samples: number | null; histograms: number | null; exemplars: number | null; headers: Headers }> {
  const res = await fetch(url, { method: 'POST', body, headers });
  const text = await res.text();
  const num = (h: string): number | null => {
    const v = res.headers.get(h);
    return v === null ? null : Number(v);
  };
  return {
    status: res.status,
    text,
    samples: num('X-Prometheus-Remote-Write-Samples-Written'),
    histograms: num('X-Prometheus-Remote-Write-Histograms-Written'),
    exemplars: num('X-Prometheus-Remote-Write-Exemplars-Written'),
    headers: res.headers,
  };
}

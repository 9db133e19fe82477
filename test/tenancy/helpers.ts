/** Helpers for the tenancy tests: remote-write as a tenant, GET with a tenant header. */
import { encodeWriteRequestV1, snappyCompress } from '../../src/ingest/remote-write/index.js';
import type { EncodeFamilyMetadata } from '../../src/ingest/remote-write/encode.js';

/** One series to write: labels (with __name__) and [t, v] points. */
export interface TestSeries {
  readonly labels: Record<string, string>;
  readonly points: readonly [number, number][];
}

/** Builds a snappy-compressed 1.0 write request. */
export function writeBody(series: readonly TestSeries[], metadata: readonly EncodeFamilyMetadata[] = []): Uint8Array {
  return snappyCompress(
    encodeWriteRequestV1(
      series.map((s) => ({
        labels: Object.entries(s.labels)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([name, value]) => ({ name, value })),
        samples: s.points.map(([t, v]) => ({ t, v })),
      })),
      metadata,
    ),
  );
}

/** POSTs a write request, optionally as a tenant and with extra headers. */
export function remoteWrite(base: string, body: Uint8Array, tenant?: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/api/v1/write`, {
    method: 'POST',
    body,
    headers: {
      'content-encoding': 'snappy',
      'content-type': 'application/x-protobuf',
      'x-prometheus-remote-write-version': '0.1.0',
      ...(tenant !== undefined ? { 'X-Scope-OrgID': tenant } : {}),
      ...headers,
    },
  });
}

/** GET as a tenant; returns status and body text. */
export async function getAs(base: string, path: string, tenant?: string, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const r = await fetch(base + path, { headers: { ...(tenant !== undefined ? { 'X-Scope-OrgID': tenant } : {}), ...headers } });
  return { status: r.status, text: await r.text() };
}

/** Polls `cond` every 100 ms until it is true or `ms` passed. */
export async function waitFor(cond: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond();
}

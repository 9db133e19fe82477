/**
 * Start timestamps sent by remote-write 2.0 reach the head and change what PromQL computes:
 * a receiver on a real Head, queried with the engine.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeWriteRequestV1, encodeWriteRequestV2, snappyCompress, type EncodeSeries } from '../../../src/ingest/remote-write/encode.js';
import { createRemoteWriteHandler } from '../../../src/ingest/remote-write/handler.js';
import { FakeClock } from '../../../src/model/clock.js';
import { CounterResetHint } from '../../../src/model/histogram.js';
import { Engine } from '../../../src/promql/engine/engine.js';
import { Head } from '../../../src/storage/head/index.js';
import { L, V1_HEADERS, V2_HEADERS, post } from './helpers.js';

const T0 = 1_700_000_000_000;

let server: Server | undefined;
afterEach(async () => {
  if (server) {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
  }
  server = undefined;
});

async function receiver(): Promise<{ url: string; head: Head }> {
  const head = new Head({ retentionMs: 24 * 3_600_000, clock: new FakeClock(T0 + 600_000) });
  const handler = createRemoteWriteHandler({ appendable: head, hasSeries: (r) => head.hasSeries(r) });
  server = createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`, head };
}

async function scalarOf(head: Head, q: string, t: number): Promise<number[]> {
  const res = await new Engine().instantQuery(head, q, t);
  if (res.value.kind !== 'vector') throw new Error(`got ${res.value.kind}`);
  return res.value.vector.map((s) => (s.h ? s.h.count : s.f));
}

/** A delta-temporality counter: every sample counts the 10 events since the previous one. */
function deltaSeries(withStart: boolean): EncodeSeries {
  const samples = [];
  for (let i = 1; i <= 6; i++) {
    const t = T0 + i * 10_000;
    samples.push(withStart ? { t, v: 10, st: t - 9_999 } : { t, v: 10 });
  }
  return { labels: L({ __name__: 'events_total', temporality: withStart ? 'delta' : 'unknown' }), samples };
}

describe('remote-write 2.0 start timestamps', () => {
  it('stores sample start timestamps; increase() counts each delta and anchors at the first start', async () => {
    const { url, head } = await receiver();
    const r = await post(url, snappyCompress(encodeWriteRequestV2([deltaSeries(true), deltaSeries(false)])), V2_HEADERS);
    expect(r.status).toBe(204);
    // Window (T0, T0+60s]: six deltas of 10 since T0+1ms. Without start timestamps the values
    // look like a flat counter.
    expect(await scalarOf(head, 'increase(events_total{temporality="delta"}[1m])', T0 + 60_000)).toEqual([60]);
    expect(await scalarOf(head, 'increase(events_total{temporality="unknown"}[1m])', T0 + 60_000)).toEqual([0]);
    expect(await scalarOf(head, 'resets(events_total{temporality="delta"}[1m])', T0 + 60_000)).toEqual([5]);
    // A subquery does not carry them.
    expect(await scalarOf(head, 'increase(events_total{temporality="delta"}[1m:10s])', T0 + 60_000)).toEqual([0]);
  });

  it('stores histogram start timestamps (field 17) and the legacy series created_timestamp', async () => {
    const { url, head } = await receiver();
    const h = { counterResetHint: CounterResetHint.Unknown, schema: 0, zeroThreshold: 0, zeroCount: 0, count: 60, sum: 60, positiveSpans: [], negativeSpans: [], positiveBuckets: [], negativeBuckets: [] };
    const body = encodeWriteRequestV2([
      { labels: L({ __name__: 'lat_seconds' }), histograms: [{ t: T0 + 120_000, h, st: T0 + 60_000 }] },
      { labels: L({ __name__: 'legacy_total' }), samples: [{ t: T0 + 10_000, v: 10 }, { t: T0 + 20_000, v: 20 }], createdTimestamp: T0 + 5_000 },
    ]);
    expect((await post(url, snappyCompress(body), V2_HEADERS)).status).toBe(204);
    // One histogram sample is enough: it grew from zero at its start, 60 in 300 s.
    expect(await scalarOf(head, 'rate(lat_seconds[5m])', T0 + 180_000)).toEqual([0.2]);
    // A zero point at the created timestamp instead of extrapolating (which would give 15).
    expect(await scalarOf(head, 'increase(legacy_total[30s])', T0 + 20_000)).toEqual([20]);
    expect(await scalarOf(head, 'start_timestamp(legacy_total)', T0 + 20_000)).toEqual([(T0 + 5_000) / 1000]);
  });

  it('1.0 requests carry no start timestamps', async () => {
    const { url, head } = await receiver();
    const series = deltaSeries(true);
    expect((await post(url, snappyCompress(encodeWriteRequestV1([series])), V1_HEADERS)).status).toBe(204);
    expect(await scalarOf(head, 'increase(events_total[1m])', T0 + 60_000)).toEqual([0]);
    expect(await scalarOf(head, 'start_timestamp(events_total)', T0 + 60_000)).toEqual([0]);
  });
});

import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createRemoteWriteHandler } from '../../../src/ingest/remote-write/handler.js';
import { FakeClock } from '../../../src/model/clock.js';
import { newMatcher } from '../../../src/model/matchers.js';
import { Head } from '../../../src/storage/head/index.js';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { encodeWriteRequestV1, encodeWriteRequestV2, snappyCompress } from '../../../src/ingest/remote-write/encode.js';
import { labelsFrom } from '../../../src/model/labels.js';
import type { Appendable } from '../../../src/storage/interface.js';
import { FakeStorage } from './fake-appender.js';
import type { TestServer } from './helpers.js';
import { L, V1_HEADERS, V2_HEADERS, post, startServer } from './helpers.js';

let srv: TestServer | undefined;
afterEach(async () => {
  await srv?.close();
  srv = undefined;
});

const one = (name = 'up', t = 1000, v = 1) => [{ labels: L({ __name__: name, job: 'j' }), samples: [{ t, v }] }];

describe('remote-write HTTP handler', () => {
  it('2.0: 204 with written-count headers equal to what was sent', async () => {
    srv = await startServer();
    const body = snappyCompress(
      encodeWriteRequestV2([
        { labels: L({ __name__: 'a' }), samples: [{ t: 1, v: 1 }, { t: 2, v: 2 }], exemplars: [{ labels: L({ trace_id: 'x' }), value: 1, t: 2 }] },
        {
          labels: L({ __name__: 'h' }),
          histograms: [{ t: 1, h: { counterResetHint: 0, schema: 0, zeroThreshold: 0, zeroCount: 1, count: 1, sum: 0, positiveSpans: [], negativeSpans: [], positiveBuckets: [], negativeBuckets: [] }, integer: true }],
        },
      ]),
    );
    const r = await post(srv.url, body, V2_HEADERS);
    expect(r.status).toBe(204);
    expect(r.text).toBe('');
    expect([r.samples, r.histograms, r.exemplars]).toEqual([2, 1, 1]);
    expect(srv.st.series.size).toBe(2);
  });

  it('1.0: 204 without written-count headers; missing Content-Type and Content-Encoding mean 1.0 + snappy', async () => {
    srv = await startServer();
    const body = snappyCompress(encodeWriteRequestV1(one()));
    const r = await post(srv.url, body, V1_HEADERS);
    expect(r.status).toBe(204);
    expect(r.samples).toBeNull();
    const r2 = await post(srv.url, snappyCompress(encodeWriteRequestV1(one('up', 2000))), { 'Content-Type': '' });
    expect(r2.status).toBe(204);
    expect(srv.st.get(labelsFrom({ __name__: 'up', job: 'j' }))!.samples.map((s) => s.t)).toEqual([1000, 2000]);
    const r3 = await post(srv.url, snappyCompress(encodeWriteRequestV1(one('up', 3000))), { 'Content-Type': 'application/x-protobuf;proto=prometheus.WriteRequest' });
    expect(r3.status).toBe(204);
  });

  it.each([['application/json'], ['image/png'], ['application/x-protobuf;proto=foo.Bar'], ['text/plain']])('415 for Content-Type %s', async (ct) => {
    srv = await startServer();
    const r = await post(srv.url, snappyCompress(encodeWriteRequestV2(one())), { ...V2_HEADERS, 'Content-Type': ct });
    expect(r.status).toBe(415);
    expect(r.text).toMatch(/Content-Type/);
    expect(srv.st.series.size).toBe(0);
  });

  it.each([['gzip'], ['deflate'], ['identity']])('415 for Content-Encoding %s', async (ce) => {
    srv = await startServer();
    const r = await post(srv.url, snappyCompress(encodeWriteRequestV2(one())), { ...V2_HEADERS, 'Content-Encoding': ce });
    expect(r.status).toBe(415);
    expect(r.text).toMatch(/Content-Encoding/);
  });

  it('400 for garbage, truncated snappy and a corrupted first byte; nothing stored', async () => {
    srv = await startServer();
    const good = snappyCompress(encodeWriteRequestV2(one()));
    const corrupt = Uint8Array.from(good);
    corrupt[0] = 0xff;
    for (const body of [Buffer.from('this is not snappy at all'), good.subarray(0, good.length - 4), corrupt, new Uint8Array(0)]) {
      const r = await post(srv.url, body, V2_HEADERS);
      expect(r.status).toBe(400);
      expect(r.text.length).toBeGreaterThan(0);
      expect(r.samples ?? 0).toBe(0);
    }
    // valid snappy around invalid protobuf
    const r = await post(srv.url, snappyCompress(Buffer.from([0x2a, 0x10, 0x01])), V2_HEADERS);
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/2\.0 request/);
    expect(srv.st.series.size).toBe(0);
  });

  it('413 when the declared decompressed size exceeds the limit (before decompressing)', async () => {
    srv = await startServer({ maxDecompressedBytes: 1000 });
    const big = snappyCompress(encodeWriteRequestV2(one('x'.repeat(2000))));
    const r = await post(srv.url, big, V2_HEADERS);
    expect(r.status).toBe(413);
    expect(r.text).toMatch(/declared decompressed size/);
    // 4 GiB declared with 2 bytes of payload against the default 64 MiB limit
    await srv.close();
    srv = await startServer();
    const r2 = await post(srv.url, Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]), V2_HEADERS);
    expect(r2.status).toBe(413);
  });

  it('413 when the body exceeds maxBodyBytes (Content-Length and chunked)', async () => {
    srv = await startServer({ maxBodyBytes: 1024 });
    const r = await post(srv.url, new Uint8Array(4096), V2_HEADERS);
    expect(r.status).toBe(413);
    const url = new URL(srv.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: V2_HEADERS }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      for (let i = 0; i < 8; i++) req.write(Buffer.alloc(512));
      req.end();
    });
    expect(status).toBe(413);
  });

  it('400 for out-of-order samples naming the reason and series; in-order samples are kept', async () => {
    srv = await startServer();
    const body = snappyCompress(
      encodeWriteRequestV2([
        { labels: L({ __name__: 'ooo', pod: 'p1' }), samples: [{ t: 5, v: 1 }, { t: 3, v: 2 }, { t: 6, v: 3 }] },
        { labels: L({ __name__: 'fine' }), samples: [{ t: 1, v: 1 }] },
      ]),
    );
    const r = await post(srv.url, body, V2_HEADERS);
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/out_of_order/);
    expect(r.text).toMatch(/__name__="ooo"/);
    expect(r.samples).toBe(3);
    expect(srv.st.get(labelsFrom({ __name__: 'ooo', pod: 'p1' }))!.samples.map((s) => s.t)).toEqual([5, 6]);
    expect(srv.st.get(labelsFrom({ __name__: 'fine' }))!.samples).toHaveLength(1);
  });

  it('400 for an invalid series with the valid ones committed and counted', async () => {
    srv = await startServer();
    const body = snappyCompress(encodeWriteRequestV2([...one('a'), { labels: L({ job: 'no-name' }), samples: [{ t: 1, v: 1 }] }, ...one('b')]));
    const r = await post(srv.url, body, V2_HEADERS);
    expect(r.status).toBe(400);
    expect(r.samples).toBe(2);
    expect(r.text).toMatch(/invalid_labels=1/);
    expect(srv.st.series.size).toBe(2);
  });

  it('503 with Retry-After when maxInflight requests are in progress', async () => {
    const st = new FakeStorage();
    let open!: () => void;
    st.commitGate = new Promise<void>((resolve) => (open = resolve));
    srv = await startServer({ maxInflight: 1, retryAfterSeconds: 3 }, st);
    const first = post(srv.url, snappyCompress(encodeWriteRequestV2(one())), V2_HEADERS);
    await new Promise((r) => setTimeout(r, 50));
    const second = await post(srv.url, snappyCompress(encodeWriteRequestV2(one('b'))), V2_HEADERS);
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBe('3');
    open();
    expect((await first).status).toBe(204);
  });

  it('500 (retryable) with zero written counts when the commit fails', async () => {
    const st = new FakeStorage();
    st.commitError = new Error('wal: disk full');
    srv = await startServer({}, st);
    const r = await post(srv.url, snappyCompress(encodeWriteRequestV2(one())), V2_HEADERS);
    expect(r.status).toBe(500);
    expect(r.text).toMatch(/disk full/);
    expect(r.samples).toBe(0);
  });

  it('500 and no crash when the appender throws', async () => {
    const broken: Appendable = {
      appender: () => {
        throw new Error('boom');
      },
    };
    srv = await startServer({ appendable: broken });
    const r = await post(srv.url, snappyCompress(encodeWriteRequestV2(one())), V2_HEADERS);
    expect(r.status).toBe(500);
    expect(r.text).toMatch(/boom/);
  });

  it('405 for GET', async () => {
    srv = await startServer();
    const res = await fetch(srv.url);
    expect(res.status).toBe(405);
  });

  it('records metrics in the given registry', async () => {
    const registry = new Registry();
    srv = await startServer({ registry });
    await post(srv.url, snappyCompress(encodeWriteRequestV2([{ labels: L({ __name__: 'a' }), samples: [{ t: 1, v: 1 }, { t: 2, v: 1 }] }])), V2_HEADERS);
    await post(srv.url, snappyCompress(encodeWriteRequestV1(one())), V1_HEADERS);
    await post(srv.url, snappyCompress(encodeWriteRequestV2([{ labels: L({ job: 'x' }), samples: [{ t: 1, v: 1 }] }])), V2_HEADERS);
    await post(srv.url, new Uint8Array(3), { 'Content-Type': 'application/json' });
    const text = await registry.metrics();
    expect(text).toMatch(/vigil_remote_write_requests_total\{version="2.0",code="204"\} 1/);
    expect(text).toMatch(/vigil_remote_write_requests_total\{version="1.0",code="204"\} 1/);
    expect(text).toMatch(/vigil_remote_write_requests_total\{version="2.0",code="400"\} 1/);
    expect(text).toMatch(/vigil_remote_write_requests_total\{version="unknown",code="415"\} 1/);
    expect(text).toMatch(/vigil_remote_write_samples_received_total\{version="2.0"\} 3/);
    expect(text).toMatch(/vigil_remote_write_rejected_samples_total\{reason="invalid_labels"\} 1/);
    expect(text).toMatch(/vigil_remote_write_request_duration_seconds_count\{version="2.0"\} 2/);
    expect(text).toMatch(/vigil_remote_write_request_bytes_count\{version="1.0"\} 1/);
    // a second handler on the same registry reuses the metrics
    const again = await startServer({ registry });
    await again.close();
  });

  it('mounts in express 5 as app.post(path, handler)', async () => {
    const st = new FakeStorage();
    const app = express();
    app.post('/api/v1/write', createRemoteWriteHandler({ appendable: st }));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/write`;
      const r = await post(url, snappyCompress(encodeWriteRequestV2(one())), V2_HEADERS);
      expect(r.status).toBe(204);
      expect(r.samples).toBe(1);
      expect(st.series.size).toBe(1);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('with the real Head: fast path across requests, out-of-order answered 400 and the rest kept', async () => {
    const T = 1_700_000_000_000;
    const head = new Head({ retentionMs: 3_600_000, clock: new FakeClock(T) });
    srv = await startServer({ appendable: head, hasSeries: (ref) => head.hasSeries(ref) });
    const series = (ts: number[]) =>
      Array.from({ length: 20 }, (_, i) => ({ labels: L({ __name__: 'm', i: String(i) }), samples: ts.map((t) => ({ t: T + t, v: t })) }));
    for (const version of ['1.0', '2.0'] as const) {
      const enc = version === '1.0' ? encodeWriteRequestV1 : encodeWriteRequestV2;
      const hdrs = version === '1.0' ? V1_HEADERS : V2_HEADERS;
      const base = version === '1.0' ? 0 : 10_000;
      expect((await post(srv.url, snappyCompress(enc(series([base + 1, base + 2]))), hdrs)).status).toBe(204);
      expect((await post(srv.url, snappyCompress(enc(series([base + 3]))), hdrs)).status).toBe(204);
      const bad = await post(srv.url, snappyCompress(enc(series([base + 2, base + 4]))), hdrs);
      expect(bad.status).toBe(400);
      expect(bad.text).toMatch(/out_of_order=20|duplicate_sample_for_timestamp=20/);
      if (version === '2.0') expect(bad.samples).toBe(20);
    }
    const q = head.querier(T, T + 20_000);
    const got = q.select({ mint: T, maxt: T + 20_000, matchers: [newMatcher('=', '__name__', 'm'), newMatcher('=', 'i', '7')] });
    expect(got).toHaveLength(1);
    expect(Array.from(got[0]!.samples().t).map((t) => t - T)).toEqual([1, 2, 3, 4, 10_001, 10_002, 10_003, 10_004]);
  });
});

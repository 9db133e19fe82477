import { afterEach, describe, expect, it } from 'vitest';
import { exemplarTraceIds, JaegerTraces, parseTracesResponse, percentile, summarizeTrace } from '../../src/correlate/traces.js';
import type { CorrelationTarget } from '../../src/correlate/target.js';
import { labelsFrom, type Labels } from '../../src/model/labels.js';
import type { Matcher } from '../../src/model/matchers.js';
import type { Exemplar } from '../../src/model/samples.js';
import type { MetadataReader } from '../../src/storage/interface.js';
import { jEnvelope, jTrace, refusedPort, startServer, testConfig } from './fixtures.js';

const target: CorrelationTarget = { alertname: 'A', service: 'checkout', namespace: '', pod: '', summary: false, labels: {} };
const w = { from: 1_700_000_000_000, to: 1_700_000_900_000 };
const T0 = w.from * 1000;

const ERR = [jTrace('aaaa0000000000000000000000000001', 'POST /checkout', T0, 850_000, true), jTrace('aaaa0000000000000000000000000002', 'GET /cart', T0 + 5e6, 120_000, true)];
const ALL = [
  ...ERR,
  jTrace('bbbb0000000000000000000000000003', 'GET /health', T0 + 1e6, 2_000),
  jTrace('bbbb0000000000000000000000000004', 'POST /checkout', T0 + 2e6, 1_900_000),
  jTrace('bbbb0000000000000000000000000005', 'GET /cart', T0 + 3e6, 40_000),
];

describe('Jaeger response parsing', () => {
  it('finds the root span by references and the trace extent', () => {
    const s = summarizeTrace(ERR[0]);
    expect(s).toEqual({ traceId: 'aaaa0000000000000000000000000001', rootOperation: 'POST /checkout', durationMs: 850, error: true });
  });
  it('treats data:null as empty and surfaces API errors', () => {
    expect(parseTracesResponse(JSON.stringify(jEnvelope(null)))).toEqual([]);
    expect(() => parseTracesResponse(JSON.stringify(jEnvelope(null, [{ code: 400, msg: 'parameter "service" is required' }])))).toThrow(/service" is required/);
  });
  it('rejects malformed answers', () => {
    expect(() => parseTracesResponse('{"data": {}')).toThrow(/not JSON/);
    expect(() => parseTracesResponse('{"data": 5}')).toThrow(/data is not a list/);
    expect(() => parseTracesResponse(JSON.stringify(jEnvelope([{ traceID: 'zz', spans: [] }])))).toThrow(/not a hex id/);
    expect(() => parseTracesResponse(JSON.stringify(jEnvelope([{ traceID: 'ab', spans: [{ startTime: 'x' }] }])))).toThrow(/startTime\/duration/);
  });
  it('nearest-rank p99', () => {
    expect(percentile([], 0.99)).toBeUndefined();
    expect(percentile([5, 1, 3], 0.99)).toBe(5);
    expect(percentile([...Array(100).keys()].map((i) => i + 1), 0.99)).toBe(99);
  });
});

describe('JaegerTraces against a local query server', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('queries error and sampled traces and summarises them', async () => {
    const seen: URL[] = [];
    const headers: (string | undefined)[] = [];
    const s = await startServer((req, res) => {
      const u = new URL(req.url!, 'http://x');
      seen.push(u);
      headers.push(req.headers['uber-trace-id'] as string | undefined);
      const body = u.searchParams.has('tags') ? jEnvelope(ERR) : jEnvelope(ALL);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    close = s.close;
    const jt = new JaegerTraces({ ...testConfig().jaeger!, queryUrl: s.url });
    const r = await jt.correlate(target, w, { maxResponseBytes: 1 << 20, headers: { 'uber-trace-id': 't:s:0:1' } });
    expect(seen).toHaveLength(2);
    for (const u of seen) {
      expect(u.pathname).toBe('/api/traces');
      expect(u.searchParams.get('service')).toBe('checkout');
      expect(u.searchParams.get('start')).toBe(String(w.from * 1000));
      expect(u.searchParams.get('end')).toBe(String(w.to * 1000));
      expect(u.searchParams.get('limit')).toBe('20');
    }
    expect(seen.map((u) => u.searchParams.get('tags'))).toEqual(expect.arrayContaining(['{"error":"true"}', null]));
    expect(headers).toEqual(['t:s:0:1', 't:s:0:1']);
    expect(r.errorCount).toBe(2);
    expect(r.errorCountCapped).toBe(false);
    expect(r.p99Ms).toBe(1900);
    expect(r.top.map((t) => [t.traceId.slice(-1), t.rootOperation, t.durationMs])).toEqual([
      ['1', 'POST /checkout', 850],
      ['2', 'GET /cart', 120],
      ['4', 'POST /checkout', 1900],
    ]);
    expect(r.url).toContain('http://jaeger:16686/search?service=checkout');
  });

  it('rejects a body over the byte cap, declared or streamed', async () => {
    const huge = JSON.stringify(jEnvelope(Array.from({ length: 400 }, (_, i) => jTrace((i + 1).toString(16).padStart(32, '0'), 'op', T0, 1000))));
    for (const chunked of [false, true]) {
      const s = await startServer((_req, res) => {
        if (chunked) {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.write(huge.slice(0, 1000));
          res.end(huge.slice(1000));
        } else {
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(huge) });
          res.end(huge);
        }
      });
      const jt = new JaegerTraces({ ...testConfig().jaeger!, queryUrl: s.url });
      await expect(jt.correlate(target, w, { maxResponseBytes: 16 * 1024 })).rejects.toMatchObject({ result: 'bad_response', message: expect.stringContaining('too large') });
      await s.close();
    }
  });

  it('maps HTTP errors, malformed bodies and refused connections', async () => {
    let status = 500;
    let body = 'internal error';
    const s = await startServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    });
    close = s.close;
    const jt = new JaegerTraces({ ...testConfig().jaeger!, queryUrl: s.url });
    await expect(jt.correlate(target, w, { maxResponseBytes: 1 << 20 })).rejects.toMatchObject({ result: 'error', status: 500 });
    status = 200;
    body = '<html>not json</html>';
    await expect(jt.correlate(target, w, { maxResponseBytes: 1 << 20 })).rejects.toMatchObject({ result: 'bad_response' });
    const port = await refusedPort();
    const dead = new JaegerTraces({ ...testConfig().jaeger!, queryUrl: `http://127.0.0.1:${port}` });
    await expect(dead.correlate(target, w, { maxResponseBytes: 1 << 20 })).rejects.toMatchObject({ result: 'error', message: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('exemplarTraceIds', () => {
  function reader(series: { labels: Labels; exemplars: Exemplar[] }[], seen: Matcher[][]): MetadataReader {
    return {
      metadata: () => new Map(),
      exemplars: (ms) => {
        seen.push([...ms]);
        return series.filter((s) => ms.every((m) => m.matches(s.labels.find((l) => l.name === m.name)?.value ?? '')));
      },
    };
  }
  it('asks with the configured alert labels and returns trace ids newest first, unique', () => {
    const seen: Matcher[][] = [];
    const ls = labelsFrom({ __name__: 'http_requests_total', job: 'checkout', instance: 'a:1' });
    const r = reader(
      [
        {
          labels: ls,
          exemplars: [
            { labels: labelsFrom({ trace_id: 'aaa111' }), value: 1, t: 10 },
            { labels: labelsFrom({ trace_id: 'bbb222' }), value: 1, t: 30 },
            { labels: labelsFrom({ traceID: 'aaa111' }), value: 1, t: 20 },
            { labels: labelsFrom({ user: 'x' }), value: 1, t: 40 },
          ],
        },
        { labels: labelsFrom({ __name__: 'other', job: 'payments' }), exemplars: [{ labels: labelsFrom({ trace_id: 'ccc333' }), value: 1, t: 50 }] },
      ],
      seen,
    );
    const ids = exemplarTraceIds(r, { alertname: 'HighErrorRate', severity: 'page', job: 'checkout', __name__: 'http_requests_total' }, ['__name__', 'job', 'instance'], w);
    expect(ids).toEqual(['bbb222', 'aaa111']);
    expect(seen[0]!.map((m) => `${m.name}${m.type}${m.value}`)).toEqual(['__name__=http_requests_total', 'job=checkout']);
    expect(exemplarTraceIds(r, { alertname: 'X' }, ['job'], w)).toEqual([]);
    const throwing: MetadataReader = { metadata: () => new Map(), exemplars: () => { throw new Error('boom'); } };
    expect(exemplarTraceIds(throwing, { job: 'a' }, ['job'], w)).toEqual([]);
  });
});

import { Registry, Gauge } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/model/clock.js';
import { QueryError } from '../../src/promql/engine/values.js';
import { parseListenAddress, startWebServer, type WebServer } from '../../src/web/server.js';
import type { WebOptions } from '../../src/web/types.js';
import { FakeEngine, FakeStorage, fakeFormatValue, fakeParseMatchers } from './fakes.js';

const storage = new FakeStorage([
  { labels: { __name__: 'up', job: 'node', instance: 'a:1' }, t: [1000, 2000] },
  { labels: { __name__: 'up', job: 'app', instance: 'b:2' }, t: [1000] },
  { labels: { __name__: 'http_requests_total', job: 'app', code: '200' }, t: [5_000_000] },
]);
storage.md.set('up', [{ type: 'gauge', help: 'Target up.', unit: '' }]);
storage.md.set('http_requests_total', [{ type: 'counter', help: 'Requests.', unit: '' }]);

const engine = new FakeEngine();
const clock = new FakeClock(1_700_000_000_000);
const registry = new Registry();
new Gauge({ name: 'vigil_test_gauge', help: 'A test gauge.', registers: [registry] }).set(3);
let reloadResult: Error | undefined;
let reloads = 0;
let rwEnabled = true;
const rwBodies: { headers: Record<string, unknown>; body: Buffer }[] = [];

const opts: WebOptions & { listenAddress: string } = {
  listenAddress: '127.0.0.1:0',
  registry,
  parseMatchers: fakeParseMatchers,
  formatValue: fakeFormatValue,
  queryTimeoutMs: 2000,
  clock,
  buildInfo: { version: '0.1.0', revision: 'abc', branch: 'main', buildUser: 'ci', buildDate: '2024-01-01', goVersion: process.version },
  flags: { 'storage.path': '/tmp/x', 'web.listen-address': '127.0.0.1:0' },
  configYaml: () => 'global:\n  scrape_interval: 1m\n',
  runtimeInfo: () => ({ startTime: '2024-01-01T00:00:00Z', reloadConfigSuccess: true }),
  reload: async () => {
    reloads++;
    if (reloadResult) throw reloadResult;
  },
  targets: () => ({
    activeTargets: [
      { discoveredLabels: {}, labels: { job: 'a' }, scrapePool: 'a', scrapeUrl: 'http://x/metrics', globalUrl: 'http://x/metrics', lastError: '', lastScrape: '2024-01-01T00:00:00Z', lastScrapeDuration: 0.01, health: 'up', scrapeInterval: '15s', scrapeTimeout: '10s' },
    ],
    droppedTargets: [{ discoveredLabels: { __address__: 'y' } }],
  }),
  remoteWrite: () =>
    rwEnabled
      ? async (req, res) => {
          const chunks: Buffer[] = [];
          for await (const c of req) chunks.push(c as Buffer);
          rwBodies.push({ headers: req.headers, body: Buffer.concat(chunks) });
          res.statusCode = 204;
          res.end();
        }
      : undefined,
  extraExposition: async () => '# TYPE vigil_extra gauge\nvigil_extra 7\n',
};

let srv: WebServer;
const get = (p: string) => fetch(srv.url + p);
const post = (p: string, form: Record<string, string | string[]>) => {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) for (const x of [v].flat()) body.append(k, x);
  return fetch(srv.url + p, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
};
const json = async (r: Response) => ({ status: r.status, body: (await r.json()) as Record<string, unknown> });

beforeAll(async () => {
  srv = await startWebServer(opts);
});
afterAll(async () => {
  await srv.close(100);
});
beforeEach(() => {
  engine.calls = [];
  engine.next = undefined;
});

describe('before the backend is set', () => {
  it('/-/ready is 503, /-/healthy 200, storage endpoints 503, status endpoints work', async () => {
    expect((await get('/-/ready')).status).toBe(503);
    expect((await get('/-/healthy')).status).toBe(200);
    const r = await json(await get('/api/v1/query?query=up'));
    expect(r.status).toBe(503);
    expect(r.body).toMatchObject({ status: 'error', errorType: 'unavailable' });
    expect((await json(await get('/api/v1/status/buildinfo'))).status).toBe(200);
    expect((await fetch(srv.url + '/api/v1/write', { method: 'POST', body: 'x' })).status).toBe(503);
    srv.setBackend({ storage, engine });
    expect(await (await get('/-/ready')).text()).toBe('Vigil is Ready.\n');
  });
});

describe('/api/v1/query', () => {
  it('GET with unix-seconds time', async () => {
    const r = await json(await get('/api/v1/query?query=up&time=1700000001.5'));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ status: 'success', data: { resultType: 'scalar', result: [1700000001.5, '42'] } });
    expect(engine.calls[0]).toMatchObject({ kind: 'instant', query: 'up', ts: 1_700_000_001_500 });
  });

  it('POST form with RFC 3339 time; default time is the clock', async () => {
    const r = await json(await post('/api/v1/query', { query: 'sum(up)', time: '2023-11-14T22:13:20.250Z' }));
    expect(r.status).toBe(200);
    expect(engine.calls[0]).toMatchObject({ query: 'sum(up)', ts: Date.parse('2023-11-14T22:13:20.250Z') });
    await get('/api/v1/query?query=up');
    expect(engine.calls[1]!.ts).toBe(clock.now());
  });

  it('bad parameters are 400 bad_data', async () => {
    let r = await json(await get('/api/v1/query?query=up&time=yesterday'));
    expect(r).toEqual({ status: 400, body: { status: 'error', errorType: 'bad_data', error: 'invalid parameter "time": cannot parse "yesterday" to a valid timestamp' } });
    r = await json(await get('/api/v1/query'));
    expect(r.status).toBe(400);
    expect(r.body.error).toMatch(/query must not be empty/);
    r = await json(await get('/api/v1/query?query=up&timeout=soon'));
    expect(r.body.error).toBe('invalid parameter "timeout": cannot parse "soon" to a valid duration');
    expect(engine.calls).toHaveLength(0);
  });

  it('maps engine errors: parse → 400, execution → 422, timeout → 503', async () => {
    engine.next = () => {
      const e = new Error('1:5: parse error: unexpected end of input');
      e.name = 'ParseError';
      return Promise.reject(e);
    };
    expect(await json(await get('/api/v1/query?query=sum('))).toEqual({ status: 400, body: { status: 'error', errorType: 'bad_data', error: '1:5: parse error: unexpected end of input' } });
    engine.next = () => Promise.reject(new QueryError('vector cannot contain metrics with the same labelset', 'execution'));
    expect((await json(await get('/api/v1/query?query=x'))).status).toBe(422);
    engine.next = () => Promise.reject(new Error('something odd'));
    expect(await json(await get('/api/v1/query?query=x'))).toMatchObject({ status: 422, body: { errorType: 'execution' } });
  });

  it('timeout parameter aborts the query signal → 503 timeout', async () => {
    engine.next = () =>
      new Promise((_res, rej) => {
        const s = engine.calls[0]!.signal!;
        s.addEventListener('abort', () => rej(s.reason));
      });
    const t0 = Date.now();
    const r = await json(await get('/api/v1/query?query=slow&timeout=0.05'));
    expect(r).toMatchObject({ status: 503, body: { status: 'error', errorType: 'timeout' } });
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('includes warnings and infos only when present', async () => {
    engine.next = () => Promise.resolve({ value: { kind: 'vector', vector: [] }, warnings: ['PromQL warning: w'], infos: ['PromQL info: i'] });
    const r = await json(await get('/api/v1/query?query=x'));
    expect(r.body).toEqual({ status: 'success', data: { resultType: 'vector', result: [] }, warnings: ['PromQL warning: w'], infos: ['PromQL info: i'] });
  });
});

describe('/api/v1/query_range', () => {
  it('parses start/end/step (duration or float seconds), GET and POST', async () => {
    let r = await get('/api/v1/query_range?query=up&start=100&end=200&step=15s');
    expect(r.status).toBe(200);
    r = await post('/api/v1/query_range', { query: 'up', start: '1970-01-01T00:01:40Z', end: '200.5', step: '2.5' });
    expect(r.status).toBe(200);
    expect(engine.calls).toEqual([
      expect.objectContaining({ kind: 'range', start: 100_000, end: 200_000, step: 15_000 }),
      expect.objectContaining({ kind: 'range', start: 100_000, end: 200_500, step: 2_500 }),
    ]);
  });

  it('refuses more than 11,000 points per series, zero steps and end < start', async () => {
    let r = await json(await get('/api/v1/query_range?query=up&start=0&end=11001&step=1'));
    expect(r).toEqual({ status: 400, body: { status: 'error', errorType: 'bad_data', error: 'exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)' } });
    r = await json(await get('/api/v1/query_range?query=up&start=0&end=11000&step=1'));
    expect(r.status).toBe(200);
    r = await json(await get('/api/v1/query_range?query=up&start=0&end=10&step=0'));
    expect(r.body.error).toMatch(/zero or negative query resolution step/);
    r = await json(await get('/api/v1/query_range?query=up&start=10&end=5&step=1'));
    expect(r.body.error).toMatch(/end timestamp must not be before start time/);
    r = await json(await get('/api/v1/query_range?query=up&start=0&end=10'));
    expect(r.body.error).toMatch(/"step": missing/);
    expect(engine.calls).toHaveLength(1);
  });
});

describe('series and labels', () => {
  it('/api/v1/series unions match[] selectors, sorted and deduplicated', async () => {
    const r = await json(await get('/api/v1/series?' + new URLSearchParams([['match[]', 'up'], ['match[]', '{job="app"}']]).toString()));
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual([
      { __name__: 'http_requests_total', code: '200', job: 'app' },
      { __name__: 'up', instance: 'a:1', job: 'node' },
      { __name__: 'up', instance: 'b:2', job: 'app' },
    ]);
    expect(storage.queriers.at(-1)!.closed).toBe(true);
  });

  it('respects start/end, limit (with warning) and POST', async () => {
    let r = await json(await post('/api/v1/series', { 'match[]': 'up', start: '0', end: '1.5' }));
    expect((r.body.data as unknown[]).length).toBe(2);
    r = await json(await get('/api/v1/series?match[]=http_requests_total&end=10'));
    expect(r.body.data).toEqual([]);
    r = await json(await get('/api/v1/series?match[]=up&limit=1'));
    expect(r.body).toMatchObject({ data: [{ job: 'node' }], warnings: ['results truncated due to limit'] });
  });

  it('requires match[] with a non-empty matcher', async () => {
    expect((await json(await get('/api/v1/series'))).body.error).toBe('no match[] parameter provided');
    const r = await json(await get('/api/v1/series?match[]=' + encodeURIComponent('{a=""}')));
    expect(r).toEqual({ status: 400, body: { status: 'error', errorType: 'bad_data', error: 'match[] must contain at least one non-empty matcher' } });
    expect((await json(await get('/api/v1/series?match[]=' + encodeURIComponent('{a=~".*"}')))).status).toBe(400);
    expect((await json(await get('/api/v1/series?match[]=' + encodeURIComponent('up{')))).body.error).toMatch(/^invalid parameter "match\[\]": /);
  });

  it('/api/v1/labels and label values, with and without match[]', async () => {
    expect((await json(await get('/api/v1/labels'))).body.data).toEqual(['__name__', 'code', 'instance', 'job']);
    expect((await json(await get('/api/v1/labels?match[]=up'))).body.data).toEqual(['__name__', 'instance', 'job']);
    expect((await json(await post('/api/v1/labels', { 'match[]': 'http_requests_total' }))).body.data).toEqual(['__name__', 'code', 'job']);
    expect((await json(await get('/api/v1/label/job/values'))).body.data).toEqual(['app', 'node']);
    expect((await json(await get('/api/v1/label/__name__/values?match[]=' + encodeURIComponent('{job="app"}')))).body.data).toEqual(['http_requests_total', 'up']);
    expect((await json(await get('/api/v1/label/nope/values'))).body.data).toEqual([]);
    expect((await json(await get('/api/v1/label/bad-name/values'))).status).toBe(400);
  });

  it('/api/v1/metadata', async () => {
    expect((await json(await get('/api/v1/metadata'))).body.data).toEqual({
      up: [{ type: 'gauge', help: 'Target up.', unit: '' }],
      http_requests_total: [{ type: 'counter', help: 'Requests.', unit: '' }],
    });
    expect(Object.keys((await json(await get('/api/v1/metadata?metric=up'))).body.data as object)).toEqual(['up']);
    expect(Object.keys((await json(await get('/api/v1/metadata?limit=1'))).body.data as object)).toHaveLength(1);
  });
});

describe('status, lifecycle, metrics, errors', () => {
  it('status endpoints', async () => {
    expect((await json(await get('/api/v1/status/buildinfo'))).body.data).toMatchObject({ version: '0.1.0', revision: 'abc' });
    expect((await json(await get('/api/v1/status/flags'))).body.data).toEqual(opts.flags);
    expect((await json(await get('/api/v1/status/config'))).body.data).toEqual({ yaml: 'global:\n  scrape_interval: 1m\n' });
    expect((await json(await get('/api/v1/status/runtimeinfo'))).body.data).toMatchObject({ reloadConfigSuccess: true });
    const t = (await json(await get('/api/v1/targets?state=active'))).body.data as Record<string, unknown[]>;
    expect(t.activeTargets).toHaveLength(1);
    expect(t.droppedTargets).toHaveLength(0);
    expect((await json(await get('/api/v1/rules'))).body.data).toEqual({ groups: [] });
  });

  it('POST /-/reload reports success and failure', async () => {
    reloadResult = undefined;
    expect((await fetch(srv.url + '/-/reload', { method: 'POST' })).status).toBe(200);
    reloadResult = new Error('config.yml:3: unknown key "x" in global');
    const r = await fetch(srv.url + '/-/reload', { method: 'POST' });
    expect(r.status).toBe(500);
    expect(await r.text()).toContain('config.yml:3: unknown key');
    expect(reloads).toBe(2);
    reloadResult = undefined;
  });

  it('/metrics serves the registry plus the extra exposition', async () => {
    const r = await get('/metrics');
    expect(r.headers.get('content-type')).toMatch(/text\/plain/);
    const text = await r.text();
    expect(text).toMatch(/^vigil_test_gauge 3$/m);
    expect(text).toMatch(/^vigil_extra 7$/m);
  });

  it('unknown API paths are JSON 404, others plain 404', async () => {
    expect(await json(await get('/api/v1/nope'))).toMatchObject({ status: 404, body: { status: 'error', errorType: 'not_found' } });
    expect((await json(await get('/api/v2/x'))).status).toBe(404);
    const r = await get('/nope');
    expect(r.status).toBe(404);
    expect(await r.text()).toBe('404 page not found\n');
  });

  it('form bodies are bounded to 1 MiB; other content types are refused', async () => {
    const r = await json(await post('/api/v1/query', { query: 'x'.repeat(1024 * 1024 + 10) }));
    expect(r.status).toBe(413);
    expect(r.body.error).toMatch(/exceeds the limit/);
    const r2 = await fetch(srv.url + '/api/v1/query', { method: 'POST', body: '{"query":"up"}', headers: { 'content-type': 'application/json' } });
    expect(r2.status).toBe(415);
  });

  it('/api/v1/write gets the raw snappy body (no body parser) and 404s when disabled', async () => {
    const body = Buffer.from([0xff, 0x06, 0x00, 0x00, 1, 2, 3]);
    const r = await fetch(srv.url + '/api/v1/write', { method: 'POST', body, headers: { 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf' } });
    expect(r.status).toBe(204);
    expect(rwBodies.at(-1)!.body.equals(body)).toBe(true);
    expect(rwBodies.at(-1)!.headers['content-encoding']).toBe('snappy');
    rwEnabled = false;
    expect((await fetch(srv.url + '/api/v1/write', { method: 'POST', body })).status).toBe(404);
    rwEnabled = true;
  });
});

describe('parseListenAddress', () => {
  it('parses the usual forms', () => {
    expect(parseListenAddress('0.0.0.0:9477')).toEqual({ host: '0.0.0.0', port: 9477 });
    expect(parseListenAddress(':9477')).toEqual({ host: undefined, port: 9477 });
    expect(parseListenAddress('[::1]:80')).toEqual({ host: '::1', port: 80 });
    expect(() => parseListenAddress('9477')).toThrow(/invalid listen address/);
    expect(() => parseListenAddress('h:99999')).toThrow(/invalid listen address/);
  });
});

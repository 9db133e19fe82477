/**
 * Smoke test of the whole app: `{}` config on 127.0.0.1 with a random port and a temporary
 * WAL directory; a remote-write request is read back through /api/v1/series and /api/v1/query,
 * config reload works and keeps the old config when the new one is bad, and data survives a
 * restart (WAL replay).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cmd/vigil.js';
import { ensureStorageDir, startApp, type App } from '../../src/app.js';
import { encodeWriteRequestV1, snappyCompress } from '../../src/ingest/remote-write/index.js';

let dir: string;
let cfg: string;
let app: App | undefined;
const T = Date.now() - 60_000;

async function remoteWrite(url: string, name: string, points: [number, number][], labels: Record<string, string> = {}): Promise<Response> {
  const ls = Object.entries({ __name__: name, ...labels })
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([n, value]) => ({ name: n, value }));
  const body = snappyCompress(encodeWriteRequestV1([{ labels: ls, samples: points.map(([t, v]) => ({ t, v })) }]));
  return fetch(url + '/api/v1/write', {
    method: 'POST',
    body,
    headers: { 'content-encoding': 'snappy', 'content-type': 'application/x-protobuf', 'x-prometheus-remote-write-version': '0.1.0' },
  });
}

const start = () => startApp({ configFile: cfg, listenAddress: '127.0.0.1:0', storagePath: path.join(dir, 'data'), walFsync: 'never', registry: new Registry() });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'vigil-app-'));
  cfg = path.join(dir, 'vigil.yml');
  await writeFile(cfg, '{}\n');
  app = await start();
});
afterAll(async () => {
  await app?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('vigil app with {} config', () => {
  it('is healthy and ready', async () => {
    expect((await fetch(app!.url + '/-/healthy')).status).toBe(200);
    expect((await fetch(app!.url + '/-/ready')).status).toBe(200);
  });

  it('accepts remote-write and answers series and query', async () => {
    const w = await remoteWrite(app!.url, 'smoke_metric', [[T, 1], [T + 15_000, 2]], { job: 'smoke', instance: 'i1' });
    expect(w.status).toBe(204);
    const s = (await (await fetch(`${app!.url}/api/v1/series?match[]=smoke_metric`)).json()) as { data: unknown };
    expect(s.data).toEqual([{ __name__: 'smoke_metric', instance: 'i1', job: 'smoke' }]);
    const q = (await (await fetch(`${app!.url}/api/v1/query?query=${encodeURIComponent('smoke_metric * 10')}&time=${(T + 20_000) / 1000}`)).json()) as {
      status: string;
      data: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    expect(q.status).toBe('success');
    expect(q.data.resultType).toBe('vector');
    expect(q.data.result).toEqual([{ metric: { instance: 'i1', job: 'smoke' }, value: [(T + 20_000) / 1000, '20'] }]);
    const r = (await (await fetch(`${app!.url}/api/v1/query_range?query=smoke_metric&start=${T / 1000}&end=${(T + 15_000) / 1000}&step=15`)).json()) as {
      data: { result: { values: [number, string][] }[] };
    };
    expect(r.data.result[0]!.values).toEqual([
      [T / 1000, '1'],
      [(T + 15_000) / 1000, '2'],
    ]);
    const lv = (await (await fetch(`${app!.url}/api/v1/label/job/values`)).json()) as { data: string[] };
    expect(lv.data).toContain('smoke');
  });

  it('real parser/engine errors map to Prometheus error types', async () => {
    let r = await fetch(`${app!.url}/api/v1/query?query=${encodeURIComponent('sum(')}`);
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ status: 'error', errorType: 'bad_data' });
    r = await fetch(`${app!.url}/api/v1/series?match[]=${encodeURIComponent('{a=""}')}`);
    expect(await r.json()).toEqual({ status: 'error', errorType: 'bad_data', error: 'match[] must contain at least one non-empty matcher' });
    r = await fetch(`${app!.url}/api/v1/series?match[]=${encodeURIComponent('up{')}`);
    expect(r.status).toBe(400);
  });

  it('serves /metrics with vigil and process metrics', async () => {
    const text = await (await fetch(app!.url + '/metrics')).text();
    expect(text).toMatch(/^vigil_config_last_reload_successful 1$/m);
    expect(text).toMatch(/^vigil_build_info\{/m);
  });

  it('reload: a bad config keeps the old one and sets the gauge to 0; a good one restores it', async () => {
    await writeFile(cfg, 'global:\n  scrape_intervall: 1s\n');
    const r = await fetch(app!.url + '/-/reload', { method: 'POST' });
    expect(r.status).toBe(500);
    expect(await r.text()).toContain(':2: unknown key "scrape_intervall" in global');
    expect(await (await fetch(app!.url + '/metrics')).text()).toMatch(/^vigil_config_last_reload_successful 0$/m);
    // still serving with the old config
    expect((await remoteWrite(app!.url, 'smoke_metric', [[T + 30_000, 3]], { job: 'smoke', instance: 'i1' })).status).toBe(204);
    await writeFile(cfg, 'remote_write_receiver:\n  enabled: false\n');
    await app!.reload();
    expect(await (await fetch(app!.url + '/metrics')).text()).toMatch(/^vigil_config_last_reload_successful 1$/m);
    expect((await remoteWrite(app!.url, 'smoke_metric', [[T + 45_000, 4]])).status).toBe(404);
    const conf = (await (await fetch(app!.url + '/api/v1/status/config')).json()) as { data: { yaml: string } };
    expect(conf.data.yaml).toContain('enabled: false');
    await writeFile(cfg, '{}\n');
    await app!.reload();
  });

  it('data survives a restart (WAL replay)', async () => {
    await app!.stop();
    app = await start();
    const s = (await (await fetch(`${app.url}/api/v1/query?query=smoke_metric&time=${(T + 31_000) / 1000}`)).json()) as {
      data: { result: { value: [number, string] }[] };
    };
    expect(s.data.result.map((x) => x.value[1])).toEqual(['3']);
  });

  it('vigil query --storage.path reads the WAL of a running vigil without touching it', async () => {
    const io = { out: '', err: '', stdout: (x: string) => void (io.out += x), stderr: (x: string) => void (io.err += x), fetch };
    const code = await main(['query', 'smoke_metric', '--storage.path', path.join(dir, 'data'), '--time', String((T + 16_000) / 1000)], io);
    expect(io.err).toBe('');
    expect(code).toBe(0);
    expect(io.out).toBe(`smoke_metric{instance="i1", job="smoke"} => 2 @[${(T + 16_000) / 1000}]\n`);
    // the app still works afterwards
    expect((await fetch(app!.url + '/-/ready')).status).toBe(200);
  });
});

describe('ensureStorageDir', () => {
  it('creates nested directories and refuses unusable paths with a clear message', async () => {
    const nested = path.join(dir, 'a', 'b', 'c');
    await ensureStorageDir(nested);
    await ensureStorageDir(nested); // idempotent
    const file = path.join(dir, 'plain-file');
    await writeFile(file, 'x');
    await expect(ensureStorageDir(path.join(file, 'sub'))).rejects.toThrow(/is not a directory/);
    // recursive mkdir under /proc never returns on Node 20; this must fail fast instead
    await expect(ensureStorageDir('/proc/vigil-nope/data')).rejects.toThrow(/cannot create storage directory/);
  });
});

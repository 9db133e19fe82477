import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KubernetesSDConfig } from '../../../../src/config/types.js';
import { KubernetesSD, expandEnv } from '../../../../src/ingest/scrape/kubernetes/discovery.js';
import { Reflector } from '../../../../src/ingest/scrape/kubernetes/reflector.js';
import { resolveConnection } from '../../../../src/ingest/scrape/kubernetes/connection.js';
import { labelsToObject } from '../../../../src/model/labels.js';
import { FakeApiServer, fixture, selfSignedCert, until } from './fake-apiserver.js';

const FAST = { backoff: { initialMs: 20, maxMs: 100 }, updateDelayMs: 5, initialSyncTimeoutMs: 2000 };

let api: FakeApiServer;
let dir: string;
let tokenFile: string;
const sds: KubernetesSD[] = [];

function podCfg(over: Partial<KubernetesSDConfig> = {}): KubernetesSDConfig {
  return {
    role: 'pod',
    apiServer: api.url,
    namespaces: { names: [], ownNamespace: false },
    selectors: [{ role: 'pod', field: 'spec.nodeName=${NODE_NAME}' }],
    bearerTokenFile: tokenFile,
    ...over,
  };
}

function sd(cfg: KubernetesSDConfig, extra: ConstructorParameters<typeof KubernetesSD>[1] = {}): { sd: KubernetesSD; changes: () => number } {
  let n = 0;
  const s = new KubernetesSD(cfg, { ...FAST, env: { NODE_NAME: 'worker-1' }, onChange: () => n++, ...extra });
  sds.push(s);
  return { sd: s, changes: () => n };
}

const names = (s: KubernetesSD): string[] => s.groups().filter((g) => g.targets.length > 0).map((g) => g.source);

beforeEach(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'vigil-k8s-sd-'));
  tokenFile = path.join(dir, 'token');
  writeFileSync(tokenFile, 'token-1\n');
  api = new FakeApiServer();
  api.tokens.add('token-1');
  await api.start();
  for (const p of fixture('pods')) api.upsert('pods', p);
});

afterEach(async () => {
  for (const s of sds.splice(0)) s.stop();
  await api.stop();
});

describe('KubernetesSD role pod against a fake API server', () => {
  it('lists own-node pods with the expanded field selector and the bearer token, then watches from the list version', async () => {
    const { sd: s } = sd(podCfg());
    expect(await s.refresh()).toBe(true);
    expect(names(s)).toEqual(['pod/shop/checkout-7d9f8b6c5-x2kqp', 'pod/shop/redis-0']);
    // the pending pod of this node is a group without targets; worker-2's pod is not there at all
    expect(s.groups().map((g) => g.source)).toContain('pod/reports/batch-report-28573920-q7v2n');
    expect(s.groups().map((g) => g.source)).not.toContain('pod/shop/frontend-5b8c9d7f6-abcde');
    const list = api.listRequests()[0]!;
    expect(list.path).toBe('/api/v1/pods');
    expect(list.query.get('fieldSelector')).toBe('spec.nodeName=worker-1');
    expect(list.auth).toBe('Bearer token-1');
    await until(() => api.watchRequests().length > 0, 2000, 'watch');
    const w = api.watchRequests()[0]!;
    expect(w.query.get('allowWatchBookmarks')).toBe('true');
    expect(w.query.get('resourceVersion')).toBe(String(api.rv));
    expect(w.query.get('fieldSelector')).toBe('spec.nodeName=worker-1');
    expect(Number(w.query.get('timeoutSeconds'))).toBeGreaterThan(0);
  });

  it('applies ADDED, MODIFIED and DELETED events and reports changes', async () => {
    const { sd: s, changes } = sd(podCfg());
    await s.refresh();
    await until(() => api.watchers.size === 1, 2000, 'watch');
    const before = changes();
    const pending = fixture('pods').find((p) => p.metadata.name.startsWith('batch-report'))!;
    pending.status.podIP = '10.244.1.77';
    pending.status.phase = 'Running';
    api.upsert('pods', pending); // MODIFIED: gets an IP → a target
    await until(() => names(s).includes('pod/reports/batch-report-28573920-q7v2n'), 2000, 'modified pod');
    const g = s.groups().find((x) => x.source === 'pod/reports/batch-report-28573920-q7v2n')!;
    expect(labelsToObject(g.targets[0]!)['__address__']).toBe('10.244.1.77');
    const added = structuredClone(fixture('pods')[1]!);
    added.metadata.name = 'redis-1';
    added.status.podIP = '10.244.1.41';
    api.upsert('pods', added); // ADDED
    await until(() => names(s).includes('pod/shop/redis-1'), 2000, 'added pod');
    api.remove('pods', 'shop', 'redis-0'); // DELETED
    await until(() => !s.groups().some((x) => x.source === 'pod/shop/redis-0'), 2000, 'deleted pod');
    // a pod on another node never shows up
    const other = structuredClone(fixture('pods')[3]!);
    other.metadata.name = 'frontend-other';
    api.upsert('pods', other);
    await new Promise((r) => setTimeout(r, 50));
    expect(s.groups().some((x) => x.source === 'pod/shop/frontend-other')).toBe(false);
    expect(changes()).toBeGreaterThan(before);
  });

  it('resumes the watch from the last BOOKMARK version after the stream ends', async () => {
    const { sd: s } = sd(podCfg());
    await s.refresh();
    await until(() => api.watchers.size === 1, 2000, 'watch');
    api.bookmark();
    const bookmarkRv = String(api.rv);
    await new Promise((r) => setTimeout(r, 30));
    api.endWatches();
    await until(() => api.watchRequests().length === 2, 2000, 'second watch');
    expect(api.watchRequests()[1]!.query.get('resourceVersion')).toBe(bookmarkRv);
    expect(api.listRequests()).toHaveLength(1); // no relist for a normal end
  });

  it('relists after 410 Gone and picks up what changed meanwhile', async () => {
    const { sd: s } = sd(podCfg());
    await s.refresh();
    await until(() => api.watchers.size === 1, 2000, 'watch');
    api.dropWatches(); // connection lost
    const added = structuredClone(fixture('pods')[1]!);
    added.metadata.name = 'redis-9';
    api.upsert('pods', added);
    api.expireAll(); // history compacted: the reconnect from the old version gets 410
    await until(() => names(s).includes('pod/shop/redis-9'), 3000, 'relisted pod');
    expect(api.listRequests().length).toBeGreaterThanOrEqual(2);
  });

  it('retries failed lists with backoff', async () => {
    api.failLists = 2;
    const { sd: s } = sd(podCfg());
    expect(await s.refresh()).toBe(true);
    expect(api.listRequests().length).toBe(3);
    expect(names(s)).toHaveLength(2);
  });

  it('re-reads a rotated service-account token on reconnect', async () => {
    const { sd: s } = sd(podCfg());
    await s.refresh();
    await until(() => api.watchers.size === 1, 2000, 'watch');
    writeFileSync(tokenFile, 'token-2\n');
    api.tokens = new Set(['token-2']);
    api.dropWatches();
    await until(() => api.watchers.size === 1, 3000, 'rewatch with the new token');
    expect(api.requests.at(-1)!.auth).toBe('Bearer token-2');
    // a wrong token gives 401s, retried (and counted) without crashing
    api.tokens = new Set(['token-3']);
    api.dropWatches();
    await new Promise((r) => setTimeout(r, 100));
    expect(api.requests.filter((r) => r.auth === 'Bearer token-2').length).toBeGreaterThan(1);
  });

  it('watches only the listed namespaces and applies label selectors', async () => {
    const { sd: s } = sd(podCfg({ namespaces: { names: ['reports', 'shop'], ownNamespace: false }, selectors: [{ role: 'pod', field: 'spec.nodeName=$NODE_NAME', label: 'app=redis' }] }));
    await s.refresh();
    expect(api.listRequests().map((r) => r.path).sort()).toEqual(['/api/v1/namespaces/reports/pods', '/api/v1/namespaces/shop/pods']);
    expect(api.listRequests()[0]!.query.get('labelSelector')).toBe('app=redis');
    expect(s.groups().map((g) => g.source)).toEqual(['pod/shop/redis-0']);
  });

  it('own_namespace reads the service-account namespace file', async () => {
    const nsFile = path.join(dir, 'namespace');
    writeFileSync(nsFile, 'shop');
    const { sd: s } = sd(podCfg({ namespaces: { names: [], ownNamespace: true } }), { inClusterPaths: { tokenFile, caFile: path.join(dir, 'none'), namespaceFile: nsFile } });
    await s.refresh();
    expect(api.listRequests().map((r) => r.path)).toEqual(['/api/v1/namespaces/shop/pods']);
    expect(names(s)).toEqual(['pod/shop/checkout-7d9f8b6c5-x2kqp', 'pod/shop/redis-0']);
  });

  it('role node watches its own node by metadata.name', async () => {
    for (const n of fixture('nodes')) api.upsert('nodes', n);
    const other = structuredClone(fixture('nodes')[0]!);
    other.metadata.name = 'worker-2';
    api.upsert('nodes', other);
    const { sd: s } = sd({ role: 'node', apiServer: api.url, namespaces: { names: [], ownNamespace: false }, selectors: [{ role: 'node', field: 'metadata.name=${NODE_NAME}' }], bearerTokenFile: tokenFile });
    await s.refresh();
    expect(s.groups().map((g) => g.source)).toEqual(['node/worker-1']);
    expect(api.listRequests()[0]!.path).toBe('/api/v1/nodes');
  });

  it('refresh() gives up after the initial-sync timeout when the API is unreachable, and stop() ends retries', async () => {
    const { sd: s } = sd(podCfg({ apiServer: 'http://127.0.0.1:1' }), { initialSyncTimeoutMs: 100 });
    const t0 = Date.now();
    expect(await s.refresh()).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(s.groups()).toEqual([]);
    s.stop();
  });
});

describe('Reflector', () => {
  it('pages through lists with limit/continue', async () => {
    const conn = await resolveConnection({ role: 'pod', apiServer: api.url, namespaces: { names: [], ownNamespace: false }, selectors: [], bearerTokenFile: tokenFile });
    const r = new Reflector({ conn, path: '/api/v1/pods', onChange: () => {}, role: 'pod', pageSize: 2, backoff: FAST.backoff });
    r.start();
    expect(await r.waitSynced(2000)).toBe(true);
    await r.stop();
    expect([...r.store.keys()].sort()).toEqual(['reports/batch-report-28573920-q7v2n', 'shop/checkout-7d9f8b6c5-x2kqp', 'shop/frontend-5b8c9d7f6-abcde', 'shop/redis-0']);
    const lists = api.listRequests();
    expect(lists.map((l) => l.query.get('continue') ?? '')).toEqual(['', '2']);
    expect(r.resourceVersion).toBe(String(api.rv));
  });
});

describe('connections', () => {
  it('in-cluster: KUBERNETES_SERVICE_HOST/PORT, service-account CA and token over HTTPS', async () => {
    const tls = selfSignedCert();
    const secure = new FakeApiServer(tls);
    secure.tokens.add('sa-token');
    await secure.start();
    try {
      for (const p of fixture('pods')) secure.upsert('pods', p);
      writeFileSync(path.join(dir, 'sa-token'), 'sa-token');
      const s = new KubernetesSD(
        { role: 'pod', namespaces: { names: [], ownNamespace: false }, selectors: [{ role: 'pod', field: 'spec.nodeName=${NODE_NAME}' }] },
        { ...FAST, env: { NODE_NAME: 'worker-1', KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(secure.port) }, inClusterPaths: { tokenFile: path.join(dir, 'sa-token'), caFile: tls.certFile, namespaceFile: path.join(dir, 'ns') } },
      );
      sds.push(s);
      expect(await s.refresh()).toBe(true);
      expect(names(s)).toHaveLength(2);
      expect(secure.requests[0]!.auth).toBe('Bearer sa-token');
    } finally {
      for (const s of sds.splice(0)) s.stop();
      await secure.stop();
    }
  });

  it('not in a cluster and no api_server: a clear error', async () => {
    await expect(resolveConnection({ role: 'pod', namespaces: { names: [], ownNamespace: false }, selectors: [] }, { env: {} })).rejects.toThrow(/not running in a cluster/);
  });

  it('expandEnv expands $VAR and ${VAR} and reports missing ones', () => {
    expect(expandEnv('spec.nodeName=${NODE_NAME},x=$Y,z=$$', { NODE_NAME: 'n1', Y: 'y' })).toEqual({ value: 'spec.nodeName=n1,x=y,z=$', missing: [] });
    expect(expandEnv('spec.nodeName=$NODE_NAME', {}).missing).toEqual(['NODE_NAME']);
  });
});

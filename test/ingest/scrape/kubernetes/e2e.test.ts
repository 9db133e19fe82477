/**
 * End to end: fake API server (HTTPS, in-cluster service-account auth) → kubernetes_sd →
 * scrape manager with the SHIPPED config (manifests/base/config/vigil.yml) → real Head. Kubelet
 * endpoints are served over HTTPS with a self-signed cert and a bearer-token check; app pods are
 * local HTTP servers at 127.0.0.1. Targets appear and disappear as pods do, with stale markers.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/loader.js';
import { ScrapeManager } from '../../../../src/ingest/scrape/manager.js';
import { labelsGet, labelsToObject } from '../../../../src/model/labels.js';
import { newMatcher } from '../../../../src/model/matchers.js';
import { isStaleNaN } from '../../../../src/model/samples.js';
import { Head } from '../../../../src/storage/head/head.js';
import { FakeApiServer, fixture, selfSignedCert, until } from './fake-apiserver.js';

const fx = (f: string): string => readFileSync(new URL(`./fixtures/${f}`, import.meta.url), 'utf8');
const SHIPPED = new URL('../../../../manifests/base/config/vigil.yml', import.meta.url);

const tls = selfSignedCert();
const api = new FakeApiServer(tls);
const sa = mkdtempSync(path.join(tmpdir(), 'vigil-sa-'));
const kubeletRequests: { path: string; auth: string | undefined }[] = [];
let kubelet: https.Server;
let appA: http.Server;
let appB: http.Server;
let head: Head;
let manager: ScrapeManager;

async function listen<T extends http.Server>(s: T): Promise<number> {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return (s.address() as AddressInfo).port;
}

function appServer(body: string): http.Server {
  return http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' });
    res.end(body.replace('PATH', req.url ?? ''));
  });
}

function latest(name: string, match: Record<string, string> = {}): { labels: Record<string, string>; v: number }[] {
  const q = head.querier(0, Date.now() + 60_000);
  try {
    const ms = [newMatcher('=', '__name__', name), ...Object.entries(match).map(([k, v]) => newMatcher('=', k, v))];
    return q.select({ mint: 0, maxt: Date.now() + 60_000, matchers: ms }).map((s) => {
      const smp = s.samples();
      return { labels: labelsToObject(s.labels), v: smp.v[smp.v.length - 1]! };
    });
  } finally {
    q.close();
  }
}

let portA = 0;
let portB = 0;

beforeAll(async () => {
  writeFileSync(path.join(sa, 'token'), 'sa-token\n');
  writeFileSync(path.join(sa, 'ca.crt'), tls.cert);
  writeFileSync(path.join(sa, 'namespace'), 'monitoring');
  api.tokens.add('sa-token');
  await api.start();

  kubelet = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
    kubeletRequests.push({ path: req.url ?? '', auth: req.headers.authorization });
    if (req.headers.authorization !== 'Bearer sa-token') {
      res.writeHead(401).end('Unauthorized');
      return;
    }
    const body = { '/metrics': 'kubelet-metrics.txt', '/metrics/cadvisor': 'kubelet-cadvisor.txt', '/metrics/probes': 'kubelet-probes.txt' }[req.url ?? ''];
    if (!body) {
      res.writeHead(404).end('404 page not found');
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
    // cAdvisor stamps its samples; the recorded stamps are moved to now (the head rejects old ones).
    res.end(fx(body).replace(/ \d{13}$/gm, ` ${Date.now()}`));
  });
  const kubeletPort = await listen(kubelet);
  appA = appServer('# TYPE checkout_orders_total counter\ncheckout_orders_total{path="PATH"} 42\n');
  appB = appServer('# TYPE api_requests_total counter\napi_requests_total 7\n');
  portA = await listen(appA);
  portB = await listen(appB);

  const node = fixture('nodes')[0]!;
  node.status.addresses = [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: 'worker-1' }];
  node.status.daemonEndpoints.kubeletEndpoint.Port = kubeletPort;
  api.upsert('nodes', node);
  const other = structuredClone(node);
  other.metadata.name = 'worker-2';
  api.upsert('nodes', other);

  const [checkout, redis, , frontend] = fixture('pods');
  checkout!.status.podIP = '127.0.0.1';
  checkout!.metadata.annotations['prometheus.io/port'] = String(portA);
  checkout!.spec.containers[0].ports[1].containerPort = portA;
  api.upsert('pods', checkout!);
  redis!.status.podIP = '127.0.0.1'; // not annotated: never scraped
  api.upsert('pods', redis!);
  frontend!.status.podIP = '127.0.0.1'; // annotated but on worker-2: never discovered
  api.upsert('pods', frontend!);
  api.upsert('pods', apiPod(portB));

  // The shipped config, with the service-account directory moved to the test's.
  const text = readFileSync(SHIPPED, 'utf8').replaceAll('/var/run/secrets/kubernetes.io/serviceaccount/', `${sa}/`);
  const cfg = parseConfig(text, SHIPPED.pathname);
  head = new Head({ retentionMs: 3_600_000 });
  manager = new ScrapeManager({
    appendable: head,
    kubernetes: {
      env: { NODE_NAME: 'worker-1', KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: String(api.port) },
      inClusterPaths: { tokenFile: path.join(sa, 'token'), caFile: path.join(sa, 'ca.crt'), namespaceFile: path.join(sa, 'namespace') },
      backoff: { initialMs: 20, maxMs: 200 },
      updateDelayMs: 10,
    },
  });
  await manager.applyConfig(cfg.global, cfg.scrapeConfigs);
});

function apiPod(port: number): Record<string, any> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'api-6f7c9b-zt4kq',
      namespace: 'shop',
      uid: '3c3c3c3c-1111-4222-8333-444455556666',
      labels: { app: 'api' },
      annotations: { 'prometheus.io/scrape': 'true' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-6f7c9b', controller: true, uid: '1' }],
    },
    spec: { nodeName: 'worker-1', containers: [{ name: 'api', image: 'registry.example.com/shop/api:0.9.0', ports: [{ name: 'metrics', containerPort: port, protocol: 'TCP' }] }] },
    status: { phase: 'Running', podIP: '127.0.0.1', hostIP: '127.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
  };
}

afterAll(async () => {
  await manager?.stop();
  await api.stop();
  for (const s of [kubelet, appA, appB]) {
    s?.closeAllConnections();
    await new Promise((r) => s?.close(r));
  }
});

describe('kubernetes discovery → scrape manager → head (shipped config)', () => {
  it('discovers annotated own-node pods and the own kubelet, with the shipped relabeling', () => {
    const t = manager.targets();
    const urls = t.map((x) => x.scrapeUrl).sort();
    expect(urls).toEqual(
      [
        `http://127.0.0.1:${portA}/stats/prometheus`,
        `http://127.0.0.1:${portB}/metrics`,
        `https://127.0.0.1:${kubelet.address() && (kubelet.address() as AddressInfo).port}/metrics`,
        `https://127.0.0.1:${(kubelet.address() as AddressInfo).port}/metrics/cadvisor`,
        `https://127.0.0.1:${(kubelet.address() as AddressInfo).port}/metrics/probes`,
      ].sort(),
    );
    const checkout = t.find((x) => x.scrapeUrl.includes('/stats/prometheus'))!;
    // one target for the whole pod (ports, port-less sidecar and init container merged/dropped)
    expect(checkout.labels).toEqual({
      app_kubernetes_io_name: 'checkout',
      app_kubernetes_io_part_of: 'shop',
      instance: `127.0.0.1:${portA}`,
      job: 'kubernetes-pods',
      namespace: 'shop',
      node: 'worker-1',
      pod: 'checkout-7d9f8b6c5-x2kqp',
      pod_template_hash: '7d9f8b6c5',
    });
    expect(checkout.discoveredLabels['__meta_kubernetes_pod_controller_kind']).toBe('ReplicaSet');
    const cadvisor = t.find((x) => x.scrapeUrl.endsWith('/metrics/cadvisor'))!;
    expect(cadvisor.labels).toEqual({ instance: 'worker-1', job: 'kubelet', metrics_path: '/metrics/cadvisor', node: 'worker-1' });
    // the field selectors went to the API server
    expect(api.listRequests().map((r) => `${r.path}?${r.query.get('fieldSelector')}`).sort()).toEqual(['/api/v1/nodes?metadata.name=worker-1', '/api/v1/nodes?metadata.name=worker-1', '/api/v1/nodes?metadata.name=worker-1', '/api/v1/pods?spec.nodeName=worker-1']);
  });

  it('scrapes the kubelet over HTTPS with the service-account token, and the pods', async () => {
    await manager.scrapeAllOnce();
    expect(kubeletRequests.length).toBeGreaterThanOrEqual(3);
    expect(kubeletRequests.every((r) => r.auth === 'Bearer sa-token')).toBe(true);
    expect(latest('kubelet_running_pods')[0]).toMatchObject({ v: 14, labels: { job: 'kubelet', node: 'worker-1', metrics_path: '/metrics' } });
    const cpu = latest('container_cpu_usage_seconds_total', { pod: 'checkout-7d9f8b6c5-x2kqp' });
    expect(cpu).toHaveLength(1);
    expect(cpu[0]!.v).toBeCloseTo(1532.88721);
    expect(cpu[0]!.labels).toMatchObject({ namespace: 'shop', container: 'checkout', job: 'kubelet', instance: 'worker-1' });
    expect(latest('container_memory_working_set_bytes', { pod: 'redis-0' })[0]!.v).toBe(9043968);
    expect(latest('container_cpu_cfs_throttled_periods_total')[0]!.v).toBe(3871);
    expect(latest('prober_probe_total', { result: 'failed' })[0]).toMatchObject({ v: 37, labels: { pod: 'redis-0', probe_type: 'Readiness', metrics_path: '/metrics/probes' } });
    expect(latest('checkout_orders_total')[0]).toMatchObject({ v: 42, labels: { path: '/stats/prometheus', pod: 'checkout-7d9f8b6c5-x2kqp', namespace: 'shop' } });
    expect(latest('api_requests_total')[0]).toMatchObject({ v: 7, labels: { pod: 'api-6f7c9b-zt4kq', app: 'api' } });
    const ups = latest('up');
    expect(ups).toHaveLength(5);
    expect(ups.every((u) => u.v === 1)).toBe(true);
  });

  it('a new pod becomes a target; a deleted pod stops being one and its series get stale markers', async () => {
    const added = apiPod(portB);
    added.metadata.name = 'api-6f7c9b-new01';
    added.metadata.uid = 'new';
    api.upsert('pods', added);
    await until(() => manager.targets().some((t) => t.labels['pod'] === 'api-6f7c9b-new01'), 3000, 'new target');
    await manager.scrapeAllOnce();
    expect(latest('api_requests_total', { pod: 'api-6f7c9b-new01' })[0]!.v).toBe(7);

    api.remove('pods', 'shop', 'api-6f7c9b-zt4kq');
    await until(() => !manager.targets().some((t) => t.labels['pod'] === 'api-6f7c9b-zt4kq'), 3000, 'target removal');
    await until(() => isStaleNaN(latest('api_requests_total', { pod: 'api-6f7c9b-zt4kq' })[0]?.v ?? 0), 3000, 'stale marker');
    expect(isStaleNaN(latest('up', { pod: 'api-6f7c9b-zt4kq' })[0]!.v)).toBe(true);
    // the other pods are untouched
    expect(isStaleNaN(latest('api_requests_total', { pod: 'api-6f7c9b-new01' })[0]!.v)).toBe(false);
    expect(latest('checkout_orders_total')[0]!.v).toBe(42);
    const names = manager.targets().map((t) => labelsGet(Object.entries(t.labels).map(([name, value]) => ({ name, value })), 'pod'));
    expect(names.filter(Boolean).sort()).toEqual(['api-6f7c9b-new01', 'checkout-7d9f8b6c5-x2kqp']);
  });

  it('survives a 410 Gone on the watch: relists and keeps targets in sync', async () => {
    api.dropWatches();
    api.remove('pods', 'shop', 'api-6f7c9b-new01');
    api.expireAll();
    await until(() => !manager.targets().some((t) => t.labels['pod'] === 'api-6f7c9b-new01'), 3000, 'relist removal');
    expect(api.listRequests().filter((r) => r.path === '/api/v1/pods').length).toBeGreaterThanOrEqual(2);
  });
});

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../../../src/config/loader.js';
import { KubernetesSD } from '../../../../src/ingest/scrape/kubernetes/discovery.js';
import { parseKubeconfig } from '../../../../src/ingest/scrape/kubernetes/kubeconfig.js';
import { FakeApiServer, fixture, selfSignedCert } from './fake-apiserver.js';

const dir = mkdtempSync(path.join(tmpdir(), 'vigil-kubeconfig-'));

function kubeconfig(server: string, user: string, cluster: string): string {
  return `apiVersion: v1
kind: Config
current-context: dev
preferences: {}
clusters:
- name: other
  cluster:
    server: https://10.9.9.9:6443
- name: dev-cluster
  cluster:
    server: ${server}
${cluster}
contexts:
- name: dev
  context:
    cluster: dev-cluster
    user: dev-user
    namespace: shop
users:
- name: dev-user
  user:
${user}
`;
}

describe('kubeconfig', () => {
  it('reads server, inline CA data, token and the context namespace', async () => {
    const ca = Buffer.from('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
    const k = await parseKubeconfig(kubeconfig('https://127.0.0.1:6443', '    token: abc.def', `    certificate-authority-data: ${ca.toString('base64')}`), path.join(dir, 'config'));
    expect(k.server).toBe('https://127.0.0.1:6443');
    expect(k.ca?.equals(ca)).toBe(true);
    expect(k.token).toBe('abc.def');
    expect(k.namespace).toBe('shop');
    expect(k.insecureSkipVerify).toBe(false);
  });

  it('resolves file paths relative to the kubeconfig and reads client cert/key', async () => {
    writeFileSync(path.join(dir, 'ca.crt'), 'CA');
    writeFileSync(path.join(dir, 'client.crt'), 'CERT');
    writeFileSync(path.join(dir, 'client.key'), 'KEY');
    const k = await parseKubeconfig(
      kubeconfig('https://127.0.0.1:6443', '    client-certificate: client.crt\n    client-key: client.key\n    tokenFile: tok', '    certificate-authority: ca.crt\n    tls-server-name: kubernetes'),
      path.join(dir, 'config'),
    );
    expect(k.ca?.toString()).toBe('CA');
    expect(k.cert?.toString()).toBe('CERT');
    expect(k.key?.toString()).toBe('KEY');
    expect(k.tokenFile).toBe(path.join(dir, 'tok'));
    expect(k.serverName).toBe('kubernetes');
  });

  it('rejects exec plugins, missing contexts and a lone client cert with clear messages', async () => {
    await expect(parseKubeconfig(kubeconfig('https://x:1', '    exec:\n      command: aws', ''), 'k')).rejects.toThrow(/exec and auth-provider credential plugins are not supported/);
    await expect(parseKubeconfig('current-context: nope\ncontexts: []\n', 'k')).rejects.toThrow(/context "nope" not found/);
    await expect(parseKubeconfig(kubeconfig('https://x:1', '    client-certificate-data: QQ==', ''), 'k')).rejects.toThrow(/must be set together/);
    await expect(parseKubeconfig('[', 'k')).rejects.toThrow(/invalid kubeconfig YAML/);
  });

  describe('against an HTTPS fake API server', () => {
    const tls = selfSignedCert();
    const api = new FakeApiServer(tls);
    beforeAll(async () => {
      api.tokens.add('kc-token');
      await api.start();
      for (const p of fixture('pods')) api.upsert('pods', p);
    });
    afterAll(() => api.stop());

    it('discovers pods outside a cluster through kubeconfig_file', async () => {
      const file = path.join(dir, 'kc.yaml');
      writeFileSync(file, kubeconfig(api.url, '    token: kc-token', `    certificate-authority-data: ${tls.cert.toString('base64')}`));
      const s = new KubernetesSD({ role: 'pod', kubeconfigFile: file, namespaces: { names: [], ownNamespace: true }, selectors: [] }, { env: {}, updateDelayMs: 5, initialSyncTimeoutMs: 2000 });
      try {
        expect(await s.refresh()).toBe(true);
        // own_namespace outside a cluster = the kubeconfig context's namespace
        expect(api.requests[0]!.path).toBe('/api/v1/namespaces/shop/pods');
        expect(s.groups().filter((g) => g.targets.length > 0).map((g) => g.source)).toEqual(['pod/shop/checkout-7d9f8b6c5-x2kqp', 'pod/shop/frontend-5b8c9d7f6-abcde', 'pod/shop/redis-0']);
      } finally {
        s.stop();
      }
    });
  });
});

describe('config: kubernetes_sd_configs', () => {
  const load = (yaml: string) => parseConfig(yaml, '/etc/vigil/vigil.yml');
  it('parses roles, selectors, namespaces, api_server and HTTP client settings', () => {
    const c = load(`
scrape_configs:
  - job_name: pods
    kubernetes_sd_configs:
      - role: pod
        namespaces: { names: [shop, reports] }
        selectors:
          - role: pod
            field: spec.nodeName=\${NODE_NAME}
            label: app=redis
  - job_name: kubelet
    scheme: https
    bearer_token_file: /var/run/secrets/kubernetes.io/serviceaccount/token
    kubernetes_sd_configs:
      - role: node
        api_server: https://10.96.0.1:443
        bearer_token_file: token
        tls_config: { ca_file: ca.crt }
`);
    expect(c.scrapeConfigs[0]!.kubernetesSdConfigs).toEqual([
      { role: 'pod', namespaces: { names: ['shop', 'reports'], ownNamespace: false }, selectors: [{ role: 'pod', field: 'spec.nodeName=${NODE_NAME}', label: 'app=redis' }] },
    ]);
    expect(c.scrapeConfigs[1]!.kubernetesSdConfigs).toEqual([
      { role: 'node', apiServer: 'https://10.96.0.1:443', namespaces: { names: [], ownNamespace: false }, selectors: [], bearerTokenFile: '/etc/vigil/token', tls: { caFile: '/etc/vigil/ca.crt' } },
    ]);
  });

  it('a job without kubernetes_sd_configs has no kubernetesSdConfigs field', () => {
    expect('kubernetesSdConfigs' in load('scrape_configs: [{job_name: a}]').scrapeConfigs[0]!).toBe(false);
  });

  it.each([
    ['role: service', /vigil.yml:4: .*role must be "pod" or "node"/],
    ['role: pod\n        api_server: https://a\n        kubeconfig_file: k', /cannot use "kubeconfig_file" and "api_server" simultaneously/],
    ['role: pod\n        bearer_token: x', /provide the "api_server" URL explicitly/],
    ['role: pod\n        selectors: [{role: node, field: a=b}]', /selector role "node" is not allowed for discovery role "pod"/],
    ['role: pod\n        selectors: [{role: pod, field: a=b}, {role: pod, label: x=y}]', /duplicated selector role: pod/],
    ['role: node\n        namespaces: {names: [a]}', /namespaces cannot be used with role "node"/],
    ['role: pod\n        namespaces: {names: [Bad_NS]}', /"Bad_NS" is not a valid namespace name/],
    ['role: pod\n        selectors: [{role: pod, field: "a=b,,c=d"}]', /is not a valid field selector/],
    ['role: pod\n        bogus: 1', /unknown key "bogus"/],
    ['{}', /role is required/],
  ])('rejects %s', (entry, re) => {
    expect(() => load(`scrape_configs:\n  - job_name: x\n    kubernetes_sd_configs:\n      - ${entry}\n`)).toThrow(re);
  });
});

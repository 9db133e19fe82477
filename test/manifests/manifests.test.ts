/**
 * The Kubernetes manifests: every rendered object (base, dev, prod) validates against the
 * Kubernetes and prometheus-operator schemas (kubernetes-models' OpenAPI-generated validators,
 * plus a strict unknown-field check), reviewer rules hold (resources, probes, securityContext,
 * no RBAC wildcards, references resolve), the shipped vigil config passes `vigil check config`,
 * the rule files and the PrometheusRule pass `promtool check rules`, the remote-write snippet
 * passes `promtool check config`, and the copied files match their sources.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { hasKubectl, MANIFESTS, parseDocs, render, renderFallback, renderKubectl, type Doc } from './render.js';

const REPO = path.resolve(MANIFESTS, '..');
const KUSTOMIZATIONS = { base: 'base', dev: 'overlays/dev', prod: 'overlays/prod' } as const;
const rendered = Object.fromEntries(Object.entries(KUSTOMIZATIONS).map(([k, d]) => [k, render(path.join(MANIFESTS, d))])) as Record<keyof typeof KUSTOMIZATIONS, Doc[]>;

function hasBinary(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`]).status === 0;
}

/** Loads the schema-validating model class of a kind. */
async function modelOf(apiVersion: string, kind: string): Promise<new (d: Doc) => { validate(): void }> {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const spec =
    group === 'monitoring.coreos.com' ? `@kubernetes-models/prometheus-operator/${group}/${version}/${kind}` : group === '' ? `kubernetes-models/${version}/${kind}` : `kubernetes-models/${group}/${version}/${kind}`;
  const mod = await import(/* @vite-ignore */ spec);
  return mod[kind];
}

/**
 * Runs the schema validator on proxies that record which properties it reads: a property the
 * validator never looks at is not in the schema (the API server would reject it as an unknown
 * field under strict validation). Returns the JSON paths of unknown fields.
 */
function unknownFields(validate: (d: Doc) => void, doc: Doc): string[] {
  const seen = new WeakMap<object, Set<string>>();
  const proxies: { target: Doc; path: string }[] = [];
  const wrap = (x: unknown, p: string): unknown => {
    if (x === null || typeof x !== 'object') return x;
    const target = Array.isArray(x) ? x.map((e, i) => wrap(e, `${p}[${i}]`)) : Object.fromEntries(Object.entries(x).map(([k, v]) => [k, wrap(v, `${p}.${k}`)]));
    if (Array.isArray(x)) return target;
    const keys = new Set<string>();
    proxies.push({ target: target as Doc, path: p });
    const proxy = new Proxy(target as Doc, {
      get(t, k, r) {
        if (typeof k === 'string') keys.add(k);
        return Reflect.get(t, k, r);
      },
    });
    seen.set(target as Doc, keys);
    return proxy;
  };
  const top = wrap(doc, '') as Doc;
  try {
    validate(top);
  } catch {
    // schema errors are reported separately; the properties read so far still count
  }
  const out: string[] = [];
  for (const { target, path: p } of proxies) {
    if (p === '') continue; // top-level keys are checked by the model class itself
    const keys = seen.get(target)!;
    for (const k of Object.keys(target)) if (!keys.has(k)) out.push(`${p}.${k}`);
  }
  return out;
}

async function schemaErrors(d: Doc): Promise<string[]> {
  const Model = await modelOf(d.apiVersion, d.kind);
  const errs: string[] = [];
  try {
    new Model(d).validate();
  } catch (e) {
    errs.push(`${d.kind}/${d.metadata?.name}: ${(e as Error).message}`);
  }
  // The validator itself, on the proxies (the model constructor deep-copies and would read everything).
  const unknown = unknownFields((x) => (Model.prototype.validate as (this: Doc) => void).call(x), d);
  for (const u of unknown) errs.push(`${d.kind}/${d.metadata?.name}: unknown field ${u}`);
  const allowedTop = new Set(['apiVersion', 'kind', 'metadata', 'spec', 'data', 'binaryData', 'stringData', 'type', 'immutable', 'rules', 'roleRef', 'subjects', 'value', 'globalDefault', 'preemptionPolicy', 'description', 'automountServiceAccountToken', 'secrets', 'imagePullSecrets', 'aggregationRule']);
  for (const k of Object.keys(d)) if (!allowedTop.has(k)) errs.push(`${d.kind}/${d.metadata?.name}: unknown top-level field ${k}`);
  return errs;
}

const find = (docs: Doc[], kind: string, name?: string): Doc[] => docs.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
const one = (docs: Doc[], kind: string, name?: string): Doc => {
  const f = find(docs, kind, name);
  expect(f, `${kind}/${name ?? '*'}`).toHaveLength(1);
  return f[0]!;
};

describe('manifests render', () => {
  it.each(Object.keys(KUSTOMIZATIONS))('%s renders the expected kinds', (k) => {
    const kinds = rendered[k as keyof typeof KUSTOMIZATIONS].map((d) => d.kind).sort();
    const expected = ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'ConfigMap', 'ConfigMap', 'DaemonSet', 'Namespace', 'NetworkPolicy', 'PriorityClass', 'PrometheusRule', 'Secret', 'Service', 'ServiceAccount', 'ServiceMonitor'];
    expect(kinds).toEqual(k === 'base' ? [...expected, 'PodMonitor'].sort() : expected);
  });

  it.skipIf(!hasKubectl())('the fallback renderer agrees with kubectl kustomize (modulo ConfigMap hash suffixes)', () => {
    // named list elements (env, volumes, containers) may come in another order after a patch
    const sortNamed = (x: unknown): unknown =>
      Array.isArray(x)
        ? x.map(sortNamed).sort((a: any, b: any) => (typeof a?.name === 'string' && typeof b?.name === 'string' ? a.name.localeCompare(b.name) : 0))
        : x !== null && typeof x === 'object'
          ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, sortNamed(v)]))
          : x;
    const norm = (docs: Doc[]): Doc[] =>
      (sortNamed(JSON.parse(JSON.stringify(docs).replace(/(vigil-config|vigil-rules|alertmanager-config)-[a-z0-9]{10}/g, '$1'))) as Doc[]).sort((a: Doc, b: Doc) =>
        `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`),
      );
    for (const d of Object.values(KUSTOMIZATIONS)) expect(norm(renderFallback(path.join(MANIFESTS, d)))).toEqual(norm(renderKubectl(path.join(MANIFESTS, d))));
  });

  it('overlays change what they claim to', () => {
    const ds = (k: keyof typeof KUSTOMIZATIONS) => one(rendered[k], 'DaemonSet', 'vigil').spec.template.spec;
    expect(ds('dev').hostNetwork).toBe(false);
    expect(ds('prod').hostNetwork).toBe(true);
    expect(ds('prod').containers[0].image).toBe('ghcr.io/vigil-project/vigil:0.1.0');
    expect(ds('dev').containers[0].image).toBe('vigil:dev');
    expect(ds('prod').volumes.find((v: Doc) => v.name === 'data').emptyDir.sizeLimit).toBe('8Gi');
    expect(ds('prod').containers[0].resources.limits.memory).toBe('2Gi');
    expect(ds('dev').containers[0].args).toContain('--log.level=debug');
  });
});

describe('schemas (Kubernetes OpenAPI + prometheus-operator CRDs, strict fields)', () => {
  it('the strict checker catches a misspelled field and a wrong type', async () => {
    const ds = structuredClone(one(rendered.prod, 'DaemonSet', 'vigil'));
    ds.spec.template.spec.containers[0].livenessprobe = ds.spec.template.spec.containers[0].livenessProbe;
    ds.spec.template.spec.containers[0].ports[0].containerPort = '9477';
    const errs = await schemaErrors(ds);
    expect(errs.some((e) => e.includes('unknown field .spec.template.spec.containers[0].livenessprobe'))).toBe(true);
    expect(errs.some((e) => e.includes('containerPort must be integer'))).toBe(true);
    const sm = structuredClone(one(rendered.prod, 'ServiceMonitor'));
    sm.spec.endpoints[0].intervall = '30s';
    expect(await schemaErrors(sm)).toEqual(['ServiceMonitor/vigil: unknown field .spec.endpoints[0].intervall']);
  });

  it.each(Object.keys(KUSTOMIZATIONS))('every object of %s is valid', async (k) => {
    const errs: string[] = [];
    for (const d of rendered[k as keyof typeof KUSTOMIZATIONS]) errs.push(...(await schemaErrors(d)));
    expect(errs).toEqual([]);
  });
});

describe('reviewer checks', () => {
  for (const [k, docs] of Object.entries(rendered)) {
    describe(k, () => {
      const ds = one(docs, 'DaemonSet', 'vigil');
      const pod = ds.spec.template.spec;
      it('every container has resources, probes and a locked-down securityContext', () => {
        for (const c of [...pod.containers, ...(pod.initContainers ?? [])]) {
          expect(c.resources?.requests?.cpu, c.name).toBeTruthy();
          expect(c.resources?.requests?.memory, c.name).toBeTruthy();
          expect(c.resources?.limits?.memory, c.name).toBeTruthy();
          expect(c.livenessProbe?.httpGet?.path).toBe('/-/healthy');
          expect(c.readinessProbe?.httpGet?.path).toBe('/-/ready');
          const sc = c.securityContext;
          expect(sc.runAsNonRoot).toBe(true);
          expect(sc.runAsUser).toBeGreaterThan(0);
          expect(sc.allowPrivilegeEscalation).toBe(false);
          expect(sc.readOnlyRootFilesystem).toBe(true);
          expect(sc.capabilities.drop).toContain('ALL');
          expect(sc.capabilities.add ?? []).toEqual([]);
          expect(sc.privileged ?? false).toBe(false);
        }
        expect(pod.securityContext.runAsNonRoot).toBe(true);
      });

      it('host mounts are read-only and at the paths the vigil config reads', () => {
        const c = pod.containers[0];
        const mounts = Object.fromEntries(c.volumeMounts.map((m: Doc) => [m.mountPath, m]));
        for (const p of ['/host/proc', '/host/sys', '/host/root', '/etc/vigil/config', '/etc/vigil/rules']) expect(mounts[p]?.readOnly, p).toBe(true);
        const vol = (n: string) => pod.volumes.find((v: Doc) => v.name === n);
        expect(vol(mounts['/host/proc'].name).hostPath.path).toBe('/proc');
        expect(vol(mounts['/host/sys'].name).hostPath.path).toBe('/sys');
        expect(vol(mounts['/host/root'].name).hostPath.path).toBe('/');
        // the only writable places: --storage.path and /tmp, both volumes
        const storage = c.args.find((a: string) => a.startsWith('--storage.path=')).split('=')[1];
        const writable = c.volumeMounts.filter((m: Doc) => !m.readOnly).map((m: Doc) => m.mountPath).sort();
        expect(writable).toEqual([storage, '/tmp'].sort());
        const dataVol = vol(mounts[storage].name);
        expect(dataVol.emptyDir ?? dataVol.hostPath).toBeTruthy();
      });

      it('NODE_NAME comes from the downward API; runs on every node with a priority class', () => {
        const env = pod.containers[0].env.find((e: Doc) => e.name === 'NODE_NAME');
        expect(env.valueFrom.fieldRef.fieldPath).toBe('spec.nodeName');
        expect(pod.tolerations).toEqual(expect.arrayContaining([{ operator: 'Exists', effect: 'NoSchedule' }, { operator: 'Exists', effect: 'NoExecute' }]));
        expect(one(docs, 'PriorityClass', pod.priorityClassName)).toBeTruthy();
        expect(one(docs, 'ServiceAccount', pod.serviceAccountName)).toBeTruthy();
      });

      it('references resolve: ConfigMaps, Secret, Service/monitor/policy selectors', () => {
        for (const v of pod.volumes) {
          if (v.configMap) expect(find(docs, 'ConfigMap', v.configMap.name), v.configMap.name).toHaveLength(1);
          if (v.secret) expect(find(docs, 'Secret', v.secret.secretName)).toHaveLength(1);
        }
        const podLabels = ds.spec.template.metadata.labels;
        const matches = (sel: Record<string, string>, labels: Record<string, string>) => Object.entries(sel).every(([a, b]) => labels[a] === b);
        expect(matches(ds.spec.selector.matchLabels, podLabels)).toBe(true);
        const svc = one(docs, 'Service', 'vigil');
        expect(matches(svc.spec.selector, podLabels)).toBe(true);
        expect(svc.spec.clusterIP).toBe('None');
        expect(pod.containers[0].ports.map((p: Doc) => p.name)).toContain(svc.spec.ports[0].targetPort);
        const sm = one(docs, 'ServiceMonitor', 'vigil');
        expect(matches(sm.spec.selector.matchLabels, svc.metadata.labels)).toBe(true);
        expect(sm.spec.namespaceSelector.matchNames).toEqual([svc.metadata.namespace]);
        expect(svc.spec.ports.map((p: Doc) => p.name)).toContain(sm.spec.endpoints[0].port);
        for (const pm of find(docs, 'PodMonitor')) expect(matches(pm.spec.selector.matchLabels, podLabels)).toBe(true);
        expect(matches(one(docs, 'NetworkPolicy').spec.podSelector.matchLabels, podLabels)).toBe(true);
        const crb = one(docs, 'ClusterRoleBinding', 'vigil');
        expect(crb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'vigil', namespace: 'vigil' }]);
        expect(crb.roleRef.name).toBe(one(docs, 'ClusterRole', 'vigil').metadata.name);
      });

      it('RBAC grants exactly read access to pods/nodes and the kubelet metrics, no wildcards', () => {
        for (const r of find(docs, 'ClusterRole').concat(find(docs, 'Role'))) {
          for (const rule of r.rules) for (const f of ['apiGroups', 'resources', 'verbs', 'resourceNames']) expect(rule[f] ?? [], `${r.metadata.name}.${f}`).not.toContain('*');
        }
        const grants = one(docs, 'ClusterRole', 'vigil').rules.flatMap((r: Doc) => r.resources.flatMap((res: string) => r.verbs.map((v: string) => `${r.apiGroups.join(',')}/${res}:${v}`))).sort();
        expect(grants).toEqual(['/nodes/metrics:get', '/nodes/proxy:get', '/nodes:get', '/nodes:list', '/nodes:watch', '/pods:get', '/pods:list', '/pods:watch']);
      });
    });
  }
});

describe('content of ConfigMaps and rule objects', () => {
  const cms = rendered.prod.filter((d) => d.kind === 'ConfigMap');
  const cm = (prefix: string): Doc => cms.find((c) => c.metadata.name.startsWith(prefix))!;

  it('the vigil config passes `vigil check config` laid out as the DaemonSet mounts it', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'vigil-manifests-'));
    mkdirSync(path.join(root, 'config'));
    mkdirSync(path.join(root, 'rules'));
    for (const [f, text] of Object.entries(cm('vigil-config').data as Record<string, string>)) writeFileSync(path.join(root, 'config', f), text);
    for (const [f, text] of Object.entries(cm('vigil-rules').data as Record<string, string>)) writeFileSync(path.join(root, 'rules', f), text);
    const out = execFileSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'cmd/vigil.ts'), 'check', 'config', path.join(root, 'config/vigil.yml')], { cwd: REPO, encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: .* \(4 scrape configs, 1 rule file patterns, host collector on, remote-write receiver on\)/);
    // rule_files resolves to the rules mount
    const cfgText = cm('vigil-config').data['vigil.yml'];
    expect(cfgText).toContain('../rules/*.yaml');
    expect(cfgText).toMatch(/procfs: \/host\/proc/);
  }, 30_000);

  it.skipIf(!hasBinary('promtool'))('the rule files in the ConfigMap and the PrometheusRule pass promtool check rules', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-promtool-'));
    const files: string[] = [];
    for (const [f, text] of Object.entries(cm('vigil-rules').data as Record<string, string>)) {
      // The predictive pack uses vigil's forecast/anomaly rule kinds, which promtool cannot
      // parse; `vigil check rules` validates it (test/rules/packs.test.ts).
      if (f === 'predictive.yaml') continue;
      writeFileSync(path.join(dir, f), text);
      files.push(path.join(dir, f));
    }
    const pr = one(rendered.prod, 'PrometheusRule', 'vigil');
    writeFileSync(path.join(dir, 'prometheusrule.yaml'), stringify({ groups: pr.spec.groups }));
    files.push(path.join(dir, 'prometheusrule.yaml'));
    const r = spawnSync('promtool', ['check', 'rules', ...files], { encoding: 'utf8' });
    expect(r.stderr + r.stdout).not.toMatch(/FAILED/);
    expect(r.status).toBe(0);
    const alerts = pr.spec.groups.flatMap((g: Doc) => g.rules.map((x: Doc) => x.expr)).join('\n');
    for (const m of ['vigil_remote_write_requests_total{code=~"5.."}', 'vigil_wal_write_errors_total', 'vigil_wal_corruptions_total', 'vigil_rule_evaluation_failures_total', 'vigil_notifications_errors_total', 'vigil_notifications_dropped_total', 'vigil_config_last_reload_successful == 0', 'vigil_model_']) {
      expect(alerts).toContain(m);
    }
  });

  it.skipIf(!hasBinary('promtool'))('the Prometheus remote_write snippet passes promtool check config', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vigil-rw-'));
    const snippet = parseDocs(readFileSync(path.join(MANIFESTS, 'prometheus/remote-write-snippet.yaml'), 'utf8'))[0]!;
    writeFileSync(path.join(dir, 'prometheus.yml'), stringify({ global: { scrape_interval: '30s' }, remote_write: snippet['remote_write'] }));
    const r = spawnSync('promtool', ['check', 'config', path.join(dir, 'prometheus.yml')], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toMatch(/SUCCESS/);
    expect(r.status).toBe(0);
    expect(snippet['remote_write'][0].url).toBe('http://vigil.vigil.svc:9477/api/v1/write');
  });

  it('copies kept for kustomize match their sources: rules/*.yaml and the Alertmanager routes', () => {
    const src = readdirSync(path.join(REPO, 'rules')).filter((f) => f.endsWith('.yaml')).sort();
    expect(readdirSync(path.join(MANIFESTS, 'base/rules')).sort()).toEqual(src);
    for (const f of src) expect(readFileSync(path.join(MANIFESTS, 'base/rules', f), 'utf8'), f).toBe(readFileSync(path.join(REPO, 'rules', f), 'utf8'));
    expect(Object.keys(cm('vigil-rules').data).sort()).toEqual(src);
    expect(readFileSync(path.join(MANIFESTS, 'base/alertmanager/alertmanager.yml'), 'utf8')).toBe(readFileSync(path.join(MANIFESTS, 'alertmanager/alertmanager.yml'), 'utf8'));
    expect(cm('alertmanager-config').data['alertmanager.yml']).toBe(readFileSync(path.join(MANIFESTS, 'alertmanager/alertmanager.yml'), 'utf8'));
  });
});

/**
 * Renders the kustomizations under manifests/: with `kubectl kustomize` when kubectl is
 * installed, else with a tiny kustomize subset written for exactly what manifests/ uses
 * (resources, namespace, labels, configMapGenerator without hash suffixes, images, strategic
 * merge patches incl. `$patch: delete`, commonAnnotations). The test compares both renderers
 * when kubectl is there, so the fallback stays honest.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';

export type Doc = Record<string, any>;

export const MANIFESTS = path.resolve(new URL('../../manifests', import.meta.url).pathname);

/** True when `kubectl kustomize` works here. */
export function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Parses multi-document YAML. */
export function parseDocs(text: string): Doc[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(d.errors[0]!.message);
      return d.toJS() as Doc;
    })
    .filter((d) => d !== null && d !== undefined);
}

/** `kubectl kustomize <dir>`. */
export function renderKubectl(dir: string): Doc[] {
  return parseDocs(execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 64 << 20 }));
}

function isObj(x: unknown): x is Doc {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** Strategic-merge subset: maps merge, lists of named objects merge by name, other lists replace. */
export function smp(base: unknown, patch: unknown): unknown {
  if (isObj(base) && isObj(patch)) {
    const out: Doc = { ...base };
    for (const [k, v] of Object.entries(patch)) out[k] = k in base ? smp(base[k], v) : v;
    return out;
  }
  if (Array.isArray(base) && Array.isArray(patch) && patch.every((p) => isObj(p) && typeof p['name'] === 'string') && base.every((b) => isObj(b) && typeof b['name'] === 'string')) {
    const out = base.map((b) => {
      const p = patch.find((x) => x.name === b.name);
      return p ? smp(b, p) : b;
    });
    for (const p of patch) if (!base.some((b) => b.name === p.name)) out.push(p);
    return out;
  }
  return patch;
}

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'PriorityClass']);

/** The fallback renderer. */
export function renderFallback(dir: string): Doc[] {
  const k = parseDocs(readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'))[0]!;
  let docs: Doc[] = [];
  for (const r of k['resources'] ?? []) {
    const p = path.join(dir, r);
    docs.push(...(r.endsWith('.yaml') ? parseDocs(readFileSync(p, 'utf8')) : renderFallback(p)));
  }
  for (const g of k['configMapGenerator'] ?? []) {
    const data: Record<string, string> = {};
    for (const f of g.files) {
      const [key, file] = f.includes('=') ? f.split('=') : [path.basename(f), f];
      data[key] = readFileSync(path.join(dir, file), 'utf8');
    }
    docs.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: g.name }, data });
  }
  for (const p of k['patches'] ?? []) {
    const patch = parseDocs(p.path ? readFileSync(path.join(dir, p.path), 'utf8') : p.patch)[0]!;
    const same = (d: Doc): boolean => d.kind === patch.kind && d.metadata?.name === patch.metadata?.name;
    if (patch['$patch'] === 'delete') docs = docs.filter((d) => !same(d));
    else docs = docs.map((d) => (same(d) ? (smp(d, patch) as Doc) : d));
  }
  for (const d of docs) {
    if (k['namespace'] && !CLUSTER_SCOPED.has(d.kind)) d.metadata.namespace = k['namespace'];
    for (const l of k['labels'] ?? []) d.metadata.labels = { ...d.metadata.labels, ...l.pairs };
    if (k['commonAnnotations']) {
      d.metadata.annotations = { ...d.metadata.annotations, ...k['commonAnnotations'] };
      const tpl = d.spec?.template?.metadata;
      if (tpl) tpl.annotations = { ...tpl.annotations, ...k['commonAnnotations'] };
    }
    if (k['namespace'] && d.kind === 'ClusterRoleBinding') for (const s of d.subjects ?? []) s.namespace = k['namespace'];
    for (const img of k['images'] ?? []) {
      for (const c of d.spec?.template?.spec?.containers ?? []) {
        const [name, tag] = String(c.image).split(/:(?=[^/]*$)/);
        if (name === img.name) c.image = `${img.newName ?? name}:${img.newTag ?? tag}`;
      }
    }
  }
  return docs;
}

/** Renders with kubectl when available, else with the fallback. */
export function render(dir: string): Doc[] {
  return hasKubectl() ? renderKubectl(dir) : renderFallback(dir);
}

/**
 * Pod → target group, as Prometheus's kubernetes_sd `role: pod` builds it: one target per
 * declared container port (address `podIP:port`) and one per container without ports (address
 * `podIP`), init containers included; pod-level `__meta_kubernetes_pod_*` labels on the group.
 * A pod without an IP yet (pending, evicted) gives an empty group.
 */
import type { Label, Labels } from '../../../model/labels.js';
import type { TargetGroup } from '../targets.js';
import { isRecord, records, str, strMap } from './objects.js';

/** Prefix of every pod meta label. */
export const POD_META = '__meta_kubernetes_pod_';

/** Prometheus's label-name sanitising: every character outside `[a-zA-Z0-9_]` becomes `_`. */
export function sanitizeLabelName(s: string): string {
  return s.replace(/[^a-zA-Z0-9_]/g, '_');
}

/** `host:port`, with brackets around IPv6 hosts (Go's net.JoinHostPort). */
export function joinHostPort(host: string, port: string | number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Adds `<prefix>label_<n>` + `<prefix>labelpresent_<n>` (and annotation ones) for a metadata map. */
export function addMapLabels(out: Map<string, string>, prefix: string, kind: 'label' | 'annotation', m: unknown): void {
  for (const [k, v] of strMap(m)) {
    const n = sanitizeLabelName(k);
    out.set(`${prefix}${kind}_${n}`, v);
    out.set(`${prefix}${kind}present_${n}`, 'true');
  }
}

function sorted(m: Map<string, string>): Label[] {
  return [...m]
    .filter(([, v]) => v !== '')
    .map(([name, value]) => ({ name, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function readyOf(status: Record<string, unknown>): string {
  for (const c of records(status['conditions'])) {
    if (c['type'] === 'Ready') return str(c['status']).toLowerCase() || 'unknown';
  }
  return 'unknown';
}

/** Source id of a pod's target group (stable across updates; used to replace/remove it). */
export function podSource(namespace: string, name: string): string {
  return `pod/${namespace}/${name}`;
}

/** Builds the target group of one pod object (never throws; malformed fields are skipped). */
export function podTargetGroup(pod: Record<string, unknown>): TargetGroup {
  const md = isRecord(pod['metadata']) ? pod['metadata'] : {};
  const spec = isRecord(pod['spec']) ? pod['spec'] : {};
  const status = isRecord(pod['status']) ? pod['status'] : {};
  const namespace = str(md['namespace']);
  const name = str(md['name']);
  const source = podSource(namespace, name);
  const podIP = str(status['podIP']);
  const g = new Map<string, string>();
  g.set('__meta_kubernetes_namespace', namespace);
  g.set(`${POD_META}name`, name);
  g.set(`${POD_META}ip`, podIP);
  g.set(`${POD_META}ready`, readyOf(status));
  g.set(`${POD_META}phase`, str(status['phase']));
  g.set(`${POD_META}node_name`, str(spec['nodeName']));
  g.set(`${POD_META}host_ip`, str(status['hostIP']));
  g.set(`${POD_META}uid`, str(md['uid']));
  addMapLabels(g, POD_META, 'label', md['labels']);
  addMapLabels(g, POD_META, 'annotation', md['annotations']);
  const owner = records(md['ownerReferences']).find((o) => o['controller'] === true);
  if (owner) {
    g.set(`${POD_META}controller_kind`, str(owner['kind']));
    g.set(`${POD_META}controller_name`, str(owner['name']));
  }
  const labels = sorted(g);
  if (podIP === '') return { source, targets: [], labels };

  const ids = new Map<string, string>();
  for (const s of [...records(status['containerStatuses']), ...records(status['initContainerStatuses'])]) ids.set(str(s['name']), str(s['containerID']));
  const targets: Labels[] = [];
  const add = (containers: unknown, init: boolean): void => {
    for (const c of records(containers)) {
      const cname = str(c['name']);
      const base = new Map<string, string>([
        [`${POD_META}container_name`, cname],
        [`${POD_META}container_image`, str(c['image'])],
        [`${POD_META}container_id`, ids.get(cname) ?? ''],
        [`${POD_META}container_init`, init ? 'true' : 'false'],
      ]);
      const ports = records(c['ports']).filter((p) => Number.isInteger(p['containerPort']) && (p['containerPort'] as number) > 0 && (p['containerPort'] as number) < 65536);
      if (ports.length === 0) {
        targets.push(sorted(new Map([...base, ['__address__', podIP]])));
        continue;
      }
      for (const p of ports) {
        const port = String(p['containerPort']);
        targets.push(
          sorted(
            new Map([
              ...base,
              ['__address__', joinHostPort(podIP, port)],
              [`${POD_META}container_port_name`, str(p['name'])],
              [`${POD_META}container_port_number`, port],
              [`${POD_META}container_port_protocol`, str(p['protocol']) || 'TCP'],
            ]),
          ),
        );
      }
    }
  };
  add(spec['containers'], false);
  add(spec['initContainers'], true);
  return { source, targets, labels };
}

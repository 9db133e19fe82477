/**
 * Node → target group, as Prometheus's kubernetes_sd `role: node` builds it: one target at the
 * node's preferred address (InternalIP first) and the kubelet port (`daemonEndpoints`, default
 * 10250), `instance` = node name, `__meta_kubernetes_node_*` labels.
 */
import type { Label } from '../../../model/labels.js';
import type { TargetGroup } from '../targets.js';
import { isRecord, records, str } from './objects.js';
import { addMapLabels, joinHostPort, sanitizeLabelName } from './pod.js';

/** Prefix of every node meta label. */
export const NODE_META = '__meta_kubernetes_node_';

/** Default kubelet port when the node does not report one. */
export const DEFAULT_KUBELET_PORT = 10250;

/** Address types in the order Prometheus prefers them for `__address__`. */
export const NODE_ADDRESS_PREFERENCE = ['InternalIP', 'InternalDNS', 'ExternalIP', 'ExternalDNS', 'LegacyHostIP', 'Hostname'] as const;

/** Source id of a node's target group. */
export function nodeSource(name: string): string {
  return `node/${name}`;
}

/** Builds the target group of one node object (never throws). A node without addresses gives an empty group. */
export function nodeTargetGroup(node: Record<string, unknown>): TargetGroup {
  const md = isRecord(node['metadata']) ? node['metadata'] : {};
  const spec = isRecord(node['spec']) ? node['spec'] : {};
  const status = isRecord(node['status']) ? node['status'] : {};
  const name = str(md['name']);
  const g = new Map<string, string>();
  g.set(`${NODE_META}name`, name);
  g.set(`${NODE_META}provider_id`, str(spec['providerID']));
  addMapLabels(g, NODE_META, 'label', md['labels']);
  addMapLabels(g, NODE_META, 'annotation', md['annotations']);
  const byType = new Map<string, string>();
  for (const a of records(status['addresses'])) {
    const t = str(a['type']);
    const addr = str(a['address']);
    if (t !== '' && addr !== '' && !byType.has(t)) byType.set(t, addr);
  }
  for (const [t, addr] of byType) g.set(`${NODE_META}address_${sanitizeLabelName(t)}`, addr);
  const labels: Label[] = [...g]
    .filter(([, v]) => v !== '')
    .map(([n, value]) => ({ name: n, value }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const source = nodeSource(name);
  let address: string | undefined;
  for (const t of NODE_ADDRESS_PREFERENCE) {
    address = byType.get(t);
    if (address !== undefined) break;
  }
  if (address === undefined) return { source, targets: [], labels };
  const de = isRecord(status['daemonEndpoints']) ? status['daemonEndpoints'] : {};
  const ke = isRecord(de['kubeletEndpoint']) ? de['kubeletEndpoint'] : {};
  const p = ke['Port'];
  const port = typeof p === 'number' && Number.isInteger(p) && p > 0 && p < 65536 ? p : DEFAULT_KUBELET_PORT;
  return {
    source,
    targets: [
      [
        { name: '__address__', value: joinHostPort(address, port) },
        { name: 'instance', value: name },
      ],
    ],
    labels,
  };
}

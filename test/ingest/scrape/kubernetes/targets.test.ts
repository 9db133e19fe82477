import { describe, expect, it } from 'vitest';
import { labelsToObject } from '../../../../src/model/labels.js';
import { nodeTargetGroup } from '../../../../src/ingest/scrape/kubernetes/node.js';
import { joinHostPort, podTargetGroup, sanitizeLabelName } from '../../../../src/ingest/scrape/kubernetes/pod.js';
import { fixture } from './fake-apiserver.js';

const pods = fixture('pods');
const byName = (n: string) => pods.find((p) => p.metadata.name === n)!;

describe('pod target groups (role: pod)', () => {
  it('has Prometheus pod-level meta labels on the group', () => {
    const g = podTargetGroup(byName('checkout-7d9f8b6c5-x2kqp'));
    expect(g.source).toBe('pod/shop/checkout-7d9f8b6c5-x2kqp');
    const l = labelsToObject(g.labels);
    expect(l).toMatchObject({
      __meta_kubernetes_namespace: 'shop',
      __meta_kubernetes_pod_name: 'checkout-7d9f8b6c5-x2kqp',
      __meta_kubernetes_pod_ip: '10.244.1.23',
      __meta_kubernetes_pod_host_ip: '10.0.12.7',
      __meta_kubernetes_pod_node_name: 'worker-1',
      __meta_kubernetes_pod_phase: 'Running',
      __meta_kubernetes_pod_ready: 'true',
      __meta_kubernetes_pod_uid: '0f6c3d2a-91b4-4f6e-8a7c-3e2b1d9c4a55',
      __meta_kubernetes_pod_controller_kind: 'ReplicaSet',
      __meta_kubernetes_pod_controller_name: 'checkout-7d9f8b6c5',
      __meta_kubernetes_pod_label_app_kubernetes_io_name: 'checkout',
      __meta_kubernetes_pod_labelpresent_app_kubernetes_io_name: 'true',
      __meta_kubernetes_pod_label_pod_template_hash: '7d9f8b6c5',
      __meta_kubernetes_pod_annotation_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotationpresent_prometheus_io_scrape: 'true',
      __meta_kubernetes_pod_annotation_prometheus_io_port: '9102',
      __meta_kubernetes_pod_annotation_prometheus_io_path: '/stats/prometheus',
    });
    // label set is sorted, as the Labels contract requires
    const names = g.labels.map((x) => x.name);
    expect(names).toEqual([...names].sort());
  });

  it('makes one target per declared port and one per container without ports (init containers too)', () => {
    const g = podTargetGroup(byName('checkout-7d9f8b6c5-x2kqp'));
    const ts = g.targets.map(labelsToObject);
    expect(ts.map((t) => t['__address__'])).toEqual(['10.244.1.23:8080', '10.244.1.23:9102', '10.244.1.23', '10.244.1.23']);
    expect(ts[1]).toMatchObject({
      __meta_kubernetes_pod_container_name: 'checkout',
      __meta_kubernetes_pod_container_port_name: 'metrics',
      __meta_kubernetes_pod_container_port_number: '9102',
      __meta_kubernetes_pod_container_port_protocol: 'TCP',
      __meta_kubernetes_pod_container_init: 'false',
      __meta_kubernetes_pod_container_image: 'registry.example.com/shop/checkout:1.14.2',
      __meta_kubernetes_pod_container_id: 'containerd://9a3f5c1e0b7d2e4f6a8c0b1d3e5f7a9c1b3d5e7f9a1c3e5b7d9f1a3c5e7b9d1f',
    });
    expect(ts[2]).toMatchObject({ __meta_kubernetes_pod_container_name: 'log-shipper', __meta_kubernetes_pod_container_init: 'false' });
    expect(ts[2]!['__meta_kubernetes_pod_container_port_number']).toBeUndefined();
    expect(ts[3]).toMatchObject({ __meta_kubernetes_pod_container_name: 'migrate', __meta_kubernetes_pod_container_init: 'true' });
  });

  it('reports ready=false from the Ready condition and StatefulSet controllers', () => {
    const l = labelsToObject(podTargetGroup(byName('redis-0')).labels);
    expect(l['__meta_kubernetes_pod_ready']).toBe('false');
    expect(l['__meta_kubernetes_pod_controller_kind']).toBe('StatefulSet');
    expect(l['__meta_kubernetes_pod_label_statefulset_kubernetes_io_pod_name']).toBe('redis-0');
  });

  it('gives a pod without an IP an empty group (no targets) and ready=unknown', () => {
    const g = podTargetGroup(byName('batch-report-28573920-q7v2n'));
    expect(g.targets).toEqual([]);
    expect(labelsToObject(g.labels)['__meta_kubernetes_pod_ready']).toBe('unknown');
    expect(labelsToObject(g.labels)['__meta_kubernetes_pod_phase']).toBe('Pending');
  });

  it('never throws on malformed objects', () => {
    for (const bad of [{}, { metadata: 5 }, { spec: { containers: 'x' }, status: { podIP: '1.2.3.4' } }, { spec: { containers: [{ ports: [{ containerPort: 'x' }, null, { containerPort: 70000 }] }] }, status: { podIP: '1.2.3.4' } }]) {
      const g = podTargetGroup(bad as Record<string, unknown>);
      expect(Array.isArray(g.targets)).toBe(true);
    }
    const g = podTargetGroup({ spec: { containers: [{ name: 'a', ports: [{ containerPort: 'x' }, { containerPort: 70000 }] }] }, status: { podIP: '1.2.3.4' } });
    expect(g.targets.map(labelsToObject).map((t) => t['__address__'])).toEqual(['1.2.3.4']);
  });

  it('brackets IPv6 pod IPs and sanitises label names like Prometheus', () => {
    expect(joinHostPort('fd00::1', 80)).toBe('[fd00::1]:80');
    expect(joinHostPort('10.0.0.1', 80)).toBe('10.0.0.1:80');
    expect(sanitizeLabelName('app.kubernetes.io/name')).toBe('app_kubernetes_io_name');
  });
});

describe('node target groups (role: node)', () => {
  const node = fixture('nodes')[0]!;
  it('targets InternalIP:kubelet port with instance = node name and node meta labels', () => {
    const g = nodeTargetGroup(node);
    expect(g.source).toBe('node/worker-1');
    expect(g.targets.map(labelsToObject)).toEqual([{ __address__: '10.0.12.7:10250', instance: 'worker-1' }]);
    expect(labelsToObject(g.labels)).toMatchObject({
      __meta_kubernetes_node_name: 'worker-1',
      __meta_kubernetes_node_provider_id: 'aws:///eu-west-1a/i-0abc123def4567890',
      __meta_kubernetes_node_label_topology_kubernetes_io_zone: 'eu-west-1a',
      __meta_kubernetes_node_labelpresent_kubernetes_io_os: 'true',
      __meta_kubernetes_node_annotation_node_alpha_kubernetes_io_ttl: '0',
      __meta_kubernetes_node_annotationpresent_node_alpha_kubernetes_io_ttl: 'true',
      __meta_kubernetes_node_address_InternalIP: '10.0.12.7',
      __meta_kubernetes_node_address_InternalDNS: 'ip-10-0-12-7.eu-west-1.compute.internal',
      __meta_kubernetes_node_address_Hostname: 'worker-1',
    });
  });

  it('falls back through the address preference and the default kubelet port', () => {
    const n = structuredClone(node);
    n.status.addresses = [{ type: 'Hostname', address: 'h1' }, { type: 'ExternalIP', address: '203.0.113.9' }];
    delete n.status.daemonEndpoints;
    expect(labelsToObject(nodeTargetGroup(n).targets[0]!)['__address__']).toBe('203.0.113.9:10250');
    n.status.addresses = [];
    expect(nodeTargetGroup(n).targets).toEqual([]);
  });
});

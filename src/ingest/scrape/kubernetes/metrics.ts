/** Self-metrics of Kubernetes discovery (prom-client), registered once per registry. */
import { Counter, Registry, type Metric } from 'prom-client';

function reuse<T extends Metric>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** Kubernetes discovery metrics. */
export class KubernetesSDMetrics {
  /** `vigil_sd_kubernetes_events_total{role,event}`: lists and watch events applied. */
  readonly events: Counter<'role' | 'event'>;
  /** `vigil_sd_kubernetes_failures_total{role}`: failed list/watch requests (each is retried with backoff). */
  readonly failures: Counter<'role'>;
  /** `vigil_sd_kubernetes_relists_total{role}`: relists after `410 Gone`. */
  readonly relists: Counter<'role'>;

  constructor(registry: Registry = new Registry()) {
    const registers = [registry];
    this.events = reuse(registry, 'vigil_sd_kubernetes_events_total', () => new Counter({ name: 'vigil_sd_kubernetes_events_total', help: 'Kubernetes lists and watch events applied by discovery.', labelNames: ['role', 'event'], registers }));
    this.failures = reuse(registry, 'vigil_sd_kubernetes_failures_total', () => new Counter({ name: 'vigil_sd_kubernetes_failures_total', help: 'Failed Kubernetes list/watch requests (retried with backoff).', labelNames: ['role'], registers }));
    this.relists = reuse(registry, 'vigil_sd_kubernetes_relists_total', () => new Counter({ name: 'vigil_sd_kubernetes_relists_total', help: 'Relists after the watched resourceVersion expired (410 Gone).', labelNames: ['role'], registers }));
  }
}

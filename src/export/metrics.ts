/** Self-metrics of remote-write out (prom-client), registered once per registry. */
import { Counter, Gauge, type Registry } from 'prom-client';

/** Why samples were dropped. */
export type DropReason = 'queue_full' | 'rejected' | 'relabel';

/** Remote-write-out metrics; every series has a `url` label. */
export interface RemoteWriteOutMetrics {
  readonly sent: Counter<'url'>;
  readonly failed: Counter<'url'>;
  readonly retries: Counter<'url'>;
  readonly dropped: Counter<'url' | 'reason'>;
  readonly queueLength: Gauge<'url'>;
}

const byRegistry = new WeakMap<Registry, RemoteWriteOutMetrics>();

/** Returns the remote-write-out metrics of `registry`, registering them on first use. */
export function remoteWriteOutMetrics(registry: Registry): RemoteWriteOutMetrics {
  const existing = byRegistry.get(registry);
  if (existing !== undefined) return existing;
  const registers = [registry];
  const m: RemoteWriteOutMetrics = {
    sent: new Counter({ name: 'vigil_remote_write_out_samples_total', help: 'Samples accepted by a remote-write endpoint.', labelNames: ['url'], registers }),
    failed: new Counter({
      name: 'vigil_remote_write_out_samples_failed_total',
      help: 'Samples in requests that failed with a recoverable error (5xx, 429, network); they are retried.',
      labelNames: ['url'],
      registers,
    }),
    retries: new Counter({ name: 'vigil_remote_write_out_retries_total', help: 'Retried remote-write requests.', labelNames: ['url'], registers }),
    dropped: new Counter({
      name: 'vigil_remote_write_out_samples_dropped_total',
      help: 'Samples not sent: queue_full (oldest dropped on overflow), rejected (non-retryable 4xx answer), relabel (write_relabel_configs).',
      labelNames: ['url', 'reason'],
      registers,
    }),
    queueLength: new Gauge({ name: 'vigil_remote_write_out_queue_length', help: 'Samples waiting to be sent.', labelNames: ['url'], registers }),
  };
  byRegistry.set(registry, m);
  return m;
}

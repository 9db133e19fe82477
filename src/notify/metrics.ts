/** Self-metrics of the Alertmanager notifier (prom-client), registered once per registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The notifier's metrics. */
export interface NotifierMetrics {
  readonly sent: Counter<'alertmanager'>;
  readonly errors: Counter<'alertmanager'>;
  readonly dropped: Counter;
  readonly queueLength: Gauge;
  readonly queueCapacity: Gauge;
  readonly latency: Histogram<'alertmanager'>;
  readonly discovered: Gauge;
}

const byRegistry = new WeakMap<Registry, NotifierMetrics>();

/**
 * Returns the notifier metrics of `registry`, registering them on first use (a notifier
 * re-created on config reload reuses the same metric objects).
 */
export function notifierMetrics(registry: Registry): NotifierMetrics {
  const existing = byRegistry.get(registry);
  if (existing !== undefined) return existing;
  const registers = [registry];
  const m: NotifierMetrics = {
    sent: new Counter({ name: 'vigil_notifications_sent_total', help: 'Alerts accepted by an Alertmanager.', labelNames: ['alertmanager'], registers }),
    errors: new Counter({
      name: 'vigil_notifications_errors_total',
      help: 'Alerts whose POST to an Alertmanager failed (network error, timeout or non-2xx answer).',
      labelNames: ['alertmanager'],
      registers,
    }),
    dropped: new Counter({ name: 'vigil_notifications_dropped_total', help: 'Alerts dropped because the notification queue was full.', registers }),
    queueLength: new Gauge({ name: 'vigil_notifications_queue_length', help: 'Alerts waiting in the notification queue.', registers }),
    queueCapacity: new Gauge({ name: 'vigil_notifications_queue_capacity', help: 'Capacity of the notification queue.', registers }),
    latency: new Histogram({
      name: 'vigil_notification_latency_seconds',
      help: 'Latency of POSTs of alert batches to an Alertmanager.',
      labelNames: ['alertmanager'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    discovered: new Gauge({ name: 'vigil_notifications_alertmanagers_discovered', help: 'Number of Alertmanagers alerts are sent to.', registers }),
  };
  byRegistry.set(registry, m);
  return m;
}

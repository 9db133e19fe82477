/** Self-metrics of correlation (prom-client), registered once per registry. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** Backend names used as the `backend` label. */
export type BackendName = 'elasticsearch' | 'jaeger';

/** The correlation metrics. */
export interface CorrelationMetrics {
  /** `vigil_correlation_requests_total{backend,result}`. */
  readonly requests: Counter<'backend' | 'result'>;
  /** `vigil_correlation_duration_seconds{backend}` (calls that reached the backend). */
  readonly duration: Histogram<'backend'>;
  /** `vigil_correlation_breaker_state{backend}`: 0 closed, 1 open, 2 half-open. */
  readonly breakerState: Gauge<'backend'>;
  /** `vigil_correlation_dropped_total`: requests dropped because the queue was full. */
  readonly dropped: Counter;
  /** `vigil_correlation_queue_length`. */
  readonly queueLength: Gauge;
  /** `vigil_correlation_in_flight`. */
  readonly inFlight: Gauge;
}

const byRegistry = new WeakMap<Registry, CorrelationMetrics>();

/** Returns the correlation metrics of `registry`, registering them on first use. */
export function correlationMetrics(registry: Registry): CorrelationMetrics {
  const existing = byRegistry.get(registry);
  if (existing !== undefined) return existing;
  const registers = [registry];
  const m: CorrelationMetrics = {
    requests: new Counter({
      name: 'vigil_correlation_requests_total',
      help: 'Correlation calls per backend by result (success, not_found, timeout, error, bad_response, breaker_open, skipped).',
      labelNames: ['backend', 'result'],
      registers,
    }),
    duration: new Histogram({
      name: 'vigil_correlation_duration_seconds',
      help: 'Duration of correlation calls that reached a backend.',
      labelNames: ['backend'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    }),
    breakerState: new Gauge({ name: 'vigil_correlation_breaker_state', help: 'Circuit breaker state per backend: 0 closed, 1 open, 2 half-open.', labelNames: ['backend'], registers }),
    dropped: new Counter({ name: 'vigil_correlation_dropped_total', help: 'Correlation requests dropped because the queue was full.', registers }),
    queueLength: new Gauge({ name: 'vigil_correlation_queue_length', help: 'Correlation requests waiting for a slot.', registers }),
    inFlight: new Gauge({ name: 'vigil_correlation_in_flight', help: 'Alerts being correlated right now.', registers }),
  };
  byRegistry.set(registry, m);
  return m;
}

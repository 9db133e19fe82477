/** Self-metrics of the scraper (prom-client). */
import { Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client';

/** Why a scrape failed; used as the `reason` label. */
export type ScrapeFailureReason = 'timeout' | 'http_status' | 'connection' | 'body_size_limit' | 'parse' | 'sample_limit' | 'commit' | 'internal';

function reuse<T extends Metric>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

/** The scraper's metrics, registered once per registry. */
export class ScrapeMetrics {
  /** `vigil_scrape_targets{job}`: active targets per job. */
  readonly targets: Gauge<'job'>;
  /** `vigil_scrape_duration_seconds{job}`. */
  readonly duration: Histogram<'job'>;
  /** `vigil_scrape_samples_total{job}`: samples appended (after metric relabeling). */
  readonly samples: Counter<'job'>;
  /** `vigil_scrape_failures_total{job,reason}`. */
  readonly failures: Counter<'job' | 'reason'>;

  constructor(registry: Registry = new Registry()) {
    const registers = [registry];
    this.targets = reuse(registry, 'vigil_scrape_targets', () => new Gauge({ name: 'vigil_scrape_targets', help: 'Active scrape targets per job.', labelNames: ['job'], registers }));
    this.duration = reuse(
      registry,
      'vigil_scrape_duration_seconds',
      () =>
        new Histogram({
          name: 'vigil_scrape_duration_seconds',
          help: 'Duration of scrapes.',
          labelNames: ['job'],
          buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
          registers,
        }),
    );
    this.samples = reuse(registry, 'vigil_scrape_samples_total', () => new Counter({ name: 'vigil_scrape_samples_total', help: 'Samples appended by scrapes (after metric relabeling).', labelNames: ['job'], registers }));
    this.failures = reuse(registry, 'vigil_scrape_failures_total', () => new Counter({ name: 'vigil_scrape_failures_total', help: 'Failed scrapes by reason.', labelNames: ['job', 'reason'], registers }));
  }
}

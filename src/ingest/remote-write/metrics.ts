/** Self-metrics of the remote-write receiver (prom-client). */
import type { Registry } from 'prom-client';
import { Counter, Histogram } from 'prom-client';

/** The receiver's metrics. */
export interface ReceiverMetrics {
  readonly requests: Counter<'version' | 'code'>;
  readonly samplesReceived: Counter<'version'>;
  readonly rejectedSamples: Counter<'reason'>;
  readonly duration: Histogram<'version'>;
  readonly requestBytes: Histogram<'version'>;
}

function getOrCreate<T>(registry: Registry, name: string, make: () => T): T {
  const existing = registry.getSingleMetric(name);
  return existing !== undefined ? (existing as T) : make();
}

/**
 * Creates (or reuses, when already registered in `registry`, e.g. one handler per tenant) the
 * `vigil_remote_write_*` metrics.
 */
export function receiverMetrics(registry: Registry): ReceiverMetrics {
  const registers = [registry];
  return {
    requests: getOrCreate(
      registry,
      'vigil_remote_write_requests_total',
      () =>
        new Counter({
          name: 'vigil_remote_write_requests_total',
          help: 'Remote-write requests received, by protocol version and HTTP status code.',
          labelNames: ['version', 'code'] as const,
          registers,
        }),
    ),
    samplesReceived: getOrCreate(
      registry,
      'vigil_remote_write_samples_received_total',
      () =>
        new Counter({
          name: 'vigil_remote_write_samples_received_total',
          help: 'Float and histogram samples received by remote write (before validation).',
          labelNames: ['version'] as const,
          registers,
        }),
    ),
    rejectedSamples: getOrCreate(
      registry,
      'vigil_remote_write_rejected_samples_total',
      () =>
        new Counter({
          name: 'vigil_remote_write_rejected_samples_total',
          help: 'Samples, histograms, exemplars and metadata refused by the receiver or the storage, by reason.',
          labelNames: ['reason'] as const,
          registers,
        }),
    ),
    duration: getOrCreate(
      registry,
      'vigil_remote_write_request_duration_seconds',
      () =>
        new Histogram({
          name: 'vigil_remote_write_request_duration_seconds',
          help: 'Time to read, decode, append and commit a remote-write request.',
          labelNames: ['version'] as const,
          buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
          registers,
        }),
    ),
    requestBytes: getOrCreate(
      registry,
      'vigil_remote_write_request_bytes',
      () =>
        new Histogram({
          name: 'vigil_remote_write_request_bytes',
          help: 'Compressed body size of remote-write requests.',
          labelNames: ['version'] as const,
          buckets: [256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216],
          registers,
        }),
    ),
  };
}

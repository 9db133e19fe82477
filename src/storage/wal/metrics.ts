/**
 * Self-metrics of the WAL. Registered on the registry passed in (none: metrics are kept but not
 * exported). When a metric of the same name already exists on that registry it is reused, so
 * reopening a WAL with the same registry does not throw.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/** The WAL's metric handles. */
export interface WalMetrics {
  readonly bytesWritten: Counter;
  readonly recordsWritten: Counter;
  readonly fsyncs: Counter;
  readonly fsyncDuration: Histogram;
  readonly corruptions: Counter;
  readonly segmentCurrent: Gauge;
  readonly replayDuration: Gauge;
  readonly checkpoints: Counter;
  readonly checkpointsFailed: Counter;
  readonly writeErrors: Counter;
}

/** Returns the metric `name` from `registry` if present, else creates it with `make`. */
export function getOrCreate<T>(registry: Registry | undefined, name: string, make: (registers: Registry[]) => T): T {
  if (registry) {
    const existing = registry.getSingleMetric(name);
    if (existing) return existing as unknown as T;
    return make([registry]);
  }
  return make([]);
}

/** Creates (or looks up) the WAL metrics on `registry`. */
export function walMetrics(registry?: Registry): WalMetrics {
  const counter = (name: string, help: string): Counter =>
    getOrCreate(registry, name, (registers) => new Counter({ name, help, registers }));
  const gauge = (name: string, help: string): Gauge => getOrCreate(registry, name, (registers) => new Gauge({ name, help, registers }));
  return {
    bytesWritten: counter('vigil_wal_bytes_written_total', 'Bytes written to WAL segments (frames incl. headers).'),
    recordsWritten: counter('vigil_wal_records_written_total', 'WAL records written.'),
    fsyncs: counter('vigil_wal_fsyncs_total', 'fsync calls on WAL segment files.'),
    fsyncDuration: getOrCreate(
      registry,
      'vigil_wal_fsync_duration_seconds',
      (registers) =>
        new Histogram({
          name: 'vigil_wal_fsync_duration_seconds',
          help: 'Duration of WAL fsync calls.',
          buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
          registers,
        }),
    ),
    corruptions: counter('vigil_wal_corruptions_total', 'Corrupt or torn WAL records found during replay or checkpointing.'),
    segmentCurrent: gauge('vigil_wal_segment_current', 'Number of the WAL segment currently written.'),
    replayDuration: gauge('vigil_wal_replay_duration_seconds', 'Duration of the last WAL replay.'),
    checkpoints: counter('vigil_wal_checkpoints_total', 'WAL checkpoints written.'),
    checkpointsFailed: counter('vigil_wal_checkpoints_failed_total', 'WAL checkpoints that failed.'),
    writeErrors: counter('vigil_wal_write_errors_total', 'Failed WAL writes or fsyncs.'),
  };
}

/** Options, policies and result types of the write-ahead log. */
import type { Registry } from 'prom-client';
import { ValidationError } from '../../model/errors.js';
import type { Logger } from '../../model/logger.js';

/**
 * When the WAL fsyncs segment files:
 *
 * - `'always'`: every group-committed batch is fsynced (fdatasync) before its `log()` calls
 *   resolve. Acknowledged data survives process crashes and power loss; slowest.
 * - a number `ms` (default 1000): data is written to the file (the OS page cache) before
 *   `log()` resolves, so it survives a crash or `kill -9` of the process; a timer fsyncs at most
 *   every `ms` milliseconds when there were writes, bounding what a power loss or kernel crash
 *   can take to about `ms` of acknowledged data.
 * - `'never'`: data is written before `log()` resolves but never fsynced by the WAL (not even on
 *   segment rotation, checkpoint or close); the OS decides. Survives process crashes only.
 */
export type FsyncPolicy = 'always' | 'never' | number;

/** Options of {@link Wal.open}. */
export interface WalOptions {
  /** fsync policy, see {@link FsyncPolicy}. Default 1000 (ms). */
  readonly fsync?: FsyncPolicy;
  /** Segment size after which a new segment is started. Default 128 MiB; minimum 1 KiB. */
  readonly segmentBytes?: number;
  readonly logger?: Logger;
  /** Registry for the `vigil_wal_*` metrics. */
  readonly registry?: Registry;
}

/** Outcome of {@link Wal.replay}. */
export interface ReplayStats {
  /** Records handed to the callback. */
  readonly records: number;
  /** Series definitions replayed. */
  readonly series: number;
  /** Float samples replayed. */
  readonly samples: number;
  readonly histograms: number;
  readonly exemplars: number;
  /** Corrupt or torn records found (each skips the rest of its file). */
  readonly corrupt: number;
  /** Segment files read (checkpoint files included). */
  readonly segments: number;
  /** Bytes cut from the end of the last segment (torn tail). */
  readonly truncatedBytes: number;
  readonly durationMs: number;
}

/** Default segment size. */
export const DEFAULT_SEGMENT_BYTES = 128 * 1024 * 1024;
/** Default fsync interval (ms). */
export const DEFAULT_FSYNC_INTERVAL_MS = 1000;

/** Validates {@link WalOptions}; throws a ValidationError with a precise message. */
export function validateOptions(opts: WalOptions): { fsync: FsyncPolicy; segmentBytes: number } {
  const fsync = opts.fsync ?? DEFAULT_FSYNC_INTERVAL_MS;
  if (typeof fsync === 'number' && !(Number.isInteger(fsync) && fsync > 0)) {
    throw new ValidationError(`WAL fsync interval must be a positive integer of milliseconds, got ${fsync}`);
  }
  if (typeof fsync === 'string' && fsync !== 'always' && fsync !== 'never') {
    throw new ValidationError(`WAL fsync policy must be 'always', 'never' or a number of ms, got ${JSON.stringify(fsync)}`);
  }
  const segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  if (!Number.isInteger(segmentBytes) || segmentBytes < 1024 || segmentBytes > 2 ** 32) {
    throw new ValidationError(`WAL segment size must be an integer between 1024 and 2^32 bytes, got ${segmentBytes}`);
  }
  return { fsync, segmentBytes };
}


/**
 * Opens the storage: the WAL in `<dir>/wal`, replayed into a new {@link Head} that logs to it,
 * plus a periodic retention task (head truncation, then a WAL checkpoint). The directory is
 * locked (`<dir>/lock`) while open, so two processes never write one WAL.
 */
import { mkdir } from 'node:fs/promises';
import { Counter, type Registry } from 'prom-client';
import { systemClock, type Clock } from '../model/clock.js';
import { ValidationError } from '../model/errors.js';
import { nopLogger, type Logger } from '../model/logger.js';
import { Head, type HeadOptions } from './head/index.js';
import { lockStorageDir } from './lock.js';
import type { CheckpointStats } from './wal/checkpoint.js';
import { getOrCreate } from './wal/metrics.js';
import type { WalRecord } from './wal/interface.js';
import { Wal, type FsyncPolicy, type ReplayStats } from './wal/wal.js';

/** What the opener needs from a head (the real {@link Head} or a test double). */
export interface ReplayableHead {
  replayRecord(rec: WalRecord): void;
  hasSeries(ref: number): boolean;
  truncate(mint: number): number[];
  close(): Promise<void>;
}

/** Options of {@link openStorage}. */
export interface OpenStorageOptions<H extends ReplayableHead = Head> {
  /** Storage directory; the WAL lives in `<dir>/wal`. */
  readonly dir: string;
  /** Data older than `now - retentionMs` is dropped. */
  readonly retentionMs: number;
  /** WAL fsync policy (default 1000 ms), see {@link FsyncPolicy}. */
  readonly fsync?: FsyncPolicy;
  /** WAL segment size (default 128 MiB). */
  readonly segmentBytes?: number;
  /** Period of the retention task. Default min(retentionMs / 4, 5 min), at least 1 s. */
  readonly truncateIntervalMs?: number;
  readonly clock?: Clock;
  readonly registry?: Registry;
  readonly logger?: Logger;
  /** Further head options (chunk size, exemplars per series). */
  readonly head?: Pick<HeadOptions, 'chunkSamples' | 'maxExemplarsPerSeries'>;
  /** Builds the head (tests); default `new Head(opts)`. */
  readonly createHead?: (opts: HeadOptions) => H;
}

/** Outcome of one retention run. */
export interface TruncationResult {
  readonly mint: number;
  readonly droppedSeries: number;
  /** Null when there was no complete segment to fold. */
  readonly checkpoint: CheckpointStats | null;
}

/** An opened storage. */
export interface OpenedStorage<H extends ReplayableHead = Head> {
  readonly head: H;
  readonly wal: Wal;
  /** Stats of the startup replay. */
  readonly replay: ReplayStats;
  /**
   * Runs the retention task now: truncates the head at `now - retention`, starts a new WAL
   * segment when the current one is older than the retention, then checkpoints. Resolves null
   * when a run is already in progress. Errors are logged and counted, never thrown.
   */
  truncateNow(): Promise<TruncationResult | null>;
  /** Stops the retention task, waits for commits in flight, closes the head and the WAL. */
  close(): Promise<void>;
}

/** Default upper bound of the retention task period. */
const MAX_TRUNCATE_INTERVAL_MS = 5 * 60 * 1000;

/**
 * Opens the WAL, replays it into a new head constructed with the WAL as its writer, truncates
 * replayed data that is already out of retention, and starts the retention task.
 */
export async function openStorage<H extends ReplayableHead = Head>(opts: OpenStorageOptions<H>): Promise<OpenedStorage<H>> {
  if (!(Number.isFinite(opts.retentionMs) && opts.retentionMs > 0)) {
    throw new ValidationError(`storage retention must be a positive number of ms, got ${opts.retentionMs}`);
  }
  const interval = opts.truncateIntervalMs ?? Math.max(1000, Math.min(Math.floor(opts.retentionMs / 4), MAX_TRUNCATE_INTERVAL_MS));
  if (!(Number.isInteger(interval) && interval > 0)) {
    throw new ValidationError(`storage truncate interval must be a positive integer of ms, got ${interval}`);
  }
  const clock = opts.clock ?? systemClock;
  const logger = opts.logger ?? nopLogger;
  const registry = opts.registry;
  const counter = (name: string, help: string): Counter =>
    getOrCreate(registry, name, (registers) => new Counter({ name, help, registers }));
  const truncations = counter('vigil_wal_truncations_total', 'Retention runs (head truncation + WAL checkpoint) that succeeded.');
  const truncationsFailed = counter('vigil_wal_truncations_failed_total', 'Retention runs (head truncation + WAL checkpoint) that failed.');

  await mkdir(opts.dir, { recursive: true });
  const lock = await lockStorageDir(opts.dir, logger);
  let wal: Wal;
  try {
    wal = await Wal.open(opts.dir, { fsync: opts.fsync, segmentBytes: opts.segmentBytes, registry, logger });
  } catch (err) {
    await lock.release();
    throw err;
  }
  const headOpts: HeadOptions = { retentionMs: opts.retentionMs, clock, wal, registry, logger, ...opts.head };
  let head: H;
  let replay: ReplayStats;
  try {
    head = opts.createHead ? opts.createHead(headOpts) : (new Head(headOpts) as unknown as H);
    replay = await wal.replay((rec) => head.replayRecord(rec));
    head.truncate(clock.now() - opts.retentionMs);
  } catch (err) {
    await wal.close().catch(() => {});
    await lock.release();
    throw err;
  }

  let running: Promise<TruncationResult | null> | null = null;
  let segmentStarted = clock.now();
  const runOnce = async (): Promise<TruncationResult | null> => {
    try {
      const now = clock.now();
      const mint = now - opts.retentionMs;
      const dropped = head.truncate(mint);
      // Keep the WAL bounded when ingest is too slow to fill segments: cut one per retention.
      if (now - segmentStarted >= opts.retentionMs) {
        await wal.rotate();
        segmentStarted = now;
      }
      const checkpoint = await wal.checkpoint({ keepSeries: (ref) => head.hasSeries(ref), mint });
      truncations.inc();
      return { mint, droppedSeries: dropped.length, checkpoint };
    } catch (err) {
      truncationsFailed.inc();
      logger.error('storage retention run failed', { err });
      return null;
    }
  };
  const truncateNow = (): Promise<TruncationResult | null> => {
    if (running) return Promise.resolve(null);
    const p = runOnce().finally(() => {
      running = null;
    });
    running = p;
    return p;
  };
  const timer = setInterval(() => void truncateNow(), interval);
  timer.unref();

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      clearInterval(timer);
      if (running) await running;
      try {
        await head.close();
      } finally {
        try {
          await wal.close();
        } finally {
          await lock.release();
        }
      }
    })());

  return { head, wal, replay, truncateNow, close };
}

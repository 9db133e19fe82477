/**
 * The write-ahead log: segment files `<dir>/wal/00000001`, `00000002`, ... with group commit,
 * replay with torn-tail repair, and checkpoints.
 *
 * Lifecycle: `const wal = await Wal.open(dir, opts)`, then `await wal.replay(cb)` (optional, at
 * most once, before the first `log()`), then `log()` from the head, `checkpoint()` from the
 * retention task, and `close()`. When `log()` is called without a replay, writing starts in a
 * new segment so an unrepaired torn tail in the last segment can never precede new records.
 */
import { mkdir, open, readdir, rm, truncate as truncateFile, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { nopLogger, type Logger } from '../../model/logger.js';
import { buildCheckpoint, checkpointFiles, type CheckpointOptions, type CheckpointStats } from './checkpoint.js';
import { WalClosedError, WalCorruptionError, WalWriteError } from './errors.js';
import { elapsedMs, fsyncDir } from './fs-util.js';
import type { WalRecord, WalWriter } from './interface.js';
import { walMetrics, type WalMetrics } from './metrics.js';
import { decodeRecord, encodeRecord } from './records.js';
import { validateOptions, type FsyncPolicy, type ReplayStats, type WalOptions } from './options.js';
import { checkpointName, frameHeader, parseCheckpointName, parseSegmentName, scanSegment, segmentName } from './segment.js';

export { DEFAULT_FSYNC_INTERVAL_MS, DEFAULT_SEGMENT_BYTES, type FsyncPolicy, type ReplayStats, type WalOptions } from './options.js';

interface Pending {
  readonly bufs: Buffer[];
  readonly bytes: number;
  readonly records: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

interface SegmentWriter {
  readonly fh: FileHandle;
  readonly n: number;
  size: number;
}

/** The write-ahead log. See the module comment for the lifecycle. */
export class Wal implements WalWriter {
  /** `log()` encodes records synchronously (see {@link WalWriter.copiesRecords}). */
  readonly copiesRecords = true;
  private readonly walDir: string;
  private readonly fsync: FsyncPolicy;
  private readonly segmentBytes: number;
  private readonly logger: Logger;
  private readonly metrics: WalMetrics;
  private segments: number[];
  private checkpointN: number | null;
  private replayed = false;
  private writer: SegmentWriter | null = null;
  private queue: Pending[] = [];
  private running = false;
  private batchDone: Promise<void> | null = null;
  private idleWaiters: (() => void)[] = [];
  private dirty = false;
  private syncRequested = false;
  private failed: Error | null = null;
  private closed = false;
  private timer: NodeJS.Timeout | null = null;
  private checkpointing: Promise<unknown> = Promise.resolve();
  private readonly ops = { batches: 0, writes: 0, fsyncs: 0 };

  private constructor(walDir: string, opts: WalOptions, segments: number[], checkpointN: number | null) {
    const v = validateOptions(opts);
    this.walDir = walDir;
    this.fsync = v.fsync;
    this.segmentBytes = v.segmentBytes;
    this.logger = opts.logger ?? nopLogger;
    this.metrics = walMetrics(opts.registry);
    this.segments = segments;
    this.checkpointN = checkpointN;
    if (typeof this.fsync === 'number') {
      this.timer = setInterval(() => {
        if (this.dirty && !this.closed) {
          this.syncRequested = true;
          this.kick();
        }
      }, this.fsync);
      this.timer.unref();
    }
  }

  /**
   * Opens (creating if needed) the WAL in `<dir>/wal`. Removes leftovers of interrupted
   * checkpoints (`*.tmp`), checkpoints older than the newest, and segments the newest
   * checkpoint already covers. Throws a ValidationError on bad options.
   */
  static async open(dir: string, opts: WalOptions = {}): Promise<Wal> {
    validateOptions(opts);
    const walDir = join(dir, 'wal');
    await mkdir(walDir, { recursive: true });
    const names = await readdir(walDir);
    let segments: number[] = [];
    const checkpoints: number[] = [];
    for (const name of names) {
      const s = parseSegmentName(name);
      if (s !== null) segments.push(s);
      const c = parseCheckpointName(name);
      if (c !== null) checkpoints.push(c);
      if (name.startsWith('checkpoint.') && name.endsWith('.tmp')) await rm(join(walDir, name), { recursive: true, force: true });
    }
    segments.sort((a, b) => a - b);
    checkpoints.sort((a, b) => a - b);
    const cp = checkpoints.length > 0 ? checkpoints[checkpoints.length - 1]! : null;
    if (cp !== null) {
      for (const c of checkpoints.slice(0, -1)) await rm(join(walDir, checkpointName(c)), { recursive: true, force: true });
      for (const s of segments) if (s <= cp) await unlink(join(walDir, segmentName(s)));
      segments = segments.filter((s) => s > cp);
    }
    return new Wal(walDir, opts, segments, cp);
  }

  /** Directory holding the segments. */
  get dir(): string {
    return this.walDir;
  }

  /** Segment numbers currently on disk (ascending) and the newest checkpoint, for inspection. */
  state(): { segments: readonly number[]; checkpoint: number | null; current: number | null } {
    return { segments: [...this.segments], checkpoint: this.checkpointN, current: this.writer?.n ?? null };
  }

  /** Writer-loop counters since open: batches (group commits), write syscalls, fsyncs. */
  counters(): { batches: number; writes: number; fsyncs: number } {
    return { ...this.ops };
  }

  /**
   * Reads the newest checkpoint, then every segment after it, handing each record to `cb` in
   * order. A corrupt record (bad CRC, length beyond EOF, undecodable) is logged and counted and
   * the rest of its file is skipped; in the last segment the file is truncated at the last good
   * record so new writes append cleanly. Errors thrown by `cb` abort the replay.
   */
  async replay(cb: (rec: WalRecord) => void): Promise<ReplayStats> {
    if (this.replayed || this.writer || this.closed) throw new Error('WAL replay must run once, before the first log() and close()');
    const start = performance.now();
    const st = { records: 0, series: 0, samples: 0, histograms: 0, exemplars: 0, corrupt: 0, segments: 0, truncatedBytes: 0 };
    const onFrame = (type: number, payload: Buffer): void => {
      const rec = decodeRecord(type, payload);
      st.records++;
      if (rec.kind === 'series') st.series += rec.series.length;
      else if (rec.kind === 'samples') st.samples += rec.n;
      else if (rec.kind === 'histograms') st.histograms += rec.samples.length;
      else if (rec.kind === 'exemplars') st.exemplars += rec.exemplars.length;
      cb(rec);
    };
    const scanOpts = { corruptionError: WalCorruptionError };
    if (this.checkpointN !== null) {
      for (const file of await checkpointFiles(join(this.walDir, checkpointName(this.checkpointN)))) {
        st.segments++;
        const res = await scanSegment(file, onFrame, scanOpts);
        if (res.corruption) {
          st.corrupt++;
          this.metrics.corruptions.inc();
          this.logger.warn('WAL checkpoint corrupt, skipping the rest of the file', { file, ...res.corruption });
        }
      }
    }
    let prev = this.checkpointN;
    for (let i = 0; i < this.segments.length; i++) {
      const n = this.segments[i]!;
      if (prev !== null && n !== prev + 1) {
        this.logger.warn('WAL segments missing', { after: segmentName(prev), next: segmentName(n) });
      }
      prev = n;
      const file = join(this.walDir, segmentName(n));
      st.segments++;
      const res = await scanSegment(file, onFrame, scanOpts);
      if (!res.corruption) continue;
      st.corrupt++;
      this.metrics.corruptions.inc();
      const last = i === this.segments.length - 1;
      const fields = { segment: segmentName(n), offset: res.corruption.offset, reason: res.corruption.reason, fileBytes: res.fileBytes };
      if (last) {
        this.logger.warn('WAL: corrupt or torn record at the end of the last segment, truncating it', fields);
        await truncateFile(file, res.validBytes);
        st.truncatedBytes += res.fileBytes - res.validBytes;
      } else {
        this.logger.warn('WAL: corrupt record in segment, skipping the rest of it', fields);
      }
    }
    this.replayed = true;
    const stats: ReplayStats = { ...st, durationMs: elapsedMs(start) };
    this.metrics.replayDuration.set(stats.durationMs / 1000);
    this.logger.info('WAL replay done', { ...stats });
    return stats;
  }

  /**
   * Appends the records of one transaction. Records are encoded synchronously (the caller may
   * reuse its arrays afterwards), queued, and written by a single writer loop together with
   * everything else queued (one writev per segment); callers resolve in call order once their
   * data is in the file (and fsynced under the `always` policy). Rejects with WalClosedError
   * after close(), WalWriteError on I/O failure (the WAL then refuses further writes if it
   * could not restore a clean file end or an fsync failed).
   */
  log(records: readonly WalRecord[]): Promise<void> {
    if (this.closed) return Promise.reject(new WalClosedError('WAL is closed'));
    if (this.failed) return Promise.reject(new WalWriteError('WAL is failed after an earlier I/O error', { cause: this.failed }));
    const bufs: Buffer[] = [];
    let bytes = 0;
    let count = 0;
    try {
      for (const rec of records) {
        for (const e of encodeRecord(rec)) {
          const h = frameHeader(e.type, e.payload);
          bufs.push(h, e.payload);
          bytes += h.length + e.payload.length;
          count++;
        }
      }
    } catch (err) {
      return Promise.reject(new WalWriteError(`cannot encode WAL records: ${String(err)}`, { cause: err }));
    }
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ bufs, bytes, records: count, resolve, reject });
      this.kick();
    });
  }

  /** Resolves when everything queued so far is written (and the writer loop is idle). */
  flushed(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** fsyncs the current segment now (whatever the policy), after queued writes. */
  async sync(): Promise<void> {
    this.syncRequested = true;
    this.dirty = true;
    this.kick();
    await this.flushed();
    if (this.failed) throw new WalWriteError('WAL fsync failed', { cause: this.failed });
  }

  /** Starts a new segment after queued writes (no-op when the current one is empty). */
  async rotate(): Promise<void> {
    await this.flushed();
    if (this.writer && this.writer.size > 0 && !this.closed) await this.rotateNow();
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      for (;;) {
        if (this.queue.length > 0) {
          const batch = this.queue;
          this.queue = [];
          const done = this.writeBatch(batch);
          this.batchDone = done;
          await done;
          this.batchDone = null;
        } else if (this.syncRequested) {
          this.syncRequested = false;
          if (this.dirty && this.writer && !this.failed) {
            try {
              await this.fsyncNow();
            } catch (err) {
              this.logger.error('WAL fsync failed', { err });
            }
          }
        } else break;
      }
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    this.ops.batches++;
    try {
      if (this.failed) throw this.failed;
      await this.ensureWriter();
      let bufs: Buffer[] = [];
      let pending = 0;
      let records = 0;
      for (const p of batch) {
        const used = this.writer!.size + pending;
        if (used > 0 && used + p.bytes > this.segmentBytes) {
          if (pending > 0) await this.writeBufs(bufs, pending, records);
          bufs = [];
          pending = 0;
          records = 0;
          if (this.writer!.size > 0) await this.rotateNow();
        }
        for (const b of p.bufs) bufs.push(b);
        pending += p.bytes;
        records += p.records;
      }
      if (pending > 0) await this.writeBufs(bufs, pending, records);
      if (this.fsync === 'always') await this.fsyncNow();
    } catch (err) {
      this.metrics.writeErrors.inc();
      this.logger.error('WAL write failed', { err, records: batch.length });
      const e = err instanceof WalWriteError ? err : new WalWriteError(`WAL write failed: ${String(err)}`, { cause: err });
      for (const p of batch) p.reject(e);
      return;
    }
    for (const p of batch) p.resolve();
  }

  private async writeBufs(bufs: Buffer[], total: number, records: number): Promise<void> {
    const w = this.writer!;
    const before = w.size;
    try {
      this.ops.writes++;
      let { bytesWritten } = await w.fh.writev(bufs);
      if (bytesWritten < total) {
        const rest = Buffer.concat(bufs, total);
        while (bytesWritten < total) {
          const r = await w.fh.write(rest, bytesWritten, total - bytesWritten);
          bytesWritten += r.bytesWritten;
        }
      }
      w.size += total;
      this.dirty = true;
      this.metrics.bytesWritten.inc(total);
      this.metrics.recordsWritten.inc(records);
    } catch (err) {
      // Cut a partial write so the next frames follow the last complete one.
      try {
        await w.fh.truncate(before);
      } catch (terr) {
        this.failed = err as Error;
        this.logger.error('WAL: cannot truncate after a failed write; refusing further writes', { err: terr });
      }
      throw err;
    }
  }

  private async fsyncNow(): Promise<void> {
    const w = this.writer;
    if (!w) return;
    this.dirty = false;
    const t0 = performance.now();
    try {
      await w.fh.datasync();
    } catch (err) {
      // After a failed fsync the page cache state is unknown: stop accepting writes.
      this.failed = err as Error;
      this.metrics.writeErrors.inc();
      throw new WalWriteError(`WAL fsync failed: ${String(err)}`, { cause: err });
    }
    this.ops.fsyncs++;
    this.metrics.fsyncs.inc();
    this.metrics.fsyncDuration.observe((performance.now() - t0) / 1000);
  }

  private async ensureWriter(): Promise<SegmentWriter> {
    if (this.writer) return this.writer;
    const lastSeg = this.segments[this.segments.length - 1];
    let n: number;
    if (this.replayed && lastSeg !== undefined) n = lastSeg;
    else n = Math.max(lastSeg ?? 0, this.checkpointN ?? 0) + 1;
    this.writer = await this.openSegment(n);
    return this.writer;
  }

  private async openSegment(n: number): Promise<SegmentWriter> {
    const fh = await open(join(this.walDir, segmentName(n)), 'a');
    const size = (await fh.stat()).size;
    if (!this.segments.includes(n)) {
      this.segments.push(n);
      if (this.fsync !== 'never') await fsyncDir(this.walDir);
    }
    this.metrics.segmentCurrent.set(n);
    return { fh, n, size };
  }

  private async rotateNow(): Promise<void> {
    const old = this.writer!;
    if (this.fsync !== 'never' && (this.dirty || this.fsync === 'always')) await this.fsyncNow();
    this.writer = null;
    await old.fh.close();
    this.writer = await this.openSegment(old.n + 1);
  }

  /**
   * Folds every complete segment (all but the one being written) and the previous checkpoint
   * into a new checkpoint, keeping live series and data with t >= mint, then deletes what it
   * folded. Returns null when there is nothing to fold. Calls are serialized. Must not run
   * concurrently with replay().
   */
  checkpoint(opts: CheckpointOptions): Promise<CheckpointStats | null> {
    const run = this.checkpointing.then(() => this.checkpointNow(opts));
    this.checkpointing = run.catch(() => {});
    return run;
  }

  private async checkpointNow(opts: CheckpointOptions): Promise<CheckpointStats | null> {
    if (this.closed) throw new WalClosedError('WAL is closed');
    // Wait for the batch in flight: afterwards every segment before the current one is complete
    // and all of its writers have been answered.
    if (this.batchDone) await this.batchDone;
    const lastSeg = this.segments[this.segments.length - 1];
    const current = this.writer?.n ?? (this.replayed ? lastSeg : undefined);
    const fold = this.segments.filter((s) => current === undefined || s < current);
    if (fold.length === 0) return null;
    try {
      const stats = await buildCheckpoint({
        walDir: this.walDir,
        prev: this.checkpointN,
        segments: fold,
        opts,
        logger: this.logger,
        fsync: this.fsync !== 'never',
        onCorruption: () => this.metrics.corruptions.inc(),
      });
      this.checkpointN = stats.checkpoint;
      this.segments = this.segments.filter((s) => s > stats.checkpoint);
      this.metrics.checkpoints.inc();
      this.logger.info('WAL checkpoint written', { ...stats });
      return stats;
    } catch (err) {
      this.metrics.checkpointsFailed.inc();
      throw err;
    }
  }

  /**
   * Writes everything queued, fsyncs (unless the policy is `never`), closes the segment and
   * stops the fsync timer. Later `log()` calls reject with WalClosedError. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    await this.flushed();
    await this.checkpointing;
    const w = this.writer;
    if (!w) return;
    try {
      if (this.fsync !== 'never' && !this.failed) await this.fsyncNow();
    } finally {
      this.writer = null;
      await w.fh.close();
    }
  }
}

/**
 * Checkpoints: fold complete WAL segments (and the previous checkpoint) into one compact segment
 * under `<wal>/checkpoint.<N>/`, keeping only what the head still holds: series for which
 * `keepSeries(ref)` is true, samples/histograms/exemplars of those series with `t >= mint`, and
 * the latest metadata per metric. The checkpoint is written to `checkpoint.<N>.tmp`, fsynced,
 * renamed atomically, and only then are the folded segments and older checkpoints deleted; a
 * crash at any point leaves either the old or the new state readable.
 */
import { mkdir, open, readdir, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Labels } from '../../model/labels.js';
import type { Logger } from '../../model/logger.js';
import type { MetricMetadata } from '../../model/samples.js';
import { assertNever } from '../../model/errors.js';
import { WalCorruptionError } from './errors.js';
import { elapsedMs, fsyncDir } from './fs-util.js';
import type { WalRecord } from './interface.js';
import { decodeRecord, encodeRecord } from './records.js';
import { checkpointName, frameHeader, scanSegment, segmentName } from './segment.js';

/** What to keep in a checkpoint. */
export interface CheckpointOptions {
  /** True for series refs still alive in the head. */
  keepSeries(ref: number): boolean;
  /** Samples, histograms and exemplars older than this (ms) are dropped. */
  readonly mint: number;
}

/** Outcome of a checkpoint. */
export interface CheckpointStats {
  /** Number N of `checkpoint.N` (the last segment folded). */
  readonly checkpoint: number;
  readonly segmentsFolded: number;
  readonly series: number;
  readonly samples: number;
  readonly histograms: number;
  readonly exemplars: number;
  readonly metadata: number;
  /** Samples (float + histogram) dropped as too old or of dropped series. */
  readonly droppedSamples: number;
  /** Corrupt frames met while reading the inputs (their segment's rest was skipped). */
  readonly corrupt: number;
  readonly bytes: number;
  readonly durationMs: number;
}

/** Inputs of {@link buildCheckpoint}. */
export interface BuildCheckpointParams {
  readonly walDir: string;
  /** Previous checkpoint number, or null. */
  readonly prev: number | null;
  /** Segment numbers to fold, ascending; the last one names the checkpoint. */
  readonly segments: readonly number[];
  readonly opts: CheckpointOptions;
  readonly logger: Logger;
  /** fsync the checkpoint before renaming it (false only with the `never` policy). */
  readonly fsync: boolean;
  /** Called once per corrupt frame met. */
  onCorruption(): void;
}

/** Buffered writer of frames to one file. */
class FrameFileWriter {
  private bufs: Buffer[] = [];
  private pending = 0;
  bytes = 0;
  constructor(private readonly fh: FileHandle) {}

  /** Buffers a record; returns a promise only when the buffer was flushed. */
  add(rec: WalRecord): Promise<void> | undefined {
    for (const e of encodeRecord(rec)) {
      const h = frameHeader(e.type, e.payload);
      // Payloads from encodeRecord are views on private buffers: safe to keep.
      this.bufs.push(h, e.payload);
      this.pending += h.length + e.payload.length;
    }
    return this.pending >= 4 << 20 ? this.flush() : undefined;
  }

  async flush(): Promise<void> {
    if (this.pending === 0) return;
    const data = Buffer.concat(this.bufs, this.pending);
    this.bufs = [];
    this.pending = 0;
    let off = 0;
    while (off < data.length) {
      const { bytesWritten } = await this.fh.write(data, off, data.length - off);
      off += bytesWritten;
    }
    this.bytes += data.length;
  }
}

/** Filters one record; returns null when nothing of it is kept. */
function filterRecord(
  rec: WalRecord,
  opts: CheckpointOptions,
  written: Set<number>,
  meta: Map<string, MetricMetadata>,
  counts: { series: number; samples: number; histograms: number; exemplars: number; dropped: number },
): WalRecord | null {
  switch (rec.kind) {
    case 'series': {
      const keep: { ref: number; labels: Labels }[] = [];
      for (const s of rec.series) {
        if (written.has(s.ref) || !opts.keepSeries(s.ref)) continue;
        written.add(s.ref);
        keep.push(s);
      }
      counts.series += keep.length;
      return keep.length > 0 ? { kind: 'series', series: keep } : null;
    }
    case 'samples': {
      const refs = new Uint32Array(rec.n);
      const ts = new Float64Array(rec.n);
      const vs = new Float64Array(rec.n);
      const srcSt = rec.sts;
      const sts = srcSt !== undefined ? new Float64Array(rec.n) : undefined;
      // Values are copied as raw 32-bit halves so the staleness NaN stays bit-exact.
      const src = new Uint32Array(rec.vs.buffer, rec.vs.byteOffset, rec.n * 2);
      const dst = new Uint32Array(vs.buffer);
      let m = 0;
      for (let i = 0; i < rec.n; i++) {
        const ref = rec.refs[i]!;
        const t = rec.ts[i]!;
        if (t >= opts.mint && opts.keepSeries(ref)) {
          refs[m] = ref;
          ts[m] = t;
          dst[2 * m] = src[2 * i]!;
          dst[2 * m + 1] = src[2 * i + 1]!;
          if (sts !== undefined) sts[m] = srcSt![i]!;
          m++;
        }
      }
      counts.dropped += rec.n - m;
      if (m === 0) return null;
      counts.samples += m;
      return sts !== undefined ? { kind: 'samples', n: m, refs, ts, vs, sts } : { kind: 'samples', n: m, refs, ts, vs };
    }
    case 'histograms': {
      const keep = rec.samples.filter((s) => s.t >= opts.mint && opts.keepSeries(s.ref));
      counts.dropped += rec.samples.length - keep.length;
      counts.histograms += keep.length;
      return keep.length > 0 ? { kind: 'histograms', samples: keep } : null;
    }
    case 'exemplars': {
      const keep = rec.exemplars.filter((x) => x.e.t >= opts.mint && opts.keepSeries(x.ref));
      counts.exemplars += keep.length;
      return keep.length > 0 ? { kind: 'exemplars', exemplars: keep } : null;
    }
    case 'metadata':
      for (const m of rec.metadata) {
        meta.delete(m.metric); // re-insert so the map keeps last-update order
        meta.set(m.metric, m.md);
      }
      return null;
    default:
      return assertNever(rec, 'WAL record kind');
  }
}

/** Files of a checkpoint directory, sorted. */
export async function checkpointFiles(dir: string): Promise<string[]> {
  const names = (await readdir(dir)).filter((n) => /^\d{8}$/.test(n)).sort();
  return names.map((n) => join(dir, n));
}

/**
 * Builds `checkpoint.<last segment>` from the previous checkpoint and `segments`, then deletes
 * the folded segments and the previous checkpoint. Throws on I/O errors (the old state is then
 * untouched, apart from a leftover `.tmp` directory removed by the next open or checkpoint).
 */
export async function buildCheckpoint(p: BuildCheckpointParams): Promise<CheckpointStats> {
  const start = performance.now();
  const last = p.segments[p.segments.length - 1];
  if (last === undefined) throw new RangeError('buildCheckpoint: no segments to fold');
  const finalDir = join(p.walDir, checkpointName(last));
  const tmpDir = finalDir + '.tmp';
  await rm(tmpDir, { recursive: true, force: true });
  await mkdir(tmpDir);
  const fh = await open(join(tmpDir, segmentName(0)), 'w');
  const out = new FrameFileWriter(fh);
  const written = new Set<number>();
  const meta = new Map<string, MetricMetadata>();
  const counts = { series: 0, samples: 0, histograms: 0, exemplars: 0, dropped: 0 };
  let corrupt = 0;
  try {
    const inputs: string[] = [];
    if (p.prev !== null) inputs.push(...(await checkpointFiles(join(p.walDir, checkpointName(p.prev)))));
    for (const s of p.segments) inputs.push(join(p.walDir, segmentName(s)));
    for (const path of inputs) {
      const res = await scanSegment(
        path,
        (type, payload) => {
          const rec = filterRecord(decodeRecord(type, payload), p.opts, written, meta, counts);
          return rec ? out.add(rec) : undefined;
        },
        { corruptionError: WalCorruptionError },
      );
      if (res.corruption) {
        corrupt++;
        p.onCorruption();
        p.logger.warn('WAL checkpoint: corrupt record, skipping the rest of the file', {
          file: path,
          offset: res.corruption.offset,
          reason: res.corruption.reason,
        });
      }
    }
    if (meta.size > 0) {
      await out.add({ kind: 'metadata', metadata: [...meta].map(([metric, md]) => ({ metric, md })) });
    }
    await out.flush();
    if (p.fsync) await fh.sync();
  } finally {
    await fh.close();
  }
  if (p.fsync) await fsyncDir(tmpDir);
  await rename(tmpDir, finalDir);
  if (p.fsync) await fsyncDir(p.walDir);
  for (const s of p.segments) await unlink(join(p.walDir, segmentName(s))).catch(() => {});
  if (p.prev !== null && p.prev !== last) await rm(join(p.walDir, checkpointName(p.prev)), { recursive: true, force: true });
  return {
    checkpoint: last,
    segmentsFolded: p.segments.length,
    series: counts.series,
    samples: counts.samples,
    histograms: counts.histograms,
    exemplars: counts.exemplars,
    metadata: meta.size,
    droppedSamples: counts.dropped,
    corrupt,
    bytes: out.bytes,
    durationMs: elapsedMs(start),
  };
}

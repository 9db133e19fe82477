/**
 * The in-memory head: series interned by label set (struct-of-arrays, see `series-table.ts`),
 * compressed float chunks, native histogram lists, exemplar rings, metric metadata and a
 * postings index. Writes go through
 * {@link HeadAppender} transactions that are logged to the WAL (when configured) before they
 * become visible; reads go through {@link HeadQuerier}.
 */
import type { Registry } from 'prom-client';
import type { Clock } from '../../model/clock.js';
import { systemClock } from '../../model/clock.js';
import { VigilError } from '../../model/errors.js';
import type { FloatHistogram } from '../../model/histogram.js';
import { type Label, type Labels, labelsEqual, labelsHash } from '../../model/labels.js';
import type { Logger } from '../../model/logger.js';
import { nopLogger } from '../../model/logger.js';
import type { Matcher } from '../../model/matchers.js';
import type { Exemplar, MetricMetadata } from '../../model/samples.js';
import type { Appender, HeadStats, Querier, Storage } from '../interface.js';
import type { WalRecord, WalWriter } from '../wal/interface.js';
import { HeadAppender } from './appender.js';
import { type HeadMetrics, nopHeadMetrics, registerHeadMetrics } from './metrics.js';
import { MemPostings } from './postings.js';
import { HeadQuerier } from './querier.js';
import { appendHistogram, ExemplarRing, type HistState } from './series.js';
import { registerDecodedCacheMetrics } from './decoded-cache.js';
import { type ChunkDelta, F_VISIBLE, F_WAL_LOGGED, SeriesTable } from './series-table.js';
import { SeriesReader } from './series-reader.js';
import { StartRuns } from './start-times.js';

/** Options of {@link Head}. */
export interface HeadOptions {
  /** Samples older than `now - retentionMs` are rejected as `too_old`. */
  retentionMs: number;
  clock?: Clock;
  /** When set, every commit is logged here before it becomes visible. */
  wal?: WalWriter;
  /** Samples per chunk before a new one is cut (default 120). */
  chunkSamples?: number;
  /** Exemplars kept per series (default 16). */
  maxExemplarsPerSeries?: number;
  /** Registry for `vigil_head_*` metrics. */
  registry?: Registry;
  /** Bound of the decoded-chunk cache of the read path in bytes (default 24 MiB; 0 disables it). */
  decodedCacheBytes?: number;
  logger?: Logger;
}

/** @internal An appender's staging arrays: timestamps, values, series slots (same length). */
export interface StagingBuffers {
  ts: Float64Array;
  vs: Float64Array;
  /** `vs` as 32-bit words. */
  vw: Uint32Array;
  ser: Int32Array;
}

/** Error of a commit whose WAL write failed; nothing of the transaction became visible. */
export class HeadCommitError extends VigilError {
  override name = 'HeadCommitError';
}

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);

/** The in-memory time-series head. */
export class Head implements Storage {
  /** @internal Postings of visible series. */
  readonly postings = new MemPostings();
  /** @internal All series (visible or pending), struct-of-arrays. */
  readonly series = new SeriesTable();
  /** @internal The read path over {@link series} (used by `HeadQuerier`). */
  readonly reader = new SeriesReader(this.series);
  /** @internal Self-metrics sink. */
  readonly metrics: HeadMetrics;
  private readonly metadataByName = new Map<string, MetricMetadata>();
  private readonly acc: ChunkDelta = { chunks: 0, bytes: 0, samples: 0 };
  private readonly replayAlias = new Map<number, number>();
  private readonly spare: StagingBuffers[] = [];
  private refScratch = new Uint32Array(1024);
  private readonly clock: Clock;
  private readonly wal: WalWriter | undefined;
  private readonly chunkSamples: number;
  private readonly maxExemplars: number;
  private readonly retentionMs: number;
  private readonly logger: Logger;
  private nextRef = 1;
  private numSeries = 0;
  private minT = Infinity;
  private maxT = -Infinity;
  private tail: Promise<void> = Promise.resolve();

  constructor(opts: HeadOptions) {
    if (!(opts.retentionMs > 0)) throw new RangeError(`retentionMs must be > 0, got ${opts.retentionMs}`);
    this.retentionMs = opts.retentionMs;
    this.clock = opts.clock ?? systemClock;
    this.wal = opts.wal;
    this.chunkSamples = Math.max(1, Math.floor(opts.chunkSamples ?? 120));
    this.maxExemplars = Math.max(0, Math.floor(opts.maxExemplarsPerSeries ?? 16));
    this.logger = opts.logger ?? nopLogger;
    this.metrics = opts.registry !== undefined ? registerHeadMetrics(opts.registry, () => this.stats()) : nopHeadMetrics;
    if (opts.decodedCacheBytes !== undefined) this.series.decoded.setMaxBytes(opts.decodedCacheBytes);
    if (opts.registry !== undefined) registerDecodedCacheMetrics(opts.registry, this.series.decoded.stats);
  }

  /** Starts a write transaction. */
  appender(): Appender {
    return new HeadAppender(this);
  }

  /** A querier over [mint, maxt] (inclusive). */
  querier(mint: number, maxt: number): Querier {
    return new HeadQuerier(this, mint, maxt);
  }

  /** True when `ref` names a live series. */
  hasSeries(ref: number): boolean {
    const ix = this.series.slotOf(ref);
    return ix >= 0 && (this.series.flags[ix]! & F_VISIBLE) !== 0;
  }

  /** Live series refs with labels (for WAL checkpoints). */
  *liveSeries(): Iterable<{ ref: number; labels: Labels }> {
    const st = this.series;
    const slots: number[] = [];
    st.forEach((ix) => {
      if ((st.flags[ix]! & F_VISIBLE) !== 0) slots.push(ix);
    });
    for (const ix of slots) if (st.ref[ix] !== 0) yield { ref: st.ref[ix]!, labels: st.labels(ix) };
  }

  /** Head statistics. `minTime`/`maxTime` are +Infinity/-Infinity when the head holds no samples. */
  stats(): HeadStats {
    return {
      series: this.numSeries,
      chunks: this.acc.chunks,
      samples: this.acc.samples,
      chunkBytes: this.acc.bytes,
      minTime: this.minT,
      maxTime: this.maxT,
    };
  }

  /** Waits for commits in flight, then resolves. */
  async close(): Promise<void> {
    await this.tail;
  }

  /** Drops data older than mint; returns dropped series refs. */
  truncate(mint: number): number[] {
    const acc = this.acc;
    const st = this.series;
    const dropped: number[] = [];
    let minT = Infinity;
    st.forEach((ix) => {
      if ((st.flags[ix]! & F_VISIBLE) === 0) return;
      st.truncateFloats(ix, mint, acc);
      let m = st.floatMinTime(ix);
      const hs = st.hist.get(ix);
      if (hs !== undefined) {
        let hcut = 0;
        while (hcut < hs.chunks.length && hs.chunks[hcut]![hs.chunks[hcut]!.length - 1]!.t < mint) {
          acc.chunks--;
          acc.samples -= hs.chunks[hcut]!.length;
          hcut++;
        }
        if (hcut > 0) hs.chunks.splice(0, hcut);
        const h0 = hs.chunks[0]?.[0];
        if (h0 !== undefined && h0.t < m) m = h0.t;
      }
      st.exemplars.get(ix)?.dropBefore(mint);
      if (st.starts.get(ix)?.truncate(mint) === true) st.starts.delete(ix);
      if (m === Infinity && st.pending[ix] === 0) {
        dropped.push(ix);
        return;
      }
      if (m < minT) minT = m;
    });
    const gone: { ref: number; labels: Labels }[] = [];
    for (const ix of dropped) {
      gone.push({ ref: st.ref[ix]!, labels: st.labels(ix) });
      st.remove(ix);
      this.numSeries--;
    }
    this.postings.delete(gone);
    this.minT = minT;
    if (minT === Infinity) this.maxT = -Infinity;
    if (gone.length > 0) this.logger.debug('head truncated', { mint, droppedSeries: gone.length });
    return gone.map((g) => g.ref);
  }

  /** Applies one replayed WAL record without validation or WAL writes (used at startup). */
  replayRecord(rec: WalRecord): void {
    const st = this.series;
    switch (rec.kind) {
      case 'series':
        for (const { ref, labels } of rec.series) {
          const h = labelsHash(labels);
          const existing = st.find(h, labels);
          if (existing >= 0) {
            if (st.ref[existing] !== ref) this.replayAlias.set(ref, st.ref[existing]!);
            st.flags[existing]! |= F_WAL_LOGGED;
            this.activate(existing);
            continue;
          }
          if (st.slotOf(ref) >= 0) {
            this.logger.warn('WAL series record reuses a live ref with other labels; skipped', { ref });
            continue;
          }
          const ix = st.create(ref, labels, h);
          st.flags[ix]! |= F_WAL_LOGGED;
          this.activate(ix);
          if (ref >= this.nextRef) this.nextRef = ref + 1;
        }
        return;
      case 'samples': {
        const vw = new Uint32Array(rec.vs.buffer, rec.vs.byteOffset, rec.vs.length * 2);
        const sts = rec.sts;
        for (let i = 0; i < rec.n; i++) {
          const ix = this.replaySeries(rec.refs[i]!);
          if (ix < 0) continue;
          if (sts !== undefined && sts[i] !== 0) this.applyFloatWithStart(ix, rec.ts[i]!, vw[2 * i + 1]!, vw[2 * i]!, sts[i]!);
          else this.applyFloat(ix, rec.ts[i]!, vw[2 * i + 1]!, vw[2 * i]!);
        }
        this.metrics.appended(rec.n);
        return;
      }
      case 'histograms':
        for (const x of rec.samples) {
          const ix = this.replaySeries(x.ref);
          if (ix >= 0) this.applyHistogram(ix, x.t, x.h, x.st);
        }
        return;
      case 'exemplars':
        for (const x of rec.exemplars) {
          const ix = this.replaySeries(x.ref);
          if (ix >= 0) this.applyExemplar(ix, x.e);
        }
        return;
      case 'metadata':
        for (const m of rec.metadata) this.applyMetadata(m.metric, m.md);
        return;
      default: {
        const never: never = rec;
        this.logger.warn('unknown WAL record kind during replay', { kind: (never as { kind: string }).kind });
      }
    }
  }

  private replaySeries(ref: number): number {
    return this.series.slotOf(this.replayAlias.get(ref) ?? ref);
  }

  /** Metric name → metadata (latest per metric), at most `limit` metrics when limit > 0. */
  metadata(metric?: string, limit?: number): Map<string, MetricMetadata[]> {
    const out = new Map<string, MetricMetadata[]>();
    if (metric !== undefined && metric !== '') {
      const md = this.metadataByName.get(metric);
      if (md !== undefined) out.set(metric, [md]);
      return out;
    }
    for (const [name, md] of this.metadataByName) {
      if (limit !== undefined && limit > 0 && out.size >= limit) break;
      out.set(name, [md]);
    }
    return out;
  }

  /** Exemplars of series matching, within [mint, maxt]. */
  exemplars(matchers: readonly Matcher[], mint: number, maxt: number): { labels: Labels; exemplars: Exemplar[] }[] {
    const out: { labels: Labels; exemplars: Exemplar[] }[] = [];
    const st = this.series;
    for (const ref of this.postings.forMatchers(matchers)) {
      const ix = st.slotOf(ref);
      const ring = ix >= 0 ? st.exemplars.get(ix) : undefined;
      if (ring === undefined) continue;
      const ex = ring.list(mint, maxt);
      if (ex.length > 0) out.push({ labels: st.labels(ix), exemplars: ex });
    }
    return out;
  }

  // ---- internal API used by HeadAppender / HeadQuerier (series are named by slot) ----

  /** @internal Oldest acceptable sample timestamp now. */
  minValidTime(): number {
    return this.clock.now() - this.retentionMs;
  }

  /** @internal Slot of the series for an append: by ref when known, else by labels (created pending). A string explains invalid labels. */
  seriesForAppend(ref: number, labels: Labels): number | string {
    const st = this.series;
    if (ref > 0) {
      const ix = st.slotOf(ref);
      if (ix >= 0) return ix;
    }
    const ls = normalizeLabels(labels);
    if (typeof ls === 'string') return ls;
    const h = labelsHash(ls);
    const found = st.find(h, ls);
    if (found >= 0) return found;
    return st.create(this.nextRef++, ls, h);
  }

  /** @internal A transaction is done with slot `ix`: forget the series if it never became visible. */
  release(ix: number): void {
    const st = this.series;
    st.pending[ix]!--;
    if (st.pending[ix] === 0 && (st.flags[ix]! & (F_VISIBLE | F_WAL_LOGGED)) === 0 && st.ref[ix] !== 0) st.remove(ix);
  }

  /** @internal Forgets a series created for an append that was rejected before the transaction claimed it. */
  forgetIfUnused(ix: number): void {
    const st = this.series;
    if (st.pending[ix] === 0 && (st.flags[ix]! & (F_VISIBLE | F_WAL_LOGGED)) === 0 && st.ref[ix] !== 0) st.remove(ix);
  }

  /** @internal Makes a series visible (postings). */
  activate(ix: number): void {
    const st = this.series;
    if ((st.flags[ix]! & F_VISIBLE) !== 0 || st.ref[ix] === 0) return;
    st.flags[ix]! |= F_VISIBLE;
    this.postings.add(st.ref[ix]!, st.labels(ix));
    this.numSeries++;
  }

  /** @internal True when commits are logged to a WAL. */
  get hasWal(): boolean {
    return this.wal !== undefined;
  }

  /** @internal Staging arrays for an appender (recycled when no WAL may still hold them). */
  borrowBuffers(): StagingBuffers {
    const b = this.spare.pop();
    if (b !== undefined) return b;
    const vs = new Float64Array(64);
    return { ts: new Float64Array(64), vs, vw: new Uint32Array(vs.buffer), ser: new Int32Array(64) };
  }

  /**
   * @internal Returns staging arrays after a transaction ended. They are reused unless a WAL
   * that does not copy records may still hold them.
   */
  recycleBuffers(b: StagingBuffers): void {
    if ((this.wal === undefined || this.wal.copiesRecords === true) && this.spare.length < 8 && b.ts.length <= 65536) this.spare.push(b);
  }

  /** @internal A refs array of at least `n` entries for a WAL samples record (reused when the WAL copies records). */
  walRefs(n: number): Uint32Array {
    if (this.wal?.copiesRecords !== true) return new Uint32Array(n);
    if (this.refScratch.length < n) this.refScratch = new Uint32Array(Math.max(n, this.refScratch.length * 2));
    return this.refScratch;
  }

  /** @internal Histogram state of a slot, created when missing. */
  histState(ix: number): HistState {
    let hs = this.series.hist.get(ix);
    if (hs === undefined) {
      hs = { chunks: [], maxT: -Infinity, walT: -Infinity, walLast: null, last: null };
      this.series.hist.set(ix, hs);
    }
    return hs;
  }

  /** @internal After a failed WAL write: forget in-flight ordering state of slot `ix`. */
  resetWalState(ix: number): void {
    const st = this.series;
    st.walT[ix] = st.maxT[ix]!;
    st.walHi[ix] = st.lastHi[ix]!;
    st.walLo[ix] = st.lastLo[ix]!;
    const hs = st.hist.get(ix);
    if (hs !== undefined) {
      hs.walT = hs.maxT;
      hs.walLast = hs.last;
    }
  }

  /** @internal Applies a float sample; samples not newer than the series' last are skipped. */
  applyFloat(ix: number, t: number, hi: number, lo: number): void {
    if (t <= this.series.maxT[ix]!) return;
    this.activate(ix);
    this.series.appendFloat(ix, t, hi, lo, this.chunkSamples, this.acc);
    this.acc.samples++;
    if (t < this.minT) this.minT = t;
    if (t > this.maxT) this.maxT = t;
  }

  /**
   * @internal {@link applyFloat} for a sample with start timestamp `st` (≠ 0): the series'
   * start-timestamp runs are created on its first such sample.
   */
  applyFloatWithStart(ix: number, t: number, hi: number, lo: number, st: number): void {
    const prevT = this.series.maxT[ix]!;
    if (t <= prevT) return;
    this.applyFloat(ix, t, hi, lo);
    let runs = this.series.starts.get(ix);
    if (runs === undefined) {
      runs = new StartRuns();
      this.series.starts.set(ix, runs);
    }
    runs.append(prevT, t, st);
  }

  /** @internal Applies a histogram sample (`st`: start timestamp, 0 = unknown); samples not newer than the series' last are skipped. */
  applyHistogram(ix: number, t: number, h: FloatHistogram, st = 0): void {
    const hs = this.histState(ix);
    if (t <= hs.maxT) return;
    this.activate(ix);
    if (appendHistogram(hs, t, h, this.chunkSamples, st)) this.acc.chunks++;
    this.acc.samples++;
    if (t < this.minT) this.minT = t;
    if (t > this.maxT) this.maxT = t;
  }

  /** @internal Adds an exemplar unless it is older than, or identical to, the series' last one. */
  applyExemplar(ix: number, e: Exemplar): void {
    if (this.maxExemplars === 0) return;
    let ring = this.series.exemplars.get(ix);
    if (ring === undefined) {
      ring = new ExemplarRing(this.maxExemplars);
      this.series.exemplars.set(ix, ring);
    }
    const last = ring.last();
    if (last !== undefined) {
      if (e.t < last.t) return;
      if (e.t === last.t && sameFloat(e.value, last.value) && labelsEqual(e.labels, last.labels)) return;
    }
    ring.push(e);
  }

  /** @internal Records metadata. */
  applyMetadata(metric: string, md: MetricMetadata): void {
    this.metadataByName.set(metric, md);
  }

  /** @internal Logs `records` (if a WAL is configured) and runs `apply` in commit order. */
  commitRecords(records: WalRecord[], apply: () => void, undo: () => void): Promise<void> {
    if (this.wal === undefined || records.length === 0) {
      // Without a WAL there is nothing to wait for, so commits apply synchronously in call order.
      apply();
      return Promise.resolve();
    }
    let logged: Promise<unknown>;
    try {
      logged = this.wal.log(records).then(
        () => undefined,
        (err: unknown) => ({ err }),
      );
    } catch (err) {
      logged = Promise.resolve({ err });
    }
    const run = this.tail
      .then(() => logged)
      .then((r) => {
        if (r === undefined) return apply();
        undo();
        const err = (r as { err: unknown }).err;
        this.logger.error('WAL write failed; transaction discarded', { err });
        throw new HeadCommitError(`WAL write failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      });
    this.tail = run.catch(() => undefined);
    return run;
  }
}

function sameFloat(a: number, b: number): boolean {
  F64[0] = a;
  const h = U32[1];
  const l = U32[0];
  F64[0] = b;
  return h === U32[1] && l === U32[0];
}

/**
 * Checks a label set for storage: non-empty, names non-empty and strictly ascending (so no
 * duplicates). Labels with empty values are dropped (Prometheus treats them as absent).
 * Returns the (possibly filtered) labels or a message.
 */
export function normalizeLabels(ls: Labels): Labels | string {
  let empties = 0;
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i]!;
    if (typeof l.name !== 'string' || typeof l.value !== 'string') return 'label name and value must be strings';
    if (l.name === '') return 'empty label name';
    if (i > 0) {
      const p = ls[i - 1]!.name;
      if (p === l.name) return `duplicate label name ${JSON.stringify(l.name)}`;
      if (p > l.name) return `labels not sorted: ${JSON.stringify(p)} before ${JSON.stringify(l.name)}`;
    }
    if (l.value === '') empties++;
  }
  if (ls.length - empties === 0) return 'empty label set';
  if (empties === 0) return ls;
  return ls.filter((l: Label) => l.value !== '');
}

/**
 * The in-memory head: series interned by label set, XOR-compressed float chunks, native
 * histogram lists, exemplar rings, metric metadata and a postings index. Writes go through
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
import { SlotPool } from '../chunkenc/pool.js';
import { ChunkArena } from '../chunkenc/xor.js';
import { HeadAppender } from './appender.js';
import { type HeadMetrics, nopHeadMetrics, registerHeadMetrics } from './metrics.js';
import { MemPostings } from './postings.js';
import { HeadQuerier } from './querier.js';
import { type ChunkDelta, ExemplarRing, type HistState, MemSeries } from './series.js';

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
  logger?: Logger;
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
  /** @internal All series (visible or pending) by ref. */
  readonly byRef = new Map<number, MemSeries>();
  /** @internal Self-metrics sink. */
  readonly metrics: HeadMetrics;
  private readonly byHash = new Map<number, MemSeries | MemSeries[]>();
  private readonly metadataByName = new Map<string, MetricMetadata>();
  private readonly arena = new ChunkArena();
  private readonly pool = new SlotPool();
  private readonly acc: ChunkDelta = { chunks: 0, bytes: 0, samples: 0 };
  private readonly replayAlias = new Map<number, number>();
  private readonly spare: { ts: Float64Array; vs: Float64Array }[] = [];
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
    const s = this.byRef.get(ref);
    return s !== undefined && s.visible && !s.dropped;
  }

  /** Live series refs with labels (for WAL checkpoints). */
  *liveSeries(): Iterable<{ ref: number; labels: Labels }> {
    for (const s of this.byRef.values()) if (s.visible && !s.dropped) yield { ref: s.ref, labels: s.labels };
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
    const dropped: MemSeries[] = [];
    let minT = Infinity;
    for (const s of this.byRef.values()) {
      if (!s.visible) continue;
      let cut = 0;
      while (cut < s.sealed.length && s.sealed[cut]!.maxT < mint) {
        const c = s.sealed[cut]!;
        acc.chunks--;
        acc.bytes -= c.len;
        acc.samples -= c.n;
        cut++;
      }
      if (cut > 0) s.sealed.splice(0, cut);
      const o = s.open;
      if (o !== null && s.sealed.length === 0 && (o.n === 0 || o.maxT < mint)) {
        if (o.n > 0) {
          acc.chunks--;
          acc.bytes -= o.byteLength;
          acc.samples -= o.n;
        }
        o.release();
        s.open = null;
      }
      const hs = s.hist;
      if (hs !== null) {
        let hcut = 0;
        while (hcut < hs.chunks.length && hs.chunks[hcut]![hs.chunks[hcut]!.length - 1]!.t < mint) {
          acc.chunks--;
          acc.samples -= hs.chunks[hcut]!.length;
          hcut++;
        }
        if (hcut > 0) hs.chunks.splice(0, hcut);
      }
      s.exemplars?.dropBefore(mint);
      if (s.isEmpty() && s.pendingTxns === 0) {
        dropped.push(s);
        continue;
      }
      const m = s.minTime();
      if (m < minT) minT = m;
    }
    for (const s of dropped) {
      s.dropped = true;
      s.visible = false;
      this.forget(s);
      this.numSeries--;
    }
    this.postings.delete(dropped);
    this.minT = minT;
    if (minT === Infinity) this.maxT = -Infinity;
    if (dropped.length > 0) this.logger.debug('head truncated', { mint, droppedSeries: dropped.length });
    return dropped.map((s) => s.ref);
  }

  /** Applies one replayed WAL record without validation or WAL writes (used at startup). */
  replayRecord(rec: WalRecord): void {
    switch (rec.kind) {
      case 'series':
        for (const { ref, labels } of rec.series) {
          const existing = this.lookup(labelsHash(labels), labels);
          if (existing !== undefined) {
            if (existing.ref !== ref) this.replayAlias.set(ref, existing.ref);
            existing.walLogged = true;
            this.activate(existing);
            continue;
          }
          const s = new MemSeries(ref, labels, labelsHash(labels));
          s.walLogged = true;
          this.insert(s);
          this.activate(s);
          if (ref >= this.nextRef) this.nextRef = ref + 1;
        }
        return;
      case 'samples': {
        const vw = new Uint32Array(rec.vs.buffer, rec.vs.byteOffset, rec.vs.length * 2);
        for (let i = 0; i < rec.n; i++) {
          const s = this.replaySeries(rec.refs[i]!);
          if (s !== undefined) this.applyFloat(s, rec.ts[i]!, vw[2 * i + 1]!, vw[2 * i]!);
        }
        this.metrics.appended(rec.n);
        return;
      }
      case 'histograms':
        for (const x of rec.samples) {
          const s = this.replaySeries(x.ref);
          if (s !== undefined) this.applyHistogram(s, x.t, x.h);
        }
        return;
      case 'exemplars':
        for (const x of rec.exemplars) {
          const s = this.replaySeries(x.ref);
          if (s !== undefined) this.applyExemplar(s, x.e);
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

  private replaySeries(ref: number): MemSeries | undefined {
    const s = this.byRef.get(this.replayAlias.get(ref) ?? ref);
    return s !== undefined && !s.dropped ? s : undefined;
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
    for (const ref of this.postings.forMatchers(matchers)) {
      const s = this.byRef.get(ref);
      if (s?.exemplars == null) continue;
      const ex = s.exemplars.list(mint, maxt);
      if (ex.length > 0) out.push({ labels: s.labels, exemplars: ex });
    }
    return out;
  }

  // ---- internal API used by HeadAppender / HeadQuerier ----

  /** @internal Oldest acceptable sample timestamp now. */
  minValidTime(): number {
    return this.clock.now() - this.retentionMs;
  }

  /** @internal Series for an append: by ref when known, else by labels (created pending). A string explains invalid labels. */
  seriesForAppend(ref: number, labels: Labels): MemSeries | string {
    if (ref > 0) {
      const s = this.byRef.get(ref);
      if (s !== undefined && !s.dropped) return s;
    }
    const ls = normalizeLabels(labels);
    if (typeof ls === 'string') return ls;
    const h = labelsHash(ls);
    const found = this.lookup(h, ls);
    if (found !== undefined) return found;
    const s = new MemSeries(this.nextRef++, ls, h);
    this.insert(s);
    return s;
  }

  private lookup(h: number, ls: Labels): MemSeries | undefined {
    const e = this.byHash.get(h);
    if (e === undefined) return undefined;
    if (!Array.isArray(e)) return labelsEqual(e.labels, ls) ? e : undefined;
    for (const s of e) if (labelsEqual(s.labels, ls)) return s;
    return undefined;
  }

  private insert(s: MemSeries): void {
    this.byRef.set(s.ref, s);
    const e = this.byHash.get(s.hash);
    if (e === undefined) this.byHash.set(s.hash, s);
    else if (Array.isArray(e)) e.push(s);
    else this.byHash.set(s.hash, [e, s]);
  }

  private forget(s: MemSeries): void {
    this.byRef.delete(s.ref);
    const e = this.byHash.get(s.hash);
    if (e === s) this.byHash.delete(s.hash);
    else if (Array.isArray(e)) {
      const rest = e.filter((x) => x !== s);
      if (rest.length === 1) this.byHash.set(s.hash, rest[0]!);
      else this.byHash.set(s.hash, rest);
    }
  }

  /** @internal A transaction is done with `s`: forget it if it never became visible. */
  release(s: MemSeries): void {
    s.pendingTxns--;
    if (s.pendingTxns === 0 && !s.visible && !s.walLogged && !s.dropped) this.forget(s);
  }

  /** @internal Makes a series visible (postings). */
  activate(s: MemSeries): void {
    if (s.visible || s.dropped) return;
    s.visible = true;
    this.postings.add(s.ref, s.labels);
    this.numSeries++;
  }

  /** @internal True when commits are logged to a WAL. */
  get hasWal(): boolean {
    return this.wal !== undefined;
  }

  /** @internal Staging arrays for an appender (recycled when no WAL may still hold them). */
  borrowBuffers(): { ts: Float64Array; vs: Float64Array } {
    return this.spare.pop() ?? { ts: new Float64Array(64), vs: new Float64Array(64) };
  }

  /** @internal Returns staging arrays after a transaction ended. */
  recycleBuffers(ts: Float64Array, vs: Float64Array): void {
    if (this.wal === undefined && this.spare.length < 8 && ts.length <= 65536) this.spare.push({ ts, vs });
  }

  /** @internal Histogram state of a series, created when missing. */
  histState(s: MemSeries): HistState {
    return (s.hist ??= { chunks: [], maxT: -Infinity, walT: -Infinity, walLast: null, last: null });
  }

  /** @internal After a failed WAL write: forget in-flight ordering state of `s`. */
  resetWalState(s: MemSeries): void {
    s.walT = s.maxT;
    s.walHi = s.lastHi;
    s.walLo = s.lastLo;
    if (s.hist !== null) {
      s.hist.walT = s.hist.maxT;
      s.hist.walLast = s.hist.last;
    }
  }

  /** @internal Applies a float sample; samples not newer than the series' last are skipped. */
  applyFloat(s: MemSeries, t: number, hi: number, lo: number): void {
    if (t <= s.maxT) return;
    this.activate(s);
    s.appendFloat(t, hi, lo, this.chunkSamples, this.arena, this.pool, this.acc);
    this.acc.samples++;
    if (t < this.minT) this.minT = t;
    if (t > this.maxT) this.maxT = t;
  }

  /** @internal Applies a histogram sample; samples not newer than the series' last are skipped. */
  applyHistogram(s: MemSeries, t: number, h: FloatHistogram): void {
    const hs = this.histState(s);
    if (t <= hs.maxT) return;
    this.activate(s);
    if (s.appendHistogram(t, h, this.chunkSamples)) this.acc.chunks++;
    this.acc.samples++;
    if (t < this.minT) this.minT = t;
    if (t > this.maxT) this.maxT = t;
  }

  /** @internal Adds an exemplar unless it is older than, or identical to, the series' last one. */
  applyExemplar(s: MemSeries, e: Exemplar): void {
    if (this.maxExemplars === 0) return;
    const ring = (s.exemplars ??= new ExemplarRing(this.maxExemplars));
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

/**
 * In-memory series of the head: float samples in XOR chunks (one open chunk, sealed ones in a
 * shared arena), native histograms in plain lists, and a bounded exemplar ring.
 */
import type { FloatHistogram } from '../../model/histogram.js';
import { CUSTOM_BUCKETS_SCHEMA } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import type { Exemplar } from '../../model/samples.js';
import type { ByteAllocator } from '../chunkenc/bstream.js';
import { ChunkArena, type SealedChunk, XorChunk, XorIterator } from '../chunkenc/xor.js';

/** A histogram sample. */
export interface HistSample {
  readonly t: number;
  readonly h: FloatHistogram;
}

/** Histogram state of a series (allocated on its first histogram). */
export interface HistState {
  /** Lists of at most `chunkSamples` samples, ascending. */
  chunks: HistSample[][];
  /** Max committed t. */
  maxT: number;
  /** Max t among committed and in-flight (WAL-ordered) samples, and the histogram at it. */
  walT: number;
  walLast: FloatHistogram | null;
  /** Committed histogram at maxT. */
  last: FloatHistogram | null;
}

/** A bounded ring of exemplars, oldest overwritten first. */
export class ExemplarRing {
  private readonly buf: Exemplar[] = [];
  private next = 0;

  constructor(private readonly cap: number) {}

  /** Most recently added exemplar. */
  last(): Exemplar | undefined {
    if (this.buf.length === 0) return undefined;
    return this.buf[(this.next - 1 + this.buf.length) % this.buf.length];
  }

  /** Adds an exemplar, evicting the oldest when full. */
  push(e: Exemplar): void {
    if (this.cap <= 0) return;
    if (this.buf.length < this.cap) {
      this.buf.push(e);
      this.next = this.buf.length % this.cap;
    } else {
      this.buf[this.next] = e;
      this.next = (this.next + 1) % this.cap;
    }
  }

  /** Exemplars oldest first, optionally only those with mint ≤ t ≤ maxt. */
  list(mint = -Infinity, maxt = Infinity): Exemplar[] {
    const out: Exemplar[] = [];
    const n = this.buf.length;
    const start = n < this.cap ? 0 : this.next;
    for (let i = 0; i < n; i++) {
      const e = this.buf[(start + i) % n]!;
      if (e.t >= mint && e.t <= maxt) out.push(e);
    }
    return out;
  }

  /** Number of exemplars held. */
  get size(): number {
    return this.buf.length;
  }

  /** Drops exemplars older than `mint`. */
  dropBefore(mint: number): void {
    const keep = this.list(mint);
    if (keep.length === this.buf.length) return;
    this.buf.length = 0;
    this.next = 0;
    for (const e of keep) this.push(e);
  }
}

/** One series in the head. Fields are package-internal state; readers use {@link Head}'s queriers. */
export class MemSeries {
  /** True once added to the postings index (its data may be read). */
  visible = false;
  /** True once a `series` record for it was handed to the WAL. */
  walLogged = false;
  /** True once removed by truncation. */
  dropped = false;
  /** Transactions currently holding this series (prevents truncation/forgetting). */
  pendingTxns = 0;
  /** Sealed float chunks, ascending. */
  sealed: SealedChunk[] = [];
  /** Open float chunk (null when none). */
  open: XorChunk | null = null;
  /** Max committed float t and the bits of the value at it. */
  maxT = -Infinity;
  lastHi = 0;
  lastLo = 0;
  /** Max float t among committed and in-flight samples, and the bits at it. */
  walT = -Infinity;
  walHi = 0;
  walLo = 0;
  /** Histogram state, when the series has histograms. */
  hist: HistState | null = null;
  /** Exemplars, when the series has any. */
  exemplars: ExemplarRing | null = null;
  /** Transaction that claimed this series' staging slot, and its last staged float/histogram index (-1: none). */
  txn: object | null = null;
  txnF = -1;
  txnH = -1;

  constructor(
    readonly ref: number,
    readonly labels: Labels,
    readonly hash: number,
  ) {}

  /** Appends a float sample (must be newer than {@link maxT}); adds the change in chunk bytes and count to `acc`. */
  appendFloat(t: number, hi: number, lo: number, chunkSamples: number, arena: ChunkArena, pool: ByteAllocator, acc: ChunkDelta): void {
    let c = this.open;
    if (c === null) {
      c = this.open = new XorChunk(64, pool);
      acc.chunks++;
    } else if (c.n === 0) {
      acc.chunks++;
    }
    const before = c.byteLength;
    c.appendBits(t, hi, lo);
    acc.bytes += c.byteLength - before;
    this.maxT = t;
    this.lastHi = hi;
    this.lastLo = lo;
    if (t > this.walT) {
      this.walT = t;
      this.walHi = hi;
      this.walLo = lo;
    }
    if (c.n >= chunkSamples) this.sealed.push(c.seal(arena));
  }

  /** Appends a histogram sample (must be newer than its max t). Returns true when a new chunk list was started. */
  appendHistogram(t: number, h: FloatHistogram, chunkSamples: number): boolean {
    const hs = (this.hist ??= { chunks: [], maxT: -Infinity, walT: -Infinity, walLast: null, last: null });
    let cut = false;
    let last = hs.chunks[hs.chunks.length - 1];
    if (last === undefined || last.length >= chunkSamples) {
      last = [];
      hs.chunks.push(last);
      cut = true;
    }
    last.push({ t, h });
    hs.maxT = t;
    hs.last = h;
    if (t > hs.walT) {
      hs.walT = t;
      hs.walLast = h;
    }
    return cut;
  }

  /** Float chunks in time order (sealed then the open one), each as an iterator factory. */
  floatChunks(): { minT: number; maxT: number; n: number; iter: () => XorIterator }[] {
    const out: { minT: number; maxT: number; n: number; iter: () => XorIterator }[] = [];
    for (const c of this.sealed) out.push({ minT: c.minT, maxT: c.maxT, n: c.n, iter: () => new XorIterator(c.buf, c.off, c.n) });
    const o = this.open;
    if (o !== null && o.n > 0) {
      const n = o.n;
      out.push({ minT: o.minT, maxT: o.maxT, n, iter: () => o.iterator() });
    }
    return out;
  }

  /** True when the series has at least one float or histogram sample in [mint, maxt]. */
  hasSampleIn(mint: number, maxt: number): boolean {
    for (const c of this.floatChunks()) {
      if (c.maxT < mint) continue;
      if (c.minT > maxt) break;
      if (c.minT >= mint || c.maxT <= maxt) return true;
      const it = c.iter();
      while (it.next()) {
        if (it.t >= mint) return it.t <= maxt;
      }
    }
    if (this.hist !== null) {
      for (const ch of this.hist.chunks) {
        const first = ch[0];
        const lastS = ch[ch.length - 1];
        if (first === undefined || lastS === undefined || lastS.t < mint) continue;
        if (first.t > maxt) break;
        for (const s of ch) if (s.t >= mint && s.t <= maxt) return true;
      }
    }
    return false;
  }

  /** Decodes float samples in [mint, maxt] (values bit-exact) and histograms in range. */
  samplesIn(mint: number, maxt: number): { t: Float64Array; v: Float64Array; histograms: HistSample[] } {
    const chunks = this.floatChunks().filter((c) => c.maxT >= mint && c.minT <= maxt);
    let cap = 0;
    for (const c of chunks) cap += c.n;
    const ts = new Float64Array(cap);
    const vs = new Float64Array(cap);
    let n = 0;
    for (const c of chunks) n = c.iter().readInto(ts, vs, n, mint, maxt);
    const histograms: HistSample[] = [];
    if (this.hist !== null) {
      for (const ch of this.hist.chunks) for (const s of ch) if (s.t >= mint && s.t <= maxt) histograms.push(s);
    }
    return { t: n === cap ? ts : ts.subarray(0, n), v: n === cap ? vs : vs.subarray(0, n), histograms };
  }

  /** Number of float samples held. */
  floatSamples(): number {
    let n = this.open?.n ?? 0;
    for (const c of this.sealed) n += c.n;
    return n;
  }

  /** True when the series holds no samples at all. */
  isEmpty(): boolean {
    return this.sealed.length === 0 && (this.open === null || this.open.n === 0) && (this.hist === null || this.hist.chunks.length === 0);
  }

  /** Smallest sample timestamp held, or +Infinity. */
  minTime(): number {
    let m = Infinity;
    const first = this.sealed[0];
    if (first !== undefined) m = first.minT;
    else if (this.open !== null && this.open.n > 0) m = this.open.minT;
    const h = this.hist?.chunks[0]?.[0];
    if (h !== undefined && h.t < m) m = h.t;
    return m;
  }
}

/** Accumulator of chunk statistics changes. */
export interface ChunkDelta {
  chunks: number;
  bytes: number;
  samples: number;
}

/** Structural equality of two histograms (bit-level for floats is not needed: counts are finite). */
export function histogramsEqual(a: FloatHistogram, b: FloatHistogram): boolean {
  if (a === b) return true;
  return (
    a.schema === b.schema &&
    a.counterResetHint === b.counterResetHint &&
    Object.is(a.zeroThreshold, b.zeroThreshold) &&
    Object.is(a.zeroCount, b.zeroCount) &&
    Object.is(a.count, b.count) &&
    Object.is(a.sum, b.sum) &&
    spansEqual(a.positiveSpans, b.positiveSpans) &&
    spansEqual(a.negativeSpans, b.negativeSpans) &&
    numsEqual(a.positiveBuckets, b.positiveBuckets) &&
    numsEqual(a.negativeBuckets, b.negativeBuckets) &&
    numsEqual(a.customValues ?? [], b.customValues ?? [])
  );
}

function spansEqual(a: FloatHistogram['positiveSpans'], b: FloatHistogram['positiveSpans']): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.offset !== b[i]!.offset || a[i]!.length !== b[i]!.length) return false;
  return true;
}

function numsEqual(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

/** Returns why a histogram is invalid, or undefined when it is fine. */
export function validateHistogram(h: FloatHistogram): string | undefined {
  if (h.schema !== CUSTOM_BUCKETS_SCHEMA && (h.schema < -4 || h.schema > 8 || !Number.isInteger(h.schema))) return `invalid schema ${h.schema}`;
  if (h.schema === CUSTOM_BUCKETS_SCHEMA && (h.customValues === undefined || h.customValues.length === 0)) return 'custom-bucket histogram without custom values';
  const check = (spans: FloatHistogram['positiveSpans'], buckets: readonly number[], side: string): string | undefined => {
    let n = 0;
    for (const s of spans) {
      if (s.length < 0 || !Number.isInteger(s.length) || !Number.isInteger(s.offset)) return `${side} span has invalid offset/length`;
      n += s.length;
    }
    if (n !== buckets.length) return `${side} spans need ${n} buckets, got ${buckets.length}`;
    for (const b of buckets) if (!(b >= 0)) return `${side} bucket has invalid count ${b}`;
    return undefined;
  };
  const why = check(h.positiveSpans, h.positiveBuckets, 'positive') ?? check(h.negativeSpans, h.negativeBuckets, 'negative');
  if (why !== undefined) return why;
  if (!(h.zeroCount >= 0)) return `invalid zero count ${h.zeroCount}`;
  if (!(h.count >= 0) && !Number.isNaN(h.count)) return `invalid count ${h.count}`;
  return undefined;
}

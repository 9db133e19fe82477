/**
 * Rare per-series state of the head: native histograms in plain lists and a bounded exemplar
 * ring (float samples live in `series-table.ts`).
 */
import type { FloatHistogram } from '../../model/histogram.js';
import { CUSTOM_BUCKETS_SCHEMA } from '../../model/histogram.js';
import type { Exemplar } from '../../model/samples.js';

/** A histogram sample; `st`: its start timestamp, only when known. */
export interface HistSample {
  readonly t: number;
  readonly h: FloatHistogram;
  readonly st?: number;
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

/**
 * Appends a histogram sample (must be newer than `hs.maxT`) with start timestamp `st` (0:
 * unknown). Returns true when a new chunk list was started.
 */
export function appendHistogram(hs: HistState, t: number, h: FloatHistogram, chunkSamples: number, st = 0): boolean {
  let cut = false;
  let last = hs.chunks[hs.chunks.length - 1];
  if (last === undefined || last.length >= chunkSamples) {
    last = [];
    hs.chunks.push(last);
    cut = true;
  }
  last.push(st !== 0 ? { t, h, st } : { t, h });
  hs.maxT = t;
  hs.last = h;
  if (t > hs.walT) {
    hs.walT = t;
    hs.walLast = h;
  }
  return cut;
}

/** Histogram samples of `hs` in [mint, maxt]. */
export function histogramsIn(hs: HistState | undefined, mint: number, maxt: number): HistSample[] {
  const out: HistSample[] = [];
  if (hs !== undefined) for (const ch of hs.chunks) for (const s of ch) if (s.t >= mint && s.t <= maxt) out.push(s);
  return out;
}

/** True when `hs` has a sample in [mint, maxt]. */
export function hasHistogramIn(hs: HistState | undefined, mint: number, maxt: number): boolean {
  if (hs === undefined) return false;
  for (const ch of hs.chunks) {
    const first = ch[0];
    const lastS = ch[ch.length - 1];
    if (first === undefined || lastS === undefined || lastS.t < mint) continue;
    if (first.t > maxt) break;
    for (const s of ch) if (s.t >= mint && s.t <= maxt) return true;
  }
  return false;
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
  if (h.schema === CUSTOM_BUCKETS_SCHEMA) {
    // No bounds is valid: a single (-Inf, +Inf] bucket (Prometheus accepts it too).
    const bounds = h.customValues?.length ?? 0;
    let idx = -1;
    for (const sp of h.positiveSpans) idx += sp.offset + sp.length;
    if (idx > bounds) return `custom-bucket index ${idx} exceeds the ${bounds} bounds`;
  }
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

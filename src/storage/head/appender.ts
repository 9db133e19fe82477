/**
 * The head's write transaction. Samples are staged in typed arrays; `commit()` re-checks their
 * order against everything committed or in flight, writes the WAL records, then applies them in
 * commit order.
 */
import type { FloatHistogram } from '../../model/histogram.js';
import type { Labels } from '../../model/labels.js';
import type { Exemplar, MetricMetadata } from '../../model/samples.js';
import type { Appender, RejectReason, Rejection, SeriesRef } from '../interface.js';
import type { WalRecord } from '../wal/interface.js';
import { bitsHi, bitsLo, floatBits } from '../chunkenc/xor.js';
import type { Head } from './head.js';
import { histogramsEqual, type MemSeries, validateHistogram } from './series.js';

/** Largest accepted timestamp (keeps deltas exact in float64). */
const MAX_T = 2 ** 52;

/** How many rejections an appender keeps in detail. */
export const MAX_REJECTIONS_KEPT = 10;

const MESSAGES: Record<RejectReason, string> = {
  out_of_order: 'out of order sample',
  duplicate_sample_for_timestamp: 'duplicate sample for timestamp',
  too_old: 'too old sample',
  invalid_labels: 'invalid labels',
  series_limit: 'series limit exceeded',
  histogram_invalid: 'invalid histogram',
};

/** Per-series state of one transaction: index of its last staged float / histogram, or -1. */
interface TxnEntry {
  txnF: number;
  txnH: number;
}

/** A write transaction on a {@link Head}. Obtain one with `head.appender()`. */
export class HeadAppender implements Appender {
  private n = 0;
  private ts: Float64Array;
  private vs: Float64Array;
  private vw: Uint32Array;
  private readonly ser: MemSeries[] = [];
  private readonly claimed: MemSeries[] = [];
  private readonly shared = new Map<MemSeries, TxnEntry>();
  private readonly hists: { s: MemSeries; t: number; h: FloatHistogram }[] = [];
  private readonly exs: { s: MemSeries; e: Exemplar }[] = [];
  private readonly meta: { metric: string; md: MetricMetadata }[] = [];
  private readonly minValidT: number;
  private done = false;
  private total = 0;
  private readonly byReason = new Map<RejectReason, number>();
  private readonly first: Rejection[] = [];
  /** @inheritdoc */
  readonly counts = { samples: 0, histograms: 0, exemplars: 0 };

  /** @param head the head to write to (use `head.appender()`). */
  constructor(private readonly head: Head) {
    this.minValidT = Math.max(head.minValidTime(), -MAX_T);
    const b = head.borrowBuffers();
    this.ts = b.ts;
    this.vs = b.vs;
    this.vw = new Uint32Array(b.vs.buffer, b.vs.byteOffset, b.vs.length * 2);
  }

  /** @inheritdoc */
  get rejected(): Appender['rejected'] {
    return { total: this.total, byReason: this.byReason, first: this.first };
  }

  private reject(reason: RejectReason, labels: Labels, t: number, detail?: string): 0 {
    this.total++;
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    if (this.first.length < MAX_REJECTIONS_KEPT) {
      this.first.push({ reason, labels, t, message: detail === undefined ? MESSAGES[reason] : `${MESSAGES[reason]}: ${detail}` });
    }
    this.head.metrics.rejected(reason, 1);
    return 0;
  }

  /**
   * Staging state of `s` for this transaction. The common case (one transaction per series at
   * a time) keeps it in the series itself; a series shared with another open transaction
   * falls back to a map.
   */
  private entry(s: MemSeries): TxnEntry | MemSeries {
    if (s.txn === this) return s;
    if (s.txn === null) {
      s.txn = this;
      s.txnF = -1;
      s.txnH = -1;
      s.pendingTxns++;
      this.claimed.push(s);
      return s;
    }
    let e = this.shared.get(s);
    if (e === undefined) {
      e = { txnF: -1, txnH: -1 };
      this.shared.set(s, e);
      s.pendingTxns++;
    }
    return e;
  }

  /** @inheritdoc */
  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    if (this.done) return 0;
    const s = this.head.seriesForAppend(ref, labels);
    if (typeof s === 'string') return this.reject('invalid_labels', labels, t, s);
    if (!Number.isSafeInteger(t)) t = Math.trunc(t);
    if (!(t >= this.minValidT && t <= MAX_T)) return this.reject('too_old', s.labels, t, t > MAX_T ? 'timestamp out of range' : undefined);
    const e = this.entry(s);
    floatBits(v);
    const hi = bitsHi();
    const lo = bitsLo();
    let lastT: number;
    let lastHi: number;
    let lastLo: number;
    const f = e.txnF;
    if (f >= 0) {
      lastT = this.ts[f]!;
      lastHi = this.vw[2 * f + 1]!;
      lastLo = this.vw[2 * f]!;
    } else {
      lastT = s.walT;
      lastHi = s.walHi;
      lastLo = s.walLo;
    }
    if (t <= lastT) {
      if (t < lastT) return this.reject('out_of_order', s.labels, t);
      if (hi === lastHi && lo === lastLo) return s.ref;
      return this.reject('duplicate_sample_for_timestamp', s.labels, t);
    }
    const i = this.n;
    if (i === this.ts.length) this.grow();
    this.ts[i] = t;
    this.vw[2 * i] = lo;
    this.vw[2 * i + 1] = hi;
    this.ser[i] = s;
    this.n = i + 1;
    e.txnF = i;
    this.counts.samples++;
    return s.ref;
  }

  private grow(): void {
    const cap = this.ts.length * 2;
    const ts = new Float64Array(cap);
    ts.set(this.ts);
    const vs = new Float64Array(cap);
    const vw = new Uint32Array(vs.buffer);
    vw.set(this.vw);
    this.ts = ts;
    this.vs = vs;
    this.vw = vw;
  }

  /** @inheritdoc */
  appendHistogram(ref: SeriesRef, labels: Labels, t: number, h: FloatHistogram): SeriesRef {
    if (this.done) return 0;
    const s = this.head.seriesForAppend(ref, labels);
    if (typeof s === 'string') return this.reject('invalid_labels', labels, t, s);
    if (!Number.isSafeInteger(t)) t = Math.trunc(t);
    if (!(t >= this.minValidT && t <= MAX_T)) return this.reject('too_old', s.labels, t, t > MAX_T ? 'timestamp out of range' : undefined);
    const why = validateHistogram(h);
    if (why !== undefined) return this.reject('histogram_invalid', s.labels, t, why);
    const e = this.entry(s);
    const prev = e.txnH >= 0 ? this.hists[e.txnH]! : undefined;
    const lastT = prev !== undefined ? prev.t : (s.hist?.walT ?? -Infinity);
    if (t <= lastT) {
      if (t < lastT) return this.reject('out_of_order', s.labels, t);
      const lastH = prev !== undefined ? prev.h : s.hist?.walLast;
      if (lastH !== undefined && lastH !== null && histogramsEqual(lastH, h)) return s.ref;
      return this.reject('duplicate_sample_for_timestamp', s.labels, t);
    }
    e.txnH = this.hists.length;
    this.hists.push({ s, t, h });
    this.counts.histograms++;
    return s.ref;
  }

  /** @inheritdoc */
  appendExemplar(ref: SeriesRef, labels: Labels, ex: Exemplar): SeriesRef {
    if (this.done) return 0;
    const s = this.head.seriesForAppend(ref, labels);
    if (typeof s === 'string') return 0;
    this.entry(s);
    this.exs.push({ s, e: ex });
    this.counts.exemplars++;
    return s.ref;
  }

  /** @inheritdoc */
  updateMetadata(metricName: string, md: MetricMetadata): void {
    if (this.done) return;
    this.meta.push({ metric: metricName, md });
  }

  /**
   * Re-checks the staged samples against everything committed or in flight (another
   * transaction may have committed newer data since they were appended), writes the WAL
   * records and applies them. Rejections found here are added to {@link rejected}.
   */
  async commit(): Promise<void> {
    if (this.done) return;
    this.done = true;
    const head = this.head;
    const ts = this.ts;
    const vw = this.vw;
    const ser = this.ser;
    const newSeries: MemSeries[] = [];
    const markLogged = (s: MemSeries): void => {
      if (!s.walLogged) {
        s.walLogged = true;
        newSeries.push(s);
      }
    };
    let k = 0;
    for (let i = 0; i < this.n; i++) {
      const s = ser[i]!;
      const t = ts[i]!;
      const lo = vw[2 * i]!;
      const hi = vw[2 * i + 1]!;
      if (t <= s.walT) {
        this.counts.samples--;
        if (t < s.walT) this.reject('out_of_order', s.labels, t);
        else if (hi !== s.walHi || lo !== s.walLo) this.reject('duplicate_sample_for_timestamp', s.labels, t);
        continue;
      }
      s.walT = t;
      s.walHi = hi;
      s.walLo = lo;
      markLogged(s);
      if (k !== i) {
        ts[k] = t;
        vw[2 * k] = lo;
        vw[2 * k + 1] = hi;
        ser[k] = s;
      }
      k++;
    }
    const nf = k;
    const hists: { s: MemSeries; t: number; h: FloatHistogram }[] = [];
    for (const x of this.hists) {
      const hs = head.histState(x.s);
      if (x.t <= hs.walT) {
        this.counts.histograms--;
        if (x.t < hs.walT) this.reject('out_of_order', x.s.labels, x.t);
        else if (hs.walLast === null || !histogramsEqual(hs.walLast, x.h)) this.reject('duplicate_sample_for_timestamp', x.s.labels, x.t);
        continue;
      }
      hs.walT = x.t;
      hs.walLast = x.h;
      markLogged(x.s);
      hists.push(x);
    }
    for (const x of this.exs) markLogged(x.s);

    const records: WalRecord[] = [];
    if (head.hasWal) this.buildRecords(records, newSeries, nf, hists);

    const apply = (): void => {
      try {
        for (const s of newSeries) head.activate(s);
        for (let i = 0; i < nf; i++) head.applyFloat(ser[i]!, ts[i]!, vw[2 * i + 1]!, vw[2 * i]!);
        for (const x of hists) head.applyHistogram(x.s, x.t, x.h);
        for (const x of this.exs) head.applyExemplar(x.s, x.e);
        for (const m of this.meta) head.applyMetadata(m.metric, m.md);
        head.metrics.appended(nf + hists.length);
      } finally {
        this.release();
      }
    };
    const undo = (): void => {
      for (const s of newSeries) s.walLogged = false;
      for (let i = 0; i < nf; i++) head.resetWalState(ser[i]!);
      for (const x of hists) head.resetWalState(x.s);
      this.release();
    };
    await head.commitRecords(records, apply, undo);
  }

  /** The WAL records of this transaction: new series first, then samples, histograms, exemplars, metadata. */
  private buildRecords(out: WalRecord[], newSeries: MemSeries[], nf: number, hists: { s: MemSeries; t: number; h: FloatHistogram }[]): void {
    const ser = this.ser;
    if (newSeries.length > 0) out.push({ kind: 'series', series: newSeries.map((s) => ({ ref: s.ref, labels: s.labels })) });
    if (nf > 0) {
      const refs = new Uint32Array(nf);
      for (let i = 0; i < nf; i++) refs[i] = ser[i]!.ref;
      out.push({ kind: 'samples', n: nf, refs, ts: this.ts, vs: this.vs });
    }
    if (hists.length > 0) out.push({ kind: 'histograms', samples: hists.map((x) => ({ ref: x.s.ref, t: x.t, h: x.h })) });
    if (this.exs.length > 0) out.push({ kind: 'exemplars', exemplars: this.exs.map((x) => ({ ref: x.s.ref, e: x.e })) });
    if (this.meta.length > 0) out.push({ kind: 'metadata', metadata: this.meta });
  }

  /** @inheritdoc */
  rollback(): void {
    if (this.done) return;
    this.done = true;
    this.n = 0;
    this.release();
  }

  private release(): void {
    for (const s of this.claimed) {
      if (s.txn === this) s.txn = null;
      this.head.release(s);
    }
    this.claimed.length = 0;
    for (const s of this.shared.keys()) this.head.release(s);
    this.shared.clear();
    this.head.recycleBuffers(this.ts, this.vs);
  }
}

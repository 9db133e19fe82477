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
import { bitsHi, bitsLo, floatBits } from '../chunkenc/codec.js';
import type { Head } from './head.js';
import { histogramsEqual, validateHistogram } from './series.js';
import { F_WAL_LOGGED, type SeriesTable } from './series-table.js';

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

/** Per-series staging slots of transactions are claimed with these ids (never 0). */
let nextTxnId = 1;

/** A staged histogram (series by slot; `st`: start timestamp, 0 = unknown). */
interface StagedHist {
  s: number;
  t: number;
  h: FloatHistogram;
  st: number;
}

/**
 * A start timestamp as stored: an integer within the timestamp range, else 0 (unknown). Start
 * timestamps come from untrusted input and only refine queries, so a bad one is dropped, not
 * the sample.
 */
function validStart(st: number | undefined): number {
  if (st === undefined || st === 0 || !Number.isFinite(st)) return 0;
  const v = Math.trunc(st);
  return Math.abs(v) <= MAX_T ? v : 0;
}

/** A write transaction on a {@link Head}. Obtain one with `head.appender()`. */
export class HeadAppender implements Appender {
  private n = 0;
  private ts: Float64Array;
  private vs: Float64Array;
  private vw: Uint32Array;
  private ser: Int32Array;
  /** Start timestamps parallel to `ts` (0 = unknown), allocated on the first sample with one. */
  private sts: Float64Array | undefined;
  private readonly id: number;
  private readonly st: SeriesTable;
  private readonly claimed: number[] = [];
  private readonly shared = new Map<number, TxnEntry>();
  private readonly hists: StagedHist[] = [];
  private readonly exs: { s: number; e: Exemplar }[] = [];
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
    this.vw = b.vw;
    this.ser = b.ser;
    this.st = head.series;
    this.id = nextTxnId;
    nextTxnId = nextTxnId >= 0x7ffffffe ? 1 : nextTxnId + 1;
  }

  /** @inheritdoc */
  get rejected(): Appender['rejected'] {
    return { total: this.total, byReason: this.byReason, first: this.first };
  }

  /** Records a rejection; `labels` is a label set or a series slot (materialised only when kept). */
  private reject(reason: RejectReason, labels: Labels | number, t: number, detail?: string): 0 {
    this.total++;
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
    if (this.first.length < MAX_REJECTIONS_KEPT) {
      const ls = typeof labels === 'number' ? this.st.labels(labels) : labels;
      this.first.push({ reason, labels: ls, t, message: detail === undefined ? MESSAGES[reason] : `${MESSAGES[reason]}: ${detail}` });
    }
    this.head.metrics.rejected(reason, 1);
    return 0;
  }

  /**
   * Staging state of slot `s` for this transaction: -1 when it lives in the series table's
   * `txnF`/`txnH` columns (the common case, one transaction per series at a time), else an
   * entry of a map (a series shared with another open transaction).
   */
  private entry(s: number): TxnEntry | null {
    const st = this.st;
    const owner = st.txn[s]!;
    if (owner === this.id) return null;
    if (owner === 0) {
      st.txn[s] = this.id;
      st.txnF[s] = -1;
      st.txnH[s] = -1;
      st.pending[s]!++;
      this.claimed.push(s);
      return null;
    }
    let e = this.shared.get(s);
    if (e === undefined) {
      e = { txnF: -1, txnH: -1 };
      this.shared.set(s, e);
      st.pending[s]!++;
    }
    return e;
  }

  /** @inheritdoc */
  append(ref: SeriesRef, labels: Labels, t: number, v: number, st0?: number): SeriesRef {
    if (this.done) return 0;
    const s = this.head.seriesForAppend(ref, labels);
    if (typeof s === 'string') return this.reject('invalid_labels', labels, t, s);
    const st = this.st;
    if (!Number.isSafeInteger(t)) t = Math.trunc(t);
    if (!(t >= this.minValidT && t <= MAX_T)) {
      this.reject('too_old', s, t, t > MAX_T ? 'timestamp out of range' : undefined);
      this.head.forgetIfUnused(s);
      return 0;
    }
    const e = this.entry(s);
    floatBits(v);
    const hi = bitsHi();
    const lo = bitsLo();
    let lastT: number;
    let lastHi: number;
    let lastLo: number;
    const f = e === null ? st.txnF[s]! : e.txnF;
    if (f >= 0) {
      lastT = this.ts[f]!;
      lastHi = this.vw[2 * f + 1]!;
      lastLo = this.vw[2 * f]!;
    } else {
      lastT = st.walT[s]!;
      lastHi = st.walHi[s]!;
      lastLo = st.walLo[s]!;
    }
    if (t <= lastT) {
      if (t < lastT) return this.reject('out_of_order', s, t);
      if (hi === lastHi && lo === lastLo) return st.ref[s]!;
      return this.reject('duplicate_sample_for_timestamp', s, t);
    }
    const i = this.n;
    if (i === this.ts.length) this.grow();
    this.ts[i] = t;
    this.vw[2 * i] = lo;
    this.vw[2 * i + 1] = hi;
    this.ser[i] = s;
    this.n = i + 1;
    const start = st0 === undefined || st0 === 0 ? 0 : validStart(st0);
    if (start !== 0 || this.sts !== undefined) (this.sts ??= new Float64Array(this.ts.length))[i] = start;
    if (e === null) st.txnF[s] = i;
    else e.txnF = i;
    this.counts.samples++;
    return st.ref[s]!;
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
    const ser = new Int32Array(cap);
    ser.set(this.ser);
    this.ser = ser;
    if (this.sts !== undefined) {
      const sts = new Float64Array(cap);
      sts.set(this.sts);
      this.sts = sts;
    }
  }

  /** @inheritdoc */
  appendHistogram(ref: SeriesRef, labels: Labels, t: number, h: FloatHistogram, st0?: number): SeriesRef {
    if (this.done) return 0;
    const s = this.head.seriesForAppend(ref, labels);
    if (typeof s === 'string') return this.reject('invalid_labels', labels, t, s);
    const st = this.st;
    if (!Number.isSafeInteger(t)) t = Math.trunc(t);
    let why = t >= this.minValidT && t <= MAX_T ? undefined : 'too_old';
    if (why !== undefined) this.reject('too_old', s, t, t > MAX_T ? 'timestamp out of range' : undefined);
    else if ((why = validateHistogram(h)) !== undefined) this.reject('histogram_invalid', s, t, why);
    if (why !== undefined) {
      this.head.forgetIfUnused(s);
      return 0;
    }
    const e = this.entry(s);
    const th = e === null ? st.txnH[s]! : e.txnH;
    const prev = th >= 0 ? this.hists[th]! : undefined;
    const hs = st.hist.get(s);
    const lastT = prev !== undefined ? prev.t : (hs?.walT ?? -Infinity);
    if (t <= lastT) {
      if (t < lastT) return this.reject('out_of_order', s, t);
      const lastH = prev !== undefined ? prev.h : hs?.walLast;
      if (lastH !== undefined && lastH !== null && histogramsEqual(lastH, h)) return st.ref[s]!;
      return this.reject('duplicate_sample_for_timestamp', s, t);
    }
    if (e === null) st.txnH[s] = this.hists.length;
    else e.txnH = this.hists.length;
    this.hists.push({ s, t, h, st: validStart(st0) });
    this.counts.histograms++;
    return st.ref[s]!;
  }

  /** @inheritdoc */
  appendExemplar(ref: SeriesRef, labels: Labels, ex: Exemplar): SeriesRef {
    if (this.done) return 0;
    const s = this.head.seriesForAppend(ref, labels);
    if (typeof s === 'string') return 0;
    this.entry(s);
    this.exs.push({ s, e: ex });
    this.counts.exemplars++;
    return this.st.ref[s]!;
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
    const st = this.st;
    const ts = this.ts;
    const vw = this.vw;
    const ser = this.ser;
    const sts = this.sts;
    const newSeries: number[] = [];
    let k = 0;
    for (let i = 0; i < this.n; i++) {
      const s = ser[i]!;
      const t = ts[i]!;
      const lo = vw[2 * i]!;
      const hi = vw[2 * i + 1]!;
      const wt = st.walT[s]!;
      if (t <= wt) {
        this.counts.samples--;
        if (t < wt) this.reject('out_of_order', s, t);
        else if (hi !== st.walHi[s] || lo !== st.walLo[s]) this.reject('duplicate_sample_for_timestamp', s, t);
        continue;
      }
      st.walT[s] = t;
      st.walHi[s] = hi;
      st.walLo[s] = lo;
      if ((st.flags[s]! & F_WAL_LOGGED) === 0) this.markLogged(s, newSeries);
      if (k !== i) {
        ts[k] = t;
        vw[2 * k] = lo;
        vw[2 * k + 1] = hi;
        ser[k] = s;
        if (sts !== undefined) sts[k] = sts[i]!;
      }
      k++;
    }
    const nf = k;
    const hists: StagedHist[] = [];
    for (const x of this.hists) {
      const hs = head.histState(x.s);
      if (x.t <= hs.walT) {
        this.counts.histograms--;
        if (x.t < hs.walT) this.reject('out_of_order', x.s, x.t);
        else if (hs.walLast === null || !histogramsEqual(hs.walLast, x.h)) this.reject('duplicate_sample_for_timestamp', x.s, x.t);
        continue;
      }
      hs.walT = x.t;
      hs.walLast = x.h;
      this.markLogged(x.s, newSeries);
      hists.push(x);
    }
    for (const x of this.exs) this.markLogged(x.s, newSeries);

    const records: WalRecord[] = [];
    if (head.hasWal) this.buildRecords(records, newSeries, nf, hists);

    if (!head.hasWal) {
      // No WAL: nothing to wait for; apply synchronously in call order.
      this.apply(newSeries, nf, hists);
      return;
    }
    await head.commitRecords(
      records,
      () => this.apply(newSeries, nf, hists),
      () => this.undo(newSeries, nf, hists),
    );
  }

  private markLogged(s: number, newSeries: number[]): void {
    const st = this.st;
    if ((st.flags[s]! & F_WAL_LOGGED) === 0) {
      st.flags[s]! |= F_WAL_LOGGED;
      newSeries.push(s);
    }
  }

  private apply(newSeries: number[], nf: number, hists: StagedHist[]): void {
    const head = this.head;
    const ser = this.ser;
    const ts = this.ts;
    const vw = this.vw;
    try {
      for (const s of newSeries) head.activate(s);
      const sts = this.sts;
      if (sts === undefined) for (let i = 0; i < nf; i++) head.applyFloat(ser[i]!, ts[i]!, vw[2 * i + 1]!, vw[2 * i]!);
      else {
        for (let i = 0; i < nf; i++) {
          if (sts[i] !== 0) head.applyFloatWithStart(ser[i]!, ts[i]!, vw[2 * i + 1]!, vw[2 * i]!, sts[i]!);
          else head.applyFloat(ser[i]!, ts[i]!, vw[2 * i + 1]!, vw[2 * i]!);
        }
      }
      for (const x of hists) head.applyHistogram(x.s, x.t, x.h, x.st);
      for (const x of this.exs) head.applyExemplar(x.s, x.e);
      for (const m of this.meta) head.applyMetadata(m.metric, m.md);
      head.metrics.appended(nf + hists.length);
    } finally {
      this.release();
    }
  }

  private undo(newSeries: number[], nf: number, hists: StagedHist[]): void {
    const st = this.st;
    for (const s of newSeries) st.flags[s]! &= ~F_WAL_LOGGED;
    for (let i = 0; i < nf; i++) this.head.resetWalState(this.ser[i]!);
    for (const x of hists) this.head.resetWalState(x.s);
    this.release();
  }

  /** The WAL records of this transaction: new series first, then samples, histograms, exemplars, metadata. */
  private buildRecords(out: WalRecord[], newSeries: number[], nf: number, hists: StagedHist[]): void {
    const ser = this.ser;
    const st = this.st;
    if (newSeries.length > 0) out.push({ kind: 'series', series: newSeries.map((s) => ({ ref: st.ref[s]!, labels: st.labels(s) })) });
    if (nf > 0) {
      const refs = this.head.walRefs(nf);
      for (let i = 0; i < nf; i++) refs[i] = st.ref[ser[i]!]!;
      out.push(this.sts !== undefined ? { kind: 'samples', n: nf, refs, ts: this.ts, vs: this.vs, sts: this.sts } : { kind: 'samples', n: nf, refs, ts: this.ts, vs: this.vs });
    }
    if (hists.length > 0) out.push({ kind: 'histograms', samples: hists.map((x) => (x.st !== 0 ? { ref: st.ref[x.s]!, t: x.t, h: x.h, st: x.st } : { ref: st.ref[x.s]!, t: x.t, h: x.h })) });
    if (this.exs.length > 0) out.push({ kind: 'exemplars', exemplars: this.exs.map((x) => ({ ref: st.ref[x.s]!, e: x.e })) });
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
    const st = this.st;
    for (const s of this.claimed) {
      if (st.txn[s] === this.id) st.txn[s] = 0;
      this.head.release(s);
    }
    this.claimed.length = 0;
    for (const s of this.shared.keys()) this.head.release(s);
    this.shared.clear();
    this.head.recycleBuffers({ ts: this.ts, vs: this.vs, vw: this.vw, ser: this.ser });
  }
}

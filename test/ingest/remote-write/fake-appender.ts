/**
 * A small in-memory storage for remote-write tests: per-series in-order checks like the head
 * (out_of_order, duplicate_sample_for_timestamp, too_old), transactions (staged until
 * commit), a `hasSeries` check and a way to drop series (retention), and call counters.
 */
import type { FloatHistogram } from '../../../src/model/histogram.js';
import type { Labels } from '../../../src/model/labels.js';
import { labelsKey, labelsToString } from '../../../src/model/labels.js';
import type { Exemplar, MetricMetadata } from '../../../src/model/samples.js';
import { float64Bits } from '../../../src/model/samples.js';
import type { Appendable, Appender, RejectReason, Rejection, SeriesRef } from '../../../src/storage/interface.js';

export interface FakeSeries {
  readonly ref: number;
  readonly labels: Labels;
  readonly samples: { t: number; v: number }[];
  readonly histograms: { t: number; h: FloatHistogram }[];
  readonly exemplars: Exemplar[];
}

export class FakeStorage implements Appendable {
  readonly series = new Map<string, FakeSeries>();
  readonly byRef = new Map<number, FakeSeries>();
  readonly metadata = new Map<string, MetricMetadata>();
  nextRef = 1;
  /** When set, commit() rejects with it. */
  commitError: Error | null = null;
  /** When set, commit() waits for this promise first. */
  commitGate: Promise<void> | null = null;
  /** Samples older than this are rejected as too_old. */
  minValidTime = -Infinity;
  /** Appends that arrived with a ref this storage knows (fast path). */
  refHits = 0;
  /** Appends that came with ref 0 or an unknown ref. */
  refMisses = 0;
  commits = 0;
  rollbacks = 0;

  appender(): Appender {
    return new FakeAppender(this);
  }

  hasSeries = (ref: SeriesRef): boolean => this.byRef.has(ref);

  /** Simulates retention dropping a series. */
  drop(ref: number): void {
    const s = this.byRef.get(ref);
    if (s === undefined) return;
    this.byRef.delete(ref);
    this.series.delete(labelsKey(s.labels));
  }

  get(labels: Labels): FakeSeries | undefined {
    return this.series.get(labelsKey(labels));
  }

  /** All float samples, keyed by the label string. */
  dump(): Record<string, { t: number; v: number }[]> {
    const out: Record<string, { t: number; v: number }[]> = {};
    for (const s of this.series.values()) out[labelsToString(s.labels)] = s.samples;
    return out;
  }
}

type Op =
  | { kind: 'sample'; s: FakeSeries; t: number; v: number }
  | { kind: 'histogram'; s: FakeSeries; t: number; h: FloatHistogram }
  | { kind: 'exemplar'; s: FakeSeries; e: Exemplar }
  | { kind: 'metadata'; name: string; md: MetricMetadata };

function sameBits(a: number, b: number): boolean {
  const [ah, al] = float64Bits(a);
  const [bh, bl] = float64Bits(b);
  return ah === bh && al === bl;
}

class FakeAppender implements Appender {
  private readonly ops: Op[] = [];
  private readonly created: FakeSeries[] = [];
  private readonly lastT = new Map<FakeSeries, { t: number; v: number }>();
  private readonly lastHT = new Map<FakeSeries, number>();
  readonly counts = { samples: 0, histograms: 0, exemplars: 0 };
  readonly rejected: { total: number; byReason: Map<RejectReason, number>; first: Rejection[] } = {
    total: 0,
    byReason: new Map(),
    first: [],
  };

  constructor(private readonly st: FakeStorage) {}

  private resolve(ref: SeriesRef, labels: Labels): FakeSeries {
    if (ref !== 0) {
      const s = this.st.byRef.get(ref);
      if (s !== undefined) {
        this.st.refHits++;
        return s;
      }
    }
    this.st.refMisses++;
    const key = labelsKey(labels);
    let s = this.st.series.get(key);
    if (s === undefined) {
      s = { ref: this.st.nextRef++, labels, samples: [], histograms: [], exemplars: [] };
      this.st.series.set(key, s);
      this.st.byRef.set(s.ref, s);
      this.created.push(s);
    }
    return s;
  }

  private reject(reason: RejectReason, labels: Labels, t: number, message: string): 0 {
    this.rejected.total++;
    this.rejected.byReason.set(reason, (this.rejected.byReason.get(reason) ?? 0) + 1);
    if (this.rejected.first.length < 10) this.rejected.first.push({ reason, labels, t, message });
    return 0;
  }

  append(ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
    const s = this.resolve(ref, labels);
    if (t < this.st.minValidTime) return this.reject('too_old', s.labels, t, 'sample too old');
    const last = this.lastT.get(s) ?? s.samples[s.samples.length - 1];
    if (last !== undefined) {
      if (t < last.t) return this.reject('out_of_order', s.labels, t, `out of order sample (last t=${last.t})`);
      if (t === last.t) {
        if (sameBits(v, last.v)) return s.ref;
        return this.reject('duplicate_sample_for_timestamp', s.labels, t, 'duplicate sample for timestamp');
      }
    }
    this.lastT.set(s, { t, v });
    this.ops.push({ kind: 'sample', s, t, v });
    this.counts.samples++;
    return s.ref;
  }

  appendHistogram(ref: SeriesRef, labels: Labels, t: number, h: FloatHistogram): SeriesRef {
    const s = this.resolve(ref, labels);
    const last = this.lastHT.get(s) ?? s.histograms[s.histograms.length - 1]?.t;
    if (last !== undefined && t <= last) return this.reject('out_of_order', s.labels, t, 'out of order histogram');
    this.lastHT.set(s, t);
    this.ops.push({ kind: 'histogram', s, t, h });
    this.counts.histograms++;
    return s.ref;
  }

  appendExemplar(ref: SeriesRef, labels: Labels, e: Exemplar): SeriesRef {
    const s = this.resolve(ref, labels);
    this.ops.push({ kind: 'exemplar', s, e });
    this.counts.exemplars++;
    return s.ref;
  }

  updateMetadata(metricName: string, md: MetricMetadata): void {
    this.ops.push({ kind: 'metadata', name: metricName, md });
  }

  async commit(): Promise<void> {
    if (this.st.commitGate !== null) await this.st.commitGate;
    if (this.st.commitError !== null) {
      this.rollback();
      throw this.st.commitError;
    }
    this.st.commits++;
    for (const op of this.ops) {
      switch (op.kind) {
        case 'sample':
          op.s.samples.push({ t: op.t, v: op.v });
          break;
        case 'histogram':
          op.s.histograms.push({ t: op.t, h: op.h });
          break;
        case 'exemplar':
          op.s.exemplars.push(op.e);
          break;
        case 'metadata':
          this.st.metadata.set(op.name, op.md);
          break;
      }
    }
    this.ops.length = 0;
  }

  rollback(): void {
    this.st.rollbacks++;
    this.ops.length = 0;
    for (const s of this.created) {
      if (s.samples.length === 0 && s.histograms.length === 0 && s.exemplars.length === 0) this.st.drop(s.ref);
    }
  }
}

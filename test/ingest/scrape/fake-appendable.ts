/** An in-memory Appendable that records committed transactions (scrape tests). */
import { labelsKey, labelsGet, type Labels } from '../../../src/model/labels.js';
import type { Exemplar, MetricMetadata } from '../../../src/model/samples.js';
import type { Appendable, Appender, RejectReason, Rejection, SeriesRef } from '../../../src/storage/interface.js';
import type { FloatHistogram } from '../../../src/model/histogram.js';

export interface RecordedSample {
  readonly labels: Labels;
  readonly t: number;
  readonly v: number;
}

export interface Transaction {
  readonly samples: RecordedSample[];
  readonly exemplars: { labels: Labels; e: Exemplar }[];
  readonly metadata: Map<string, MetricMetadata>;
}

/** Records commits; `failCommit` makes the next commit reject. */
export class FakeAppendable implements Appendable {
  readonly commits: Transaction[] = [];
  rollbacks = 0;
  failCommit = false;
  private readonly refs = new Map<string, number>();

  appender(): Appender {
    const tx: Transaction = { samples: [], exemplars: [], metadata: new Map() };
    let done = false;
    const refFor = (ls: Labels): number => {
      const k = labelsKey(ls);
      let r = this.refs.get(k);
      if (r === undefined) {
        r = this.refs.size + 1;
        this.refs.set(k, r);
      }
      return r;
    };
    const self = this;
    return {
      append(_ref: SeriesRef, labels: Labels, t: number, v: number) {
        tx.samples.push({ labels, t, v });
        return refFor(labels);
      },
      appendHistogram(_ref: SeriesRef, labels: Labels, _t: number, _h: FloatHistogram) {
        return refFor(labels);
      },
      appendExemplar(_ref: SeriesRef, labels: Labels, e: Exemplar) {
        tx.exemplars.push({ labels, e });
        return refFor(labels);
      },
      updateMetadata(name: string, md: MetricMetadata) {
        tx.metadata.set(name, md);
      },
      get counts() {
        return { samples: tx.samples.length, histograms: 0, exemplars: tx.exemplars.length };
      },
      rejected: { total: 0, byReason: new Map<RejectReason, number>(), first: [] as Rejection[] },
      async commit() {
        if (done) throw new Error('transaction already finished');
        done = true;
        if (self.failCommit) {
          self.failCommit = false;
          throw new Error('injected commit failure');
        }
        self.commits.push(tx);
      },
      rollback() {
        if (done) throw new Error('transaction already finished');
        done = true;
        self.rollbacks++;
      },
    };
  }

  /** The last committed transaction. */
  last(): Transaction {
    const t = this.commits[this.commits.length - 1];
    if (!t) throw new Error('no commits');
    return t;
  }

  /** Value of the first sample named `name` in a transaction (matching optional labels). */
  static value(tx: Transaction, name: string, match: Record<string, string> = {}): number | undefined {
    const s = tx.samples.find((x) => labelsGet(x.labels, '__name__') === name && Object.entries(match).every(([k, v]) => labelsGet(x.labels, k) === v));
    return s?.v;
  }
}

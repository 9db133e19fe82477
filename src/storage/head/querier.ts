/** Read access to the head over a time range. */
import { LimitError } from '../../model/errors.js';
import type { Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matchers.js';
import type { Querier, SelectParams, Series, SeriesSamples } from '../interface.js';
import type { Head } from './head.js';
import { hasHistogramIn, histogramsIn } from './series.js';
import { F_VISIBLE } from './series-table.js';

const NO_FLOATS = new Float64Array(0);

/**
 * A selected head series. Labels are materialised at select time (the slot may be truncated
 * and reused before they are read); samples decode lazily.
 */
class HeadSeries implements Series {
  readonly labels: Labels;

  constructor(
    private readonly head: Head,
    private readonly ix: number,
    private readonly ref: number,
    private readonly mint: number,
    private readonly maxt: number,
  ) {
    this.labels = head.reader.sharedLabels(ix);
  }

  samples(): SeriesSamples {
    const st = this.head.series;
    // The slot may have been truncated away (and reused) since the select.
    if (st.ref[this.ix] !== this.ref) return { t: NO_FLOATS, v: NO_FLOATS, histograms: [] };
    const f = this.head.reader.floatsIn(this.ix, this.mint, this.maxt);
    const histograms = histogramsIn(st.hist.get(this.ix), this.mint, this.maxt);
    // Start timestamps: only series that ever had one keep runs.
    const starts = st.starts.get(this.ix);
    const sts = starts === undefined ? undefined : starts.column(f.t);
    return sts === undefined ? { t: f.t, v: f.v, histograms } : { t: f.t, v: f.v, histograms, st: sts };
  }
}

/**
 * A series selected with the `latestOnly` hint: its newest float sample was read at select time
 * (without decoding when it is the series' last value) into columns shared by the whole select
 * (`k` is its index there, -1 when it has none); histograms still decode lazily.
 */
class LatestSeries implements Series {
  readonly labels: Labels;

  constructor(
    private readonly head: Head,
    private readonly ix: number,
    private readonly ref: number,
    private readonly mint: number,
    private readonly maxt: number,
    private readonly cols: { t: Float64Array; v: Float64Array },
    private readonly k: number,
  ) {
    this.labels = head.reader.sharedLabels(ix);
  }

  samples(): SeriesSamples {
    const st = this.head.series;
    const hs = st.ref[this.ix] === this.ref ? histogramsIn(st.hist.get(this.ix), this.mint, this.maxt) : [];
    const k = this.k;
    if (k < 0) return { t: NO_FLOATS, v: NO_FLOATS, histograms: hs };
    const t = this.cols.t.subarray(k, k + 1);
    const v = this.cols.v.subarray(k, k + 1);
    const starts = st.ref[this.ix] === this.ref ? st.starts.get(this.ix) : undefined;
    const sts = starts === undefined ? undefined : starts.column(t);
    return sts === undefined ? { t, v, histograms: hs } : { t, v, histograms: hs, st: sts };
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) {
    throw signal.reason instanceof Error ? signal.reason : new Error('select aborted', { cause: signal.reason });
  }
}

/** A querier over the head for [mint, maxt] (inclusive). */
export class HeadQuerier implements Querier {
  constructor(
    private readonly head: Head,
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  /** Series matching all matchers with at least one sample in the range (querier ∩ params). */
  select(p: SelectParams): Series[] {
    throwIfAborted(p.signal);
    const mint = Math.max(this.mint, p.mint);
    const maxt = Math.min(this.maxt, p.maxt);
    if (mint > maxt) return [];
    const refs = this.head.postings.forMatchers(p.matchers);
    const st = this.head.series;
    const rd = this.head.reader;
    // Visible slots first, sorted by rank (label order) before anything is materialised, so
    // the sort compares numbers and the Series come out in order.
    const ixs = new Int32Array(refs.length);
    let n = 0;
    for (let i = 0; i < refs.length; i++) {
      const ix = st.slotOf(refs[i]!);
      if (ix >= 0 && (st.flags[ix]! & F_VISIBLE) !== 0) ixs[n++] = ix;
    }
    throwIfAborted(p.signal);
    if (p.sorted !== false) rd.order.sort(ixs, n);
    const out: Series[] = [];
    const latest = p.latestOnly === true;
    const last = { t: 0, hi: 0, lo: 0 };
    // Newest samples of a latestOnly select: one pair of columns for all series (values
    // written as bit words, so staleness markers stay exact).
    const cols = latest ? { t: new Float64Array(n), v: new Float64Array(n) } : undefined;
    const words = cols ? new Uint32Array(cols.v.buffer) : undefined;
    let k = 0;
    for (let i = 0; i < n; i++) {
      if ((i & 1023) === 1023) throwIfAborted(p.signal);
      const ix = ixs[i]!;
      const ref = st.ref[ix]!;
      if (cols && words) {
        const hasFloat = rd.lastFloatIn(ix, mint, maxt, last);
        if (!hasFloat && !hasHistogramIn(st.hist.get(ix), mint, maxt)) continue;
        let at = -1;
        if (hasFloat) {
          at = k++;
          cols.t[at] = last.t;
          words[2 * at] = last.lo;
          words[2 * at + 1] = last.hi;
        }
        out.push(new LatestSeries(this.head, ix, ref, mint, maxt, cols, at));
      } else {
        if (!rd.floatPresentIn(ix, mint, maxt) && !hasHistogramIn(st.hist.get(ix), mint, maxt)) continue;
        out.push(new HeadSeries(this.head, ix, ref, mint, maxt));
      }
      if (p.limit !== undefined && out.length > p.limit) {
        throw new LimitError(`the query selects more than ${p.limit} series`, 'series', 422);
      }
    }
    return out;
  }

  private overlapsHead(): boolean {
    const st = this.head.stats();
    return st.series > 0 && this.mint <= st.maxTime && this.maxt >= st.minTime;
  }

  private matching(matchers: readonly Matcher[]): number[] {
    const out: number[] = [];
    const st = this.head.series;
    for (const ref of this.head.postings.forMatchers(matchers)) {
      const ix = st.slotOf(ref);
      if (ix >= 0 && (st.flags[ix]! & F_VISIBLE) !== 0) out.push(ix);
    }
    return out;
  }

  /** Sorted label names of series matching (all series when no matchers). */
  labelNames(matchers?: readonly Matcher[]): string[] {
    if (!this.overlapsHead()) return [];
    if (matchers === undefined || matchers.length === 0) return this.head.postings.names();
    const names = new Set<string>();
    const st = this.head.series;
    for (const ix of this.matching(matchers)) for (const n of st.labelNames(ix)) names.add(n);
    return [...names].sort();
  }

  /** Sorted values of label `name` among series matching. */
  labelValues(name: string, matchers?: readonly Matcher[]): string[] {
    if (!this.overlapsHead()) return [];
    if (matchers === undefined || matchers.length === 0) return this.head.postings.valueNames(name).sort();
    const values = new Set<string>();
    const st = this.head.series;
    for (const ix of this.matching(matchers)) {
      const v = st.labelValue(ix, name);
      if (v !== '') values.add(v);
    }
    return [...values].sort();
  }

  /** Nothing to release. */
  close(): void {}
}

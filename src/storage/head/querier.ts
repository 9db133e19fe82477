/** Read access to the head over a time range. */
import { LimitError } from '../../model/errors.js';
import { type Labels, labelsCompare, labelsGet } from '../../model/labels.js';
import type { Matcher } from '../../model/matchers.js';
import type { Querier, SelectParams, Series, SeriesSamples } from '../interface.js';
import type { Head } from './head.js';
import type { MemSeries } from './series.js';

/** A selected head series; decodes lazily. */
class HeadSeries implements Series {
  constructor(
    private readonly s: MemSeries,
    private readonly mint: number,
    private readonly maxt: number,
  ) {}

  get labels(): Labels {
    return this.s.labels;
  }

  samples(): SeriesSamples {
    return this.s.samplesIn(this.mint, this.maxt);
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
    const out: Series[] = [];
    for (let i = 0; i < refs.length; i++) {
      if ((i & 1023) === 1023) throwIfAborted(p.signal);
      const s = this.head.byRef.get(refs[i]!);
      if (s === undefined || !s.visible || !s.hasSampleIn(mint, maxt)) continue;
      out.push(new HeadSeries(s, mint, maxt));
      if (p.limit !== undefined && out.length > p.limit) {
        throw new LimitError(`the query selects more than ${p.limit} series`, 'series', 422);
      }
    }
    if (p.sorted !== false) out.sort((a, b) => labelsCompare(a.labels, b.labels));
    return out;
  }

  private overlapsHead(): boolean {
    const st = this.head.stats();
    return st.series > 0 && this.mint <= st.maxTime && this.maxt >= st.minTime;
  }

  private matching(matchers: readonly Matcher[]): MemSeries[] {
    const out: MemSeries[] = [];
    for (const ref of this.head.postings.forMatchers(matchers)) {
      const s = this.head.byRef.get(ref);
      if (s !== undefined && s.visible) out.push(s);
    }
    return out;
  }

  /** Sorted label names of series matching (all series when no matchers). */
  labelNames(matchers?: readonly Matcher[]): string[] {
    if (!this.overlapsHead()) return [];
    if (matchers === undefined || matchers.length === 0) return this.head.postings.names();
    const names = new Set<string>();
    for (const s of this.matching(matchers)) for (const l of s.labels) names.add(l.name);
    return [...names].sort();
  }

  /** Sorted values of label `name` among series matching. */
  labelValues(name: string, matchers?: readonly Matcher[]): string[] {
    if (!this.overlapsHead()) return [];
    if (matchers === undefined || matchers.length === 0) return [...this.head.postings.values(name).keys()].sort();
    const values = new Set<string>();
    for (const s of this.matching(matchers)) {
      const v = labelsGet(s.labels, name);
      if (v !== '') values.add(v);
    }
    return [...values].sort();
  }

  /** Nothing to release. */
  close(): void {}
}

/**
 * An uncompressed in-memory {@link Storage} for tests: series keyed by label set, samples kept
 * in arrays sorted by time. Staleness markers are tracked with a flag (JS arrays may
 * canonicalise NaN payloads) and written back bit-exact into the Float64Arrays it returns.
 */
import { CUSTOM_BUCKETS_SCHEMA, CounterResetHint, type FloatHistogram } from '../../src/model/histogram.js';
import { bucketsToMap } from '../../src/promql/engine/histogram-ops.js';
import { labelsCompare, labelsKey, type Labels } from '../../src/model/labels.js';
import { matchesAll, type Matcher } from '../../src/model/matchers.js';
import { STALE_NAN_HI, STALE_NAN_LO, isStaleNaN, type Exemplar, type MetricMetadata } from '../../src/model/samples.js';
import type {
  Appender,
  HeadStats,
  Querier,
  RejectReason,
  Rejection,
  SelectParams,
  Series,
  SeriesRef,
  SeriesSamples,
  Storage,
} from '../../src/storage/interface.js';

interface MemSeries {
  readonly ref: number;
  readonly labels: Labels;
  t: number[];
  v: number[];
  stale: boolean[];
  /** Start timestamps parallel to `t` (0: unknown). */
  st: number[];
  hs: { t: number; h: FloatHistogram; st?: number }[];
  exemplars: Exemplar[];
}

type Pending =
  | { kind: 'float'; labels: Labels; t: number; v: number; st: number }
  | { kind: 'hist'; labels: Labels; t: number; h: FloatHistogram; st: number }
  | { kind: 'ex'; labels: Labels; e: Exemplar };

function insertSorted<T extends { t: number }>(arr: T[], x: T): boolean {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]!.t < x.t) lo = mid + 1;
    else hi = mid;
  }
  if (lo < arr.length && arr[lo]!.t === x.t) {
    arr[lo] = x;
    return false;
  }
  arr.splice(lo, 0, x);
  return true;
}

/** In-memory storage for tests. */
export class MemoryStorage implements Storage {
  private readonly series = new Map<string, MemSeries>();
  private readonly byRef = new Map<number, MemSeries>();
  private readonly meta = new Map<string, MetricMetadata>();
  private nextRef = 1;

  /** Removes all data. */
  clear(): void {
    this.series.clear();
    this.byRef.clear();
    this.meta.clear();
  }

  private getOrCreate(labels: Labels): MemSeries {
    const k = labelsKey(labels);
    let s = this.series.get(k);
    if (!s) {
      s = { ref: this.nextRef++, labels, t: [], v: [], stale: [], st: [], hs: [], exemplars: [] };
      this.series.set(k, s);
      this.byRef.set(s.ref, s);
    }
    return s;
  }

  /**
   * Appends a float sample directly (no transaction); later samples at the same time replace
   * earlier ones. `st`: start timestamp (0: unknown).
   */
  addFloat(labels: Labels, t: number, v: number, st = 0): void {
    const s = this.getOrCreate(labels);
    const stale = isStaleNaN(v);
    const n = s.t.length;
    if (n === 0 || s.t[n - 1]! < t) {
      s.t.push(t);
      s.v.push(v);
      s.stale.push(stale);
      s.st.push(st);
      return;
    }
    const pts = s.t.map((tt, i) => ({ t: tt, v: s.v[i]!, stale: s.stale[i]!, st: s.st[i]! }));
    insertSorted(pts, { t, v, stale, st });
    s.t = pts.map((p) => p.t);
    s.v = pts.map((p) => p.v);
    s.stale = pts.map((p) => p.stale);
    s.st = pts.map((p) => p.st);
  }

  /**
   * Appends a histogram sample directly. Like the TSDB, a sample appended after an earlier one
   * with an `unknown` counter-reset hint gets `not_reset`, or `reset` when a reset is detected.
   */
  addHistogram(labels: Labels, t: number, h: FloatHistogram, st = 0): void {
    const s = this.getOrCreate(labels);
    const prev = s.hs[s.hs.length - 1];
    let hh = h;
    if (prev && prev.t < t && h.counterResetHint === CounterResetHint.Unknown && prev.h.counterResetHint !== CounterResetHint.Gauge) {
      const r = detectReset(prev.h, h);
      if (r !== 'unknown') hh = { ...h, counterResetHint: r ? CounterResetHint.Yes : CounterResetHint.No };
    }
    insertSorted(s.hs, st !== 0 ? { t, h: hh, st } : { t, h: hh });
  }

  appender(): Appender {
    const pending: Pending[] = [];
    const counts = { samples: 0, histograms: 0, exemplars: 0 };
    const rejected = { total: 0, byReason: new Map<RejectReason, number>(), first: [] as Rejection[] };
    const self = this;
    const refOf = (labels: Labels): number => self.getOrCreate(labels).ref;
    return {
      append(_ref: SeriesRef, labels: Labels, t: number, v: number, st = 0): SeriesRef {
        pending.push({ kind: 'float', labels, t, v, st });
        counts.samples++;
        return refOf(labels);
      },
      appendHistogram(_ref: SeriesRef, labels: Labels, t: number, h: FloatHistogram, st = 0): SeriesRef {
        pending.push({ kind: 'hist', labels, t, h, st });
        counts.histograms++;
        return refOf(labels);
      },
      appendExemplar(_ref: SeriesRef, labels: Labels, e: Exemplar): SeriesRef {
        pending.push({ kind: 'ex', labels, e });
        counts.exemplars++;
        return refOf(labels);
      },
      updateMetadata(name: string, md: MetricMetadata): void {
        self.meta.set(name, md);
      },
      counts,
      rejected,
      commit(): Promise<void> {
        for (const p of pending) {
          if (p.kind === 'float') self.addFloat(p.labels, p.t, p.v, p.st);
          else if (p.kind === 'hist') self.addHistogram(p.labels, p.t, p.h, p.st);
          else self.getOrCreate(p.labels).exemplars.push(p.e);
        }
        pending.length = 0;
        return Promise.resolve();
      },
      rollback(): void {
        pending.length = 0;
      },
    };
  }

  querier(mint: number, maxt: number): Querier {
    const all = [...this.series.values()];
    const pick = (matchers?: readonly Matcher[]): MemSeries[] => (matchers && matchers.length ? all.filter((s) => matchesAll(s.labels, matchers)) : all);
    return {
      select(params: SelectParams): Series[] {
        const lo = Math.max(mint, params.mint);
        const hi = Math.min(maxt, params.maxt);
        const out: Series[] = [];
        for (const s of pick(params.matchers)) {
          const data = samplesIn(s, lo, hi);
          if (data.t.length === 0 && data.histograms.length === 0) continue;
          out.push({ labels: s.labels, samples: () => data });
        }
        if (params.sorted !== false) out.sort((a, b) => labelsCompare(a.labels, b.labels));
        if (params.limit !== undefined && out.length > params.limit) throw new Error(`series limit ${params.limit} exceeded`);
        return out;
      },
      labelNames(matchers?: readonly Matcher[]): string[] {
        const names = new Set<string>();
        for (const s of pick(matchers)) for (const l of s.labels) names.add(l.name);
        return [...names].sort();
      },
      labelValues(name: string, matchers?: readonly Matcher[]): string[] {
        const vals = new Set<string>();
        for (const s of pick(matchers)) for (const l of s.labels) if (l.name === name) vals.add(l.value);
        return [...vals].sort();
      },
      close(): void {},
    };
  }

  metadata(metric?: string): Map<string, MetricMetadata[]> {
    const out = new Map<string, MetricMetadata[]>();
    for (const [k, v] of this.meta) if (metric === undefined || metric === k) out.set(k, [v]);
    return out;
  }

  exemplars(matchers: readonly Matcher[], mint: number, maxt: number): { labels: Labels; exemplars: Exemplar[] }[] {
    const out: { labels: Labels; exemplars: Exemplar[] }[] = [];
    for (const s of this.series.values()) {
      if (!matchesAll(s.labels, matchers)) continue;
      const ex = s.exemplars.filter((e) => e.t >= mint && e.t <= maxt);
      if (ex.length) out.push({ labels: s.labels, exemplars: ex });
    }
    return out;
  }

  stats(): HeadStats {
    let samples = 0;
    let minTime = Infinity;
    let maxTime = -Infinity;
    for (const s of this.series.values()) {
      samples += s.t.length + s.hs.length;
      if (s.t.length) {
        minTime = Math.min(minTime, s.t[0]!);
        maxTime = Math.max(maxTime, s.t[s.t.length - 1]!);
      }
    }
    return { series: this.series.size, chunks: 0, samples, chunkBytes: 0, minTime: minTime === Infinity ? 0 : minTime, maxTime: maxTime === -Infinity ? 0 : maxTime };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function detectReset(prev: FloatHistogram, cur: FloatHistogram): boolean | 'unknown' {
  const pc = prev.schema === CUSTOM_BUCKETS_SCHEMA;
  const cc = cur.schema === CUSTOM_BUCKETS_SCHEMA;
  // Switching between exponential and custom buckets cuts a chunk of unknown reset state in the TSDB.
  if (pc !== cc) return 'unknown';
  // So do changed custom bounds (bucket indexes are not comparable across them).
  if (pc && (prev.customValues ?? []).join() !== (cur.customValues ?? []).join()) return 'unknown';
  if (cur.count < prev.count || cur.zeroCount < prev.zeroCount) return true;
  if (cur.schema > prev.schema || cur.zeroThreshold < prev.zeroThreshold) return true;
  if (cur.schema !== prev.schema) return false;
  const dec = (ps: FloatHistogram['positiveSpans'], pb: readonly number[], cs: FloatHistogram['positiveSpans'], cb: readonly number[]): boolean => {
    const a = bucketsToMap(ps, pb);
    const b = bucketsToMap(cs, cb);
    for (const [i, c] of a) if ((b.get(i) ?? 0) < c) return true;
    return false;
  };
  return dec(prev.positiveSpans, prev.positiveBuckets, cur.positiveSpans, cur.positiveBuckets) || dec(prev.negativeSpans, prev.negativeBuckets, cur.negativeSpans, cur.negativeBuckets);
}

function samplesIn(s: MemSeries, lo: number, hi: number): SeriesSamples {
  let a = 0;
  while (a < s.t.length && s.t[a]! < lo) a++;
  let b = a;
  while (b < s.t.length && s.t[b]! <= hi) b++;
  const t = new Float64Array(b - a);
  const v = new Float64Array(b - a);
  const dv = new DataView(v.buffer);
  let st: Float64Array | undefined;
  for (let i = a; i < b; i++) {
    if (s.st[i] !== 0) (st ??= new Float64Array(b - a))[i - a] = s.st[i]!;
    t[i - a] = s.t[i]!;
    if (s.stale[i]) {
      dv.setUint32((i - a) * 8, STALE_NAN_LO, true);
      dv.setUint32((i - a) * 8 + 4, STALE_NAN_HI, true);
    } else v[i - a] = s.v[i]!;
  }
  const histograms = s.hs.filter((p) => p.t >= lo && p.t <= hi);
  return st ? { t, v, histograms, st } : { t, v, histograms };
}

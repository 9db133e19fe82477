/**
 * A small uncompressed in-memory storage for rule unit tests: series keyed by label set,
 * samples appended in time order. Unit tests need no retention, WAL or compression, and time
 * may be anywhere from the epoch to year 2262 (promtool's range), which this store handles
 * without any clock.
 *
 * Staleness markers are kept as a flag per sample (engines may canonicalise NaN payloads in
 * plain arrays) and written back bit-exact into the returned Float64Arrays.
 */
import type { FloatHistogram } from '../../model/histogram.js';
import { labelsCompare, labelsKey, type Labels } from '../../model/labels.js';
import { matchesAll, type Matcher } from '../../model/matchers.js';
import { isStaleNaN, STALE_NAN_HI, STALE_NAN_LO, type Exemplar, type MetricMetadata } from '../../model/samples.js';
import type { Appendable, Appender, Querier, Queryable, RejectReason, Rejection, SelectParams, Series, SeriesRef, SeriesSamples } from '../../storage/interface.js';

interface StoreSeries {
  readonly ref: number;
  readonly labels: Labels;
  readonly t: number[];
  readonly v: number[];
  readonly stale: boolean[];
  readonly hs: { t: number; h: FloatHistogram }[];
}

type Pending = { labels: Labels; t: number; v: number; h?: undefined } | { labels: Labels; t: number; v?: undefined; h: FloatHistogram };

/** In-memory {@link Appendable} + {@link Queryable} for unit tests. */
export class MemoryStore implements Appendable, Queryable {
  private readonly byKey = new Map<string, StoreSeries>();
  private nextRef = 1;

  /** Number of series held. */
  get size(): number {
    return this.byKey.size;
  }

  /** A write transaction; out-of-order samples are rejected, a repeated timestamp keeps the first value. */
  appender(): Appender {
    const pending: Pending[] = [];
    const byReason = new Map<RejectReason, number>();
    const first: Rejection[] = [];
    const rejected = { total: 0, byReason: byReason as ReadonlyMap<RejectReason, number>, first: first as readonly Rejection[] };
    const counts = { samples: 0, histograms: 0, exemplars: 0 };
    const reject = (reason: RejectReason, labels: Labels, t: number): void => {
      rejected.total++;
      byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
      if (first.length < 10) first.push({ reason, labels, t, message: `${reason} at ${t}` });
    };
    const store = this;
    return {
      append(_ref: SeriesRef, labels: Labels, t: number, v: number): SeriesRef {
        if (!Number.isFinite(t)) {
          reject('out_of_order', labels, t);
          return 0;
        }
        pending.push({ labels, t, v });
        counts.samples++;
        return 1;
      },
      appendHistogram(_ref: SeriesRef, labels: Labels, t: number, h: FloatHistogram): SeriesRef {
        pending.push({ labels, t, h });
        counts.histograms++;
        return 1;
      },
      appendExemplar(_ref: SeriesRef, _labels: Labels, _e: Exemplar): SeriesRef {
        return 1;
      },
      updateMetadata(_name: string, _md: MetricMetadata): void {},
      counts,
      rejected,
      commit(): Promise<void> {
        for (const p of pending.splice(0)) {
          if (!store.add(p)) reject('out_of_order', p.labels, p.t);
        }
        return Promise.resolve();
      },
      rollback(): void {
        pending.length = 0;
      },
    };
  }

  private add(p: Pending): boolean {
    const key = labelsKey(p.labels);
    let s = this.byKey.get(key);
    if (!s) {
      s = { ref: this.nextRef++, labels: p.labels, t: [], v: [], stale: [], hs: [] };
      this.byKey.set(key, s);
    }
    const lastF = s.t.length ? s.t[s.t.length - 1]! : -Infinity;
    const lastH = s.hs.length ? s.hs[s.hs.length - 1]!.t : -Infinity;
    if (p.t <= Math.max(lastF, lastH)) return p.t === Math.max(lastF, lastH);
    if (p.h) {
      s.hs.push({ t: p.t, h: p.h });
    } else {
      s.t.push(p.t);
      s.v.push(p.v);
      s.stale.push(isStaleNaN(p.v));
    }
    return true;
  }

  /** Read access over [mint, maxt]. */
  querier(mint: number, maxt: number): Querier {
    const all = [...this.byKey.values()];
    const inRange = (s: StoreSeries, lo: number, hi: number): boolean => s.t.some((t) => t >= lo && t <= hi) || s.hs.some((x) => x.t >= lo && x.t <= hi);
    const matching = (ms: readonly Matcher[] | undefined): StoreSeries[] => all.filter((s) => inRange(s, mint, maxt) && (!ms || matchesAll(s.labels, ms)));
    return {
      select(params: SelectParams): Series[] {
        const lo = Math.max(mint, params.mint);
        const hi = Math.min(maxt, params.maxt);
        const out = all.filter((s) => inRange(s, lo, hi) && matchesAll(s.labels, params.matchers));
        if (params.sorted !== false) out.sort((a, b) => labelsCompare(a.labels, b.labels));
        return out.map((s) => ({ labels: s.labels, samples: () => slice(s, lo, hi) }));
      },
      labelNames(ms?: readonly Matcher[]): string[] {
        const names = new Set<string>();
        for (const s of matching(ms)) for (const l of s.labels) names.add(l.name);
        return [...names].sort();
      },
      labelValues(name: string, ms?: readonly Matcher[]): string[] {
        const vals = new Set<string>();
        for (const s of matching(ms)) for (const l of s.labels) if (l.name === name) vals.add(l.value);
        return [...vals].sort();
      },
      close(): void {},
    };
  }
}

function slice(s: StoreSeries, lo: number, hi: number): SeriesSamples {
  let a = 0;
  while (a < s.t.length && s.t[a]! < lo) a++;
  let b = a;
  while (b < s.t.length && s.t[b]! <= hi) b++;
  const t = new Float64Array(b - a);
  const v = new Float64Array(b - a);
  const bits = new Uint32Array(v.buffer);
  for (let i = a; i < b; i++) {
    t[i - a] = s.t[i]!;
    if (s.stale[i]) {
      // Little-endian layout: low word first.
      bits[2 * (i - a)] = STALE_NAN_LO;
      bits[2 * (i - a) + 1] = STALE_NAN_HI;
    } else {
      v[i - a] = s.v[i]!;
    }
  }
  return { t, v, histograms: s.hs.filter((x) => x.t >= lo && x.t <= hi) };
}

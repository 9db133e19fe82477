/**
 * Compensated sum and mean of many native histograms (sum/avg aggregation, sum_over_time,
 * avg_over_time). All inputs are first brought to one layout (the smallest schema and the widest
 * zero bucket, or the custom bounds they share), then every field (count, sum, zero count, each
 * bucket) is summed with Kahan–Neumaier compensation. The mean divides that sum, unless a field
 * overflows, in which case it switches to an incremental (also compensated) mean: the same
 * strategy as for floats, so histograms with counts near the float64 limit still average.
 */
import { CUSTOM_BUCKETS_SCHEMA, CounterResetHint, type FloatHistogram } from '../../model/histogram.js';
import { bucketsToMap, mapToBuckets, type BucketMap } from './histogram-ops.js';

/** Conditions the caller turns into annotations. */
export interface HistogramAggNotes {
  /** Exponential and custom-bucket histograms were mixed (no result). */
  mixedSchemas(): void;
  /** Custom bounds differed and were reduced to the shared ones. */
  reconciled(): void;
  /** A `reset` and a `not_reset` hint met. */
  conflictingResets(): void;
}

const FIXED = 3; // slots 0..2: count, sum, zero count

interface Layout {
  custom: boolean;
  schema: number;
  zeroThreshold: number;
  customValues?: readonly number[];
  /** Slot of each positive / negative bucket index. */
  pos: Map<number, number>;
  neg: Map<number, number>;
  hint: CounterResetHint;
}

/** Upper bound of exponential bucket `i` at `schema`. */
function expUpper(i: number, schema: number): number {
  return Math.pow(2, i * Math.pow(2, -schema));
}

function reduceTo(m: BucketMap, from: number, to: number): BucketMap {
  if (from === to) return m;
  const out: BucketMap = new Map();
  const shift = from - to;
  for (const [i, c] of m) {
    const j = Math.floor((i - 1) / 2 ** shift) + 1;
    out.set(j, (out.get(j) ?? 0) + c);
  }
  return out;
}

function remapCustom(m: BucketMap, cv: readonly number[], common: readonly number[]): BucketMap {
  const out: BucketMap = new Map();
  for (const [i, c] of m) {
    const upper = i < cv.length ? cv[i]! : Infinity;
    let j = common.findIndex((v) => v >= upper);
    if (j < 0) j = common.length;
    out.set(j, (out.get(j) ?? 0) + c);
  }
  return out;
}

function sameValues(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Sum-of-hints rule: gauge wins, then agreement, otherwise unknown. */
function sumHint(hs: readonly FloatHistogram[], notes: HistogramAggNotes): CounterResetHint {
  let reset = false;
  let notReset = false;
  let gauge = false;
  const first = hs[0]!.counterResetHint;
  let same = true;
  for (const h of hs) {
    const x = h.counterResetHint;
    if (x === CounterResetHint.Yes) reset = true;
    else if (x === CounterResetHint.No) notReset = true;
    else if (x === CounterResetHint.Gauge) gauge = true;
    if (x !== first) same = false;
  }
  if (reset && notReset) notes.conflictingResets();
  if (gauge) return CounterResetHint.Gauge;
  return same ? first : CounterResetHint.Unknown;
}

/** Each input as a dense vector of slots on a common layout; undefined for a schema mix. */
function normalize(hs: readonly FloatHistogram[], notes: HistogramAggNotes): { layout: Layout; rows: Float64Array[] } | undefined {
  const custom = hs[0]!.schema === CUSTOM_BUCKETS_SCHEMA;
  if (hs.some((h) => (h.schema === CUSTOM_BUCKETS_SCHEMA) !== custom)) {
    notes.mixedSchemas();
    return undefined;
  }
  const hint = sumHint(hs, notes);
  const sparse: { pos: BucketMap; neg: BucketMap; zero: number }[] = [];
  const layout: Layout = { custom, schema: hs[0]!.schema, zeroThreshold: 0, pos: new Map(), neg: new Map(), hint };
  if (custom) {
    let common = hs[0]!.customValues ?? [];
    let mismatch = false;
    for (const h of hs) {
      const cv = h.customValues ?? [];
      if (sameValues(cv, common)) continue;
      mismatch = true;
      const set = new Set(cv);
      common = common.filter((v) => set.has(v));
    }
    if (mismatch) notes.reconciled();
    layout.customValues = common;
    for (const h of hs) {
      const m = bucketsToMap(h.positiveSpans, h.positiveBuckets);
      const cv = h.customValues ?? [];
      sparse.push({ pos: sameValues(cv, common) ? m : remapCustom(m, cv, common), neg: new Map(), zero: 0 });
    }
  } else {
    layout.schema = Math.min(...hs.map((h) => h.schema));
    layout.zeroThreshold = Math.max(...hs.map((h) => h.zeroThreshold));
    for (const h of hs) {
      const pos = reduceTo(bucketsToMap(h.positiveSpans, h.positiveBuckets), h.schema, layout.schema);
      const neg = reduceTo(bucketsToMap(h.negativeSpans, h.negativeBuckets), h.schema, layout.schema);
      let zero = h.zeroCount;
      // Buckets that fall inside the widened zero bucket join it.
      if (h.zeroThreshold < layout.zeroThreshold) {
        for (const m of [pos, neg]) {
          for (const [i, c] of m) {
            if (expUpper(i, layout.schema) <= layout.zeroThreshold) {
              zero += c;
              m.delete(i);
            }
          }
        }
      }
      sparse.push({ pos, neg, zero });
    }
  }
  let slots = FIXED;
  for (const s of sparse) {
    for (const i of s.pos.keys()) if (!layout.pos.has(i)) layout.pos.set(i, slots++);
    for (const i of s.neg.keys()) if (!layout.neg.has(i)) layout.neg.set(i, slots++);
  }
  const rows = hs.map((h, k) => {
    const r = new Float64Array(slots);
    const s = sparse[k]!;
    r[0] = h.count;
    r[1] = h.sum;
    r[2] = s.zero;
    for (const [i, c] of s.pos) r[layout.pos.get(i)!]! += c;
    for (const [i, c] of s.neg) r[layout.neg.get(i)!]! += c;
    return r;
  });
  return { layout, rows };
}

function build(layout: Layout, v: Float64Array): FloatHistogram {
  const pick = (slotsOf: Map<number, number>): BucketMap => new Map([...slotsOf].map(([i, slot]) => [i, v[slot]!]));
  const p = mapToBuckets(pick(layout.pos));
  const n = mapToBuckets(pick(layout.neg));
  const h: FloatHistogram = {
    counterResetHint: layout.hint,
    schema: layout.schema,
    zeroThreshold: layout.zeroThreshold,
    zeroCount: v[2]!,
    count: v[0]!,
    sum: v[1]!,
    positiveSpans: p.spans,
    positiveBuckets: p.counts,
    negativeSpans: n.spans,
    negativeBuckets: n.counts,
  };
  return layout.custom ? { ...h, customValues: layout.customValues ?? [] } : h;
}

/** One Kahan–Neumaier step on slot `i`: sum[i] += inc with compensation c[i]. */
function step(sum: Float64Array, c: Float64Array, i: number, inc: number): void {
  const s = sum[i]!;
  const t = s + inc;
  if (t === Infinity || t === -Infinity) c[i] = 0;
  else if (Math.abs(s) >= Math.abs(inc)) c[i]! += s - t + inc;
  else c[i]! += inc - t + s;
  sum[i] = t;
}

/** Compensated sum of the histograms; undefined (after a note) for a schema mix. */
export function histogramSum(hs: readonly FloatHistogram[], notes: HistogramAggNotes): FloatHistogram | undefined {
  if (hs.length === 0) return undefined;
  const norm = normalize(hs, notes);
  if (!norm) return undefined;
  const n = norm.rows[0]!.length;
  const sum = new Float64Array(n);
  const c = new Float64Array(n);
  for (const r of norm.rows) for (let i = 0; i < n; i++) step(sum, c, i, r[i]!);
  for (let i = 0; i < n; i++) if (Number.isFinite(sum[i]!)) sum[i]! += c[i]!;
  return build(norm.layout, sum);
}

/** Mean of the histograms (see the file comment); undefined (after a note) for a schema mix. */
export function histogramMean(hs: readonly FloatHistogram[], notes: HistogramAggNotes): FloatHistogram | undefined {
  if (hs.length === 0) return undefined;
  const norm = normalize(hs, notes);
  if (!norm) return undefined;
  const rows = norm.rows;
  const n = rows[0]!.length;
  const acc = Float64Array.from(rows[0]!);
  const c = new Float64Array(n);
  let incremental = false;
  const nextSum = new Float64Array(n);
  const nextC = new Float64Array(n);
  for (let k = 1; k < rows.length; k++) {
    const r = rows[k]!;
    const count = k + 1;
    if (!incremental) {
      nextSum.set(acc);
      nextC.set(c);
      let overflow = false;
      for (let i = 0; i < n; i++) {
        step(nextSum, nextC, i, r[i]!);
        const t = nextSum[i]!;
        if (t === Infinity || t === -Infinity) overflow = true;
      }
      if (!overflow) {
        acc.set(nextSum);
        c.set(nextC);
        continue;
      }
      // The plain sum would overflow: continue from the mean so far.
      incremental = true;
      for (let i = 0; i < n; i++) {
        acc[i] = acc[i]! / (count - 1);
        c[i] = c[i]! / (count - 1);
      }
    }
    const q = (count - 1) / count;
    for (let i = 0; i < n; i++) {
      acc[i] = q * acc[i]!;
      c[i] = q * c[i]!;
      step(acc, c, i, r[i]! / count);
    }
  }
  const out = new Float64Array(n);
  const div = incremental ? 1 : rows.length;
  for (let i = 0; i < n; i++) out[i] = acc[i]! / div + c[i]! / div;
  return build(norm.layout, out);
}

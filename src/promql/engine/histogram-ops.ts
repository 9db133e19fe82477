/**
 * Native-histogram arithmetic used by operators and aggregations: add, subtract, scale,
 * equality, in the float form of {@link FloatHistogram}. Exponential schemas are reconciled by
 * reducing to the smaller schema; custom-bucket (NHCB) histograms must share bucket bounds.
 */
import { CUSTOM_BUCKETS_SCHEMA, CounterResetHint, type BucketSpan, type FloatHistogram } from '../../model/histogram.js';

/** Sink for info annotations raised by histogram arithmetic. */
export interface HistogramNotes {
  info(msg: string): void;
  warn?(msg: string): void;
}

/** Absolute bucket counts keyed by bucket index. */
export type BucketMap = Map<number, number>;

/** Expands spans + counts into an index → count map. */
export function bucketsToMap(spans: readonly BucketSpan[], counts: readonly number[]): BucketMap {
  const m: BucketMap = new Map();
  let idx = 0;
  let k = 0;
  for (const sp of spans) {
    idx += sp.offset;
    for (let j = 0; j < sp.length; j++) {
      const c = counts[k++] ?? 0;
      m.set(idx, (m.get(idx) ?? 0) + c);
      idx++;
    }
  }
  return m;
}

/** Builds spans + counts from a map, dropping zero-count buckets. */
export function mapToBuckets(m: BucketMap): { spans: BucketSpan[]; counts: number[] } {
  const idxs = [...m.entries()].filter(([, c]) => c !== 0).map(([i]) => i).sort((a, b) => a - b);
  const spans: BucketSpan[] = [];
  const counts: number[] = [];
  let prevEnd: number | undefined;
  let cur: { offset: number; length: number } | undefined;
  for (const i of idxs) {
    if (cur && prevEnd === i) {
      cur.length++;
    } else {
      cur = { offset: prevEnd === undefined ? i : i - prevEnd, length: 1 };
      spans.push(cur);
    }
    prevEnd = i + 1;
    counts.push(m.get(i)!);
  }
  return { spans, counts };
}

function reduce(m: BucketMap, delta: number): BucketMap {
  if (delta <= 0) return m;
  const out: BucketMap = new Map();
  for (const [i, c] of m) {
    const j = ((i - 1) >> delta) + 1;
    out.set(j, (out.get(j) ?? 0) + c);
  }
  return out;
}

function sameCustom(a: FloatHistogram, b: FloatHistogram): boolean {
  const x = a.customValues ?? [];
  const y = b.customValues ?? [];
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

function combine(a: FloatHistogram, b: FloatHistogram, sign: 1 | -1, notes: HistogramNotes, what: string): FloatHistogram | undefined {
  const aCustom = a.schema === CUSTOM_BUCKETS_SCHEMA;
  const bCustom = b.schema === CUSTOM_BUCKETS_SCHEMA;
  if (aCustom !== bCustom) {
    notes.warn?.('vector contains a mix of histograms with exponential and custom buckets schemas');
    return undefined;
  }
  if (aCustom && !sameCustom(a, b)) return combineCustomMismatch(a, b, sign, notes, what);
  const schema = aCustom ? a.schema : Math.min(a.schema, b.schema);
  const pa = reduce(bucketsToMap(a.positiveSpans, a.positiveBuckets), a.schema - schema);
  const pb = reduce(bucketsToMap(b.positiveSpans, b.positiveBuckets), b.schema - schema);
  const na = reduce(bucketsToMap(a.negativeSpans, a.negativeBuckets), a.schema - schema);
  const nb = reduce(bucketsToMap(b.negativeSpans, b.negativeBuckets), b.schema - schema);
  for (const [i, c] of pb) pa.set(i, (pa.get(i) ?? 0) + sign * c);
  for (const [i, c] of nb) na.set(i, (na.get(i) ?? 0) + sign * c);
  const p = mapToBuckets(pa);
  const n = mapToBuckets(na);
  const hint = sign < 0 ? CounterResetHint.Gauge : combineHints(a.counterResetHint, b.counterResetHint, notes);
  const out: FloatHistogram = {
    counterResetHint: hint,
    schema,
    zeroThreshold: Math.max(a.zeroThreshold, b.zeroThreshold),
    zeroCount: a.zeroCount + sign * b.zeroCount,
    count: a.count + sign * b.count,
    sum: a.sum + sign * b.sum,
    positiveSpans: p.spans,
    negativeSpans: n.spans,
    positiveBuckets: p.counts,
    negativeBuckets: n.counts,
  };
  return aCustom ? { ...out, customValues: a.customValues ?? [] } : out;
}

/**
 * Counter-reset hint of a sum: equal hints stay, gauge wins, then unknown; a direct collision of
 * reset and not-reset becomes unknown with a warning.
 */
export function combineHints(a: CounterResetHint, b: CounterResetHint, notes?: HistogramNotes): CounterResetHint {
  if (a === b) return a;
  if (a === CounterResetHint.Gauge || b === CounterResetHint.Gauge) return CounterResetHint.Gauge;
  if (a === CounterResetHint.Unknown || b === CounterResetHint.Unknown) return CounterResetHint.Unknown;
  notes?.warn?.('conflicting counter resets during histogram aggregation');
  return CounterResetHint.Unknown;
}

/** NHCB histograms with different bounds: keep only the shared bounds (buckets merge upward). */
function combineCustomMismatch(a: FloatHistogram, b: FloatHistogram, sign: 1 | -1, notes: HistogramNotes, what: string): FloatHistogram {
  const av = a.customValues ?? [];
  const bv = b.customValues ?? [];
  const bset = new Set(bv);
  const shared = av.filter((v) => bset.has(v));
  const remap = (h: FloatHistogram): BucketMap => {
    const src = bucketsToMap(h.positiveSpans, h.positiveBuckets);
    const cv = h.customValues ?? [];
    const out: BucketMap = new Map();
    for (const [i, c] of src) {
      const upper = i < cv.length ? cv[i]! : Infinity;
      let j = shared.findIndex((v) => v >= upper);
      if (j < 0) j = shared.length;
      out.set(j, (out.get(j) ?? 0) + c);
    }
    return out;
  };
  const pa = remap(a);
  for (const [i, c] of remap(b)) pa.set(i, (pa.get(i) ?? 0) + sign * c);
  const p = mapToBuckets(pa);
  notes.info(`mismatched custom buckets were reconciled during ${what}`);
  return {
    counterResetHint: sign < 0 ? CounterResetHint.Gauge : CounterResetHint.Unknown,
    schema: CUSTOM_BUCKETS_SCHEMA,
    zeroThreshold: 0,
    zeroCount: 0,
    count: a.count + sign * b.count,
    sum: a.sum + sign * b.sum,
    positiveSpans: p.spans,
    negativeSpans: [],
    positiveBuckets: p.counts,
    negativeBuckets: [],
    customValues: shared,
  };
}

/** a + b, or undefined when incompatible (a warning is noted). */
export function histogramAdd(a: FloatHistogram, b: FloatHistogram, notes: HistogramNotes, what = 'addition'): FloatHistogram | undefined {
  return combine(a, b, 1, notes, what);
}

/** a - b, or undefined when incompatible. */
export function histogramSub(a: FloatHistogram, b: FloatHistogram, notes: HistogramNotes): FloatHistogram | undefined {
  return combine(a, b, -1, notes, 'subtraction');
}

/**
 * Multiplies every count and the sum by `f` (`divisor` set when the caller divides). Division by
 * zero yields only count, sum and zero count (Inf or NaN) and no buckets, as in Prometheus.
 */
export function histogramScale(h: FloatHistogram, f: number, divisor?: number): FloatHistogram {
  if (divisor === 0) {
    return {
      ...h,
      zeroCount: h.zeroCount / 0,
      count: h.count / 0,
      sum: h.sum / 0,
      positiveSpans: [],
      negativeSpans: [],
      positiveBuckets: [],
      negativeBuckets: [],
    };
  }
  const mul = (c: number): number => (divisor !== undefined ? c / divisor : c * f);
  return {
    ...h,
    counterResetHint: f < 0 || (divisor !== undefined && divisor < 0) ? CounterResetHint.Gauge : h.counterResetHint,
    zeroCount: mul(h.zeroCount),
    count: mul(h.count),
    sum: mul(h.sum),
    positiveBuckets: h.positiveBuckets.map(mul),
    negativeBuckets: h.negativeBuckets.map(mul),
  };
}

function mapsEqual(a: BucketMap, b: BucketMap): boolean {
  const ka = [...a.entries()].filter(([, c]) => c !== 0);
  const kb = [...b.entries()].filter(([, c]) => c !== 0);
  if (ka.length !== kb.length) return false;
  for (const [i, c] of ka) {
    const d = b.get(i);
    if (d === undefined || !(d === c || (d !== d && c !== c))) return false;
  }
  return true;
}

function feq(a: number, b: number): boolean {
  return a === b || (a !== a && b !== b);
}

/** Structural equality (buckets compared after dropping empty ones). */
export function histogramEquals(a: FloatHistogram, b: FloatHistogram): boolean {
  return (
    a.schema === b.schema &&
    feq(a.count, b.count) &&
    feq(a.sum, b.sum) &&
    feq(a.zeroCount, b.zeroCount) &&
    a.zeroThreshold === b.zeroThreshold &&
    (a.schema !== CUSTOM_BUCKETS_SCHEMA || sameCustom(a, b)) &&
    mapsEqual(bucketsToMap(a.positiveSpans, a.positiveBuckets), bucketsToMap(b.positiveSpans, b.positiveBuckets)) &&
    mapsEqual(bucketsToMap(a.negativeSpans, a.negativeBuckets), bucketsToMap(b.negativeSpans, b.negativeBuckets))
  );
}

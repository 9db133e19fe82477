/**
 * Prometheus HTTP API JSON for query results (`data` of /api/v1/query and /query_range), with
 * floats formatted exactly as Prometheus does (Go `strconv.FormatFloat(f, 'f', -1, 64)`).
 */
import { assertNever } from '../../model/errors.js';
import { CUSTOM_BUCKETS_SCHEMA, type BucketSpan, type FloatHistogram } from '../../model/histogram.js';
import { labelsToObject, type Labels } from '../../model/labels.js';
import { dropMetricName } from './labels.js';
import type { Value } from './values.js';

/**
 * Shortest round-trip decimal without exponent: `NaN`, `+Inf`, `-Inf`, `1e21` →
 * `1000000000000000000000`, `1e-7` → `0.0000001`.
 */
export function formatFloat(f: number): string {
  if (f !== f) return 'NaN';
  if (f === Infinity) return '+Inf';
  if (f === -Infinity) return '-Inf';
  if (Object.is(f, -0)) return '-0';
  const s = String(f);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const neg = s[0] === '-';
  const mant = s.slice(neg ? 1 : 0, e);
  const exp = Number(s.slice(e + 1));
  const dot = mant.indexOf('.');
  const digits = dot < 0 ? mant : mant.slice(0, dot) + mant.slice(dot + 1);
  const intLen = (dot < 0 ? mant.length : dot) + exp;
  let out: string;
  if (intLen <= 0) out = '0.' + '0'.repeat(-intLen) + digits;
  else if (intLen >= digits.length) out = digits + '0'.repeat(intLen - digits.length);
  else out = digits.slice(0, intLen) + '.' + digits.slice(intLen);
  return neg ? '-' + out : out;
}

/** Timestamp (ms) as Prometheus's API renders it: unix seconds as a JSON number. */
export function formatTimestamp(ms: number): number {
  return ms / 1000;
}

/** One histogram bucket as the API renders it: [boundaryRule, lower, upper, count]. */
export type JsonBucket = [number, string, string, string];

/** Histogram JSON body. */
export interface JsonHistogram {
  count: string;
  sum: string;
  buckets?: JsonBucket[];
}

function upperBound(schema: number, idx: number): number {
  if (schema === 0) return Math.pow(2, idx);
  if (schema > 0) return Math.pow(2, idx / Math.pow(2, schema));
  return Math.pow(2, idx * Math.pow(2, -schema));
}

function spansToIndices(spans: readonly BucketSpan[]): number[] {
  const out: number[] = [];
  let idx = 0;
  for (const sp of spans) {
    idx += sp.offset;
    for (let j = 0; j < sp.length; j++) out.push(idx++);
  }
  return out;
}

/** Renders a native histogram with its non-empty buckets in ascending bound order. */
export function formatHistogram(h: FloatHistogram): JsonHistogram {
  const buckets: JsonBucket[] = [];
  if (h.schema === CUSTOM_BUCKETS_SCHEMA) {
    const cv = h.customValues ?? [];
    const idxs = spansToIndices(h.positiveSpans);
    idxs.forEach((i, k) => {
      const c = h.positiveBuckets[k] ?? 0;
      if (c === 0) return;
      const lower = i === 0 ? -Infinity : (cv[i - 1] ?? Infinity);
      const upper = i < cv.length ? cv[i]! : Infinity;
      buckets.push([0, formatFloat(lower), formatFloat(upper), formatFloat(c)]);
    });
  } else {
    const neg = spansToIndices(h.negativeSpans);
    for (let k = neg.length - 1; k >= 0; k--) {
      const c = h.negativeBuckets[k] ?? 0;
      if (c === 0) continue;
      const i = neg[k]!;
      buckets.push([1, formatFloat(-upperBound(h.schema, i)), formatFloat(-upperBound(h.schema, i - 1)), formatFloat(c)]);
    }
    if (h.zeroCount !== 0) buckets.push([3, formatFloat(-h.zeroThreshold), formatFloat(h.zeroThreshold), formatFloat(h.zeroCount)]);
    const pos = spansToIndices(h.positiveSpans);
    pos.forEach((i, k) => {
      const c = h.positiveBuckets[k] ?? 0;
      if (c === 0) return;
      buckets.push([0, formatFloat(upperBound(h.schema, i - 1)), formatFloat(upperBound(h.schema, i)), formatFloat(c)]);
    });
  }
  const out: JsonHistogram = { count: formatFloat(h.count), sum: formatFloat(h.sum) };
  if (buckets.length) out.buckets = buckets;
  return out;
}

/** JSON `data` payload for a query result. */
export type QueryResultJson =
  | { resultType: 'scalar' | 'string'; result: [number, string] }
  | { resultType: 'vector'; result: Record<string, unknown>[] }
  | { resultType: 'matrix'; result: Record<string, unknown>[] };

/** Converts an engine value to the Prometheus API's `data` object. */
export function formatValue(v: Value): QueryResultJson {
  switch (v.kind) {
    case 'scalar':
      return { resultType: 'scalar', result: [formatTimestamp(v.t), formatFloat(v.v)] };
    case 'string':
      return { resultType: 'string', result: [formatTimestamp(v.t), v.v] };
    case 'vector':
      return {
        resultType: 'vector',
        result: v.vector.map((s) => {
          const metric = labelsToObject(s.dropName ? dropMetricName(s.metric) : s.metric);
          return s.h
            ? { metric, histogram: [formatTimestamp(s.t), formatHistogram(s.h)] }
            : { metric, value: [formatTimestamp(s.t), formatFloat(s.f)] };
        }),
      };
    case 'matrix':
      return {
        resultType: 'matrix',
        result: v.matrix.map((s) => {
          const o: Record<string, unknown> = { metric: labelsToObject(s.dropName ? dropMetricName(s.metric) : s.metric) };
          if (s.floats.length) o['values'] = s.floats.map((p) => [formatTimestamp(p.t), formatFloat(p.f)]);
          if (s.histograms.length) o['histograms'] = s.histograms.map((p) => [formatTimestamp(p.t), formatHistogram(p.h)]);
          return o;
        }),
      };
    default:
      return assertNever(v, 'value');
  }
}

/** A JSON number for a timestamp in ms (as {@link formatTimestamp}; `null` when not finite, as JSON.stringify). */
function tsJson(ms: number): string {
  const s = ms / 1000;
  return s === s && s !== Infinity && s !== -Infinity ? String(s) : 'null';
}

/** The metric object of a series as JSON (keys in label order; a repeated name keeps its last value, like an object). */
function metricJson(ls: Labels): string {
  let out = '{';
  let dup = false;
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i]!;
    if (i > 0) {
      out += ',';
      if (l.name <= ls[i - 1]!.name) dup = true;
    }
    out += JSON.stringify(l.name) + ':' + JSON.stringify(l.value);
  }
  // Labels are sorted and unique by contract; anything else goes through an object like before.
  return dup ? JSON.stringify(labelsToObject(ls)) : out + '}';
}

/**
 * The JSON text of {@link formatValue}'s result, built directly as a string (no intermediate
 * object tree): `JSON.parse(formatValueJson(v))` deep-equals `formatValue(v)`.
 */
export function formatValueJson(v: Value): string {
  switch (v.kind) {
    case 'scalar':
      return `{"resultType":"scalar","result":[${tsJson(v.t)},"${formatFloat(v.v)}"]}`;
    case 'string':
      return `{"resultType":"string","result":[${tsJson(v.t)},${JSON.stringify(v.v)}]}`;
    case 'vector': {
      const parts: string[] = [];
      for (const s of v.vector) {
        const metric = metricJson(s.dropName ? dropMetricName(s.metric) : s.metric);
        parts.push(
          s.h
            ? `{"metric":${metric},"histogram":[${tsJson(s.t)},${JSON.stringify(formatHistogram(s.h))}]}`
            : `{"metric":${metric},"value":[${tsJson(s.t)},"${formatFloat(s.f)}"]}`,
        );
      }
      return `{"resultType":"vector","result":[${parts.join(',')}]}`;
    }
    case 'matrix': {
      const parts: string[] = [];
      for (const s of v.matrix) {
        let o = `{"metric":${metricJson(s.dropName ? dropMetricName(s.metric) : s.metric)}`;
        if (s.floats.length) {
          const fs = s.floats;
          let vals = '';
          for (let i = 0; i < fs.length; i++) {
            const p = fs[i]!;
            vals += (i > 0 ? ',[' : '[') + tsJson(p.t) + ',"' + formatFloat(p.f) + '"]';
          }
          o += ',"values":[' + vals + ']';
        }
        if (s.histograms.length) {
          o += ',"histograms":[' + s.histograms.map((p) => `[${tsJson(p.t)},${JSON.stringify(formatHistogram(p.h))}]`).join(',') + ']';
        }
        parts.push(o + '}');
      }
      return `{"resultType":"matrix","result":[${parts.join(',')}]}`;
    }
    default:
      return assertNever(v, 'value');
  }
}

/** Go's FloatHistogram.String(): `{count:20, sum:10, [-2,-1):2, [-0.001,0.001]:2, (0.5,1]:1}`. */
export function histogramString(h: FloatHistogram): string {
  const parts = [`count:${formatFloat(h.count)}`, `sum:${formatFloat(h.sum)}`];
  for (const b of formatHistogram(h).buckets ?? []) {
    const [rule, lo, up, c] = b;
    const open = rule === 0 || rule === 2 ? '(' : '[';
    const close = rule === 1 || rule === 2 ? ')' : ']';
    parts.push(`${open}${lo},${up}${close}:${c}`);
  }
  return `{${parts.join(', ')}}`;
}

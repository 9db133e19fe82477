/**
 * Shared helpers of the function library: argument access, Kahan/Neumaier summation, Go-style
 * number formatting for annotation messages, and the Prometheus annotation texts.
 */
import type { Expr, PosRange } from '../../parser/ast.js';
import { METRIC_NAME, labelsGet, type Labels } from '../../../model/labels.js';
import type { FloatHistogram } from '../../../model/histogram.js';
import { QueryError, type FPoint, type HPoint, type RangeSeries, type Sample, type Vector } from '../values.js';
import type { FunctionArg, FunctionContext } from './contract.js';

/** The instant vector of argument `i` (empty when missing or of another kind). */
export function vectorArg(args: readonly FunctionArg[], i: number): Vector {
  const a = args[i];
  return a?.kind === 'vector' ? a.vector : [];
}

/** The single series of the range-vector argument `i`, or undefined when there is none. */
export function seriesArg(args: readonly FunctionArg[], i: number): RangeSeries | undefined {
  const a = args[i];
  return a?.kind === 'matrix' ? a.matrix[0] : undefined;
}

/** The scalar argument `i`, or `dflt` when it is missing. */
export function scalarArg(args: readonly FunctionArg[], i: number, dflt = Number.NaN): number {
  const a = args[i];
  if (a === undefined) return dflt;
  if (a.kind === 'scalar') return a.value;
  if (a.kind === 'vector') return a.vector.length === 1 && a.vector[0]!.h === undefined ? a.vector[0]!.f : Number.NaN;
  return dflt;
}

/** The string argument `i` ('' when missing). */
export function stringArg(args: readonly FunctionArg[], i: number): string {
  const a = args[i];
  return a?.kind === 'string' ? a.value : '';
}

/** The position of argument `i`, or of the call as a whole when the argument is missing. */
export function argPos(exprs: readonly Expr[], i: number): PosRange {
  return exprs[i]?.pos ?? exprs[0]?.pos ?? { start: 0, end: 0 };
}

/** Formats `msg` with the node position, as Prometheus does: `msg (1:15)`. */
export function withPos(ctx: FunctionContext, msg: string, pos: PosRange): string {
  return `${msg} (${ctx.position(pos)})`;
}

/** The metric name of a label set ('' when none). */
export function metricName(ls: Labels): string {
  return labelsGet(ls, METRIC_NAME);
}

/**
 * One step of Kahan summation with Neumaier's improvement. Returns the new sum and the new
 * compensation; the caller adds the compensation to the sum at the end. An infinite
 * intermediate sum resets the compensation so that it does not turn into NaN.
 */
export function kahanSumInc(inc: number, sum: number, c: number): [sum: number, c: number] {
  const t = sum + inc;
  if (t === Infinity || t === -Infinity) return [t, 0];
  if (Math.abs(sum) >= Math.abs(inc)) return [t, c + (sum - t + inc)];
  return [t, c + (inc - t + sum)];
}

/** Go's `%g` with the shortest precision (exponent form below 1e-4 and from 1e6 up). */
export function formatG(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  const [mant, ex] = v.toExponential().split('e') as [string, string];
  const e = Number(ex);
  if (e >= -4 && e < 6) return String(v);
  const digits = String(Math.abs(e));
  return `${mant}e${e < 0 ? '-' : '+'}${digits.length < 2 ? '0' + digits : digits}`;
}

/** Go's `%f` (six decimals). */
export function formatF(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return v.toFixed(6);
}

/**
 * Go's `%q` for a string: double-quoted with Go escapes. Lone surrogates U+DC80..U+DCFF (how the
 * parser keeps invalid UTF-8 bytes) are written back as `\xNN`.
 */
export function quote(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
        continue;
      }
    }
    if (c >= 0xdc80 && c <= 0xdcff) out += '\\x' + (c - 0xdc00).toString(16).padStart(2, '0');
    else if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x0d) out += '\\r';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd';
    else out += s[i]!;
  }
  return out + '"';
}

/** Annotation texts (Prometheus wording; the position is appended by {@link withPos}). */
export const MSG = {
  invalidQuantile: (q: number) => `PromQL warning: quantile value should be between 0 and 1, got ${formatG(q)}`,
  badBucketLabel: (name: string, le: string) =>
    `PromQL warning: bucket label "le" is missing or has a malformed value of ${quote(le)} for metric name ${quote(name)}`,
  mixedFloatsHistograms: (name: string) => `PromQL warning: encountered a mix of histograms and floats for metric name ${quote(name)}`,
  mixedClassicNative: (name: string) => `PromQL warning: vector contains a mix of classic and native histograms for metric name ${quote(name)}`,
  notCounter: (name: string) => `PromQL warning: this native histogram metric is not a counter: ${quote(name)}`,
  notGauge: (name: string) => `PromQL warning: this native histogram metric is not a gauge: ${quote(name)}`,
  mixedExpCustom: (name: string) =>
    `PromQL warning: vector contains a mix of histograms with exponential and custom buckets schemas for metric name ${quote(name)}`,
  incompatibleCustom: (name: string) =>
    `PromQL warning: vector contains histograms with incompatible custom buckets for metric name ${quote(name)}`,
  possibleNonCounter: (name: string) =>
    `PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: ${quote(name)}`,
  forcedMonotonicity: (name: string) =>
    `PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name ${quote(name)}`,
  histogramIgnoredInMixedRange: (name: string) =>
    `PromQL info: ignored histograms in a range containing both floats and histograms for metric name ${quote(name)}`,
  mismatchedCustomBucketsSub: () => 'PromQL info: mismatched custom buckets were reconciled during subtraction',
} as const;

/** A float output sample. `dropName` marks delayed removal of `__name__`. */
export function fsample(metric: Labels, t: number, f: number, dropName: boolean): Sample {
  return dropName ? { metric, t, f, dropName: true } : { metric, t, f };
}

/** A histogram output sample. */
export function hsample(metric: Labels, t: number, h: FloatHistogram, dropName: boolean): Sample {
  return dropName ? { metric, t, f: 0, h, dropName: true } : { metric, t, f: 0, h };
}

/**
 * For functions that only use floats: returns the float points, adding the "ignored histograms"
 * info when the range also holds histograms. Undefined when there are no floats (the series is
 * then dropped silently).
 */
export function floatsOnly(s: RangeSeries, ctx: FunctionContext, pos: PosRange): FPoint[] | undefined {
  if (s.floats.length === 0) return undefined;
  if (s.histograms.length > 0) ctx.annotations.info(withPos(ctx, MSG.histogramIgnoredInMixedRange(metricName(s.metric)), pos));
  return s.floats;
}

/** A point of either kind, for functions that walk floats and histograms in time order. */
export type AnyPoint = { t: number; f: number; h?: undefined } | { t: number; f?: undefined; h: FloatHistogram };

/** Floats and histograms of a series merged in time order. */
export function mergedPoints(s: RangeSeries): AnyPoint[] {
  const fs: readonly FPoint[] = s.floats;
  const hs: readonly HPoint[] = s.histograms;
  if (hs.length === 0) return fs.map((p) => ({ t: p.t, f: p.f }));
  if (fs.length === 0) return hs.map((p) => ({ t: p.t, h: p.h }));
  const out: AnyPoint[] = [];
  let i = 0;
  let j = 0;
  while (i < fs.length || j < hs.length) {
    if (j >= hs.length || (i < fs.length && fs[i]!.t <= hs[j]!.t)) {
      out.push({ t: fs[i]!.t, f: fs[i]!.f });
      i++;
    } else {
      out.push({ t: hs[j]!.t, h: hs[j]!.h });
      j++;
    }
  }
  return out;
}

/**
 * True for a valid label name under Prometheus 3's UTF-8 scheme: non-empty, well-formed
 * Unicode (no lone surrogates) and no U+FFFD (what invalid bytes decode to).
 */
export function isValidLabelName(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c === 0xfffd) return false;
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = name.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return false;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) {
      return false;
    }
  }
  return true;
}

/**
 * Throws the error Prometheus gives when two output elements would have the same label set
 * (the metric name is ignored for samples whose name is going to be dropped).
 */
export function checkUniqueLabelsets(out: Vector): void {
  if (out.length < 2) return;
  const seen = new Set<string>();
  for (const s of out) {
    let key = '';
    for (const l of s.metric) if (!(s.dropName && l.name === METRIC_NAME)) key += l.name + '\xff' + l.value + '\xfe';
    if (seen.has(key)) throw new QueryError('vector cannot contain metrics with the same labelset');
    seen.add(key);
  }
}

/**
 * Go's strconv.ParseFloat for a label value (`le`, `quantile`): decimal and hexadecimal
 * floats, Inf/Infinity/NaN in any case with an optional sign, and `_` digit separators only
 * in prefixed forms. Returns undefined for a malformed value.
 */
export function parseGoFloat(s: string): number | undefined {
  if (s.length === 0 || s.length > 512) return undefined;
  const m = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (m) {
    if (m[2]!.toLowerCase() === 'nan') return m[1] === '' ? Number.NaN : undefined;
    return m[1] === '-' ? -Infinity : Infinity;
  }
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s);
  const hx = /^([+-]?)0[xX]([0-9a-fA-F_]*)(?:\.([0-9a-fA-F_]*))?[pP]([+-]?\d+)$/.exec(s);
  if (hx) {
    const intPart = hx[2]!.replace(/_/g, '');
    const fracPart = (hx[3] ?? '').replace(/_/g, '');
    if (intPart === '' && fracPart === '') return undefined;
    let v = 0;
    for (const ch of intPart) v = v * 16 + parseInt(ch, 16);
    let scale = 1 / 16;
    for (const ch of fracPart) {
      v += parseInt(ch, 16) * scale;
      scale /= 16;
    }
    const r = v * Math.pow(2, Number(hx[4]));
    return hx[1] === '-' ? -r : r;
  }
  return undefined;
}

/**
 * The expanding series notation of promtool unit tests and Prometheus test scripts:
 * `metric{a="b"} 1 2+3x4 _ _x3 stale {{schema:1 count:3 buckets:[1 2]}}x2`.
 *
 * Semantics (checked against promtool 2.42):
 * - `a+bxn` is `a, a+b, …, a+n·b` (n+1 values, accumulated by repeated addition as Prometheus
 *   does); `a-bxn` subtracts; `axn` repeats `a` n+1 times. `0x10` is "0 eleven times", never hex.
 * - `_` is one missing sample, `_xn` n missing samples; `stale` is a staleness marker.
 * - numbers: decimal, exponent, optional sign, `Inf`/`NaN` in any case (`+Inf`, `-Inf`).
 * - native histograms `{{schema:… sum:… count:… z_bucket:… z_bucket_w:… buckets:[…] offset:…
 *   n_buckets:[…] n_offset:… counter_reset_hint:… custom_values:[…]}}`, with `{{a}}xn`,
 *   `{{a}}+{{b}}xn` and `{{a}}-{{b}}xn`.
 */
import { CUSTOM_BUCKETS_SCHEMA, CounterResetHint, type FloatHistogram } from '../model/histogram.js';
import { labelsFrom, type Labels } from '../model/labels.js';
import { STALE_NAN } from '../model/samples.js';
import { histogramAdd, histogramScale } from './engine/histogram-ops.js';
import { ParseError, parseMetricSelector } from './parser/index.js';

/** Hard bounds so untrusted test files cannot make us allocate without limit. */
export const MAX_SERIES_VALUES = 5_000_000;
/** Maximum length of a values string or series line. */
export const MAX_SERIES_TEXT = 1 << 20;

/** One expanded value of a sequence (one per step). */
export type SeriesValue =
  | { readonly kind: 'float'; readonly v: number }
  | { readonly kind: 'stale' }
  | { readonly kind: 'missing' }
  /** `hintExplicit`: the literal wrote `counter_reset_hint` (test scripts compare it only then). */
  | { readonly kind: 'histogram'; readonly h: FloatHistogram; readonly hintExplicit: boolean };

/** One sample placed in time (missing values are left out). */
export interface SeriesPoint {
  /** Timestamp, ms. */
  readonly t: number;
  /** Float value (the staleness NaN when `stale`); absent for histograms. */
  readonly v?: number;
  readonly h?: FloatHistogram;
  readonly stale?: boolean;
}

/** A parsed `series values` line. */
export interface SeriesLine {
  readonly labels: Labels;
  readonly values: readonly SeriesValue[];
}

/** A syntax error in the notation; `offset` is 0-based within the parsed text. */
export class SeriesNotationError extends Error {
  override name = 'SeriesNotationError';
  constructor(
    message: string,
    readonly offset: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const NUM_SRC = String.raw`[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[iI][nN][fF]|[nN][aA][nN])`;
const UNUM_SRC = String.raw`(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[iI][nN][fF]|[nN][aA][nN])`;
const NUM_RE = new RegExp(`^${NUM_SRC}$`);
const EXPAND_RE = new RegExp(`^(${NUM_SRC})(?:([+-])(${UNUM_SRC}))?x(\\d+)$`);

/** Parses one number of the notation (`1`, `-2.5e3`, `+Inf`, `NaN`); undefined if it is not one. */
export function parseSeriesNumber(s: string): number | undefined {
  if (!NUM_RE.test(s)) return undefined;
  const neg = s.startsWith('-');
  const body = s.replace(/^[-+]/, '');
  let v: number;
  if (/^inf$/i.test(body)) v = Infinity;
  else if (/^nan$/i.test(body)) v = NaN;
  else v = Number(body);
  return neg ? -v : v;
}

/** A token of a values string and its offset. */
export interface Token {
  readonly text: string;
  readonly offset: number;
}

/** Splits a values string on whitespace, keeping `{{…}}` groups (with suffixes) in one token. */
export function tokenizeSeriesValues(s: string, base = 0): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i]!)) i++;
    if (i >= s.length) break;
    let j = i;
    let depth = 0;
    while (j < s.length) {
      if (s.startsWith('{{', j)) {
        depth++;
        j += 2;
      } else if (depth > 0 && s.startsWith('}}', j)) {
        depth--;
        j += 2;
      } else if (depth === 0 && /\s/.test(s[j]!)) {
        break;
      } else {
        j++;
      }
    }
    if (depth !== 0) throw new SeriesNotationError(`unterminated histogram "{{" in series values`, base + i);
    out.push({ text: s.slice(i, j), offset: base + i });
    i = j;
  }
  return out;
}

const HINTS: Readonly<Record<string, CounterResetHint>> = {
  unknown: CounterResetHint.Unknown,
  reset: CounterResetHint.Yes,
  not_reset: CounterResetHint.No,
  gauge: CounterResetHint.Gauge,
};

const HIST_FIELDS = new Set(['schema', 'sum', 'count', 'z_bucket', 'z_bucket_w', 'buckets', 'offset', 'n_buckets', 'n_offset', 'counter_reset_hint', 'custom_values']);

/**
 * Parses the inside of a `{{ … }}` histogram literal (fields in any order, all optional).
 * Throws {@link SeriesNotationError} on unknown fields or bad numbers.
 */
export function parseHistogramLiteral(body: string, offset = 0): FloatHistogram {
  const fields = new Map<string, string>();
  const re = /\s*([a-z_]+)\s*:\s*(\[[^\]]*\]|[^\s\[\]]+)\s*/gy;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(body))) {
    const name = m[1]!;
    if (!HIST_FIELDS.has(name)) throw new SeriesNotationError(`unknown histogram field ${JSON.stringify(name)}`, offset + m.index);
    if (fields.has(name)) throw new SeriesNotationError(`duplicate histogram field ${JSON.stringify(name)}`, offset + m.index);
    fields.set(name, m[2]!);
    last = re.lastIndex;
  }
  if (body.slice(last).trim() !== '') throw new SeriesNotationError(`bad histogram literal near ${JSON.stringify(body.slice(last, last + 20))}`, offset + last);
  const num = (k: string): number => {
    const v = fields.get(k);
    if (v === undefined) return 0;
    const n = parseSeriesNumber(v);
    if (n === undefined) throw new SeriesNotationError(`bad number for histogram field ${k}: ${JSON.stringify(v)}`, offset);
    return n;
  };
  const int = (k: string): number => {
    const n = num(k);
    if (!Number.isInteger(n)) throw new SeriesNotationError(`histogram field ${k} must be an integer, got ${n}`, offset);
    return n;
  };
  const list = (k: string): number[] => {
    const v = fields.get(k);
    if (v === undefined) return [];
    if (!v.startsWith('[')) throw new SeriesNotationError(`histogram field ${k} must be a list [..]`, offset);
    return v
      .slice(1, -1)
      .trim()
      .split(/[\s,]+/)
      .filter((x) => x !== '')
      .map((x) => {
        const n = parseSeriesNumber(x);
        if (n === undefined) throw new SeriesNotationError(`bad number in histogram field ${k}: ${JSON.stringify(x)}`, offset);
        return n;
      });
  };
  const hintText = fields.get('counter_reset_hint');
  const hint = hintText === undefined ? CounterResetHint.Unknown : HINTS[hintText];
  if (hint === undefined) throw new SeriesNotationError(`bad counter_reset_hint ${JSON.stringify(hintText)} (want unknown, reset, not_reset or gauge)`, offset);
  const schema = int('schema');
  if (schema !== CUSTOM_BUCKETS_SCHEMA && (schema < -4 || schema > 8)) throw new SeriesNotationError(`histogram schema ${schema} out of range (-4..8 or -53)`, offset);
  const buckets = list('buckets');
  const nbuckets = list('n_buckets');
  const h: FloatHistogram = {
    counterResetHint: hint,
    schema,
    zeroThreshold: num('z_bucket_w'),
    zeroCount: num('z_bucket'),
    count: num('count'),
    sum: num('sum'),
    positiveSpans: buckets.length ? [{ offset: int('offset'), length: buckets.length }] : [],
    negativeSpans: nbuckets.length ? [{ offset: int('n_offset'), length: nbuckets.length }] : [],
    positiveBuckets: buckets,
    negativeBuckets: nbuckets,
    ...(schema === CUSTOM_BUCKETS_SCHEMA ? { customValues: list('custom_values') } : {}),
  };
  return h;
}

const NO_NOTES = { info: (): void => {}, warn: (): void => {} };

function checkCount(n: number, have: number, offset: number): void {
  if (have + n + 1 > MAX_SERIES_VALUES) throw new SeriesNotationError(`series expands to more than ${MAX_SERIES_VALUES} values`, offset);
}

function expandHistogram(tok: Token, out: SeriesValue[]): void {
  const m = /^\{\{(.*?)\}\}(?:([+-])\{\{(.*?)\}\})?(?:x(\d+))?$/s.exec(tok.text);
  if (!m) throw new SeriesNotationError(`bad histogram value ${JSON.stringify(tok.text)}`, tok.offset);
  const first = parseHistogramLiteral(m[1]!, tok.offset + 2);
  const hintExplicit = /\bcounter_reset_hint\s*:/.test(m[1]!);
  if (m[2] !== undefined && m[4] === undefined) throw new SeriesNotationError(`histogram increment needs a repeat count (xN): ${JSON.stringify(tok.text)}`, tok.offset);
  out.push({ kind: 'histogram', h: first, hintExplicit });
  if (m[4] === undefined) return;
  const n = Number(m[4]);
  checkCount(n, out.length, tok.offset);
  let inc = m[3] !== undefined ? parseHistogramLiteral(m[3], tok.offset) : undefined;
  if (inc && m[2] === '-') inc = histogramScale(inc, -1);
  let cur = first;
  for (let i = 1; i <= n; i++) {
    if (inc) {
      const next = histogramAdd(cur, inc, NO_NOTES);
      if (!next) throw new SeriesNotationError(`incompatible histograms in ${JSON.stringify(tok.text)}`, tok.offset);
      cur = { ...next, counterResetHint: first.counterResetHint };
    }
    out.push({ kind: 'histogram', h: cur, hintExplicit });
  }
}

/**
 * Expands a values string into one {@link SeriesValue} per step. `offset` is added to error
 * offsets (the position of the values text inside a larger line).
 */
export function expandSeriesValues(text: string, offset = 0): SeriesValue[] {
  if (text.length > MAX_SERIES_TEXT) throw new SeriesNotationError(`series values too long (${text.length} > ${MAX_SERIES_TEXT} characters)`, offset);
  const out: SeriesValue[] = [];
  for (const tok of tokenizeSeriesValues(text, offset)) {
    const t = tok.text;
    if (t.startsWith('{{')) {
      expandHistogram(tok, out);
      continue;
    }
    if (t === '_') {
      out.push({ kind: 'missing' });
      continue;
    }
    if (t === 'stale') {
      out.push({ kind: 'stale' });
      continue;
    }
    const miss = /^_x(\d+)$/.exec(t);
    if (miss) {
      const n = Number(miss[1]);
      checkCount(n, out.length, tok.offset);
      for (let i = 0; i < n; i++) out.push({ kind: 'missing' });
      continue;
    }
    const single = parseSeriesNumber(t);
    if (single !== undefined) {
      out.push({ kind: 'float', v: single });
      continue;
    }
    const em = EXPAND_RE.exec(t);
    // `Infx2` lexes as one identifier in Prometheus, so promtool rejects it.
    if (!em || (em[2] === undefined && /[a-z]$/i.test(em[1]!))) throw new SeriesNotationError(`unexpected ${JSON.stringify(t)} in series values`, tok.offset);
    const start = parseSeriesNumber(em[1]!)!;
    let inc = em[3] !== undefined ? parseSeriesNumber(em[3])! : 0;
    if (em[2] === '-') inc = -inc;
    const n = Number(em[4]);
    checkCount(n, out.length, tok.offset);
    let cur = start;
    for (let i = 0; i <= n; i++) {
      out.push({ kind: 'float', v: cur });
      cur += inc;
    }
  }
  return out;
}

/**
 * Expands `text` and places the values at `startMs, startMs+stepMs, …`; missing values (`_`)
 * produce no point but still take their step.
 */
export function parseSeriesValues(text: string, stepMs: number, startMs = 0): SeriesPoint[] {
  return placeSeriesValues(expandSeriesValues(text), stepMs, startMs);
}

/** Places already expanded values in time (see {@link parseSeriesValues}). */
export function placeSeriesValues(values: readonly SeriesValue[], stepMs: number, startMs = 0): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  values.forEach((sv, i) => {
    const t = startMs + i * stepMs;
    switch (sv.kind) {
      case 'missing':
        return;
      case 'stale':
        out.push({ t, v: STALE_NAN, stale: true });
        return;
      case 'float':
        out.push({ t, v: sv.v });
        return;
      case 'histogram':
        out.push({ t, h: sv.h });
        return;
    }
  });
  return out;
}

/** Index just after the series descriptor (outside quotes and braces) in `line`. */
export function seriesDescriptorEnd(line: string): number {
  let depth = 0;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '{') {
      if (depth === 0 && line.startsWith('{{', i)) return i;
      depth++;
    } else if (c === '}') {
      depth--;
      if (depth === 0) return i + 1;
    } else if (depth === 0 && /\s/.test(c)) return i;
  }
  return line.length;
}

/**
 * Parses a series descriptor (`metric{a="b"}`, `{a="b"}`, `metric`) into labels. Only `=`
 * matchers are allowed. Error messages carry `line:col:` like Prometheus's.
 */
export function parseSeriesLabels(desc: string): Labels {
  const d = desc.trim();
  if (d === '' || /^\{\s*\}$/.test(d)) return labelsFrom({});
  let ms;
  try {
    ms = parseMetricSelector(d);
  } catch (e) {
    if (e instanceof ParseError) throw new SeriesNotationError(e.message, e.position, { cause: e });
    throw e;
  }
  const obj: Record<string, string> = {};
  for (const m of ms) {
    if (m.type !== '=') throw new SeriesNotationError(`series descriptor must use "=" matchers only: ${d}`, 0);
    obj[m.name] = m.value;
  }
  return labelsFrom(obj);
}

/** Parses a whole `metric{a="b"} 1+1x5 _ stale` line. */
export function parseSeriesLine(line: string): SeriesLine {
  if (line.length > MAX_SERIES_TEXT) throw new SeriesNotationError(`series line too long (${line.length} > ${MAX_SERIES_TEXT} characters)`, 0);
  const lead = line.length - line.trimStart().length;
  const body = line.trim();
  const end = seriesDescriptorEnd(body);
  const labels = parseSeriesLabels(body.slice(0, end));
  return { labels, values: expandSeriesValues(body.slice(end), lead + end) };
}

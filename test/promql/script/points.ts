/**
 * The series notation of Prometheus test scripts: `metric{l="v"} 1 2+3x4 _ stale {{...}}`.
 * Expands values into a sequence where `undefined` marks an omitted point (`_`).
 */
import { CUSTOM_BUCKETS_SCHEMA, CounterResetHint, type FloatHistogram } from '../../../src/model/histogram.js';
import { labelsFrom, type Labels } from '../../../src/model/labels.js';
import { STALE_NAN } from '../../../src/model/samples.js';
import { parseMetricSelector } from '../../../src/promql/parser/index.js';
import { histogramAdd, histogramScale } from '../../../src/promql/engine/histogram-ops.js';

/** One expanded value. */
export type SeqValue =
  | { kind: 'omitted' }
  | { kind: 'float'; v: number; stale?: boolean }
  | { kind: 'hist'; h: FloatHistogram; hintExplicit: boolean };

/** A parsed expected/loaded series line. */
export interface SeriesLine {
  labels: Labels;
  values: SeqValue[];
  /**
   * From the block's `metric@st ...` line: each sample's start timestamp relative to its own
   * timestamp (ms), `undefined` where omitted (`_`: no start timestamp).
   */
  starts?: (number | undefined)[];
}

const NUM = String.raw`[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[iI][nN][fF]|[nN][aA][nN])`;
const UNUM = String.raw`(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[iI][nN][fF]|[nN][aA][nN])`;
const NUM_RE = new RegExp(`^${NUM}$`);
const EXPAND_RE = new RegExp(`^(${NUM})(?:([+-])(${UNUM}))?x(\\d+)$`);

/** Parses a number as Go's strconv.ParseFloat does for the test language. */
export function parseNumber(s: string): number | undefined {
  if (!NUM_RE.test(s)) return undefined;
  const neg = s.startsWith('-');
  const body = s.replace(/^[-+]/, '');
  let v: number;
  if (/^inf$/i.test(body)) v = Infinity;
  else if (/^nan$/i.test(body)) v = NaN;
  else v = Number(body);
  return neg ? -v : v;
}

/** Splits a values string into tokens, keeping `{{...}}` groups (and their suffixes) intact. */
export function tokenizeValues(s: string): string[] {
  const out: string[] = [];
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
        continue;
      }
      if (s.startsWith('}}', j) && depth > 0) {
        depth--;
        j += 2;
        continue;
      }
      if (depth === 0 && /\s/.test(s[j]!)) break;
      j++;
    }
    out.push(s.slice(i, j));
    i = j;
  }
  return out;
}

const HINTS: Record<string, CounterResetHint> = {
  unknown: CounterResetHint.Unknown,
  reset: CounterResetHint.Yes,
  not_reset: CounterResetHint.No,
  gauge: CounterResetHint.Gauge,
};

/** Parses the inside of `{{ ... }}`. */
export function parseHistogram(body: string): { h: FloatHistogram; hintExplicit: boolean } {
  const fields = new Map<string, string>();
  const re = /([a-z_]+):\s*(\[[^\]]*\]|\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(body))) fields.set(m[1]!, m[2]!);
  const num = (k: string, d = 0): number => {
    const v = fields.get(k);
    if (v === undefined) return d;
    const n = parseNumber(v);
    if (n === undefined) throw new Error(`bad histogram field ${k}: ${v}`);
    return n;
  };
  const list = (k: string): number[] => {
    const v = fields.get(k);
    if (!v) return [];
    return v
      .slice(1, -1)
      .trim()
      .split(/\s+/)
      .filter((x) => x !== '')
      .map((x) => {
        const n = parseNumber(x);
        if (n === undefined) throw new Error(`bad histogram list value ${x}`);
        return n;
      });
  };
  const buckets = list('buckets');
  const nbuckets = list('n_buckets');
  const hintStr = fields.get('counter_reset_hint');
  const schema = num('schema');
  const h: FloatHistogram = {
    counterResetHint: hintStr ? (HINTS[hintStr] ?? CounterResetHint.Unknown) : CounterResetHint.Unknown,
    schema,
    zeroThreshold: num('z_bucket_w'),
    zeroCount: num('z_bucket'),
    count: num('count'),
    sum: num('sum'),
    positiveSpans: buckets.length ? [{ offset: num('offset'), length: buckets.length }] : [],
    negativeSpans: nbuckets.length ? [{ offset: num('n_offset'), length: nbuckets.length }] : [],
    positiveBuckets: buckets,
    negativeBuckets: nbuckets,
    ...(schema === CUSTOM_BUCKETS_SCHEMA ? { customValues: list('custom_values') } : {}),
  };
  return { h, hintExplicit: hintStr !== undefined };
}

const noNotes = { info: () => {}, warn: () => {} };

function expandHistogramToken(tok: string): SeqValue[] {
  // {{a}}  |  {{a}}xN  |  {{a}}+{{b}}xN  |  {{a}}-{{b}}xN
  const m = /^\{\{(.*?)\}\}(?:([+-])\{\{(.*?)\}\})?(?:x(\d+))?$/s.exec(tok);
  if (!m) throw new Error(`bad histogram value ${tok}`);
  const a = parseHistogram(m[1]!);
  const n = m[4] !== undefined ? Number(m[4]) : 0;
  if (m[4] === undefined) return [{ kind: 'hist', ...a }];
  const out: SeqValue[] = [{ kind: 'hist', ...a }];
  let cur = a.h;
  const inc = m[3] !== undefined ? parseHistogram(m[3]).h : undefined;
  for (let i = 1; i <= n; i++) {
    if (inc) {
      const next = histogramAdd(cur, m[2] === '-' ? histogramScale(inc, -1) : inc, noNotes);
      if (!next) throw new Error(`incompatible histograms in ${tok}`);
      cur = { ...next, counterResetHint: a.h.counterResetHint };
    }
    out.push({ kind: 'hist', h: cur, hintExplicit: a.hintExplicit });
  }
  return out;
}

/** Expands a values string. */
export function parseValues(s: string): SeqValue[] {
  const out: SeqValue[] = [];
  for (const tok of tokenizeValues(s)) {
    if (tok.startsWith('{{')) {
      out.push(...expandHistogramToken(tok));
      continue;
    }
    if (tok === '_') {
      out.push({ kind: 'omitted' });
      continue;
    }
    const om = /^_x(\d+)$/.exec(tok);
    if (om) {
      for (let i = 0; i < Number(om[1]); i++) out.push({ kind: 'omitted' });
      continue;
    }
    if (tok === 'stale') {
      out.push({ kind: 'float', v: STALE_NAN, stale: true });
      continue;
    }
    const single = parseNumber(tok);
    if (single !== undefined) {
      out.push({ kind: 'float', v: single });
      continue;
    }
    const em = EXPAND_RE.exec(tok);
    if (!em) throw new Error(`bad value ${JSON.stringify(tok)}`);
    const start = parseNumber(em[1]!)!;
    let inc = em[3] !== undefined ? parseNumber(em[3])! : 0;
    if (em[2] === '-') inc = -inc;
    const n = Number(em[4]);
    // Prometheus accumulates: each value is the previous plus the increment.
    let cur = start;
    out.push({ kind: 'float', v: cur });
    for (let i = 1; i <= n; i++) {
      cur += inc;
      out.push({ kind: 'float', v: cur });
    }
  }
  return out;
}

/** Finds where the series descriptor ends (outside quotes and braces). */
function splitSeries(line: string): [string, string] {
  let i = 0;
  let depth = 0;
  let quote: string | null = null;
  for (; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === '\\' && quote !== '`') i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '{') depth++;
    else if (c === '}') {
      depth--;
      if (depth === 0) {
        i++;
        break;
      }
    } else if (depth === 0 && /\s/.test(c)) break;
  }
  return [line.slice(0, i), line.slice(i)];
}

const DUR = String.raw`(?:(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y))+|\d+(?:\.\d+)?)`;
const START_RE = new RegExp(`^([+-]?)(${DUR})(?:([+-])(${DUR}))?(?:x(\\d+))?$`);

/**
 * Expands the values of a `metric@st` line: durations relative to each sample's timestamp, in
 * the series notation (`-30s-1mx2` is -30s, -90s, -150s; `-1mx3` repeats -1m; `_` omits).
 */
export function parseStartValues(s: string, parseDur: (d: string) => number): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (const tok of tokenizeValues(s)) {
    if (tok === '_') {
      out.push(undefined);
      continue;
    }
    const om = /^_x(\d+)$/.exec(tok);
    if (om) {
      for (let i = 0; i < Number(om[1]); i++) out.push(undefined);
      continue;
    }
    const m = START_RE.exec(tok);
    if (!m) throw new Error(`bad start timestamp ${JSON.stringify(tok)}`);
    let cur = parseDur(m[2]!) * (m[1] === '-' ? -1 : 1);
    const inc = m[4] !== undefined ? parseDur(m[4]) * (m[3] === '-' ? -1 : 1) : 0;
    const n = m[5] !== undefined ? Number(m[5]) : 0;
    out.push(cur);
    for (let i = 1; i <= n; i++) {
      cur += inc;
      out.push(cur);
    }
  }
  return out;
}

/** Parses `metric{l="v"}@st values` (see {@link parseStartValues}). */
export function parseStartLine(line: string, parseDur: (d: string) => number): { labels: Labels; starts: (number | undefined)[] } {
  const [desc, rest] = splitSeries(line.trim());
  let d = desc;
  let r = rest;
  if (d.endsWith('@st')) d = d.slice(0, -3);
  else if (r.startsWith('@st')) r = r.slice(3);
  else throw new Error(`not a start timestamp line: ${line}`);
  return { labels: descriptorLabels(d), starts: parseStartValues(r, parseDur) };
}

function descriptorLabels(desc: string): Labels {
  const ms = /^\{\s*\}$/.test(desc) ? [] : parseMetricSelector(desc);
  const obj: Record<string, string> = {};
  for (const m of ms) {
    if (m.type !== '=') throw new Error(`series descriptor must use '=' matchers: ${desc}`);
    obj[m.name] = m.value;
  }
  return labelsFrom(obj);
}

/** Parses `metric{l="v"} values`. */
export function parseSeriesLine(line: string): SeriesLine {
  const [desc, rest] = splitSeries(line.trim());
  return { labels: descriptorLabels(desc), values: parseValues(rest) };
}

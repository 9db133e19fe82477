/**
 * The series notation of Prometheus test scripts (`metric{l="v"} 1 2+3x4 _ stale {{...}}`), on
 * top of vigil's own parser (src/promql/series-notation.ts), plus the `metric@st` lines of start
 * timestamps. Expands values into a sequence where `omitted` marks a `_`.
 */
import type { FloatHistogram } from '../../../src/model/histogram.js';
import type { Labels } from '../../../src/model/labels.js';
import { STALE_NAN } from '../../../src/model/samples.js';
import { expandSeriesValues, parseSeriesLabels, parseSeriesLine as parseNotationLine, parseSeriesNumber, seriesDescriptorEnd, tokenizeSeriesValues, type SeriesValue } from '../../../src/promql/series-notation.js';

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

/** Parses a number as Go's strconv.ParseFloat does for the test language. */
export const parseNumber = parseSeriesNumber;

function toSeq(v: SeriesValue): SeqValue {
  switch (v.kind) {
    case 'missing':
      return { kind: 'omitted' };
    case 'stale':
      return { kind: 'float', v: STALE_NAN, stale: true };
    case 'float':
      return { kind: 'float', v: v.v };
    case 'histogram':
      return { kind: 'hist', h: v.h, hintExplicit: v.hintExplicit };
  }
}

/** Expands a values string. */
export function parseValues(s: string): SeqValue[] {
  return expandSeriesValues(s).map(toSeq);
}

/** Splits a line into its series descriptor and the rest. */
function splitSeries(line: string): [string, string] {
  const end = seriesDescriptorEnd(line);
  return [line.slice(0, end), line.slice(end)];
}

const DUR = String.raw`(?:(?:\d+(?:\.\d+)?(?:ms|s|m|h|d|w|y))+|\d+(?:\.\d+)?)`;
const START_RE = new RegExp(`^([+-]?)(${DUR})(?:([+-])(${DUR}))?(?:x(\\d+))?$`);

/**
 * Expands the values of a `metric@st` line: durations relative to each sample's timestamp, in
 * the series notation (`-30s-1mx2` is -30s, -90s, -150s; `-1mx3` repeats -1m; `_` omits).
 */
export function parseStartValues(s: string, parseDur: (d: string) => number): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (const { text: tok } of tokenizeSeriesValues(s)) {
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
  return { labels: parseSeriesLabels(d), starts: parseStartValues(r, parseDur) };
}

/** Parses `metric{l="v"} values`. */
export function parseSeriesLine(line: string): SeriesLine {
  const l = parseNotationLine(line);
  return { labels: l.labels, values: l.values.map(toSeq) };
}

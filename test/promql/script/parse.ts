/**
 * Parser for Prometheus's PromQL test-script language (see conformance/promql/LANGUAGE.md):
 * `load`, `load_with_nhcb`, `clear`, `eval instant|range` with `expect` lines and expected
 * series, plus the deprecated `eval_fail/eval_warn/eval_info/eval_ordered` forms.
 */
import { parseDuration } from '../../../src/promql/parser/index.js';
import { labelsKey } from '../../../src/model/labels.js';
import { parseNumber, parseSeriesLine, parseStartLine, type SeqValue, type SeriesLine } from './points.js';

/** `load <interval>` block. */
export interface LoadCmd {
  readonly kind: 'load';
  readonly line: number;
  readonly interval: number;
  readonly withNhcb: boolean;
  readonly series: SeriesLine[];
}

/** `clear`. */
export interface ClearCmd {
  readonly kind: 'clear';
  readonly line: number;
}

/** An `expect` line. */
export interface Expectation {
  readonly type: 'fail' | 'warn' | 'info' | 'no_warn' | 'no_info' | 'ordered';
  readonly match?: { readonly kind: 'msg' | 'regex'; readonly value: string };
}

/** One expected result line: labels null for a scalar. */
export interface ExpectedLine {
  readonly labels: SeriesLine['labels'] | null;
  readonly values: SeqValue[];
}

/** `eval ...` block. */
export interface EvalCmd {
  readonly kind: 'eval';
  readonly line: number;
  readonly isRange: boolean;
  readonly start: number;
  readonly end: number;
  readonly step: number;
  readonly expr: string;
  readonly expects: Expectation[];
  readonly expected: ExpectedLine[];
  expectString?: string;
  rangeVector?: { start: number; end: number; step: number };
  /** Set when the block itself could not be parsed (counted as a failure). */
  blockError?: string;
}

/** Any command. */
export type Command = LoadCmd | ClearCmd | EvalCmd;

/** Parses a test-script time or duration (`50m`, `0`, `1h30m`, `-1m`, `10.5`). */
export function parseTime(s: string): number {
  const neg = s.startsWith('-');
  const body = neg ? s.slice(1) : s;
  let v: number;
  try {
    v = parseDuration(body);
  } catch {
    const n = Number(body);
    if (!Number.isFinite(n)) throw new Error(`invalid time ${JSON.stringify(s)}`);
    v = Math.round(n * 1000);
  }
  return neg ? -v : v;
}

const EVAL_INSTANT = /^eval(?:_(fail|warn|info|ordered))?\s+instant\s+at\s+(\S+)\s+(.+)$/;
const EVAL_RANGE = /^eval(?:_(fail|warn|info|ordered))?\s+range\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)\s+(.+)$/;
const EXPECT = /^expect\s+(fail|warn|info|no_warn|no_info|ordered)(?:\s+(msg|regex):(.*))?$/;

function unquote(s: string): string {
  const t = s.trim();
  if (t.length >= 2 && ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith('`') && t.endsWith('`')))) {
    if (t.startsWith('`')) return t.slice(1, -1);
    try {
      return JSON.parse(t) as string;
    } catch {
      return t.slice(1, -1);
    }
  }
  return t;
}

/** Parses a whole script. */
export function parseScript(text: string): Command[] {
  const lines = text.split('\n');
  const cmds: Command[] = [];
  let i = 0;
  const isBlank = (l: string): boolean => l.trim() === '';
  const isComment = (l: string): boolean => l.trim().startsWith('#');
  const isCommand = (l: string): boolean => /^(eval|eval_\w+|load|load_with_nhcb|clear)(\s|$)/.test(l);
  while (i < lines.length) {
    const raw = lines[i]!;
    const line = raw.trim();
    const lineNo = i + 1;
    i++;
    if (line === '' || line.startsWith('#')) continue;
    if (line === 'clear') {
      cmds.push({ kind: 'clear', line: lineNo });
      continue;
    }
    const lm = /^load(_with_nhcb)?\s+(\S+)$/.exec(line);
    if (lm) {
      const series: SeriesLine[] = [];
      const starts = new Map<string, (number | undefined)[]>();
      while (i < lines.length && !isBlank(lines[i]!) && !isCommand(lines[i]!)) {
        const l = lines[i]!;
        i++;
        if (isComment(l)) continue;
        // `metric@st ...`: start timestamps of the same block's series with these labels.
        if (/^\s*\S*\}?@st\s/.test(l)) {
          const st = parseStartLine(l, parseTime);
          starts.set(labelsKey(st.labels), st.starts);
          continue;
        }
        series.push(parseSeriesLine(l));
      }
      for (const s of series) {
        const st = starts.get(labelsKey(s.labels));
        if (st) s.starts = st;
      }
      cmds.push({ kind: 'load', line: lineNo, interval: parseTime(lm[2]!), withNhcb: !!lm[1], series });
      continue;
    }
    const im = EVAL_INSTANT.exec(line);
    const rm = im ? null : EVAL_RANGE.exec(line);
    if (!im && !rm) throw new Error(`line ${lineNo}: unknown command ${JSON.stringify(line)}`);
    const legacy = (im ?? rm)![1];
    const expects: Expectation[] = [];
    if (legacy) expects.push({ type: legacy as Expectation['type'] });
    const cmd: EvalCmd = im
      ? { kind: 'eval', line: lineNo, isRange: false, start: parseTime(im[2]!), end: parseTime(im[2]!), step: 0, expr: im[3]!, expects, expected: [] }
      : { kind: 'eval', line: lineNo, isRange: true, start: parseTime(rm![2]!), end: parseTime(rm![3]!), step: parseTime(rm![4]!), expr: rm![5]!, expects, expected: [] };
    while (i < lines.length && !isBlank(lines[i]!) && !isCommand(lines[i]!)) {
      const l = lines[i]!.trim();
      i++;
      if (l.startsWith('#')) continue;
      try {
        const em = EXPECT.exec(l);
        if (em) {
          const type = em[1] as Expectation['type'];
          expects.push(em[2] ? { type, match: { kind: em[2] as 'msg' | 'regex', value: unquote(em[3]!) } } : { type });
          continue;
        }
        const rv = /^expect\s+range\s+vector\s+from\s+(\S+)\s+to\s+(\S+)\s+step\s+(\S+)$/.exec(l);
        if (rv) {
          cmd.rangeVector = { start: parseTime(rv[1]!), end: parseTime(rv[2]!), step: parseTime(rv[3]!) };
          continue;
        }
        const es = /^expect\s+string\s+(.*)$/.exec(l);
        if (es) {
          cmd.expectString = unquote(es[1]!);
          continue;
        }
        const fm = /^expected_fail_(message|regexp)\s+(.*)$/.exec(l);
        if (fm) {
          const idx = expects.findIndex((x) => x.type === 'fail');
          const e: Expectation = { type: 'fail', match: { kind: fm[1] === 'message' ? 'msg' : 'regex', value: fm[2]!.trim() } };
          if (idx >= 0) expects[idx] = e;
          else expects.push(e);
          continue;
        }
        const n = parseNumber(l);
        if (n !== undefined) {
          cmd.expected.push({ labels: null, values: [{ kind: 'float', v: n }] });
          continue;
        }
        const s = parseSeriesLine(l);
        cmd.expected.push({ labels: s.labels, values: s.values });
      } catch (e) {
        cmd.blockError = `line ${i}: ${(e as Error).message}`;
      }
    }
    cmds.push(cmd);
  }
  return cmds;
}

/**
 * Prometheus text exposition format 0.0.4 (plus quoted UTF-8 names as Prometheus 3 accepts):
 * `# HELP`, `# TYPE`, other comments ignored, `name{l="v",...} value [timestamp_ms]`.
 */
import { METRIC_NAME } from '../../model/labels.js';
import type { Label } from '../../model/labels.js';
import type { MetricType } from '../../model/samples.js';
import { ExpositionParseError, finishLabels, resolveLimits, type ExpositionEntry, type ParseLimits, type ResolvedLimits } from './exposition.js';
import { LineScanner, parseGoFloat, type ScanMode } from './line-scanner.js';

const TEXT_MODE: ScanMode = { lenientBlanks: true, trailingComma: true, formatName: 'text' };

const TEXT_TYPES: Readonly<Record<string, MetricType>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'unknown',
};

const INT_RE = /^-?\d{1,19}$/;

/** Unescapes a text-format HELP docstring (`\\` and `\n`). */
function unescapeHelp(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(.)/g, (m, c: string) => (c === '\\' ? '\\' : c === 'n' ? '\n' : m));
}

/**
 * Parses a Prometheus text-format body lazily. Throws {@link ExpositionParseError} (and nothing
 * else) on the first malformed line.
 */
export function* parseText(body: string, limits?: ParseLimits): Generator<ExpositionEntry, void, undefined> {
  const lim = resolveLimits(limits);
  let start = 0;
  let lineNo = 0;
  const n = body.length;
  while (start < n) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = n;
    lineNo++;
    let stop = end;
    if (stop > start && body.charCodeAt(stop - 1) === 13) stop--;
    if (stop - start > lim.maxLineLength) {
      throw new ExpositionParseError(lineNo, `line longer than ${lim.maxLineLength} characters`);
    }
    const line = body.slice(start, stop);
    start = end + 1;
    const e = parseTextLine(line, lineNo, lim);
    if (e !== null) yield e;
  }
}

function parseTextLine(line: string, lineNo: number, lim: ResolvedLimits): ExpositionEntry | null {
  const sc: LineScanner = new LineScanner(line, lineNo, lim, TEXT_MODE);
  sc.skipBlanks();
  if (sc.eol()) return null;
  if (sc.code() === 35) return parseComment(sc);
  const pairs: Label[] = [];
  let name = '';
  let blanks = 0;
  if (sc.code() !== 123) {
    name = sc.readMetricName();
    if (name === '') sc.fail(`invalid metric name at column ${sc.pos + 1}`);
    blanks = sc.skipBlanks();
  }
  if (sc.code() === 123) {
    name = sc.readLabelSet(name, pairs);
    blanks = sc.skipBlanks();
  }
  if (name === '') sc.fail('missing metric name');
  if (sc.eol()) sc.fail('expected value after metric name');
  if (blanks === 0) sc.fail('expected whitespace after metric name');
  const tok = sc.readToken();
  const value = parseGoFloat(tok);
  if (value === undefined) sc.fail(`invalid value ${JSON.stringify(tok.slice(0, 64))}`);
  let timestampMs: number | undefined;
  if (sc.skipBlanks() > 0 && !sc.eol()) {
    const ts = sc.readToken();
    if (!INT_RE.test(ts)) sc.fail(`invalid timestamp ${JSON.stringify(ts.slice(0, 64))}`);
    timestampMs = Number(ts);
    if (!Number.isSafeInteger(timestampMs)) sc.fail(`timestamp out of range: ${ts}`);
    sc.skipBlanks();
    if (!sc.eol()) sc.fail('unexpected text after timestamp');
  }
  pairs.push({ name: METRIC_NAME, value: name });
  const labels = finishLabels(pairs);
  if (typeof labels === 'string') sc.fail(labels);
  return timestampMs === undefined
    ? { kind: 'sample', name, labels, value, line: lineNo }
    : { kind: 'sample', name, labels, value, timestampMs, line: lineNo };
}

function parseComment(sc: LineScanner): ExpositionEntry | null {
  sc.pos++; // '#'
  sc.skipBlanks();
  const kwStart = sc.pos;
  while (!sc.eol() && sc.code() !== 32 && sc.code() !== 9) sc.pos++;
  const kw = sc.s.slice(kwStart, sc.pos);
  if (kw !== 'HELP' && kw !== 'TYPE') return null; // an ordinary comment
  if (sc.skipBlanks() === 0) return null; // "# HELP" alone is just a comment
  const metric = sc.readMetricNameMaybeQuoted();
  if (metric === '') sc.fail(`invalid metric name in ${kw} line`);
  if (kw === 'HELP') {
    if (sc.eol()) return { kind: 'meta', metric, help: '', line: sc.line };
    if (sc.skipBlanks() === 0) sc.fail('expected whitespace after metric name in HELP line');
    return { kind: 'meta', metric, help: unescapeHelp(sc.s.slice(sc.pos)), line: sc.line };
  }
  if (sc.skipBlanks() === 0) sc.fail(sc.eol() ? 'expected metric type in TYPE line' : 'expected whitespace after metric name in TYPE line');
  const t = sc.readToken();
  const type = TEXT_TYPES[t];
  if (type === undefined || !Object.hasOwn(TEXT_TYPES, t)) sc.fail(`invalid metric type ${JSON.stringify(t.slice(0, 64))}`);
  sc.skipBlanks();
  if (!sc.eol()) sc.fail('unexpected text after metric type');
  return { kind: 'meta', metric, type, line: sc.line };
}

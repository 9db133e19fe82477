/**
 * OpenMetrics 1.0 text format: strict single-space separators, `# HELP`/`# TYPE`/`# UNIT`,
 * a mandatory final `# EOF`, timestamps in (float) seconds, exemplars after ` # `, and
 * quoted UTF-8 names inside braces.
 */
import { METRIC_NAME } from '../../model/labels.js';
import type { Label } from '../../model/labels.js';
import type { Exemplar, MetricType } from '../../model/samples.js';
import { ExpositionParseError, finishLabels, resolveLimits, type ExpositionEntry, type ParseLimits, type ResolvedLimits } from './exposition.js';
import { LineScanner, parseGoFloat, type ScanMode } from './line-scanner.js';

const OM_MODE: ScanMode = { lenientBlanks: false, trailingComma: false, formatName: 'OpenMetrics' };

const OM_TYPES: Readonly<Record<string, MetricType>> = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  gaugehistogram: 'gaugehistogram',
  summary: 'summary',
  info: 'info',
  stateset: 'stateset',
  unknown: 'unknown',
};

/** Max combined length (in code points) of exemplar label names and values, per the spec. */
export const MAX_EXEMPLAR_LABEL_RUNES = 128;

function unescapeOM(s: string): string {
  if (!s.includes('\\')) return s;
  return s.replace(/\\(.)/g, (m, c: string) => (c === '\\' ? '\\' : c === 'n' ? '\n' : c === '"' ? '"' : m));
}

function runeLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/**
 * Parses an OpenMetrics body lazily. Throws {@link ExpositionParseError} (and nothing else) on
 * the first malformed line, on a missing `# EOF` and on data after it.
 */
export function* parseOpenMetrics(body: string, limits?: ParseLimits): Generator<ExpositionEntry, void, undefined> {
  const lim = resolveLimits(limits);
  let start = 0;
  let lineNo = 0;
  const n = body.length;
  let sawEOF = false;
  while (start < n) {
    let end = body.indexOf('\n', start);
    if (end < 0) end = n;
    lineNo++;
    if (sawEOF) throw new ExpositionParseError(lineNo, 'unexpected data after # EOF');
    if (end - start > lim.maxLineLength) throw new ExpositionParseError(lineNo, `line longer than ${lim.maxLineLength} characters`);
    const line = body.slice(start, end);
    start = end + 1;
    if (line === '# EOF') {
      sawEOF = true;
      continue;
    }
    yield parseOMLine(line, lineNo, lim);
  }
  if (!sawEOF) throw new ExpositionParseError(lineNo + 1, 'unexpected end of input: missing # EOF');
}

function parseOMLine(line: string, lineNo: number, lim: ResolvedLimits): ExpositionEntry {
  const sc: LineScanner = new LineScanner(line, lineNo, lim, OM_MODE);
  if (line === '') sc.fail('unexpected empty line');
  if (sc.code() === 35) return parseOMComment(sc);
  const pairs: Label[] = [];
  let name = '';
  if (sc.code() !== 123) {
    name = sc.readMetricName();
    if (name === '') sc.fail(`invalid metric name at column ${sc.pos + 1}`);
  }
  if (sc.code() === 123) name = sc.readLabelSet(name, pairs);
  if (name === '') sc.fail('missing metric name');
  if (sc.eol()) sc.fail('expected value after metric name');
  sc.separator('value');
  const tok = sc.readToken();
  if (tok === '') sc.fail('expected value after metric name');
  const value = parseGoFloat(tok);
  if (value === undefined) sc.fail(`invalid value ${JSON.stringify(tok.slice(0, 64))}`);
  let timestampMs: number | undefined;
  let exemplar: Exemplar | undefined;
  if (!sc.eol()) {
    sc.separator('timestamp or exemplar');
    if (sc.code() !== 35) {
      timestampMs = readSecondsTimestamp(sc, 'timestamp');
      if (!sc.eol()) sc.separator('exemplar');
    }
    if (!sc.eol()) exemplar = parseExemplar(sc);
  }
  pairs.push({ name: METRIC_NAME, value: name });
  const labels = finishLabels(pairs);
  if (typeof labels === 'string') sc.fail(labels);
  const e: { kind: 'sample'; name: string; labels: typeof labels; value: number; line: number; timestampMs?: number; exemplar?: Exemplar } = {
    kind: 'sample',
    name,
    labels,
    value,
    line: lineNo,
  };
  if (timestampMs !== undefined) e.timestampMs = timestampMs;
  if (exemplar !== undefined) e.exemplar = exemplar;
  return e;
}

function readSecondsTimestamp(sc: LineScanner, what: string): number {
  const tok = sc.readToken();
  const sec = parseGoFloat(tok);
  if (sec === undefined || !Number.isFinite(sec)) sc.fail(`invalid ${what} ${JSON.stringify(tok.slice(0, 64))}`);
  const ms = Math.round(sec * 1000);
  if (!Number.isSafeInteger(ms)) sc.fail(`${what} out of range: ${tok.slice(0, 64)}`);
  return ms;
}

function parseExemplar(sc: LineScanner): Exemplar {
  if (sc.code() !== 35) sc.fail('unexpected text after timestamp');
  sc.pos++;
  sc.separator('exemplar labels');
  if (sc.code() !== 123) sc.fail("expected '{' to start exemplar labels");
  const pairs: Label[] = [];
  sc.readLabelSet('', pairs, 'exemplar label set');
  let runes = 0;
  for (const p of pairs) runes += runeLength(p.name) + runeLength(p.value);
  if (runes > MAX_EXEMPLAR_LABEL_RUNES) sc.fail(`exemplar labels have ${runes} characters, more than ${MAX_EXEMPLAR_LABEL_RUNES}`);
  const labels = finishLabels(pairs);
  if (typeof labels === 'string') sc.fail(labels);
  if (sc.eol()) sc.fail('expected exemplar value');
  sc.separator('exemplar value');
  const tok = sc.readToken();
  const value = parseGoFloat(tok);
  if (value === undefined) sc.fail(`invalid exemplar value ${JSON.stringify(tok.slice(0, 64))}`);
  let t = 0;
  if (!sc.eol()) {
    sc.separator('exemplar timestamp');
    t = readSecondsTimestamp(sc, 'exemplar timestamp');
    if (!sc.eol()) sc.fail('unexpected text after exemplar timestamp');
  }
  return { labels, value, t };
}

function parseOMComment(sc: LineScanner): ExpositionEntry {
  if (sc.s.charCodeAt(1) !== 32) sc.fail('invalid comment: expected "# HELP", "# TYPE", "# UNIT" or "# EOF"');
  sc.pos = 2;
  const kw = sc.readToken();
  if (kw === 'EOF') sc.fail('unexpected text after # EOF');
  if (kw !== 'HELP' && kw !== 'TYPE' && kw !== 'UNIT') sc.fail('invalid comment: expected "# HELP", "# TYPE", "# UNIT" or "# EOF"');
  if (sc.eol()) sc.fail(`expected metric name in ${kw} line`);
  sc.separator('metric name');
  const metric = sc.readMetricNameMaybeQuoted();
  if (metric === '') sc.fail(`invalid metric name in ${kw} line`);
  if (kw === 'HELP') {
    if (sc.eol()) return { kind: 'meta', metric, help: '', line: sc.line };
    sc.separator('help text');
    return { kind: 'meta', metric, help: unescapeOM(sc.s.slice(sc.pos)), line: sc.line };
  }
  if (kw === 'UNIT') {
    if (sc.eol()) return { kind: 'meta', metric, unit: '', line: sc.line };
    sc.separator('unit');
    const u = sc.readMetricName();
    if (!sc.eol()) sc.fail('invalid unit');
    return { kind: 'meta', metric, unit: u, line: sc.line };
  }
  if (sc.eol()) sc.fail('expected metric type in TYPE line');
  sc.separator('metric type');
  const t = sc.readToken();
  if (!Object.hasOwn(OM_TYPES, t) || !sc.eol()) sc.fail(`invalid metric type ${JSON.stringify(sc.s.slice(sc.pos - t.length, sc.pos + 16))}`);
  return { kind: 'meta', metric, type: OM_TYPES[t]!, line: sc.line };
}

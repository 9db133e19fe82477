/**
 * promtool's rule unit-test file format → validated objects. Unknown fields and mistyped
 * values are errors reported like promtool's strict YAML decoding
 * (`yaml: unmarshal errors:\n  line 23: field x not found in type main.testGroup`).
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Node, type Pair } from 'yaml';
import { ValidationError } from '../../model/errors.js';

/** Maximum size of a unit-test file. */
export const MAX_TEST_FILE_BYTES = 16 * 1024 * 1024;
/** Largest duration promtool accepts (Go's time.Duration: 2^63 ns), in ms. */
export const MAX_DURATION_MS = 9_223_372_036_854;

/** An invalid unit-test file; `message` is what promtool would print. */
export class TestFileError extends ValidationError {
  override name = 'TestFileError';
}

/** One input series. */
export interface InputSeries {
  readonly series: string;
  readonly values: string;
}

/** An expected alert. */
export interface ExpectedAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** `alert_rule_test` item. Times in ms relative to the group start. */
export interface AlertTestCase {
  readonly evalTime: number;
  readonly alertname: string;
  readonly expAlerts: readonly ExpectedAlert[];
}

/** An expected sample of a PromQL test (`value` or a `histogram` literal). */
export interface ExpectedSample {
  readonly labels: string;
  readonly value: number;
  readonly histogram?: string;
}

/** `promql_expr_test` item. */
export interface PromqlTestCase {
  readonly expr: string;
  readonly evalTime: number;
  readonly expSamples: readonly ExpectedSample[];
}

/** One entry of `tests`. */
export interface TestGroup {
  readonly name: string;
  /** Input step in ms; 0 = use the file's evaluation interval. */
  readonly interval: number;
  /** Start of the group's time axis, ms since the epoch. */
  readonly startMs: number;
  readonly inputSeries: readonly InputSeries[];
  readonly alertRuleTests: readonly AlertTestCase[];
  readonly promqlExprTests: readonly PromqlTestCase[];
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
}

/** A whole unit-test file. */
export interface UnitTestFile {
  readonly ruleFiles: readonly string[];
  /** ms, default 1m. */
  readonly evaluationInterval: number;
  readonly groupEvalOrder: readonly string[];
  readonly fuzzyCompare: boolean;
  readonly tests: readonly TestGroup[];
}

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNIT_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** Parses a Prometheus duration (`1d`, `4m59s`, `0`) to ms, up to {@link MAX_DURATION_MS}. */
export function parseTestDuration(s: string): number {
  const m = s === '' ? null : DURATION_RE.exec(s);
  if (s !== '0' && !m) throw new Error(`not a valid duration string: ${JSON.stringify(s)}`);
  let total = 0;
  if (m) for (let i = 0; i < UNIT_MS.length; i++) if (m[i + 1] !== undefined) total += Number(m[i + 1]) * UNIT_MS[i]!;
  if (total > MAX_DURATION_MS) throw new Error(`duration out of range: ${JSON.stringify(s)}`);
  return total;
}

class Reader {
  readonly errors: string[] = [];
  constructor(private readonly lc: LineCounter) {}

  line(n: Node | null | undefined): number {
    const r = n?.range;
    return r ? this.lc.linePos(r[0]).line : 0;
  }

  fail(n: Node | null | undefined, msg: string): void {
    this.errors.push(`  line ${this.line(n)}: ${msg}`);
  }

  /** Pairs of a mapping; reports unknown keys against `type`. */
  fields(n: Node | null | undefined, type: string, known: readonly string[]): Map<string, Node | null> {
    const out = new Map<string, Node | null>();
    if (n == null || (isScalar(n) && n.value === null)) return out;
    if (!isMap(n)) {
      this.fail(n, `cannot unmarshal ${this.tag(n)} into ${type}`);
      return out;
    }
    for (const p of n.items as Pair<unknown, unknown>[]) {
      const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
      if (!known.includes(k)) {
        this.fail(p.key as Node, `field ${k} not found in type ${type}`);
        continue;
      }
      out.set(k, (p.value as Node | null) ?? null);
    }
    return out;
  }

  tag(n: Node | null | undefined): string {
    if (n == null) return '!!null';
    if (isMap(n)) return '!!map';
    if (isSeq(n)) return '!!seq';
    if (isScalar(n)) {
      const v = n.value;
      if (typeof v === 'string') return `!!str \`${v}\``;
      if (typeof v === 'number') return Number.isInteger(v) ? `!!int \`${String(v)}\`` : `!!float \`${String(v)}\``;
      if (typeof v === 'boolean') return `!!bool \`${String(v)}\``;
      return '!!null';
    }
    return '!!unknown';
  }

  /** A scalar as a string (numbers and booleans are accepted, like Go's yaml for string fields). */
  str(n: Node | null | undefined, def = ''): string {
    if (n == null) return def;
    if (isScalar(n)) {
      if (n.value === null) return def;
      if (typeof n.value === 'string') return n.value;
      // Numbers and booleans keep their source text (`0x10` stays `0x10`), as Go's yaml does.
      if (typeof n.value === 'number' || typeof n.value === 'boolean') return typeof n.source === 'string' ? n.source : String(n.value);
    }
    this.fail(n, `cannot unmarshal ${this.tag(n)} into string`);
    return def;
  }

  num(n: Node | null | undefined): number {
    if (n == null || (isScalar(n) && n.value === null)) return 0;
    if (isScalar(n) && typeof n.value === 'number') return n.value;
    this.fail(n, `cannot unmarshal ${this.tag(n)} into float64`);
    return 0;
  }

  bool(n: Node | null | undefined): boolean {
    if (n == null || (isScalar(n) && n.value === null)) return false;
    if (isScalar(n) && typeof n.value === 'boolean') return n.value;
    this.fail(n, `cannot unmarshal ${this.tag(n)} into bool`);
    return false;
  }

  duration(n: Node | null | undefined): number {
    if (n == null || (isScalar(n) && n.value === null)) return 0;
    const s = this.str(n);
    try {
      return parseTestDuration(s);
    } catch (e) {
      this.fail(n, (e as Error).message);
      return 0;
    }
  }

  list(n: Node | null | undefined): (Node | null)[] {
    if (n == null || (isScalar(n) && n.value === null)) return [];
    if (!isSeq(n)) {
      this.fail(n, `cannot unmarshal ${this.tag(n)} into a list`);
      return [];
    }
    return n.items as (Node | null)[];
  }

  strMap(n: Node | null | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    if (n == null || (isScalar(n) && n.value === null)) return out;
    if (!isMap(n)) {
      this.fail(n, `cannot unmarshal ${this.tag(n)} into map[string]string`);
      return out;
    }
    for (const p of n.items as Pair<unknown, unknown>[]) {
      const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
      out[k] = this.str(p.value as Node | null);
    }
    return out;
  }

  startTimestamp(n: Node | null | undefined): number {
    if (n == null || (isScalar(n) && n.value === null)) return 0;
    if (isScalar(n) && typeof n.value === 'number' && Number.isInteger(n.value)) return n.value * 1000;
    if (isScalar(n) && typeof n.value === 'string') {
      const s = n.value.trim();
      if (/^-?\d+$/.test(s)) return Number(s) * 1000;
      if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(s)) {
        const t = Date.parse(s);
        if (Number.isFinite(t)) return t;
      }
    }
    this.fail(n, `cannot parse start_timestamp ${this.tag(n)}: want a Unix timestamp in seconds or an RFC3339 time`);
    return 0;
  }
}

const FILE_KEYS = ['rule_files', 'evaluation_interval', 'group_eval_order', 'fuzzy_compare', 'tests'];
const GROUP_KEYS = ['interval', 'input_series', 'alert_rule_test', 'promql_expr_test', 'external_labels', 'external_url', 'name', 'start_timestamp'];

/** Parses and validates a unit-test file's text. Throws {@link TestFileError} with promtool-like text. */
export function parseTestFile(text: string): UnitTestFile {
  if (text.length > MAX_TEST_FILE_BYTES) throw new TestFileError(`test file is larger than ${MAX_TEST_FILE_BYTES} bytes`);
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = e.linePos?.[0]?.line ?? 0;
    throw new TestFileError(`yaml: line ${line}: ${e.message.split('\n')[0]}`, { cause: e });
  }
  const r = new Reader(lc);
  const top = r.fields(doc.contents as Node | null, 'main.unitTestFile', FILE_KEYS);
  const ruleFiles = r.list(top.get('rule_files')).map((n) => r.str(n));
  const evalNode = top.get('evaluation_interval');
  const evaluationInterval = evalNode == null ? 60_000 : r.duration(evalNode);
  const groupEvalOrder = r.list(top.get('group_eval_order')).map((n) => r.str(n));
  const fuzzyCompare = r.bool(top.get('fuzzy_compare'));
  const tests: TestGroup[] = [];
  for (const tn of r.list(top.get('tests'))) {
    const g = r.fields(tn, 'main.testGroup', GROUP_KEYS);
    const inputSeries = r.list(g.get('input_series')).map((sn) => {
      const f = r.fields(sn, 'main.series', ['series', 'values']);
      return { series: r.str(f.get('series')), values: r.str(f.get('values')) };
    });
    const alertRuleTests = r.list(g.get('alert_rule_test')).map((an) => {
      const f = r.fields(an, 'main.alertTestCase', ['eval_time', 'alertname', 'exp_alerts']);
      return {
        evalTime: r.duration(f.get('eval_time')),
        alertname: r.str(f.get('alertname')),
        expAlerts: r.list(f.get('exp_alerts')).map((en) => {
          const ef = r.fields(en, 'main.alert', ['exp_labels', 'exp_annotations']);
          return { labels: r.strMap(ef.get('exp_labels')), annotations: r.strMap(ef.get('exp_annotations')) };
        }),
      };
    });
    const promqlExprTests = r.list(g.get('promql_expr_test')).map((pn) => {
      const f = r.fields(pn, 'main.promqlTestCase', ['expr', 'eval_time', 'exp_samples']);
      return {
        expr: r.str(f.get('expr')),
        evalTime: r.duration(f.get('eval_time')),
        expSamples: r.list(f.get('exp_samples')).map((sn) => {
          const sf = r.fields(sn, 'main.sample', ['labels', 'value', 'histogram']);
          const hist = sf.get('histogram');
          const s: ExpectedSample = { labels: r.str(sf.get('labels')), value: r.num(sf.get('value')) };
          return hist == null ? s : { ...s, histogram: r.str(hist) };
        }),
      };
    });
    tests.push({
      name: r.str(g.get('name')),
      interval: r.duration(g.get('interval')),
      startMs: r.startTimestamp(g.get('start_timestamp')),
      inputSeries,
      alertRuleTests,
      promqlExprTests,
      externalLabels: r.strMap(g.get('external_labels')),
      externalURL: r.str(g.get('external_url')),
    });
  }
  if (r.errors.length > 0) throw new TestFileError(`yaml: unmarshal errors:\n${r.errors.join('\n')}`);
  return { ruleFiles, evaluationInterval, groupEvalOrder, fuzzyCompare, tests };
}

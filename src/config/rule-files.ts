/**
 * Prometheus rule files → validated {@link RuleGroupConfig}s, with `promtool check rules`-style
 * validation. Every error names the file, line, group and rule.
 *
 * Accepted documents (a file may hold several YAML documents, all are read):
 * - a plain rule file: `groups: [...]`;
 * - a prometheus-operator `PrometheusRule` (`apiVersion: monitoring.coreos.com/v1`,
 *   `kind: PrometheusRule`, `spec.groups`).
 *
 * Group keys: `name`, `interval`, `limit`, `query_offset`, `labels`, `rules`, plus two vigil
 * extensions:
 * - `eval_on_ingest: true` — evaluate the group as soon as ingested data touches a metric
 *   one of its rules selects (in addition to the regular interval);
 * - `tenant: <id>` — the tenant whose data the group queries and to which its output belongs
 *   (absent = the default tenant).
 *
 * Rule kinds beyond Prometheus's (vigil extension; a file without them loads in Prometheus):
 * - `forecast: <metric>` with `expr`, `model`, `lookback`, `step`, `horizons: [1h, ...]`,
 *   `quantiles: [0.1, ...]`, optional `retrain: "<cron>"` and `labels`;
 * - `anomaly: <metric>` with `expr`, `model`, `lookback`, `step`, optional `retrain` and `labels`.
 * `checkRuleFiles` also checks the named models (present, valid, matching the rule).
 */
import { stat, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node, type Pair } from 'yaml';
import { ValidationError } from '../model/errors.js';
import { isLegacyLabelName } from '../model/labels.js';
import { ParseError, parseExpr } from '../promql/parser/index.js';
import { checkModelRefs, parsePredictive, type ModelRef, type YamlHelpers } from '../rules/predictive-config.js';
import { defaultModelDir } from '../rules/predictive-models.js';
import type { AlertingRuleConfig, RecordingRuleConfig, RuleConfig, RuleGroupConfig } from '../rules/rule.js';
import { defaultTemplater } from '../rules/templating.js';
import { DurationError, parseDuration } from './duration.js';
import { expandGlob } from './glob.js';

/** Maximum size of one rule file. */
export const MAX_RULE_FILE_BYTES = 16 * 1024 * 1024;
/** Maximum number of rules in one file. */
export const MAX_RULES_PER_FILE = 10_000;

/** A problem in a rule file, positioned at file, line, group and rule. */
export class RuleFileError extends ValidationError {
  override name = 'RuleFileError';
  constructor(
    /** The file (as given/resolved). */
    readonly file: string,
    /** 1-based line, 0 when unknown. */
    readonly line: number,
    /** What is wrong, without the position prefix. */
    readonly detail: string,
    /** Group name, when the error is inside a group. */
    readonly group?: string,
    /** Rule name (alert or record), when the error is inside a rule. */
    readonly rule?: string,
    /** 0-based index of the rule in its group. */
    readonly ruleIndex?: number,
    options?: ErrorOptions,
  ) {
    let where = line > 0 ? `${file}:${line}: ` : `${file}: `;
    if (group !== undefined) where += `group ${JSON.stringify(group)}`;
    if (ruleIndex !== undefined) where += `, rule ${ruleIndex + 1}${rule ? ` ${JSON.stringify(rule)}` : ''}`;
    if (group !== undefined) where += ': ';
    super(where + detail, options);
  }
}

/** Options of {@link loadRuleFiles} / {@link checkRuleFiles}. */
export interface RuleFileOptions {
  /** Template syntax checker (default: the Go-template engine). */
  readonly checkTemplate?: (name: string, text: string) => Error | undefined;
  /** Directory of named models for predictive rules (`checkRuleFiles`; default `defaultModelDir()`). */
  readonly modelDir?: string;
  /** Check the models predictive rules name (`checkRuleFiles`; default true). */
  readonly checkModels?: boolean;
}

export type { ModelRef } from '../rules/predictive-config.js';
export { checkModelRefs, MAX_PREDICTIVE_POINTS, MAX_FORECAST_LIST } from '../rules/predictive-config.js';

const GROUP_KEYS = ['name', 'interval', 'limit', 'query_offset', 'labels', 'rules', 'eval_on_ingest', 'tenant'];
const RULE_KEYS = ['record', 'alert', 'forecast', 'anomaly', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations', 'model', 'lookback', 'step', 'horizons', 'quantiles', 'retrain'];
const PREDICTIVE_KEYS = ['model', 'lookback', 'step', 'horizons', 'quantiles', 'retrain'];

/** The YAML helpers predictive-rule parsing needs (kept here, passed down). */
function helpers(ctx: Ctx): YamlHelpers {
  return { str, duration, scalarValue, lineOf: (n, fallback) => lineOf(ctx, n, fallback) };
}
const CRD_KEYS = ['apiVersion', 'kind', 'metadata', 'spec'];
const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const TENANT_RE = /^[a-zA-Z0-9!._*'()-]{1,150}$/;

interface Ctx {
  readonly file: string;
  readonly lc: LineCounter;
  readonly errors: RuleFileError[];
  readonly check: (name: string, text: string) => Error | undefined;
  rules: number;
  readonly modelRefs: ModelRef[];
}

function lineOf(ctx: Ctx, n: unknown, fallback = 0): number {
  const r = (n as Node | null | undefined)?.range;
  return r ? ctx.lc.linePos(r[0]).line : fallback;
}

function scalarValue(n: unknown): unknown {
  return isScalar(n) ? n.value : undefined;
}

/** Pairs of a mapping node keyed by string; reports unknown keys. */
function mapEntries(ctx: Ctx, n: unknown, allowed: readonly string[] | null, what: string, err: (line: number, msg: string) => void): Map<string, { node: unknown; line: number }> | undefined {
  const out = new Map<string, { node: unknown; line: number }>();
  if (!isMap(n)) {
    err(lineOf(ctx, n), `${what}: expected a mapping`);
    return undefined;
  }
  for (const p of n.items as Pair<unknown, unknown>[]) {
    const k = scalarValue(p.key);
    const line = lineOf(ctx, p.key, lineOf(ctx, n));
    if (typeof k !== 'string' && typeof k !== 'number') {
      err(line, `${what}: keys must be strings`);
      continue;
    }
    const key = String(k);
    if (allowed && !allowed.includes(key)) {
      err(line, `unknown key ${JSON.stringify(key)} in ${what}`);
      continue;
    }
    if (out.has(key)) {
      err(line, `duplicate key ${JSON.stringify(key)} in ${what}`);
      continue;
    }
    out.set(key, { node: p.value, line });
  }
  return out;
}

/** Reads a string value of `key` from a mapping node before validating it (for error context). */
function peek(n: unknown, ...keys: string[]): string | undefined {
  if (!isMap(n)) return undefined;
  for (const key of keys) {
    const v = scalarValue(n.get(key, true));
    if (typeof v === 'string' || typeof v === 'number') return String(v);
  }
  return undefined;
}

function str(v: { node: unknown; line: number } | undefined): string | undefined {
  if (!v) return undefined;
  const s = scalarValue(v.node);
  if (typeof s === 'string') return s;
  if (typeof s === 'number' || typeof s === 'boolean') return String(s);
  return undefined;
}

/** Reads a string → string mapping (labels/annotations). */
function strMap(ctx: Ctx, v: { node: unknown; line: number } | undefined, what: string, err: (line: number, msg: string) => void): Record<string, { value: string; line: number }> {
  const out: Record<string, { value: string; line: number }> = {};
  if (!v || v.node == null || scalarValue(v.node) === null) return out;
  const m = mapEntries(ctx, v.node, null, what, err);
  if (!m) return out;
  for (const [k, e] of m) {
    const s = e.node == null ? '' : str(e);
    if (s === undefined) {
      err(e.line, `${what}.${k}: expected a string`);
      continue;
    }
    out[k] = { value: s, line: e.line };
  }
  return out;
}

function duration(v: { node: unknown; line: number }, what: string, err: (line: number, msg: string) => void): number {
  const s = str(v);
  if (s === undefined) {
    err(v.line, `${what}: expected a duration like 30s, 1m, 1h30m`);
    return 0;
  }
  try {
    return parseDuration(s);
  } catch (e) {
    err(v.line, `${what}: ${(e as DurationError).message}`);
    return 0;
  }
}

function plain(m: Record<string, { value: string }>): Record<string, string> {
  const o: Record<string, string> = {};
  for (const [k, v] of Object.entries(m)) o[k] = v.value;
  return o;
}

/** Validates one rule; returns undefined when invalid (errors recorded). */
function parseRule(ctx: Ctx, node: unknown, group: string, index: number): RuleConfig | undefined {
  const ruleLine = lineOf(ctx, node);
  let name: string | undefined = peek(node, 'alert', 'record', 'forecast', 'anomaly');
  let bad = false;
  const err = (line: number, msg: string): void => {
    bad = true;
    ctx.errors.push(new RuleFileError(ctx.file, line || ruleLine, msg, group, name, index));
  };
  const m = mapEntries(ctx, node, RULE_KEYS, 'rule', err);
  if (!m) return undefined;
  const record = m.get('record');
  const alert = m.get('alert');
  const forecast = m.get('forecast');
  const anomaly = m.get('anomaly');
  name = str(alert) ?? str(record) ?? str(forecast) ?? str(anomaly);
  const kinds = [record, alert, forecast, anomaly].filter((x) => x !== undefined).length;
  if (kinds > 1) err(ruleLine, forecast || anomaly ? "only one of 'record', 'alert', 'forecast' and 'anomaly' must be set" : "only one of 'record' and 'alert' must be set");
  else if (kinds === 0) err(ruleLine, "one of 'record' or 'alert' must be set"); // promtool's wording
  const exprV = m.get('expr');
  const expr = str(exprV);
  if (!exprV || expr === undefined || expr.trim() === '') err(exprV?.line ?? ruleLine, "field 'expr' must be set in rule");
  else {
    try {
      parseExpr(expr);
    } catch (e) {
      const msg = e instanceof ParseError ? `could not parse expression: ${e.message}` : `could not parse expression: ${(e as Error).message}`;
      // Block scalars start on the line after the key; add the line within the expression.
      const blk = isScalar(exprV.node) && (exprV.node.type === 'BLOCK_LITERAL' || exprV.node.type === 'BLOCK_FOLDED');
      const within = e instanceof ParseError ? e.line - 1 : 0;
      err(exprV.line + (blk ? 1 : 0) + within, msg);
    }
  }
  const labels = strMap(ctx, m.get('labels'), 'labels', err);
  for (const [k, v] of Object.entries(labels)) {
    if (!isLegacyLabelName(k) || k === '__name__') err(v.line, `invalid label name: ${JSON.stringify(k)}`);
  }
  if (forecast || anomaly) {
    if (kinds > 1) return undefined;
    const rc = parsePredictive(helpers(ctx), m, forecast ? 'forecast' : 'anomaly', (forecast ?? anomaly)!, { expr, labels: plain(labels), file: ctx.file, ruleLine, bad: () => bad }, err);
    if (rc) ctx.modelRefs.push({ rule: rc, line: m.get('model')!.line, group, index });
    return rc;
  }
  for (const f of PREDICTIVE_KEYS) {
    const v = m.get(f);
    if (v) err(v.line, `invalid field '${f}' in ${record ? 'recording' : 'alerting'} rule (only in forecast and anomaly rules)`);
  }
  if (record) {
    const rec = str(record);
    if (rec === undefined || !METRIC_NAME_RE.test(rec)) err(record.line, `invalid recording rule name: ${JSON.stringify(rec ?? '')}`);
    for (const f of ['for', 'keep_firing_for', 'annotations']) {
      const v = m.get(f);
      if (v) err(v.line, `invalid field '${f}' in recording rule`);
    }
    if (bad || expr === undefined || rec === undefined) return undefined;
    const r: RecordingRuleConfig = { kind: 'recording', record: rec, expr, labels: plain(labels), pos: { file: ctx.file, line: ruleLine } };
    return r;
  }
  if (!alert) return undefined;
  const alertName = str(alert);
  if (alertName === undefined || alertName === '' || !isValidUtf8String(alertName)) err(alert.line, `invalid alert name: ${JSON.stringify(alertName ?? '')}`);
  const annotations = strMap(ctx, m.get('annotations'), 'annotations', err);
  for (const [k, v] of Object.entries(annotations)) {
    if (!isLegacyLabelName(k)) err(v.line, `invalid annotation name: ${JSON.stringify(k)}`);
  }
  for (const [kind, set] of [
    ['label', labels],
    ['annotation', annotations],
  ] as const) {
    for (const [k, v] of Object.entries(set)) {
      const te = ctx.check(`__alert_${alertName ?? ''}`, v.value);
      if (te) err(v.line, `${kind} ${JSON.stringify(k)}: template: ${te.message}`);
    }
  }
  const forV = m.get('for');
  const kffV = m.get('keep_firing_for');
  const forMs = forV ? duration(forV, 'for', err) : 0;
  const kff = kffV ? duration(kffV, 'keep_firing_for', err) : 0;
  if (bad || expr === undefined || alertName === undefined) return undefined;
  const a: AlertingRuleConfig = {
    kind: 'alerting',
    alert: alertName,
    expr,
    for: forMs,
    keepFiringFor: kff,
    labels: plain(labels),
    annotations: plain(annotations),
    pos: { file: ctx.file, line: ruleLine },
  };
  return a;
}

function isValidUtf8String(s: string): boolean {
  // Lone surrogates are the only way a JS string is not valid UTF-8.
  return !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

function parseGroup(ctx: Ctx, node: unknown, seen: Set<string>): RuleGroupConfig | undefined {
  const gLine = lineOf(ctx, node);
  let gname: string | undefined = peek(node, 'name') || undefined;
  let bad = false;
  const err = (line: number, msg: string): void => {
    bad = true;
    ctx.errors.push(new RuleFileError(ctx.file, line || gLine, msg, gname));
  };
  const m = mapEntries(ctx, node, GROUP_KEYS, 'rule group', err);
  if (!m) return undefined;
  const nameV = m.get('name');
  gname = str(nameV);
  if (gname === undefined || gname === '') {
    err(nameV?.line ?? gLine, 'group name must not be empty');
    gname = undefined;
  } else if (seen.has(gname)) err(nameV!.line, `group name ${JSON.stringify(gname)} is repeated in the same file`);
  else seen.add(gname);
  const intervalV = m.get('interval');
  const interval = intervalV ? duration(intervalV, 'interval', err) : 0;
  const qoV = m.get('query_offset');
  const queryOffset = qoV ? duration(qoV, 'query_offset', err) : 0;
  let limit = 0;
  const limitV = m.get('limit');
  if (limitV) {
    const l = scalarValue(limitV.node);
    if (typeof l === 'number' && Number.isSafeInteger(l) && l >= 0) limit = l;
    else err(limitV.line, 'limit: expected a non-negative integer');
  }
  let evalOnIngest = false;
  const eoiV = m.get('eval_on_ingest');
  if (eoiV) {
    const b = scalarValue(eoiV.node);
    if (typeof b === 'boolean') evalOnIngest = b;
    else err(eoiV.line, 'eval_on_ingest: expected true or false');
  }
  let tenant: string | undefined;
  const tV = m.get('tenant');
  if (tV) {
    tenant = str(tV);
    if (tenant === undefined || !TENANT_RE.test(tenant)) err(tV.line, `tenant: invalid tenant id ${JSON.stringify(tenant ?? '')}`);
  }
  const labels = strMap(ctx, m.get('labels'), 'labels', err);
  for (const [k, v] of Object.entries(labels)) {
    if (!isLegacyLabelName(k) || k === '__name__') err(v.line, `invalid label name: ${JSON.stringify(k)}`);
  }
  const rulesV = m.get('rules');
  const rules: RuleConfig[] = [];
  if (rulesV && rulesV.node != null && scalarValue(rulesV.node) !== null) {
    if (!isSeq(rulesV.node)) err(rulesV.line, 'rules: expected a list');
    else {
      rulesV.node.items.forEach((rn, i) => {
        ctx.rules++;
        if (ctx.rules > MAX_RULES_PER_FILE) {
          if (ctx.rules === MAX_RULES_PER_FILE + 1) err(lineOf(ctx, rn), `too many rules in file (limit ${MAX_RULES_PER_FILE})`);
          return;
        }
        const r = parseRule(ctx, rn, gname ?? '', i);
        if (r) rules.push(r);
        else bad = true;
      });
    }
  }
  if (bad || gname === undefined) return undefined;
  return {
    name: gname,
    file: ctx.file,
    interval,
    limit,
    queryOffset,
    labels: plain(labels),
    evalOnIngest,
    ...(tenant !== undefined ? { tenant } : {}),
    rules,
    pos: { file: ctx.file, line: gLine },
  };
}

/** Parses rule-file text (all YAML documents). Never throws; problems go to `errors`. */
export function parseRuleFileText(text: string, file: string, opts: RuleFileOptions = {}): { groups: RuleGroupConfig[]; errors: RuleFileError[]; rules: number; modelRefs: ModelRef[] } {
  const ctx: Ctx = { file, lc: new LineCounter(), errors: [], check: opts.checkTemplate ?? defaultTemplater.check, rules: 0, modelRefs: [] };
  const groups: RuleGroupConfig[] = [];
  if (Buffer.byteLength(text, 'utf8') > MAX_RULE_FILE_BYTES) {
    ctx.errors.push(new RuleFileError(file, 0, `file is larger than ${MAX_RULE_FILE_BYTES} bytes`));
    return { groups, errors: ctx.errors, rules: 0, modelRefs: [] };
  }
  let docs;
  try {
    docs = parseAllDocuments(text, { lineCounter: ctx.lc, prettyErrors: false, uniqueKeys: true });
  } catch (e) {
    ctx.errors.push(new RuleFileError(file, 0, `YAML error: ${(e as Error).message}`, undefined, undefined, undefined, { cause: e }));
    return { groups, errors: ctx.errors, rules: 0, modelRefs: [] };
  }
  const docList = Array.isArray(docs) ? docs : [];
  const seen = new Set<string>();
  for (const doc of docList) {
    const yerr = doc.errors[0];
    if (yerr) {
      const line = yerr.linePos?.[0]?.line ?? ctx.lc.linePos(yerr.pos[0]).line;
      ctx.errors.push(new RuleFileError(file, line, `YAML syntax error: ${yerr.message.split('\n')[0]}`, undefined, undefined, undefined, { cause: yerr }));
      continue;
    }
    const root = doc.contents;
    if (root == null || scalarValue(root) === null) continue;
    const err = (line: number, msg: string): void => void ctx.errors.push(new RuleFileError(file, line, msg));
    if (!isMap(root)) {
      err(lineOf(ctx, root), 'expected a mapping with "groups" (or a PrometheusRule)');
      continue;
    }
    let groupsNode: { node: unknown; line: number } | undefined;
    if (root.has('kind') || root.has('apiVersion') || root.has('spec')) {
      const m = mapEntries(ctx, root, CRD_KEYS, 'PrometheusRule', err);
      if (!m) continue;
      const kind = str(m.get('kind'));
      if (kind !== 'PrometheusRule') {
        err(m.get('kind')?.line ?? lineOf(ctx, root), `unsupported kind ${JSON.stringify(kind ?? '')} (expected PrometheusRule)`);
        continue;
      }
      const api = str(m.get('apiVersion')) ?? '';
      if (!api.startsWith('monitoring.coreos.com/')) err(m.get('apiVersion')?.line ?? lineOf(ctx, root), `unsupported apiVersion ${JSON.stringify(api)} (expected monitoring.coreos.com/v1)`);
      const spec = m.get('spec');
      if (!spec) {
        err(lineOf(ctx, root), 'PrometheusRule without spec');
        continue;
      }
      const sm = mapEntries(ctx, spec.node, ['groups'], 'spec', err);
      groupsNode = sm?.get('groups');
    } else {
      const m = mapEntries(ctx, root, ['groups'], 'rule file', err);
      groupsNode = m?.get('groups');
    }
    if (!groupsNode || groupsNode.node == null || scalarValue(groupsNode.node) === null) continue;
    if (!isSeq(groupsNode.node)) {
      err(groupsNode.line, 'groups: expected a list');
      continue;
    }
    for (const gn of groupsNode.node.items) {
      const g = parseGroup(ctx, gn, seen);
      if (g) groups.push(g);
    }
  }
  return { groups, errors: ctx.errors, rules: ctx.rules, modelRefs: ctx.modelRefs };
}

/** Reads and parses one rule file (bounded in size). */
export async function loadRuleFile(path: string, opts: RuleFileOptions = {}): Promise<{ groups: RuleGroupConfig[]; errors: RuleFileError[]; rules: number; modelRefs?: ModelRef[] }> {
  try {
    const st = await stat(path);
    if (!st.isFile()) return { groups: [], errors: [new RuleFileError(path, 0, 'not a regular file')], rules: 0 };
    if (st.size > MAX_RULE_FILE_BYTES) return { groups: [], errors: [new RuleFileError(path, 0, `file is larger than ${MAX_RULE_FILE_BYTES} bytes (${st.size})`)], rules: 0 };
    const text = await readFile(path, 'utf8');
    return parseRuleFileText(text, path, opts);
  } catch (e) {
    return { groups: [], errors: [new RuleFileError(path, 0, `cannot read rule file: ${(e as Error).message}`, undefined, undefined, undefined, { cause: e })], rules: 0 };
  }
}

/**
 * Loads all rule files matching `globs` (relative ones resolve against `baseDir`). A pattern
 * without wildcards that names a missing file is an error; a wildcard matching nothing is not.
 */
export async function loadRuleFiles(globs: string[], baseDir: string, opts: RuleFileOptions = {}): Promise<{ groups: RuleGroupConfig[]; errors: RuleFileError[] }> {
  const groups: RuleGroupConfig[] = [];
  const errors: RuleFileError[] = [];
  const files = new Set<string>();
  for (const g of globs) {
    try {
      for (const f of await expandGlob(g, baseDir)) files.add(f);
    } catch (e) {
      errors.push(new RuleFileError(g, 0, `invalid rule file pattern: ${(e as Error).message}`));
    }
  }
  for (const f of files) {
    const r = await loadRuleFile(f, opts);
    groups.push(...r.groups);
    errors.push(...r.errors);
  }
  return { groups, errors };
}

/** `vigil check rules`: validates files, returns all errors and the number of groups and rules. */
export async function checkRuleFiles(files: string[], opts: RuleFileOptions = {}): Promise<{ errors: RuleFileError[]; groups: number; rules: number }> {
  const errors: RuleFileError[] = [];
  let groups = 0;
  let rules = 0;
  for (const f of files) {
    const r = await loadRuleFile(resolve(f), opts);
    errors.push(...r.errors.map((e) => (e.file === resolve(f) ? new RuleFileError(f, e.line, e.detail, e.group, e.rule, e.ruleIndex, { cause: e.cause }) : e)));
    if (opts.checkModels ?? true) {
      const bad = await checkModelRefs(r.modelRefs ?? [], opts.modelDir ?? defaultModelDir());
      errors.push(...bad.map((b) => new RuleFileError(f, b.ref.line, b.detail, b.ref.group, b.name, b.ref.index, { cause: b.cause })));
    }
    groups += r.groups.length;
    rules += r.groups.reduce((n, g) => n + g.rules.length, 0);
  }
  return { errors, groups, rules };
}


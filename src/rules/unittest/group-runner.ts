/**
 * Runs one `tests[]` entry of a unit-test file the way promtool does: input series are loaded
 * into a fresh in-memory store step by step, every rule group is evaluated at each
 * `evaluation_interval` from the start up to the largest `eval_time`, firing alerts are
 * compared at each alert `eval_time`, then PromQL expressions are checked against the result.
 */
import type { FloatHistogram } from '../../model/histogram.js';
import { labelsCompare, labelsEqual, labelsFrom, type Labels } from '../../model/labels.js';
import { nopLogger, type Logger } from '../../model/logger.js';
import { Engine } from '../../promql/engine/index.js';
import { histogramEquals } from '../../promql/engine/histogram-ops.js';
import { parseHistogramLiteral, parseSeriesLabels, parseSeriesLine, placeSeriesValues, type SeriesPoint } from '../../promql/series-notation.js';
import { AlertingRule } from '../alerting.js';
import { RuleGroup } from '../group.js';
import type { PredictiveDeps } from '../predictive-base.js';
import { engineRangeQueryFunc } from '../predictive-window.js';
import { engineQueryFunc } from '../query-func.js';
import type { RuleGroupConfig } from '../rule.js';
import type { Templater } from '../templating.js';
import { alertsString, formatGoDuration, formatModelDuration, indentLines, sampleString, type AlertText } from './format.js';
import { MemoryStore } from './memory-store.js';
import type { TestGroup, UnitTestFile } from './test-file.js';

/** Options of {@link runTestGroup}. */
export interface GroupRunOptions {
  /** Rule groups in evaluation order. */
  readonly groups: readonly RuleGroupConfig[];
  readonly fuzzyCompare: boolean;
  readonly templater?: Templater;
  readonly debug?: boolean;
  /** Receives debug lines. */
  readonly log?: (line: string) => void;
  readonly logger?: Logger;
  /** Models for forecast/anomaly rules (default: the shipped models directory). */
  readonly predictive?: PredictiveDeps;
}

interface LoadedSeries {
  readonly labels: Labels;
  readonly points: readonly SeriesPoint[];
  next: number;
}

interface GotSample {
  readonly labels: Labels;
  readonly value: number;
  readonly h?: FloatHistogram;
}

/** Float equality: exact (NaN never equal, as promtool), or within one unit in the last place. */
export function floatsMatch(exp: number, got: number, fuzzy: boolean): boolean {
  if (exp === got) return true;
  if (!fuzzy || !Number.isFinite(exp) || !Number.isFinite(got) || Math.sign(exp) !== Math.sign(got)) return false;
  return ulpDistance(exp, got) <= 1;
}

function ulpDistance(a: number, b: number): number {
  const buf = new DataView(new ArrayBuffer(16));
  buf.setFloat64(0, Math.abs(a));
  buf.setFloat64(8, Math.abs(b));
  const d = buf.getBigUint64(0) - buf.getBigUint64(8);
  return Number(d < 0n ? -d : d);
}

function histogramsMatch(exp: FloatHistogram, got: FloatHistogram, fuzzy: boolean): boolean {
  if (histogramEquals(exp, got)) return true;
  if (!fuzzy) return false;
  return exp.schema === got.schema && floatsMatch(exp.count, got.count, true) && floatsMatch(exp.sum, got.sum, true);
}

function samplesMatch(exp: readonly GotSample[], got: readonly GotSample[], fuzzy: boolean): boolean {
  if (exp.length !== got.length) return false;
  for (let i = 0; i < exp.length; i++) {
    const e = exp[i]!;
    const g = got[i]!;
    if (!labelsEqual(e.labels, g.labels)) return false;
    if (e.h || g.h) {
      if (!e.h || !g.h || !histogramsMatch(e.h, g.h, fuzzy)) return false;
    } else if (!floatsMatch(e.value, g.value, fuzzy)) return false;
  }
  return true;
}

function alertsMatch(exp: readonly AlertText[], got: readonly AlertText[]): boolean {
  return exp.length === got.length && exp.every((e, i) => labelsEqual(e.labels, got[i]!.labels) && labelsEqual(e.annotations, got[i]!.annotations));
}

const byLabels = (a: { labels: Labels }, b: { labels: Labels }): number => labelsCompare(a.labels, b.labels);

function samplesText(ss: readonly GotSample[]): string {
  return ss.map((s) => sampleString(s.labels, s.value, s.h)).join(', ');
}

/** Loads the input series of a test group; throws on notation errors (promtool's message). */
function loadInput(tg: TestGroup, stepMs: number): LoadedSeries[] {
  return tg.inputSeries.map((s) => {
    const line = parseSeriesLine(`${s.series} ${s.values}`);
    return { labels: line.labels, points: placeSeriesValues(line.values, stepMs, tg.startMs), next: 0 };
  });
}

/** Appends every input sample with `t <= ts` that was not appended yet. */
async function appendUntil(head: MemoryStore, input: LoadedSeries[], ts: number): Promise<void> {
  const app = head.appender();
  let n = 0;
  for (const s of input) {
    while (s.next < s.points.length && s.points[s.next]!.t <= ts) {
      const p = s.points[s.next++]!;
      if (p.h) app.appendHistogram(0, s.labels, p.t, p.h);
      else app.append(0, s.labels, p.t, p.v!);
      n++;
    }
  }
  if (n > 0) await app.commit();
  else app.rollback();
}

/** Largest eval_time of a group (ms relative to its start). */
function maxEvalTime(tg: TestGroup): number {
  let m = 0;
  for (const a of tg.alertRuleTests) m = Math.max(m, a.evalTime);
  for (const p of tg.promqlExprTests) m = Math.max(m, p.evalTime);
  return m;
}

/**
 * Runs one test group; returns the failure messages (empty = passed). `file` supplies the
 * evaluation interval.
 */
export async function runTestGroup(file: UnitTestFile, tg: TestGroup, opts: GroupRunOptions): Promise<string[]> {
  const evalInterval = file.evaluationInterval;
  if (!(evalInterval > 0)) return ['evaluation_interval must be greater than 0'];
  const stepMs = tg.interval > 0 ? tg.interval : evalInterval;
  for (const a of tg.alertRuleTests) {
    if (a.alertname === '') {
      return [`an item under alert_rule_test misses required attribute alertname at eval_time ${formatModelDuration(a.evalTime)}${tg.name ? ` (in TestGroup ${tg.name})` : ''}`];
    }
  }
  let input: LoadedSeries[];
  try {
    input = loadInput(tg, stepMs);
  } catch (e) {
    return [(e as Error).message];
  }
  const mint = tg.startMs;
  const maxt = mint + maxEvalTime(tg);
  const head = new MemoryStore();
  const engine = new Engine({ defaultSubqueryStepMs: evalInterval, logger: opts.logger ?? nopLogger });
  const query = engineQueryFunc(engine, head);
  const groups = opts.groups.map(
    (cfg) =>
      new RuleGroup(
        cfg,
        {
          query,
          appendable: head,
          // Predictive rules (vigil extension) read their input windows from the store.
          queryable: head,
          queryRange: engineRangeQueryFunc(engine, head),
          ...(opts.predictive ? { predictive: opts.predictive } : {}),
          externalLabels: tg.externalLabels,
          externalURL: tg.externalURL,
          resendDelayMs: 60_000,
          outageToleranceMs: 3_600_000,
          gracePeriodMs: 600_000,
          ...(opts.templater ? { templater: opts.templater } : {}),
          ...(opts.logger ? { logger: opts.logger } : {}),
        },
        { defaultIntervalMs: evalInterval, restore: false },
      ),
  );

  for (const g of groups) await g.prepare();

  // Alert checks, grouped by eval_time, in time order.
  const alertTimes = [...new Set(tg.alertRuleTests.map((a) => a.evalTime))].sort((a, b) => a - b);
  let cur = 0;
  const errs: string[] = [];
  const testName = tg.name ? `    name: ${tg.name},\n` : '';

  for (let ts = mint; ts <= maxt; ts += evalInterval) {
    await appendUntil(head, input, ts);
    const evalErrs: string[] = [];
    for (const g of groups) {
      await g.evalAt(ts);
      for (const r of g.rules()) {
        if (r.health() === 'err' && r.lastEvaluation() === ts - g.config.queryOffset) {
          evalErrs.push(`    rule: ${r.name}, time: ${formatGoDuration(ts - mint)}, err: ${r.lastError() ?? 'unknown error'}`);
        }
      }
    }
    if (evalErrs.length > 0) return [...errs, ...evalErrs];

    while (cur < alertTimes.length && ts - mint <= alertTimes[cur]! && alertTimes[cur]! < ts + evalInterval - mint) {
      const t = alertTimes[cur]!;
      const cases = tg.alertRuleTests.filter((a) => a.evalTime === t);
      const wanted = new Set(cases.map((c) => c.alertname));
      const got = new Map<string, AlertText[]>();
      for (const g of groups) {
        for (const r of g.rules()) {
          if (!(r instanceof AlertingRule) || !wanted.has(r.name)) continue;
          const list = got.get(r.name) ?? [];
          for (const a of r.activeAlerts()) if (a.state === 'firing') list.push({ labels: a.labels, annotations: a.annotations });
          got.set(r.name, list);
        }
      }
      for (const c of cases) {
        const gotAlerts = [...(got.get(c.alertname) ?? [])].sort(byLabels);
        const expAlerts = c.expAlerts.map((e) => ({ labels: labelsFrom({ ...e.labels, alertname: c.alertname }), annotations: labelsFrom({ ...e.annotations }) })).sort(byLabels);
        if (!alertsMatch(expAlerts, gotAlerts)) {
          const expS = indentLines(alertsString(expAlerts), '            ');
          const gotS = indentLines(alertsString(gotAlerts), '            ');
          errs.push(`${testName}    alertname: ${c.alertname}, time: ${formatModelDuration(c.evalTime)}, \n        exp:${expS}, \n        got:${gotS}`);
        }
      }
      cur++;
    }
  }

  for (const tc of tg.promqlExprTests) {
    const where = `    expr: ${JSON.stringify(tc.expr)}, time: ${formatModelDuration(tc.evalTime)}`;
    let got: GotSample[];
    try {
      const vec = await query(tc.expr, mint + tc.evalTime);
      got = vec.map((s) => (s.h ? { labels: s.metric, value: s.f, h: s.h } : { labels: s.metric, value: s.f }));
    } catch (e) {
      errs.push(`${where}, err: ${(e as Error).message}`);
      continue;
    }
    const exp: GotSample[] = [];
    let bad = false;
    for (const s of tc.expSamples) {
      try {
        const labels = parseSeriesLabels(s.labels);
        if (s.histogram !== undefined) {
          const m = /^\s*\{\{([\s\S]*)\}\}\s*$/.exec(s.histogram);
          if (!m) throw new Error(`histogram ${JSON.stringify(s.histogram)}: want {{...}}`);
          exp.push({ labels, value: 0, h: parseHistogramLiteral(m[1]!) });
        } else {
          exp.push({ labels, value: s.value });
        }
      } catch (e) {
        errs.push(`${where}, err: labels ${JSON.stringify(s.labels)}: ${(e as Error).message}`);
        bad = true;
        break;
      }
    }
    if (bad) continue;
    exp.sort(byLabels);
    got.sort(byLabels);
    if (opts.debug) opts.log?.(`${where}\n        got: ${samplesText(got)}`);
    if (!samplesMatch(exp, got, file.fuzzyCompare)) {
      errs.push(`${where},\n        exp: ${samplesText(exp)}\n        got: ${samplesText(got)}`);
    }
  }
  return errs;
}

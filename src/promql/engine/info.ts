/**
 * The experimental `info(v, [data-label selector])` function: enriches each series of `v` with
 * the data labels of info series (default `target_info`) that share its identifying labels
 * (`instance`, `job`), evaluated as of the same reference time as the base samples.
 */
import { LabelsBuilder, METRIC_NAME, labelsGet, type Labels } from '../../model/labels.js';
import { newMatcher, type Matcher } from '../../model/matchers.js';
import type { Call, Expr } from '../parser/ast.js';
import type { Evaluator } from './evaluator.js';
import { loadSeries, pickInstant, type LoadedSeries } from './selectors.js';
import { QueryError, type Sample, type Vector } from './values.js';

/** Labels that identify the target an info series belongs to. */
export const IDENTIFYING_LABELS = ['instance', 'job'] as const;

/** Maps an evaluation time to the reference time the base expression reads data at. */
function refTimeFn(e: Expr): (ts: number) => number {
  switch (e.kind) {
    case 'VectorSelector':
      return (ts) => (e.at ?? ts) - e.offset;
    case 'MatrixSelector':
      return refTimeFn(e.vectorSelector);
    case 'SubqueryExpr': {
      const inner = refTimeFn(e.expr);
      return (ts) => inner((e.at ?? ts) - e.offset);
    }
    case 'ParenExpr':
    case 'UnaryExpr':
    case 'StepInvariantExpr':
      return refTimeFn(e.expr);
    case 'BinaryExpr':
      return refTimeFn(e.lhs.kind === 'NumberLiteral' ? e.rhs : e.lhs);
    case 'AggregateExpr':
      return refTimeFn(e.expr);
    case 'Call': {
      const a = e.args.find((x) => x.kind !== 'NumberLiteral' && x.kind !== 'StringLiteral');
      return a ? refTimeFn(a) : (ts) => ts;
    }
    default:
      return (ts) => ts;
  }
}

function matchesAllNames(ms: readonly Matcher[], name: string): boolean {
  for (const m of ms) if (!m.matches(name)) return false;
  return true;
}

/** Evaluates `info()` for every step of `ev`. */
export function evalInfo(ev: Evaluator, call: Call): Vector[] {
  const baseExpr = call.args[0]!;
  const base = ev.evalVectorArg(baseExpr);
  let sel = call.args[1];
  while (sel && (sel.kind === 'ParenExpr' || sel.kind === 'StepInvariantExpr')) sel = sel.expr;
  const all = sel && sel.kind === 'VectorSelector' ? sel.matchers : [];
  let nameMs = all.filter((m) => m.name === METRIC_NAME);
  const dataMs = all.filter((m) => m.name !== METRIC_NAME);
  if (nameMs.length === 0) nameMs = [newMatcher('=', METRIC_NAME, 'target_info')];
  else if (!nameMs.some((m) => m.type === '=' || m.type === '=~')) nameMs = [...nameMs, newMatcher('=~', METRIC_NAME, '.+_info')];
  const dataNames = new Set(dataMs.map((m) => m.name));
  const emptyOk = dataMs.every((m) => m.matches(''));
  const ref = refTimeFn(baseExpr);
  const lookback = ev.ctx.lookbackDelta;
  const refs = ev.steps.map(ref);
  const mint = Math.min(...refs) - lookback;
  const maxt = Math.max(...refs);
  const infos: LoadedSeries[] = loadSeries(ev.ctx.querier, nameMs, mint, maxt, ev.ctx.signal);
  ev.ctx.stats.series += infos.length;
  // Index info series by identifying-label values.
  const byId = new Map<string, LoadedSeries[]>();
  const idKey = (ls: Labels): string => IDENTIFYING_LABELS.map((n) => labelsGet(ls, n)).join('\xff');
  for (const s of infos) {
    const k = idKey(s.labels);
    const arr = byId.get(k);
    if (arr) arr.push(s);
    else byId.set(k, [s]);
  }
  return base.map((vec, i) => {
    ev.checkpoint();
    const r = refs[i]!;
    const out: Vector = [];
    for (const s of vec) {
      const name = labelsGet(s.metric, METRIC_NAME);
      if (name !== '' && matchesAllNames(nameMs, name)) {
        out.push(s);
        continue;
      }
      const hasId = IDENTIFYING_LABELS.some((n) => labelsGet(s.metric, n) !== '');
      const cands = hasId ? (byId.get(idKey(s.metric)) ?? []) : [];
      // Per info metric name, the series with the latest sample wins.
      const best = new Map<string, { t: number; labels: Labels }>();
      for (const c of cands) {
        let ok = true;
        for (const m of dataMs) if (!m.matches(labelsGet(c.labels, m.name))) ok = false;
        if (!ok) continue;
        const p = pickInstant(c, r, lookback);
        if (!p) continue;
        if (p.h) throw new QueryError(`info series ${labelsGet(c.labels, METRIC_NAME)} has a native histogram sample; info metrics must be float type`);
        const n = labelsGet(c.labels, METRIC_NAME);
        const prev = best.get(n);
        if (!prev || p.t > prev.t) best.set(n, { t: p.t, labels: c.labels });
      }
      if (best.size === 0) {
        if (emptyOk) out.push(s);
        continue;
      }
      const b = new LabelsBuilder(s.metric);
      const added = new Map<string, string>();
      for (const { labels } of best.values()) {
        for (const l of labels) {
          if (l.name === METRIC_NAME || (IDENTIFYING_LABELS as readonly string[]).includes(l.name)) continue;
          if (dataNames.size > 0 && !dataNames.has(l.name)) continue;
          if (labelsGet(s.metric, l.name) !== '') continue;
          const prev = added.get(l.name);
          if (prev !== undefined && prev !== l.value) {
            throw new QueryError(`conflicting label: ${JSON.stringify(l.name)} has values ${JSON.stringify(prev)} and ${JSON.stringify(l.value)} in different info metrics`);
          }
          added.set(l.name, l.value);
          b.set(l.name, l.value);
        }
      }
      const o: Sample = { ...s, metric: b.labels() };
      out.push(o);
    }
    return out;
  });
}

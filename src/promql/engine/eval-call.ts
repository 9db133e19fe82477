/**
 * Function calls for the {@link Evaluator}: the calls the evaluator answers itself (they need
 * the steps, the query range or the selected series, not just argument values: `time`,
 * `scalar`, `timestamp`, `absent`, `info`, `start_timestamp`, …) and the dispatch of all others
 * to their implementations, instant or over a range argument.
 */
import { assertNever } from '../../model/errors.js';
import { EMPTY_LABELS, LabelsBuilder, METRIC_NAME, labelsKey, type Labels } from '../../model/labels.js';
import type { Call, Expr } from '../parser/ast.js';
import { functionReturnType } from '../parser/functions.js';
import type { FunctionArg } from './functions/contract.js';
import { evalInfo } from './info.js';
import { kernelCall } from './range-kernels.js';
import { startTimestampSteps } from './start-timestamp.js';
import { QueryError, type Vector } from './values.js';
import { evalKernelCall, evalRangeCall, fnContext, rangeArg, unwrap, windowAt } from './eval-range.js';
import type { EvalResult, Evaluator } from './evaluator.js';

/** Functions that accept the `anchored` / `smoothed` range-selector modifiers. */
const ANCHORED_FUNCS: ReadonlySet<string> = new Set(['changes', 'delta', 'increase', 'rate', 'resets']);
const SMOOTHED_FUNCS: ReadonlySet<string> = new Set(['delta', 'increase', 'rate']);
const SORT_FUNCS = new Set(['sort', 'sort_desc', 'sort_by_label', 'sort_by_label_desc']);

/** Evaluates a function call for every step of `ev`. */
export function evalCall(ev: Evaluator, e: Call): EvalResult {
  const special = evalSpecialCall(ev, e);
  if (special) return special;
  const n = ev.steps.length;
  if (SORT_FUNCS.has(e.func) && ev.ctx.isRangeQuery) ev.warn('sort is ineffective for range queries since results are always ordered by labels', e.pos);
  const impl = ev.ctx.functions[e.func];
  if (!impl) throw new QueryError(`function ${JSON.stringify(e.func)} is not implemented`, 'bad_data');
  const mi = e.args.findIndex((a) => {
    const x = unwrap(a);
    return x.kind === 'MatrixSelector' || x.kind === 'SubqueryExpr';
  });
  const argVals: (EvalResult | undefined)[] = e.args.map((a, i) => (i === mi ? undefined : ev.eval(a)));
  const argsAt = (i: number): FunctionArg[] =>
    argVals.map((r): FunctionArg => {
      if (!r) return { kind: 'matrix', matrix: [] };
      switch (r.kind) {
        case 'scalar':
          return { kind: 'scalar', value: r.values[i]! };
        case 'string':
          return { kind: 'string', value: r.value };
        case 'vector':
          return { kind: 'vector', vector: r.steps[i]! };
        case 'matrix':
          return { kind: 'matrix', matrix: r.matrix };
        default:
          return assertNever(r, 'result');
      }
    });
  const steps: Vector[] = new Array<Vector>(n);
  if (mi < 0 && functionReturnType(e.func) === 'scalar') {
    const values = new Float64Array(n);
    for (let i = 0; i < n; i++) values[i] = impl(argsAt(i), e.args, fnContext(ev, ev.steps[i]!))[0]?.f ?? NaN;
    return { kind: 'scalar', values };
  }
  if (mi < 0) {
    for (let i = 0; i < n; i++) {
      ev.checkpoint();
      const ts = ev.steps[i]!;
      const outv = impl(argsAt(i), e.args, fnContext(ev, ts));
      for (const s of outv) s.t = ts;
      checkDuplicates(outv);
      steps[i] = outv;
    }
    return { kind: 'vector', steps };
  }
  const kc = kernelCall(e, impl);
  if (kc) return evalKernelCall(ev, kc, argVals, argsAt);
  const ra = rangeArg(ev, e.args[mi]!);
  if (ra.anchored && !ANCHORED_FUNCS.has(e.func)) {
    throw new QueryError(`anchored modifier can only be used with: ${[...ANCHORED_FUNCS].join(', ')} - not with ${e.func}`, 'bad_data');
  }
  if (ra.smoothed && !SMOOTHED_FUNCS.has(e.func)) {
    throw new QueryError(`smoothed modifier can only be used with: ${[...SMOOTHED_FUNCS].join(', ')} - not with ${e.func}`, 'bad_data');
  }
  return { kind: 'vector', steps: evalRangeCall(ev, e, impl, mi, ra, argsAt) };
}

/** The calls the evaluator answers itself; undefined for any other function. */
function evalSpecialCall(ev: Evaluator, e: Call): EvalResult | undefined {
  const n = ev.steps.length;
  switch (e.func) {
    case 'time':
      return { kind: 'scalar', values: Float64Array.from(ev.steps, (t) => t / 1000) };
    case 'pi':
      return { kind: 'scalar', values: new Float64Array(n).fill(Math.PI) };
    case 'step':
      return { kind: 'scalar', values: new Float64Array(n).fill(ev.ctx.queryStep / 1000) };
    case 'range':
      return { kind: 'scalar', values: new Float64Array(n).fill((ev.ctx.queryEnd - ev.ctx.queryStart) / 1000) };
    case 'start':
      return { kind: 'scalar', values: new Float64Array(n).fill(ev.ctx.queryStart / 1000) };
    case 'end':
      return { kind: 'scalar', values: new Float64Array(n).fill(ev.ctx.queryEnd / 1000) };
    case 'scalar': {
      const v = ev.evalVectorArg(e.args[0]);
      return {
        kind: 'scalar',
        values: Float64Array.from(v, (vec) => {
          const floats = vec.filter((s) => !s.h);
          return floats.length === 1 ? floats[0]!.f : NaN;
        }),
      };
    }
    case 'vector': {
      const s = ev.eval(e.args[0]!);
      if (s.kind !== 'scalar') throw new QueryError('vector() expects a scalar argument', 'bad_data');
      return { kind: 'vector', steps: ev.steps.map((t, i) => [{ metric: EMPTY_LABELS, t, f: s.values[i]! }]) };
    }
    case 'timestamp': {
      const arg = unwrap(e.args[0]!);
      const vs = arg.kind === 'VectorSelector' ? ev.evalVectorSelector(arg, true) : ev.evalVectorArg(e.args[0]);
      return {
        kind: 'vector',
        steps: vs.map((vec, i) => vec.map((s) => ({ metric: s.metric, t: ev.steps[i]!, f: s.t / 1000, dropName: true }))),
      };
    }
    case 'absent': {
      const vs = ev.evalVectorArg(e.args[0]);
      const labels = absentLabels(e.args[0]!);
      return { kind: 'vector', steps: vs.map((vec, i) => (vec.length === 0 ? [{ metric: labels, t: ev.steps[i]!, f: 1 }] : [])) };
    }
    case 'absent_over_time': {
      const a = rangeArg(ev, e.args[0]!);
      const labels = absentLabels(e.args[0]!);
      return {
        kind: 'vector',
        steps: ev.steps.map((ts) => (a.series.some((s) => { const w = windowAt(ev, a, s, ts); return w.floats.length + w.histograms.length > 0; }) ? [] : [{ metric: labels, t: ts, f: 1 }])),
      };
    }
    case 'info':
      return { kind: 'vector', steps: evalInfo(ev, e) };
    case 'start_timestamp': {
      const arg = unwrap(e.args[0]!);
      // Only a selector reads start timestamps; any other expression has lost them.
      if (arg.kind !== 'VectorSelector') return { kind: 'vector', steps: ev.evalVectorArg(e.args[0]).map(() => []) };
      const oneRef = ev.steps.length === 1 || arg.at !== null;
      const r = startTimestampSteps(ev.select(arg, ev.ctx.lookbackDelta, 0, oneRef), arg, ev.steps, ev.ctx.lookbackDelta);
      ev.addSamples(r.samples);
      return { kind: 'vector', steps: r.steps };
    }
    default:
      return undefined;
  }
}

/** Labels of `absent(...)`'s result: the equality matchers of a plain selector argument. */
export function absentLabels(arg: Expr): Labels {
  let x = arg;
  while (x.kind === 'StepInvariantExpr') x = x.expr;
  const ms = x.kind === 'VectorSelector' ? x.matchers : x.kind === 'MatrixSelector' ? x.vectorSelector.matchers : [];
  const b = new LabelsBuilder();
  const seen = new Set<string>();
  const bad = new Set<string>();
  for (const m of ms) {
    if (m.name === METRIC_NAME) continue;
    if (m.type === '=' && !seen.has(m.name)) b.set(m.name, m.value);
    else bad.add(m.name);
    seen.add(m.name);
  }
  for (const n of bad) b.del(n);
  return b.labels();
}

/** Throws Prometheus's duplicate-labelset error when two samples share a label set. */
export function checkDuplicates(vec: Vector): void {
  if (vec.length < 2) return;
  const seen = new Set<string>();
  for (const s of vec) {
    const k = labelsKey(s.metric);
    if (seen.has(k)) throw new QueryError('vector cannot contain metrics with the same labelset');
    seen.add(k);
  }
}

/**
 * Range-vector evaluation for the {@link Evaluator}: range arguments (matrix selectors and
 * subqueries) prepared once for all steps, their per-step windows, and the range-function call
 * paths (the column kernels of range-kernels.ts and the general per-window loop).
 */
import { CounterResetHint } from '../../model/histogram.js';
import { labelsKey } from '../../model/labels.js';
import type { Call, Expr, MatrixSelector } from '../parser/ast.js';
import type { FunctionArg, FunctionContext, FunctionImpl } from './functions/contract.js';
import { MSG } from './functions/util.js';
import { runKernel, type KernelCall } from './range-kernels.js';
import { extendedWindowOf, toRangeSeries, windowOf } from './selectors.js';
import { QueryError, type Matrix, type RangeSeries, type Vector } from './values.js';
import type { EvalResult, Evaluator } from './evaluator.js';

/** Range-vector argument prepared once for all steps. */
export interface RangeArg {
  readonly series: RangeSeries[];
  readonly range: number;
  readonly offset: number;
  readonly at: number | null;
  readonly anchored: boolean;
  readonly smoothed: boolean;
}

/** Strips parentheses and step-invariance wrappers. */
export function unwrap(e: Expr): Expr {
  let x = e;
  while (x.kind === 'ParenExpr' || x.kind === 'StepInvariantExpr') x = x.expr;
  return x;
}

/** Selects and decodes a matrix selector's series over the evaluator's whole range. */
export function matrixArg(ev: Evaluator, ms: MatrixSelector): RangeArg {
  const vs = ms.vectorSelector;
  const ext = vs.anchored || vs.smoothed ? ev.ctx.lookbackDelta : 0;
  const series = ev
    .select(vs, ms.range + ext, vs.smoothed ? ev.ctx.lookbackDelta : 0)
    .map(toRangeSeries)
    .filter((s) => s.floats.length + s.histograms.length > 0);
  return { series, range: ms.range, offset: vs.offset, at: vs.at, anchored: !!vs.anchored, smoothed: !!vs.smoothed };
}

/** Range argument from a matrix selector or subquery (through parens / step invariance). */
export function rangeArg(ev: Evaluator, e: Expr): RangeArg {
  const x = unwrap(e);
  if (x.kind === 'MatrixSelector') return matrixArg(ev, x);
  if (x.kind === 'SubqueryExpr') {
    return { series: ev.evalSubquery(x), range: x.range, offset: x.offset, at: x.at, anchored: false, smoothed: false };
  }
  throw new QueryError(`expected a range vector argument, got ${x.kind}`, 'bad_data');
}

/** The window of `s` a range argument covers at step `ts`. */
export function windowAt(ev: Evaluator, a: RangeArg, s: RangeSeries, ts: number): RangeSeries {
  const end = (a.at ?? ts) - a.offset;
  if (a.anchored || a.smoothed) return extendedWindowOf(s, end - a.range, end, ev.ctx.lookbackDelta, a.smoothed);
  return windowOf(s, end - a.range, end);
}

/** The non-empty windows of a range argument at step `ts`, accounted as held samples. */
export function matrixAt(ev: Evaluator, a: RangeArg, ts: number): Matrix {
  const out: Matrix = [];
  let n = 0;
  for (const s of a.series) {
    const w = windowAt(ev, a, s, ts);
    if (w.floats.length + w.histograms.length === 0) continue;
    n += w.floats.length + w.histograms.length;
    out.push(w);
  }
  ev.addSamples(n);
  return out;
}

/** The context a function implementation sees at step `ts` (with the range of `a`, if any). */
export function fnContext(ev: Evaluator, ts: number, a?: RangeArg): FunctionContext {
  const end = a ? (a.at ?? ts) - a.offset : ts;
  return {
    ts,
    rangeStart: a ? end - a.range : ts,
    rangeEnd: end,
    anchored: a?.anchored,
    smoothed: a?.smoothed,
    annotations: ev.ctx.annotations,
    position: (p) => ev.position(p),
  };
}

/**
 * A range function with a column fast path over a plain matrix selector
 * ({@link runKernel}): float series straight from the selected columns, series by series over
 * all steps; histogram series take the general path.
 */
export function evalKernelCall(
  ev: Evaluator,
  kc: KernelCall,
  argVals: readonly (EvalResult | undefined)[],
  argsAt: (i: number) => FunctionArg[],
): EvalResult {
  const e = kc.call;
  const vs = kc.ms.vectorSelector;
  const n = ev.steps.length;
  const steps = ev.steps;
  const out: Vector[] = steps.map(() => []);
  let params: Float64Array | undefined;
  const paramArg = kc.column?.paramArg ?? -1;
  if (paramArg >= 0) {
    const pv = argVals[paramArg];
    params = pv?.kind === 'scalar' ? pv.values : new Float64Array(n).fill(Number.NaN);
  }
  const nonEmpty: boolean[] | undefined = params ? new Array<boolean>(n).fill(false) : undefined;
  const dropName = kc.dropName;
  const { points, general } = runKernel(kc, ev.select(vs, kc.ms.range), {
    steps,
    params,
    nonEmpty,
    info: (m) => ev.ctx.annotations.info(`${m} (${ev.position(e.args[kc.mi]!.pos)})`),
    checkpoint: () => ev.checkpoint(),
    sink: (s) => {
      const metric = s.metric;
      const dn = dropName || s.dropName === true;
      return dn
        ? (i, f) => out[i]!.push({ metric, t: steps[i]!, f, dropName: true })
        : (i, f) => out[i]!.push({ metric, t: steps[i]!, f });
    },
  });
  ev.addWindowSamples(points);
  if (e.func === 'quantile_over_time' && params && nonEmpty) {
    for (let i = 0; i < n; i++) {
      const q = params[i]!;
      if (nonEmpty[i] && !(q >= 0 && q <= 1)) ev.ctx.annotations.warn(`${MSG.invalidQuantile(q)} (${ev.position(e.args[0]!.pos)})`);
    }
  }
  if (general.length === 0) return { kind: 'vector', steps: out };
  const ra: RangeArg = { series: general, range: kc.ms.range, offset: vs.offset, at: vs.at, anchored: false, smoothed: false };
  const rest = evalRangeCall(ev, e, kc.impl, kc.mi, ra, argsAt);
  return { kind: 'vector', steps: out.map((v, i) => v.concat(rest[i]!)) };
}

/** The general range-function loop: per step, per series, the impl on the series' window. */
export function evalRangeCall(
  ev: Evaluator,
  e: Call,
  impl: FunctionImpl,
  mi: number,
  ra: RangeArg,
  argsAt: (i: number) => FunctionArg[],
): Vector[] {
  const n = ev.steps.length;
  const steps: Vector[] = new Array<Vector>(n);
  for (let i = 0; i < n; i++) {
    const ts = ev.steps[i]!;
    const args = argsAt(i);
    const fctx = fnContext(ev, ts, ra);
    const outv: Vector = [];
    let pts = 0;
    for (const s of ra.series) {
      ev.checkpoint();
      const w = windowAt(ev, ra, s, ts);
      const np = w.floats.length + w.histograms.length;
      if (np === 0) continue;
      pts += np;
      args[mi] = { kind: 'matrix', matrix: [w] };
      for (const o of impl(args, e.args, fctx)) {
        o.t = ts;
        if (s.dropName) o.dropName = true;
        outv.push(o);
      }
    }
    ev.addSamples(pts);
    steps[i] = outv;
  }
  return steps;
}

/** Groups per-step vectors into series (by label set), points in step order. */
export function stepsToMatrix(steps: readonly Vector[], times: readonly number[]): Matrix {
  const byKey = new Map<string, RangeSeries>();
  const out: Matrix = [];
  for (let i = 0; i < steps.length; i++) {
    const t = times[i]!;
    for (const s of steps[i]!) {
      const k = labelsKey(s.metric);
      let rs = byKey.get(k);
      if (!rs) {
        rs = { metric: s.metric, floats: [], histograms: [] };
        byKey.set(k, rs);
        out.push(rs);
      }
      if (s.dropName) rs.dropName = true;
      if (s.h) rs.histograms.push({ t, h: s.h });
      else rs.floats.push({ t, f: s.f });
    }
  }
  return out;
}

/**
 * A subquery may repeat a sample (and its counter-reset hint) at several steps or skip the sample
 * that carried it, so its histograms' reset/not-reset hints are replaced by "unknown": resets
 * are then detected from the data. Gauge hints stay.
 */
export function clearCounterResetHints(m: Matrix): Matrix {
  for (const s of m) {
    for (const p of s.histograms) {
      const hint = p.h.counterResetHint;
      if (hint === CounterResetHint.Yes || hint === CounterResetHint.No) p.h = { ...p.h, counterResetHint: CounterResetHint.Unknown };
    }
  }
  return m;
}

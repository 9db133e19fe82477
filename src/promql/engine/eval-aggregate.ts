/**
 * Aggregations for the {@link Evaluator}: the general per-step path ({@link aggregateStep}) and
 * the fused paths that aggregate straight from selected columns without building per-step
 * sample vectors ({@link FusedAggregator}).
 */
import type { Labels } from '../../model/labels.js';
import { isStaleNaN } from '../../model/samples.js';
import type { AggregateExpr, VectorSelector } from '../parser/ast.js';
import { aggregateStep, type AggregateNotes } from './aggregate.js';
import { isValidLabelName, quote } from './functions/util.js';
import { formatFloat } from './format.js';
import { FUSABLE_OPS, FusedAggregator } from './fused-aggregate.js';
import { kernelCall, needsGeneralPath, runKernel } from './range-kernels.js';
import { lastAtOrBefore } from './selectors.js';
import { QueryError } from './values.js';
import { unwrap } from './eval-range.js';
import type { EvalResult, Evaluator } from './evaluator.js';

/** Evaluates an aggregation for every step of `ev`. */
export function evalAggregate(ev: Evaluator, e: AggregateExpr): EvalResult {
  let params: Float64Array | undefined;
  let label: string | undefined;
  if (e.param) {
    const p = ev.eval(e.param);
    if (e.op === 'count_values') {
      if (p.kind !== 'string') throw new QueryError('expected string parameter for count_values', 'bad_data');
      label = p.value;
      if (!isValidLabelName(label)) throw new QueryError(`invalid label name ${quote(label)}`);
    } else {
      if (p.kind !== 'scalar') throw new QueryError(`expected scalar parameter for ${e.op}`, 'bad_data');
      params = p.values;
    }
  }
  if (!e.param && FUSABLE_OPS.has(e.op)) {
    const fused = fusedAggregate(ev, e);
    if (fused) return fused;
  }
  const inner = ev.eval(e.expr);
  if (inner.kind !== 'vector') throw new QueryError(`expected instant vector in aggregation, got ${inner.kind}`, 'bad_data');
  // The group cache pays off across steps only (a WeakMap with many keys is costly to GC).
  const spec = { op: e.op, grouping: e.grouping, without: e.without, groupCache: ev.steps.length > 1 ? new WeakMap<Labels, { labels: Labels; key: string }>() : undefined };
  const paramPos = e.param?.pos ?? e.pos;
  const notes: AggregateNotes = {
    info: (m) => ev.info(m, e.pos),
    warn: (m) => ev.warn(m, e.pos),
    warnParam: (m) => ev.warn(m, paramPos),
    warnExpr: (m) => ev.warn(m, e.expr.pos),
    infoExpr: (m) => ev.info(m, e.expr.pos),
  };
  const steps = inner.steps.map((vec, i) => {
    ev.checkpoint();
    let param: number | string | undefined = label;
    if (params) {
      const q = params[i]!;
      param = q;
      if (e.op === 'quantile' && !(q >= 0 && q <= 1)) notes.warnParam(`quantile value should be between 0 and 1, got ${formatFloat(q)}`);
    }
    return aggregateStep(spec, vec, param, ev.steps[i]!, notes);
  });
  return { kind: 'vector', steps };
}

/**
 * `sum`/`avg`/`count`/`min`/`max`/`group` straight over a range function with a column fast
 * path and no parameter ({@link FusedAggregator}); undefined when the expression does not
 * have that shape or a selected series holds histograms (the general path then runs).
 */
function fusedAggregate(ev: Evaluator, e: AggregateExpr): EvalResult | undefined {
  const x = unwrap(e.expr);
  if (x.kind === 'VectorSelector') return fusedSelectorAggregate(ev, e, x);
  if (x.kind !== 'Call' || x.args.length !== 1) return undefined;
  const impl = ev.ctx.functions[x.func];
  const kc = impl ? kernelCall(x, impl) : undefined;
  if (!kc || (kc.column && kc.column.paramArg >= 0)) return undefined;
  const series = ev.select(kc.ms.vectorSelector, kc.ms.range);
  if (series.some((s) => needsGeneralPath(kc, s))) return undefined;
  const agg = new FusedAggregator(e.op, e.grouping, e.without, ev.steps, kc.dropName);
  const { points } = runKernel(kc, series, {
    steps: ev.steps,
    info: (m) => ev.ctx.annotations.info(`${m} (${ev.position(x.args[kc.mi]!.pos)})`),
    checkpoint: () => ev.checkpoint(),
    sink: (s) => agg.emitter(s.metric),
  });
  ev.addWindowSamples(points);
  return { kind: 'vector', steps: agg.result() };
}

/**
 * The same over a plain instant-vector selector (`count by (__name__) ({__name__=~".+"})`):
 * each series' pick at each step goes straight into the group accumulators, without the
 * per-step sample vectors. Series holding histograms take the general path.
 */
function fusedSelectorAggregate(ev: Evaluator, e: AggregateExpr, vs: VectorSelector): EvalResult | undefined {
  if (vs.smoothed) return undefined;
  const lookback = ev.ctx.lookbackDelta;
  const series = ev.selectLazy(vs, lookback, 0, ev.steps.length === 1 || vs.at !== null);
  const agg = new FusedAggregator(e.op, e.grouping, e.without, ev.steps, false);
  let n = 0;
  for (const s of series) {
    ev.checkpoint();
    const d = s.samples();
    // Histograms take the general path (which selects again).
    if (d.histograms.length > 0) return undefined;
    let gi = -1;
    for (let i = 0; i < ev.steps.length; i++) {
      // pickInstant for a float-only series, without its result object.
      const ref = (vs.at ?? ev.steps[i]!) - vs.offset;
      const fi = lastAtOrBefore(d.t, ref);
      if (fi < 0 || d.t[fi]! <= ref - lookback) continue;
      const v = d.v[fi]!;
      if (isStaleNaN(v)) continue;
      if (gi < 0) gi = agg.groupOf(s.labels);
      agg.add(gi, i, v);
      n++;
    }
  }
  ev.addSamples(n);
  return { kind: 'vector', steps: agg.result() };
}

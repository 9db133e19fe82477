/**
 * The PromQL evaluator. Each node is evaluated over ALL steps of the current evaluation range
 * at once and yields a per-step result; an instant query is a range with one step. Subqueries
 * and step-invariant subtrees create child evaluators with their own ranges.
 */
import type { Clock } from '../../model/clock.js';
import { CounterResetHint } from '../../model/histogram.js';
import { assertNever } from '../../model/errors.js';
import { EMPTY_LABELS, LabelsBuilder, METRIC_NAME, labelsGet, labelsKey, type Labels } from '../../model/labels.js';
import { isStaleNaN } from '../../model/samples.js';
import type { Querier, Series } from '../../storage/interface.js';
import type { AggregateExpr, BinaryExpr, Call, Expr, MatrixSelector, PosRange, SubqueryExpr, VectorMatching, VectorSelector } from '../parser/ast.js';
import { functionReturnType } from '../parser/functions.js';
import { aggregateStep, type AggregateNotes } from './aggregate.js';
import { BinopCache, floatBinop, isComparison, isSetOp, setBinop, vectorBinop, vectorScalarBinop, type BinopNotes } from './binary.js';
import type { FunctionArg, FunctionContext, FunctionImpl } from './functions/contract.js';
import { histogramScale } from './histogram-ops.js';
import { MSG, isValidLabelName, quote } from './functions/util.js';
import { evalInfo } from './info.js';
import { formatFloat } from './format.js';
import { startTimestampSteps } from './start-timestamp.js';
import { kernelCall, needsGeneralPath, runKernel, type KernelCall } from './range-kernels.js';
import { FUSABLE_OPS, FusedAggregator } from './fused-aggregate.js';
import { extendedWindowOf, lastAtOrBefore, loaded, pickInstant, pickSmoothed, selectSeries, toRangeSeries, windowOf, withoutResetHints, type LoadedSeries, type SmoothedProblem } from './selectors.js';
import { Annotations, QueryError, type Matrix, type RangeSeries, type Sample, type Vector } from './values.js';

/** Query-wide state shared by all evaluators of one query. */
export interface EvalContext {
  readonly querier: Querier;
  readonly lookbackDelta: number;
  readonly maxSamples: number;
  /** Absolute deadline (clock ms). */
  readonly deadline: number;
  readonly clock: Clock;
  readonly signal?: AbortSignal;
  readonly annotations: Annotations;
  /** Query text the node positions refer to ('' when unknown). */
  readonly source: string;
  readonly functions: Readonly<Record<string, FunctionImpl>>;
  /** Step of subqueries without an explicit step (ms). */
  readonly defaultSubqueryStep: number;
  /** True for range queries (some annotations depend on it). */
  readonly isRangeQuery: boolean;
  /** The query's own start, end and step (ms), for `start()`, `end()`, `step()`, `range()`. */
  readonly queryStart: number;
  readonly queryEnd: number;
  readonly queryStep: number;
  /** Counters (mutable). */
  readonly stats: { samples: number; series: number; current: number };
  /** Selectors whose histograms keep stored `reset` hints (see histogram-stats.ts); others read them as unknown. */
  readonly statsSelectors?: ReadonlySet<VectorSelector>;
}

/** Per-step result of a node. */
export type EvalResult =
  | { readonly kind: 'scalar'; readonly values: Float64Array }
  | { readonly kind: 'vector'; readonly steps: Vector[] }
  | { readonly kind: 'matrix'; readonly matrix: Matrix }
  | { readonly kind: 'string'; readonly value: string };

/** Formats a position as `line:column` (1-based) in `source`. */
export function formatPosition(source: string, pos: PosRange): string {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(pos.start, source.length);
  for (let i = 0; i < end; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `${line}:${pos.start - lineStart + 1}`;
}

/** Functions that accept the `anchored` / `smoothed` range-selector modifiers. */
const ANCHORED_FUNCS: ReadonlySet<string> = new Set(['changes', 'delta', 'increase', 'rate', 'resets']);
const SMOOTHED_FUNCS: ReadonlySet<string> = new Set(['delta', 'increase', 'rate']);
const SORT_FUNCS = new Set(['sort', 'sort_desc', 'sort_by_label', 'sort_by_label_desc']);
const DEFAULT_MATCHING: VectorMatching = { card: 'one-to-one', on: false, labels: [], include: [] };

function unwrap(e: Expr): Expr {
  let x = e;
  while (x.kind === 'ParenExpr' || x.kind === 'StepInvariantExpr') x = x.expr;
  return x;
}

/** Range-vector argument prepared once for all steps. */
interface RangeArg {
  readonly series: RangeSeries[];
  readonly range: number;
  readonly offset: number;
  readonly at: number | null;
  readonly anchored: boolean;
  readonly smoothed: boolean;
}

/** Evaluates expressions over the steps `start, start+interval, …, end`. */
export class Evaluator {
  /** Evaluation timestamps. */
  readonly steps: number[];
  private checks = 0;

  constructor(
    readonly ctx: EvalContext,
    readonly start: number,
    readonly end: number,
    readonly interval: number,
  ) {
    const steps: number[] = [];
    if (start === end || interval <= 0) steps.push(start);
    else for (let t = start; t <= end; t += interval) steps.push(t);
    this.steps = steps;
  }

  /** `line:column` of a node. */
  position(pos: PosRange): string {
    return formatPosition(this.ctx.source, pos);
  }

  /** Adds `PromQL warning: msg (line:col)`. */
  warn(msg: string, pos: PosRange): void {
    this.ctx.annotations.warn(`PromQL warning: ${msg} (${this.position(pos)})`);
  }

  /** Adds `PromQL info: msg (line:col)`. */
  info(msg: string, pos: PosRange): void {
    this.ctx.annotations.info(`PromQL info: ${msg} (${this.position(pos)})`);
  }

  /** Throws on cancellation or timeout; cheap enough to call per series/step. */
  checkpoint(force = false): void {
    if (!force && (++this.checks & 255) !== 0) return;
    if (this.ctx.signal?.aborted) throw new QueryError('query was canceled in expression evaluation', 'canceled', { cause: this.ctx.signal.reason });
    if (this.ctx.clock.now() > this.ctx.deadline) throw new QueryError('query timed out in expression evaluation', 'timeout');
  }

  /**
   * Accounts for samples a range function holds per step (its windows across all steps,
   * `total`): like Prometheus, only one step's windows are in memory at a time, so the peak is
   * checked against the per-step share without retaining it.
   */
  addWindowSamples(total: number): void {
    this.ctx.stats.samples += total;
    const perStep = Math.ceil(total / Math.max(1, this.steps.length));
    if (this.ctx.stats.current + perStep > this.ctx.maxSamples) {
      throw new QueryError('query processing would load too many samples into memory in query execution', 'execution');
    }
  }

  /** Accounts for `n` samples held in memory; throws when the limit is exceeded. */
  addSamples(n: number): void {
    this.ctx.stats.samples += n;
    this.ctx.stats.current += n;
    if (this.ctx.stats.current > this.ctx.maxSamples) {
      throw new QueryError('query processing would load too many samples into memory in query execution', 'execution');
    }
  }

  /** Evaluates a node for every step. */
  eval(e: Expr): EvalResult {
    this.checkpoint(true);
    switch (e.kind) {
      case 'NumberLiteral':
        return { kind: 'scalar', values: new Float64Array(this.steps.length).fill(e.value) };
      case 'StringLiteral':
        return { kind: 'string', value: e.value };
      case 'ParenExpr':
        return this.eval(e.expr);
      case 'UnaryExpr':
        return this.evalUnary(e.op, this.eval(e.expr));
      case 'VectorSelector':
        return { kind: 'vector', steps: this.evalVectorSelector(e, false) };
      case 'MatrixSelector':
        return { kind: 'matrix', matrix: this.matrixAt(this.matrixArg(e), this.steps[0]!) };
      case 'SubqueryExpr':
        return { kind: 'matrix', matrix: this.evalSubquery(e) };
      case 'BinaryExpr':
        return this.evalBinary(e);
      case 'AggregateExpr':
        return this.evalAggregate(e);
      case 'Call':
        return this.evalCall(e);
      case 'StepInvariantExpr':
        return this.evalStepInvariant(e.expr);
      default:
        return assertNever(e, 'expression');
    }
  }

  private evalStepInvariant(inner: Expr): EvalResult {
    if (inner.kind === 'NumberLiteral' || inner.kind === 'StringLiteral' || this.steps.length === 1) return this.eval(inner);
    const sub = new Evaluator(this.ctx, this.start, this.start, 0);
    const r = sub.eval(inner);
    switch (r.kind) {
      case 'scalar':
        return { kind: 'scalar', values: new Float64Array(this.steps.length).fill(r.values[0]!) };
      case 'vector': {
        const v0 = r.steps[0] ?? [];
        this.addSamples(v0.length * (this.steps.length - 1));
        return { kind: 'vector', steps: this.steps.map((ts) => v0.map((s) => ({ ...s, t: ts }))) };
      }
      case 'matrix':
      case 'string':
        return r;
      default:
        return assertNever(r, 'result');
    }
  }

  private evalUnary(op: '-' | '+', r: EvalResult): EvalResult {
    if (op === '+') return r;
    switch (r.kind) {
      case 'scalar':
        return { kind: 'scalar', values: r.values.map((v) => -v) };
      case 'vector':
        return {
          kind: 'vector',
          steps: r.steps.map((vec) =>
            vec.map((s) => {
              const o: Sample = { metric: s.metric, t: s.t, f: -s.f, dropName: true };
              if (s.h) o.h = histogramScale(s.h, -1);
              return o;
            }),
          ),
        };
      default:
        throw new QueryError(`unary expression only allowed on expressions of type scalar or instant vector, got ${r.kind}`, 'bad_data');
    }
  }

  /** Selects the series of a selector for this evaluator's range (plus `extra` ms before). */
  private select(vs: VectorSelector, before: number, after = 0, latestOnly = false): LoadedSeries[] {
    return this.selectLazy(vs, before, after, latestOnly).map((s) => this.load(vs, s));
  }

  /** Decodes a selected series, with reset hints as Prometheus reads them back. */
  private load(vs: VectorSelector, s: Series): LoadedSeries {
    const l = loaded(s);
    return l.hs.length > 0 && !this.ctx.statsSelectors?.has(vs) ? withoutResetHints(l) : l;
  }

  /**
   * {@link select} without decoding: for loops that decode ({@link loaded}) and drop one series
   * at a time, so a large select does not keep every series' columns alive to the end.
   */
  private selectLazy(vs: VectorSelector, before: number, after = 0, latestOnly = false): Series[] {
    const lo = (vs.at ?? this.start) - vs.offset;
    const hi = (vs.at ?? this.end) - vs.offset;
    const series = selectSeries(this.ctx.querier, vs.matchers, lo - before, hi + after, this.ctx.signal, latestOnly);
    this.ctx.stats.series += series.length;
    return series;
  }

  /**
   * Instant-vector selection for every step. With `keepTimestamps` the samples carry their own
   * timestamps (for `timestamp()`), else the step's.
   */
  evalVectorSelector(vs: VectorSelector, keepTimestamps: boolean): Vector[] {
    const lookback = this.ctx.lookbackDelta;
    // One step (or all steps pinned by `@`): only each series' newest sample is needed.
    const oneRef = this.steps.length === 1 || vs.at !== null;
    const series = this.selectLazy(vs, lookback, vs.smoothed ? lookback : 0, oneRef && !vs.smoothed);
    const out: Vector[] = this.steps.map(() => []);
    let n = 0;
    for (const sr of series) {
      this.checkpoint();
      const s = this.load(vs, sr);
      for (let i = 0; i < this.steps.length; i++) {
        const ts = this.steps[i]!;
        const ref = (vs.at ?? ts) - vs.offset;
        const p = vs.smoothed ? pickSmoothed(s, ref, lookback, (why) => this.smoothedProblem(why, s, vs)) : pickInstant(s, ref, lookback);
        if (!p) continue;
        const smp: Sample = { metric: s.labels, t: keepTimestamps ? p.t : ts, f: p.f };
        if (p.h) smp.h = p.h;
        out[i]!.push(smp);
        n++;
      }
    }
    this.addSamples(n);
    return out;
  }

  private smoothedProblem(why: SmoothedProblem, s: LoadedSeries, vs: VectorSelector): void {
    const name = JSON.stringify(labelsGet(s.labels, METRIC_NAME));
    if (why === 'mixedTypes') this.warn(`encountered a mix of histograms and floats for metric name ${name}`, vs.pos);
    else this.warn(`vector contains a mix of histograms with exponential and custom buckets schemas for metric name ${name}`, vs.pos);
  }

  private matrixArg(ms: MatrixSelector): RangeArg {
    const vs = ms.vectorSelector;
    const ext = vs.anchored || vs.smoothed ? this.ctx.lookbackDelta : 0;
    const series = this.select(vs, ms.range + ext, vs.smoothed ? this.ctx.lookbackDelta : 0)
      .map(toRangeSeries)
      .filter((s) => s.floats.length + s.histograms.length > 0);
    return { series, range: ms.range, offset: vs.offset, at: vs.at, anchored: !!vs.anchored, smoothed: !!vs.smoothed };
  }

  /** Range argument from a matrix selector or subquery (through parens / step invariance). */
  private rangeArg(e: Expr): RangeArg {
    const x = unwrap(e);
    if (x.kind === 'MatrixSelector') return this.matrixArg(x);
    if (x.kind === 'SubqueryExpr') {
      return { series: this.evalSubquery(x), range: x.range, offset: x.offset, at: x.at, anchored: false, smoothed: false };
    }
    throw new QueryError(`expected a range vector argument, got ${x.kind}`, 'bad_data');
  }

  private windowAt(a: RangeArg, s: RangeSeries, ts: number): RangeSeries {
    const end = (a.at ?? ts) - a.offset;
    if (a.anchored || a.smoothed) return extendedWindowOf(s, end - a.range, end, this.ctx.lookbackDelta, a.smoothed);
    return windowOf(s, end - a.range, end);
  }

  private matrixAt(a: RangeArg, ts: number): Matrix {
    const out: Matrix = [];
    let n = 0;
    for (const s of a.series) {
      const w = this.windowAt(a, s, ts);
      if (w.floats.length + w.histograms.length === 0) continue;
      n += w.floats.length + w.histograms.length;
      out.push(w);
    }
    this.addSamples(n);
    return out;
  }

  /** Evaluates a subquery into a matrix covering every step of this evaluator. */
  evalSubquery(e: SubqueryExpr): Matrix {
    const step = e.step > 0 ? e.step : this.ctx.defaultSubqueryStep;
    const lo = (e.at ?? this.start) - e.offset - e.range;
    const start = (Math.floor(lo / step) + 1) * step;
    const end = (e.at ?? this.end) - e.offset;
    if (start > end) return [];
    const sub = new Evaluator(this.ctx, start, end, step);
    const r = sub.eval(e.expr);
    if (r.kind === 'vector') return clearCounterResetHints(stepsToMatrix(r.steps, sub.steps));
    if (r.kind === 'scalar') return [{ metric: EMPTY_LABELS, floats: sub.steps.map((t, i) => ({ t, f: r.values[i]! })), histograms: [] }];
    throw new QueryError(`subquery is only allowed on instant vector, got ${r.kind}`, 'bad_data');
  }

  private binopNotes(e: BinaryExpr): BinopNotes & AggregateNotes {
    return {
      info: (m) => this.info(m, e.pos),
      warn: (m) => this.warn(m, e.pos),
      warnParam: (m) => this.warn(m, e.pos),
      warnExpr: (m) => this.warn(m, e.pos),
      infoExpr: (m) => this.info(m, e.pos),
    };
  }

  private evalBinary(e: BinaryExpr): EvalResult {
    const l = this.eval(e.lhs);
    const r = this.eval(e.rhs);
    const notes = this.binopNotes(e);
    if (l.kind === 'scalar' && r.kind === 'scalar') {
      const out = new Float64Array(this.steps.length);
      const cmp = isComparison(e.op);
      for (let i = 0; i < out.length; i++) {
        const [v, keep] = floatBinop(e.op, l.values[i]!, r.values[i]!);
        out[i] = cmp ? (keep ? 1 : 0) : v;
      }
      return { kind: 'scalar', values: out };
    }
    const steps: Vector[] = new Array<Vector>(this.steps.length);
    if (l.kind === 'vector' && r.kind === 'vector') {
      const m = e.matching ?? DEFAULT_MATCHING;
      const cache = this.steps.length > 1 ? new BinopCache() : undefined;
      for (let i = 0; i < steps.length; i++) {
        this.checkpoint();
        const ts = this.steps[i]!;
        steps[i] = isSetOp(e.op)
          ? setBinop(e.op, l.steps[i]!, r.steps[i]!, m, ts, cache)
          : vectorBinop(e.op, l.steps[i]!, r.steps[i]!, m, e.returnBool, ts, notes, cache);
      }
      return { kind: 'vector', steps };
    }
    if (l.kind === 'vector' && r.kind === 'scalar') {
      for (let i = 0; i < steps.length; i++) steps[i] = vectorScalarBinop(e.op, l.steps[i]!, r.values[i]!, false, e.returnBool, this.steps[i]!, notes);
      return { kind: 'vector', steps };
    }
    if (l.kind === 'scalar' && r.kind === 'vector') {
      for (let i = 0; i < steps.length; i++) steps[i] = vectorScalarBinop(e.op, r.steps[i]!, l.values[i]!, true, e.returnBool, this.steps[i]!, notes);
      return { kind: 'vector', steps };
    }
    throw new QueryError(`binary expression must contain only scalar and instant vector types, got ${l.kind} and ${r.kind}`, 'bad_data');
  }

  private evalAggregate(e: AggregateExpr): EvalResult {
    let params: Float64Array | undefined;
    let label: string | undefined;
    if (e.param) {
      const p = this.eval(e.param);
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
      const fused = this.fusedAggregate(e);
      if (fused) return fused;
    }
    const inner = this.eval(e.expr);
    if (inner.kind !== 'vector') throw new QueryError(`expected instant vector in aggregation, got ${inner.kind}`, 'bad_data');
    // The group cache pays off across steps only (a WeakMap with many keys is costly to GC).
    const spec = { op: e.op, grouping: e.grouping, without: e.without, groupCache: this.steps.length > 1 ? new WeakMap<Labels, { labels: Labels; key: string }>() : undefined };
    const paramPos = e.param?.pos ?? e.pos;
    const notes: AggregateNotes = {
      info: (m) => this.info(m, e.pos),
      warn: (m) => this.warn(m, e.pos),
      warnParam: (m) => this.warn(m, paramPos),
      warnExpr: (m) => this.warn(m, e.expr.pos),
      infoExpr: (m) => this.info(m, e.expr.pos),
    };
    const steps = inner.steps.map((vec, i) => {
      this.checkpoint();
      let param: number | string | undefined = label;
      if (params) {
        const q = params[i]!;
        param = q;
        if (e.op === 'quantile' && !(q >= 0 && q <= 1)) notes.warnParam(`quantile value should be between 0 and 1, got ${formatFloat(q)}`);
      }
      return aggregateStep(spec, vec, param, this.steps[i]!, notes);
    });
    return { kind: 'vector', steps };
  }

  /**
   * `sum`/`avg`/`count`/`min`/`max`/`group` straight over a range function with a column fast
   * path and no parameter ({@link FusedAggregator}); undefined when the expression does not
   * have that shape or a selected series holds histograms (the general path then runs).
   */
  private fusedAggregate(e: AggregateExpr): EvalResult | undefined {
    const x = unwrap(e.expr);
    if (x.kind === 'VectorSelector') return this.fusedSelectorAggregate(e, x);
    if (x.kind !== 'Call' || x.args.length !== 1) return undefined;
    const impl = this.ctx.functions[x.func];
    const kc = impl ? kernelCall(x, impl) : undefined;
    if (!kc || (kc.column && kc.column.paramArg >= 0)) return undefined;
    const series = this.select(kc.ms.vectorSelector, kc.ms.range);
    if (series.some((s) => needsGeneralPath(kc, s))) return undefined;
    const agg = new FusedAggregator(e.op, e.grouping, e.without, this.steps, kc.dropName);
    const { points } = runKernel(kc, series, {
      steps: this.steps,
      info: (m) => this.ctx.annotations.info(`${m} (${this.position(x.args[kc.mi]!.pos)})`),
      checkpoint: () => this.checkpoint(),
      sink: (s) => agg.emitter(s.metric),
    });
    this.addWindowSamples(points);
    return { kind: 'vector', steps: agg.result() };
  }

  /**
   * The same over a plain instant-vector selector (`count by (__name__) ({__name__=~".+"})`):
   * each series' pick at each step goes straight into the group accumulators, without the
   * per-step sample vectors. Series holding histograms take the general path.
   */
  private fusedSelectorAggregate(e: AggregateExpr, vs: VectorSelector): EvalResult | undefined {
    if (vs.smoothed) return undefined;
    const lookback = this.ctx.lookbackDelta;
    const series = this.selectLazy(vs, lookback, 0, this.steps.length === 1 || vs.at !== null);
    const agg = new FusedAggregator(e.op, e.grouping, e.without, this.steps, false);
    let n = 0;
    for (const s of series) {
      this.checkpoint();
      const d = s.samples();
      // Histograms take the general path (which selects again).
      if (d.histograms.length > 0) return undefined;
      let gi = -1;
      for (let i = 0; i < this.steps.length; i++) {
        // pickInstant for a float-only series, without its result object.
        const ref = (vs.at ?? this.steps[i]!) - vs.offset;
        const fi = lastAtOrBefore(d.t, ref);
        if (fi < 0 || d.t[fi]! <= ref - lookback) continue;
        const v = d.v[fi]!;
        if (isStaleNaN(v)) continue;
        if (gi < 0) gi = agg.groupOf(s.labels);
        agg.add(gi, i, v);
        n++;
      }
    }
    this.addSamples(n);
    return { kind: 'vector', steps: agg.result() };
  }

  private fnContext(ts: number, a?: RangeArg): FunctionContext {
    const end = a ? (a.at ?? ts) - a.offset : ts;
    return {
      ts,
      rangeStart: a ? end - a.range : ts,
      rangeEnd: end,
      anchored: a?.anchored,
      smoothed: a?.smoothed,
      annotations: this.ctx.annotations,
      position: (p) => this.position(p),
    };
  }

  private evalCall(e: Call): EvalResult {
    const n = this.steps.length;
    switch (e.func) {
      case 'time':
        return { kind: 'scalar', values: Float64Array.from(this.steps, (t) => t / 1000) };
      case 'pi':
        return { kind: 'scalar', values: new Float64Array(n).fill(Math.PI) };
      case 'step':
        return { kind: 'scalar', values: new Float64Array(n).fill(this.ctx.queryStep / 1000) };
      case 'range':
        return { kind: 'scalar', values: new Float64Array(n).fill((this.ctx.queryEnd - this.ctx.queryStart) / 1000) };
      case 'start':
        return { kind: 'scalar', values: new Float64Array(n).fill(this.ctx.queryStart / 1000) };
      case 'end':
        return { kind: 'scalar', values: new Float64Array(n).fill(this.ctx.queryEnd / 1000) };
      case 'scalar': {
        const v = this.evalVectorArg(e.args[0]);
        return {
          kind: 'scalar',
          values: Float64Array.from(v, (vec) => {
            const floats = vec.filter((s) => !s.h);
            return floats.length === 1 ? floats[0]!.f : NaN;
          }),
        };
      }
      case 'vector': {
        const s = this.eval(e.args[0]!);
        if (s.kind !== 'scalar') throw new QueryError('vector() expects a scalar argument', 'bad_data');
        return { kind: 'vector', steps: this.steps.map((t, i) => [{ metric: EMPTY_LABELS, t, f: s.values[i]! }]) };
      }
      case 'timestamp': {
        const arg = unwrap(e.args[0]!);
        const vs = arg.kind === 'VectorSelector' ? this.evalVectorSelector(arg, true) : this.evalVectorArg(e.args[0]);
        return {
          kind: 'vector',
          steps: vs.map((vec, i) => vec.map((s) => ({ metric: s.metric, t: this.steps[i]!, f: s.t / 1000, dropName: true }))),
        };
      }
      case 'absent': {
        const vs = this.evalVectorArg(e.args[0]);
        const labels = absentLabels(e.args[0]!);
        return { kind: 'vector', steps: vs.map((vec, i) => (vec.length === 0 ? [{ metric: labels, t: this.steps[i]!, f: 1 }] : [])) };
      }
      case 'absent_over_time': {
        const a = this.rangeArg(e.args[0]!);
        const labels = absentLabels(e.args[0]!);
        return {
          kind: 'vector',
          steps: this.steps.map((ts) => (a.series.some((s) => { const w = this.windowAt(a, s, ts); return w.floats.length + w.histograms.length > 0; }) ? [] : [{ metric: labels, t: ts, f: 1 }])),
        };
      }
      case 'info':
        return { kind: 'vector', steps: evalInfo(this, e) };
      case 'start_timestamp': {
        const arg = unwrap(e.args[0]!);
        // Only a selector reads start timestamps; any other expression has lost them.
        if (arg.kind !== 'VectorSelector') return { kind: 'vector', steps: this.evalVectorArg(e.args[0]).map(() => []) };
        const oneRef = this.steps.length === 1 || arg.at !== null;
        const r = startTimestampSteps(this.select(arg, this.ctx.lookbackDelta, 0, oneRef), arg, this.steps, this.ctx.lookbackDelta);
        this.addSamples(r.samples);
        return { kind: 'vector', steps: r.steps };
      }
      default:
        break;
    }
    if (SORT_FUNCS.has(e.func) && this.ctx.isRangeQuery) this.warn('sort is ineffective for range queries since results are always ordered by labels', e.pos);
    const impl = this.ctx.functions[e.func];
    if (!impl) throw new QueryError(`function ${JSON.stringify(e.func)} is not implemented`, 'bad_data');
    const mi = e.args.findIndex((a) => {
      const x = unwrap(a);
      return x.kind === 'MatrixSelector' || x.kind === 'SubqueryExpr';
    });
    const argVals: (EvalResult | undefined)[] = e.args.map((a, i) => (i === mi ? undefined : this.eval(a)));
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
      for (let i = 0; i < n; i++) values[i] = impl(argsAt(i), e.args, this.fnContext(this.steps[i]!))[0]?.f ?? NaN;
      return { kind: 'scalar', values };
    }
    if (mi < 0) {
      for (let i = 0; i < n; i++) {
        this.checkpoint();
        const ts = this.steps[i]!;
        const outv = impl(argsAt(i), e.args, this.fnContext(ts));
        for (const s of outv) s.t = ts;
        checkDuplicates(outv);
        steps[i] = outv;
      }
      return { kind: 'vector', steps };
    }
    const kc = kernelCall(e, impl);
    if (kc) return this.evalKernelCall(kc, argVals, argsAt);
    const ra = this.rangeArg(e.args[mi]!);
    if (ra.anchored && !ANCHORED_FUNCS.has(e.func)) {
      throw new QueryError(`anchored modifier can only be used with: ${[...ANCHORED_FUNCS].join(', ')} - not with ${e.func}`, 'bad_data');
    }
    if (ra.smoothed && !SMOOTHED_FUNCS.has(e.func)) {
      throw new QueryError(`smoothed modifier can only be used with: ${[...SMOOTHED_FUNCS].join(', ')} - not with ${e.func}`, 'bad_data');
    }
    return { kind: 'vector', steps: this.evalRangeCall(e, impl, mi, ra, argsAt) };
  }

  /**
   * A range function with a column fast path over a plain matrix selector
   * ({@link runKernel}): float series straight from the selected columns, series by series over
   * all steps; histogram series take the general path.
   */
  private evalKernelCall(kc: KernelCall, argVals: readonly (EvalResult | undefined)[], argsAt: (i: number) => FunctionArg[]): EvalResult {
    const e = kc.call;
    const vs = kc.ms.vectorSelector;
    const n = this.steps.length;
    const steps = this.steps;
    const out: Vector[] = steps.map(() => []);
    let params: Float64Array | undefined;
    const paramArg = kc.column?.paramArg ?? -1;
    if (paramArg >= 0) {
      const pv = argVals[paramArg];
      params = pv?.kind === 'scalar' ? pv.values : new Float64Array(n).fill(Number.NaN);
    }
    const nonEmpty: boolean[] | undefined = params ? new Array<boolean>(n).fill(false) : undefined;
    const dropName = kc.dropName;
    const { points, general } = runKernel(kc, this.select(vs, kc.ms.range), {
      steps,
      params,
      nonEmpty,
      info: (m) => this.ctx.annotations.info(`${m} (${this.position(e.args[kc.mi]!.pos)})`),
      checkpoint: () => this.checkpoint(),
      sink: (s) => {
        const metric = s.metric;
        const dn = dropName || s.dropName === true;
        return dn
          ? (i, f) => out[i]!.push({ metric, t: steps[i]!, f, dropName: true })
          : (i, f) => out[i]!.push({ metric, t: steps[i]!, f });
      },
    });
    this.addWindowSamples(points);
    if (e.func === 'quantile_over_time' && params && nonEmpty) {
      for (let i = 0; i < n; i++) {
        const q = params[i]!;
        if (nonEmpty[i] && !(q >= 0 && q <= 1)) this.ctx.annotations.warn(`${MSG.invalidQuantile(q)} (${this.position(e.args[0]!.pos)})`);
      }
    }
    if (general.length === 0) return { kind: 'vector', steps: out };
    const ra: RangeArg = { series: general, range: kc.ms.range, offset: vs.offset, at: vs.at, anchored: false, smoothed: false };
    const rest = this.evalRangeCall(e, kc.impl, kc.mi, ra, argsAt);
    return { kind: 'vector', steps: out.map((v, i) => v.concat(rest[i]!)) };
  }

  /** The general range-function loop: per step, per series, the impl on the series' window. */
  private evalRangeCall(e: Call, impl: FunctionImpl, mi: number, ra: RangeArg, argsAt: (i: number) => FunctionArg[]): Vector[] {
    const n = this.steps.length;
    const steps: Vector[] = new Array<Vector>(n);
    for (let i = 0; i < n; i++) {
      const ts = this.steps[i]!;
      const args = argsAt(i);
      const fctx = this.fnContext(ts, ra);
      const outv: Vector = [];
      let pts = 0;
      for (const s of ra.series) {
        this.checkpoint();
        const w = this.windowAt(ra, s, ts);
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
      this.addSamples(pts);
      steps[i] = outv;
    }
    return steps;
  }

  /** Evaluates an instant-vector argument (or an empty vector per step when missing). */
  evalVectorArg(a: Expr | undefined): Vector[] {
    if (!a) return this.steps.map(() => []);
    const r = this.eval(a);
    if (r.kind !== 'vector') throw new QueryError(`expected instant vector argument, got ${r.kind}`, 'bad_data');
    return r.steps;
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
function clearCounterResetHints(m: Matrix): Matrix {
  for (const s of m) {
    for (const p of s.histograms) {
      const hint = p.h.counterResetHint;
      if (hint === CounterResetHint.Yes || hint === CounterResetHint.No) p.h = { ...p.h, counterResetHint: CounterResetHint.Unknown };
    }
  }
  return m;
}

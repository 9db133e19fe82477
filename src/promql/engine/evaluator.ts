/**
 * The PromQL evaluator. Each node is evaluated over ALL steps of the current evaluation range
 * at once and yields a per-step result; an instant query is a range with one step. Subqueries
 * and step-invariant subtrees create child evaluators with their own ranges.
 *
 * This file holds the dispatch, the accounting and the selectors; the larger node kinds live
 * beside it as functions taking the evaluator: binary expressions (eval-binary.ts),
 * aggregations and their fused paths (eval-aggregate.ts), calls (eval-call.ts), range
 * arguments and range-function paths (eval-range.ts), `info()` (info.ts).
 */
import type { Clock } from '../../model/clock.js';
import { assertNever } from '../../model/errors.js';
import { EMPTY_LABELS, METRIC_NAME, labelsGet } from '../../model/labels.js';
import type { Querier, Series } from '../../storage/interface.js';
import type { Expr, PosRange, SubqueryExpr, VectorSelector } from '../parser/ast.js';
import type { FunctionImpl } from './functions/contract.js';
import { histogramScale } from './histogram-ops.js';
import { loaded, pickInstant, pickSmoothed, selectSeries, withoutResetHints, type LoadedSeries, type SmoothedProblem } from './selectors.js';
import { Annotations, QueryError, type Matrix, type Sample, type Vector } from './values.js';
import { evalAggregate } from './eval-aggregate.js';
import { evalBinary } from './eval-binary.js';
import { evalCall } from './eval-call.js';
import { clearCounterResetHints, matrixArg, matrixAt, stepsToMatrix } from './eval-range.js';

// Helpers that moved out with their code, still exported from here for existing importers.
export { absentLabels, checkDuplicates } from './eval-call.js';
export { stepsToMatrix } from './eval-range.js';

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
        return { kind: 'matrix', matrix: matrixAt(this, matrixArg(this, e), this.steps[0]!) };
      case 'SubqueryExpr':
        return { kind: 'matrix', matrix: this.evalSubquery(e) };
      case 'BinaryExpr':
        return evalBinary(this, e);
      case 'AggregateExpr':
        return evalAggregate(this, e);
      case 'Call':
        return evalCall(this, e);
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

  /**
   * Selects the series of a selector for this evaluator's range (plus `before` / `after` ms
   * around it). Public for the eval-* modules, like {@link selectLazy}.
   */
  select(vs: VectorSelector, before: number, after = 0, latestOnly = false): LoadedSeries[] {
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
  selectLazy(vs: VectorSelector, before: number, after = 0, latestOnly = false): Series[] {
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

  /** Evaluates an instant-vector argument (or an empty vector per step when missing). */
  evalVectorArg(a: Expr | undefined): Vector[] {
    if (!a) return this.steps.map(() => []);
    const r = this.eval(a);
    if (r.kind !== 'vector') throw new QueryError(`expected instant vector argument, got ${r.kind}`, 'bad_data');
    return r.steps;
  }
}

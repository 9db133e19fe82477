/**
 * The PromQL engine: parses (or takes) a query, preprocesses it (`@ start()/end()`, duration
 * expressions, step invariance), evaluates it over all steps with an {@link Evaluator} and
 * shapes the result like Prometheus (delayed `__name__` removal, sorted range results).
 */
import { systemClock, type Clock } from '../../model/clock.js';
import { assertNever } from '../../model/errors.js';
import { labelsCompare, labelsKey, type Labels } from '../../model/labels.js';
import { dropMetricName } from './labels.js';
import { nopLogger, type Logger } from '../../model/logger.js';
import type { Queryable } from '../../storage/interface.js';
import type { Expr } from '../parser/ast.js';
import { ParseError, parseExpr } from '../parser/index.js';
import { Evaluator, type EvalContext, type EvalResult } from './evaluator.js';
import type { FunctionImpl } from './functions/contract.js';
import { FUNCTIONS } from './functions/index.js';
import { preprocess, queryTimeRange } from './preprocess.js';
import { statsOnlySelectors } from './histogram-stats.js';
import { Annotations, QueryError, type Matrix, type RangeSeries, type Sample, type Value, type Vector } from './values.js';

/** Engine options. */
export interface EngineOptions {
  /** Lookback delta for instant-vector selection (default 5m). */
  readonly lookbackDeltaMs?: number;
  /** Maximum samples a query may hold in memory (default 50e6). */
  readonly maxSamples?: number;
  /** Query timeout (default 2m). */
  readonly timeoutMs?: number;
  /** Step of subqueries without an explicit step (default 60s). */
  readonly defaultSubqueryStepMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Function implementations (default: the built-in library). */
  readonly functions?: Readonly<Record<string, FunctionImpl>>;
  /** Maximum query length in characters (default 64 KiB). */
  readonly maxQueryLength?: number;
}

/** Per-query options. */
export interface QueryOptions {
  readonly signal?: AbortSignal;
  readonly lookbackDeltaMs?: number;
  /**
   * Text that AST positions refer to, for annotation positions when `query` is an `Expr`
   * (defaults to the query string itself).
   */
  readonly source?: string;
}

/** A query's value with its annotations. */
export interface QueryResult {
  value: Value;
  warnings: string[];
  infos: string[];
  stats?: { samples: number; series: number };
}

/** Evaluates PromQL against a {@link Queryable}. */
export class Engine {
  private readonly lookback: number;
  private readonly maxSamples: number;
  private readonly timeoutMs: number;
  private readonly subqueryStep: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly functions: Readonly<Record<string, FunctionImpl>>;
  private readonly maxQueryLength: number;

  constructor(opts: EngineOptions = {}) {
    this.lookback = opts.lookbackDeltaMs ?? 5 * 60_000;
    this.maxSamples = opts.maxSamples ?? 50_000_000;
    this.timeoutMs = opts.timeoutMs ?? 2 * 60_000;
    this.subqueryStep = opts.defaultSubqueryStepMs ?? 60_000;
    this.clock = opts.clock ?? systemClock;
    this.logger = opts.logger ?? nopLogger;
    this.functions = opts.functions ?? FUNCTIONS;
    this.maxQueryLength = opts.maxQueryLength ?? 64 * 1024;
  }

  /** Evaluates `query` at `ts` (ms). */
  instantQuery(q: Queryable, query: string | Expr, ts: number, opts: QueryOptions = {}): Promise<QueryResult> {
    return Promise.resolve().then(() => this.exec(q, query, ts, ts, 0, opts));
  }

  /** Evaluates `query` at `start, start+step, …, end` (ms). */
  rangeQuery(q: Queryable, query: string | Expr, start: number, end: number, step: number, opts: QueryOptions = {}): Promise<QueryResult> {
    return Promise.resolve().then(() => {
      if (!(step > 0)) throw new QueryError('zero or negative query resolution step widths are not accepted. Try a positive integer', 'bad_data');
      if (end < start) throw new QueryError('end timestamp must not be before start time', 'bad_data');
      if ((end - start) / step > 11000) throw new QueryError('exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)', 'bad_data');
      return this.exec(q, query, start, end, step, opts);
    });
  }

  /** Synchronous core of both query kinds. */
  exec(q: Queryable, query: string | Expr, start: number, end: number, step: number, opts: QueryOptions): QueryResult {
    const isRange = step > 0;
    let expr: Expr;
    let source = opts.source ?? '';
    if (typeof query === 'string') {
      if (query.length > this.maxQueryLength) throw new QueryError(`query is too long (${query.length} > ${this.maxQueryLength} characters)`, 'bad_data');
      try {
        expr = parseExpr(query);
      } catch (e) {
        if (e instanceof ParseError) throw new QueryError(e.message, 'bad_data', { cause: e });
        throw e;
      }
      source = opts.source ?? query;
    } else {
      expr = query;
    }
    if (opts.signal?.aborted) throw new QueryError('query was canceled in query preparation', 'canceled', { cause: opts.signal.reason });
    const prepared = preprocess(expr, { start, end, step });
    if (isRange) {
      const t = topType(prepared);
      if (t === 'matrix' || t === 'string') {
        throw new QueryError(`invalid expression type ${JSON.stringify(t === 'matrix' ? 'range vector' : 'string')} for range query, must be Scalar or instant Vector`, 'bad_data');
      }
    }
    const lookback = opts.lookbackDeltaMs ?? this.lookback;
    const { mint, maxt } = queryTimeRange(prepared, start, end, lookback);
    const querier = q.querier(mint, maxt);
    const annotations = new Annotations();
    const ctx: EvalContext = {
      querier,
      lookbackDelta: lookback,
      maxSamples: this.maxSamples,
      deadline: this.clock.now() + this.timeoutMs,
      clock: this.clock,
      signal: opts.signal,
      annotations,
      source,
      functions: this.functions,
      defaultSubqueryStep: this.subqueryStep,
      isRangeQuery: isRange,
      queryStart: start,
      queryEnd: end,
      queryStep: step,
      stats: { samples: 0, series: 0, current: 0 },
      statsSelectors: statsOnlySelectors(prepared),
    };
    try {
      const ev = new Evaluator(ctx, start, end, step);
      const res = ev.eval(prepared);
      const value = isRange ? toRangeValue(res, ev.steps) : toInstantValue(res, start);
      return {
        value,
        warnings: [...annotations.warnings],
        infos: [...annotations.infos],
        stats: { samples: ctx.stats.samples, series: ctx.stats.series },
      };
    } catch (e) {
      if (e instanceof QueryError) throw e;
      if (e instanceof Error && e.name === 'LimitError') throw new QueryError(e.message, 'execution', { cause: e });
      if (e instanceof Error && e.name === 'MatcherError') throw new QueryError(e.message, 'bad_data', { cause: e });
      this.logger.error('query evaluation failed', { err: e instanceof Error ? e.message : String(e) });
      throw new QueryError(`internal error: ${e instanceof Error ? e.message : String(e)}`, 'internal', { cause: e });
    } finally {
      querier.close();
    }
  }
}

/** Static result kind of the top-level expression (matrix / string detection for range queries). */
function topType(e: Expr): 'matrix' | 'string' | 'other' {
  switch (e.kind) {
    case 'MatrixSelector':
    case 'SubqueryExpr':
      return 'matrix';
    case 'StringLiteral':
      return 'string';
    case 'ParenExpr':
    case 'StepInvariantExpr':
      return topType(e.expr);
    default:
      return 'other';
  }
}

/** Drops `__name__` where flagged and rejects duplicate label sets. */
export function cleanupVector(vec: Vector): Vector {
  const out: Vector = [];
  const seen = new Set<string>();
  for (const s of vec) {
    const metric = s.dropName ? dropMetricName(s.metric) : s.metric;
    const k = labelsKey(metric);
    if (seen.has(k)) throw new QueryError('vector cannot contain metrics with the same labelset');
    seen.add(k);
    const o: Sample = { metric, t: s.t, f: s.f };
    if (s.h) o.h = s.h;
    out.push(o);
  }
  return out;
}

function cleanupMatrix(m: Matrix): Matrix {
  const byKey = new Map<string, Matrix[number]>();
  const out: Matrix = [];
  for (const s of m) {
    const metric = s.dropName ? dropMetricName(s.metric) : s.metric;
    const k = labelsKey(metric);
    const prev = byKey.get(k);
    if (prev) throw new QueryError('vector cannot contain metrics with the same labelset');
    const o = { metric, floats: s.floats, histograms: s.histograms };
    byKey.set(k, o);
    out.push(o);
  }
  return out;
}

function toInstantValue(r: EvalResult, ts: number): Value {
  switch (r.kind) {
    case 'scalar':
      return { kind: 'scalar', t: ts, v: r.values[0]! };
    case 'string':
      return { kind: 'string', t: ts, v: r.value };
    case 'vector':
      return { kind: 'vector', vector: cleanupVector(r.steps[0] ?? []) };
    case 'matrix':
      return { kind: 'matrix', matrix: cleanupMatrix(r.matrix) };
    default:
      return assertNever(r, 'result');
  }
}

function toRangeValue(r: EvalResult, steps: readonly number[]): Value {
  switch (r.kind) {
    case 'scalar':
      return { kind: 'matrix', matrix: [{ metric: [], floats: steps.map((t, i) => ({ t, f: r.values[i]! })), histograms: [] }] };
    case 'vector': {
      const m = rangeMatrix(r.steps, steps);
      m.sort((a, b) => labelsCompare(a.metric, b.metric));
      return { kind: 'matrix', matrix: m };
    }
    case 'matrix':
    case 'string':
      throw new QueryError(`invalid expression type ${JSON.stringify(r.kind === 'matrix' ? 'range vector' : 'string')} for range query, must be Scalar or instant Vector`, 'bad_data');
    default:
      return assertNever(r, 'result');
  }
}

/**
 * Per-step vectors to the range-query matrix: drops `__name__` where flagged and rejects
 * duplicate label sets within a step, like {@link cleanupVector} for every step, but computes
 * each input label set's output labels and key once (samples of a series share their labels).
 */
function rangeMatrix(stepVecs: readonly Vector[], times: readonly number[]): Matrix {
  type Slot = { rs: RangeSeries; lastStep: number };
  const byKey = new Map<string, Slot>();
  const memo = [new Map<Labels, Slot>(), new Map<Labels, Slot>()];
  const out: Matrix = [];
  for (let i = 0; i < stepVecs.length; i++) {
    const t = times[i]!;
    for (const s of stepVecs[i]!) {
      const cache = memo[s.dropName ? 1 : 0]!;
      let slot = cache.get(s.metric);
      if (!slot) {
        const metric = s.dropName ? dropMetricName(s.metric) : s.metric;
        const k = labelsKey(metric);
        slot = byKey.get(k);
        if (!slot) {
          slot = { rs: { metric, floats: [], histograms: [] }, lastStep: -1 };
          byKey.set(k, slot);
          out.push(slot.rs);
        }
        cache.set(s.metric, slot);
      }
      if (slot.lastStep === i) throw new QueryError('vector cannot contain metrics with the same labelset');
      slot.lastStep = i;
      if (s.h) slot.rs.histograms.push({ t, h: s.h });
      else slot.rs.floats.push({ t, f: s.f });
    }
  }
  return out;
}

/**
 * Recognises range-function calls that have a column fast path (rate/increase/delta in
 * `fast-range.ts`, the others in `fast-over-time.ts`) and runs them series by series over all
 * steps, handing each (series, step, value) to a sink. The evaluator uses it to build per-step
 * vectors, and to aggregate without building them (`fused-aggregate.ts`).
 */
import type { Call, Expr, MatrixSelector } from '../parser/ast.js';
import type { FunctionImpl } from './functions/contract.js';
import { fastRangeKind, fastRangeSeries, floatColumns, type FloatColumns } from './fast-range.js';
import { columnKernel, columnRangeSeries, type ColumnKernel } from './fast-over-time.js';
import { toRangeSeries, type LoadedSeries } from './selectors.js';
import type { RangeSeries } from './values.js';

/** A call with a fast path: which kernel, over which selector. */
export interface KernelCall {
  readonly call: Call;
  readonly impl: FunctionImpl;
  /** Index of the range argument. */
  readonly mi: number;
  readonly ms: MatrixSelector;
  readonly rate?: { readonly isCounter: boolean; readonly isRate: boolean };
  readonly column?: ColumnKernel;
  /** True when results drop `__name__`. */
  readonly dropName: boolean;
}

function unwrap(e: Expr): Expr {
  let x = e;
  while (x.kind === 'ParenExpr' || x.kind === 'StepInvariantExpr') x = x.expr;
  return x;
}

/** The fast path of `call` with `impl`, when its range argument is a plain matrix selector. */
export function kernelCall(call: Call, impl: FunctionImpl): KernelCall | undefined {
  let mi = -1;
  for (let i = 0; i < call.args.length; i++) {
    const k = unwrap(call.args[i]!).kind;
    if (k === 'MatrixSelector' || k === 'SubqueryExpr') {
      mi = i;
      break;
    }
  }
  if (mi < 0) return undefined;
  const ms = unwrap(call.args[mi]!);
  if (ms.kind !== 'MatrixSelector' || ms.vectorSelector.anchored || ms.vectorSelector.smoothed) return undefined;
  const rate = fastRangeKind(impl);
  if (rate) return { call, impl, mi, ms, rate, dropName: true };
  const column = columnKernel(impl);
  if (column && column.rangeArg === mi) return { call, impl, mi, ms, column, dropName: !column.keepName };
  return undefined;
}

/**
 * True when series `s` must take the general path: it holds histograms, or it carries start
 * timestamps and the kernel depends on them (rate/increase/delta, irate, resets). One check
 * per series; series without start timestamps never pay more.
 */
export function needsGeneralPath(kc: KernelCall, s: LoadedSeries): boolean {
  return s.hs.length > 0 || (s.st !== undefined && (kc.rate !== undefined || kc.column?.usesStart === true));
}

/** Per-run inputs of {@link runKernel}. */
export interface KernelRun {
  readonly steps: readonly number[];
  /** Scalar parameter per step (for kernels with one). */
  readonly params?: ArrayLike<number>;
  /** Filled with true at steps where some window held points (for kernels with a parameter). */
  readonly nonEmpty?: boolean[];
  /** The "possible non-counter" info (message without position). */
  readonly info: (msg: string) => void;
  /** Cancellation / timeout check, called per series. */
  readonly checkpoint: () => void;
  /** Sink for series `s` (index `k` among float series): returns the per-step emitter. */
  readonly sink: (s: FloatColumns, k: number) => (i: number, f: number) => void;
}

/**
 * Runs the kernel over the selected series. Float series go to the sink; series holding
 * histograms are returned (as range series) for the general path. Returns the number of points
 * the windows held.
 */
export function runKernel(kc: KernelCall, series: readonly LoadedSeries[], run: KernelRun): { points: number; general: RangeSeries[] } {
  const vs = kc.ms.vectorSelector;
  const steps = run.steps;
  const endAt = vs.at !== null ? () => vs.at! - vs.offset : (i: number) => steps[i]! - vs.offset;
  const general: RangeSeries[] = [];
  const rateParams = kc.rate ? { ...kc.rate, steps, endAt, range: kc.ms.range, info: run.info } : undefined;
  const colParams = { steps, endAt, range: kc.ms.range, params: run.params, nonEmpty: run.nonEmpty };
  let points = 0;
  let k = 0;
  for (const s of series) {
    run.checkpoint();
    if (needsGeneralPath(kc, s)) {
      const rs = toRangeSeries(s);
      if (rs.floats.length + rs.histograms.length > 0) general.push(rs);
      continue;
    }
    const cols = floatColumns(s.labels, s.t, s.v);
    const emit = run.sink(cols, k++);
    points += rateParams ? fastRangeSeries(cols, rateParams, emit) : columnRangeSeries(cols, kc.column!, colParams, emit);
  }
  return { points, general };
}

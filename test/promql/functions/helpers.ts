/**
 * Test helpers for the function library: a context with a fixed position formatter, series
 * built from the promqltest "load" notation, and window selection `(ts - range, ts]`.
 */
import type { Expr, MatrixSelector, PosRange, VectorSelector } from '../../../src/promql/parser/ast.js';
import { Annotations, type FPoint, type HPoint, type RangeSeries, type Sample, type Vector } from '../../../src/promql/engine/values.js';
import type { FunctionArg, FunctionContext } from '../../../src/promql/engine/functions/contract.js';
import { FUNCTIONS } from '../../../src/promql/engine/functions/index.js';
import { labelsFrom, type Labels } from '../../../src/model/labels.js';
import { newMatcher, type MatchType } from '../../../src/model/matchers.js';
import type { FloatHistogram } from '../../../src/model/histogram.js';

/** A context whose positions print as `1:<start+1>`. */
export function makeCtx(ts: number, range = 0): FunctionContext & { annotations: Annotations } {
  return {
    ts,
    rangeStart: ts - range,
    rangeEnd: ts,
    annotations: new Annotations(),
    position: (p: PosRange) => `1:${p.start + 1}`,
  };
}

/** Expands promqltest value notation (`0+10x3 _ NaN 5`) into values (undefined = gap). */
export function expandValues(spec: string): (number | undefined)[] {
  const out: (number | undefined)[] = [];
  for (const tok of spec.trim().split(/\s+/)) {
    if (tok === '_') {
      out.push(undefined);
      continue;
    }
    const m = /^(-?[0-9.e+]+|-?Inf|NaN)([+-])([0-9.e]+)x(\d+)$/.exec(tok);
    if (m) {
      const start = num(m[1]!);
      const step = Number(m[3]) * (m[2] === '-' ? -1 : 1);
      for (let i = 0; i <= Number(m[4]); i++) out.push(start + i * step);
      continue;
    }
    const r = /^(.+)x(\d+)$/.exec(tok);
    if (r) {
      for (let i = 0; i <= Number(r[2]); i++) out.push(num(r[1]!));
      continue;
    }
    out.push(num(tok));
  }
  return out;
}

function num(s: string): number {
  if (s === 'Inf' || s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return Number.NaN;
  return Number(s);
}

/** Float points of a loaded series: value i at `i * intervalMs`. */
export function points(spec: string, intervalMs: number): FPoint[] {
  const out: FPoint[] = [];
  expandValues(spec).forEach((v, i) => {
    if (v !== undefined) out.push({ t: i * intervalMs, f: v });
  });
  return out;
}

/** A range series restricted to the window (ts - range, ts]. */
export function windowed(metric: Labels, floats: FPoint[], ts: number, range: number, histograms: HPoint[] = []): RangeSeries {
  const inW = (t: number): boolean => t > ts - range && t <= ts;
  return { metric, floats: floats.filter((p) => inW(p.t)), histograms: histograms.filter((p) => inW(p.t)) };
}

/** A matrix-selector expression for `name{...}[range]` at offset `start` (positions). */
export function matrixExpr(name: string, matchers: [string, MatchType, string][] = [], start = 0): MatrixSelector {
  const vs: VectorSelector = {
    kind: 'VectorSelector',
    name,
    matchers: [
      ...(name ? [newMatcher('=', '__name__', name)] : []),
      ...matchers.map(([n, t, v]) => newMatcher(t, n, v)),
    ],
    offset: 0,
    at: null,
    atModifier: null,
    pos: { start, end: start + name.length },
  };
  return { kind: 'MatrixSelector', vectorSelector: vs, range: 0, pos: { start, end: start + name.length + 4 } };
}

/** A number literal expression at a position. */
export function numExpr(value: number, start = 0): Expr {
  return { kind: 'NumberLiteral', value, pos: { start, end: start + 1 } };
}

/** Calls a range function for one series at ts with the given window. */
export function callRange(fn: string, s: RangeSeries, ts: number, range: number, extra: { before?: FunctionArg[]; after?: FunctionArg[]; exprs?: Expr[] } = {}) {
  const ctx = makeCtx(ts, range);
  const args: FunctionArg[] = [...(extra.before ?? []), { kind: 'matrix', matrix: [s] }, ...(extra.after ?? [])];
  const exprs = extra.exprs ?? args.map((_, i) => (i === (extra.before?.length ?? 0) ? matrixExpr(metricNameOf(s.metric), [], 5) : numExpr(0, 20 + i)));
  const out = FUNCTIONS[fn]!(args, exprs, ctx);
  return { out, ctx };
}

function metricNameOf(ls: Labels): string {
  return ls.find((l) => l.name === '__name__')?.value ?? '';
}

/** The single value of a one-sample result (fails the test when not exactly one). */
export function only(out: Vector): Sample {
  if (out.length !== 1) throw new Error(`expected 1 sample, got ${out.length}`);
  return out[0]!;
}

/** Shorthand label builder. */
export const L = (o: Record<string, string>): Labels => labelsFrom(o);

/** A float sample. */
export const S = (metric: Record<string, string>, f: number, t = 0): Sample => ({ metric: labelsFrom(metric), t, f });

/** A vector argument. */
export const V = (samples: Sample[]): FunctionArg => ({ kind: 'vector', vector: samples });
/** A scalar argument. */
export const N = (value: number): FunctionArg => ({ kind: 'scalar', value });
/** A string argument. */
export const Str = (value: string): FunctionArg => ({ kind: 'string', value });

/** A simple exponential histogram with positive buckets from index `offset`. */
export function hist(p: Partial<FloatHistogram> & { buckets?: number[]; offset?: number }): FloatHistogram {
  const buckets = p.buckets ?? [];
  return {
    counterResetHint: p.counterResetHint ?? 0,
    schema: p.schema ?? 0,
    zeroThreshold: p.zeroThreshold ?? 0,
    zeroCount: p.zeroCount ?? 0,
    count: p.count ?? 0,
    sum: p.sum ?? 0,
    positiveSpans: p.positiveSpans ?? (buckets.length ? [{ offset: p.offset ?? 0, length: buckets.length }] : []),
    negativeSpans: p.negativeSpans ?? [],
    positiveBuckets: p.positiveBuckets ?? buckets,
    negativeBuckets: p.negativeBuckets ?? [],
    ...(p.customValues ? { customValues: p.customValues } : {}),
  };
}

/** Relative closeness check used like promqltest's tolerance. */
export function close(a: number, b: number, rel = 1e-9): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}

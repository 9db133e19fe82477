/**
 * Element-wise math on instant vectors: abs, ceil, floor, exp, ln, log2, log10, sqrt, sgn,
 * round, clamp, clamp_min, clamp_max, the trigonometric functions, deg, rad and pi.
 * Histogram samples are dropped silently; the metric name is marked for delayed removal.
 */
import type { Vector } from '../values.js';
import type { FunctionImpl } from './contract.js';
import { fsample, scalarArg, vectorArg } from './util.js';

/** Applies `fn` to every float sample of the first argument. */
export function mapFloats(fn: (f: number) => number, vecIndex = 0): FunctionImpl {
  return (args, _exprs, ctx): Vector => {
    const out: Vector = [];
    for (const s of vectorArg(args, vecIndex)) {
      if (s.h !== undefined) continue;
      out.push(fsample(s.metric, ctx.ts, fn(s.f), true));
    }
    return out;
  };
}

/** Go's math.Round-free rounding used by PromQL: ties go up (towards +Inf). */
export function roundToNearest(f: number, toNearest: number): number {
  const inv = 1 / toNearest;
  return Math.floor(f * inv + 0.5) / inv;
}

/** `round(v, to_nearest=1)`. */
export const round: FunctionImpl = (args, exprs, ctx) => {
  const toNearest = args.length > 1 ? scalarArg(args, 1) : 1;
  return mapFloats((f) => roundToNearest(f, toNearest))(args, exprs, ctx);
};

/** `clamp(v, min, max)`: empty when min > max; NaN bounds give NaN. */
export const clamp: FunctionImpl = (args, exprs, ctx) => {
  const min = scalarArg(args, 1);
  const max = scalarArg(args, 2);
  if (max < min) return [];
  return mapFloats((f) => Math.max(min, Math.min(max, f)))(args, exprs, ctx);
};

/** `clamp_min(v, min)`. */
export const clampMin: FunctionImpl = (args, exprs, ctx) => {
  const min = scalarArg(args, 1);
  return mapFloats((f) => Math.max(min, f))(args, exprs, ctx);
};

/** `clamp_max(v, max)`. */
export const clampMax: FunctionImpl = (args, exprs, ctx) => {
  const max = scalarArg(args, 1);
  return mapFloats((f) => Math.min(max, f))(args, exprs, ctx);
};

/** `sgn(v)`: -1, 0 (keeping -0), 1, or NaN. */
export function sgn(f: number): number {
  if (f < 0) return -1;
  if (f > 0) return 1;
  return f;
}

/** Simple element-wise functions keyed by PromQL name. */
export const SIMPLE_MATH: Readonly<Record<string, (f: number) => number>> = {
  abs: Math.abs,
  ceil: Math.ceil,
  floor: Math.floor,
  exp: Math.exp,
  ln: Math.log,
  log2: Math.log2,
  log10: Math.log10,
  sqrt: Math.sqrt,
  sgn,
  acos: Math.acos,
  acosh: Math.acosh,
  asin: Math.asin,
  asinh: Math.asinh,
  atan: Math.atan,
  atanh: Math.atanh,
  cos: Math.cos,
  cosh: Math.cosh,
  sin: Math.sin,
  sinh: Math.sinh,
  tan: Math.tan,
  tanh: Math.tanh,
  deg: (f) => (f * 180) / Math.PI,
  rad: (f) => (f * Math.PI) / 180,
};

/** `pi()`: a scalar, returned as a one-element vector with no labels (see index.ts). */
export const pi: FunctionImpl = (_args, _exprs, ctx) => [{ metric: [], t: ctx.ts, f: Math.PI }];

/**
 * `double_exponential_smoothing(v range-vector, sf scalar, tf scalar)` (Holt linear; called
 * `holt_winters` in Prometheus 2). See the NIST handbook, section 6.4.3.3.
 */
import { QueryError } from '../values.js';
import type { FunctionImpl } from './contract.js';
import { argPos, floatsOnly, formatF, fsample, scalarArg, seriesArg } from './util.js';

/**
 * Smoothed value of the series after the last point: level `s` and trend `b` updated per point,
 * the trend initialised from the first two points.
 */
export function doubleExponentialSmoothing(values: readonly number[], sf: number, tf: number): number | undefined {
  const n = values.length;
  if (n < 2) return undefined;
  let s0 = 0;
  let s1 = values[0]!;
  let b = values[1]! - values[0]!;
  for (let i = 1; i < n; i++) {
    // The trend is only updated from the second step on; the first uses the initial trend.
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
    const next = sf * values[i]! + (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = next;
  }
  return s1;
}

/** The function-table entry; rejects factors outside (0, 1) with Prometheus's messages. */
export const doubleExponentialSmoothingFn: FunctionImpl = (args, exprs, ctx) => {
  const s = seriesArg(args, 0);
  if (!s) return [];
  const sf = scalarArg(args, 1);
  const tf = scalarArg(args, 2);
  if (sf <= 0 || sf >= 1) throw new QueryError(`invalid smoothing factor. Expected: 0 < sf < 1, got: ${formatF(sf)}`);
  if (tf <= 0 || tf >= 1) throw new QueryError(`invalid trend factor. Expected: 0 < tf < 1, got: ${formatF(tf)}`);
  const pts = floatsOnly(s, ctx, argPos(exprs, 0));
  if (!pts) return [];
  const v = doubleExponentialSmoothing(
    pts.map((p) => p.f),
    sf,
    tf,
  );
  return v === undefined ? [] : [fsample(s.metric, ctx.ts, v, true)];
};

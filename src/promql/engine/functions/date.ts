/**
 * Time functions: `time()`, `timestamp(v)`, and the calendar functions (`minute`, `hour`,
 * `day_of_week`, `day_of_month`, `day_of_year`, `days_in_month`, `month`, `year`) which read
 * float samples as Unix seconds (UTC) and default to `vector(time())`.
 */
import type { Vector } from '../values.js';
import type { FunctionImpl } from './contract.js';
import { fsample } from './util.js';

/** Calendar fields of a UTC date. */
export type DatePart = 'minute' | 'hour' | 'day_of_week' | 'day_of_month' | 'day_of_year' | 'days_in_month' | 'month' | 'year';

/**
 * The calendar field of Unix time `seconds` (fraction truncated towards zero, as Go's int64
 * conversion). NaN for non-finite input or a date outside JavaScript's range.
 */
export function datePart(part: DatePart, seconds: number): number {
  if (!Number.isFinite(seconds)) return Number.NaN;
  const d = new Date(Math.trunc(seconds) * 1000);
  const ms = d.getTime();
  if (Number.isNaN(ms)) return Number.NaN;
  switch (part) {
    case 'minute':
      return d.getUTCMinutes();
    case 'hour':
      return d.getUTCHours();
    case 'day_of_week':
      return d.getUTCDay();
    case 'day_of_month':
      return d.getUTCDate();
    case 'day_of_year': {
      const start = Date.UTC(d.getUTCFullYear(), 0, 1);
      const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
      return Math.round((day - start) / 86_400_000) + 1;
    }
    case 'days_in_month':
      return new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
    case 'month':
      return d.getUTCMonth() + 1;
    case 'year':
      return d.getUTCFullYear();
  }
}

/** A calendar function: maps float samples of the argument, or `time()` when it is absent. */
export function dateFunction(part: DatePart): FunctionImpl {
  return (args, _exprs, ctx): Vector => {
    const a = args[0];
    if (a === undefined) return [{ metric: [], t: ctx.ts, f: datePart(part, ctx.ts / 1000) }];
    if (a.kind !== 'vector') return [];
    const out: Vector = [];
    for (const s of a.vector) {
      if (s.h !== undefined) continue;
      out.push(fsample(s.metric, ctx.ts, datePart(part, s.f), true));
    }
    return out;
  };
}

/** `time()`: the evaluation time in seconds (a scalar, returned as a one-element vector). */
export const time: FunctionImpl = (_args, _exprs, ctx) => [{ metric: [], t: ctx.ts, f: ctx.ts / 1000 }];

/** `timestamp(v)`: each sample's own timestamp in seconds; floats and histograms alike. */
export const timestamp: FunctionImpl = (args, _exprs, ctx) => {
  const a = args[0];
  if (a?.kind !== 'vector') return [];
  return a.vector.map((s) => fsample(s.metric, ctx.ts, s.t / 1000, true));
};

/**
 * Prometheus durations (`1h30m`, `5m`, `100ms`, `1y`) and experimental duration expressions
 * (`[5m * 2]`, `offset (1h + step())`).
 */
import type { DurationExpr } from './ast.js';

const MS_PER: Record<string, number> = {
  y: 365 * 24 * 3600_000,
  w: 7 * 24 * 3600_000,
  d: 24 * 3600_000,
  h: 3600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};
const UNIT_ORDER = ['y', 'w', 'd', 'h', 'm', 's', 'ms'];

/** Error for a malformed duration string. */
export class DurationError extends Error {
  override name = 'DurationError';
}

/**
 * Parses a Prometheus duration (`1h30m`, `90s`, `1y`, `0`) into integer milliseconds.
 * Units must appear in descending order, each at most once. Throws {@link DurationError}.
 */
export function parseDuration(s: string): number {
  if (s === '0') return 0;
  if (s.length === 0 || s.length > 64) throw new DurationError(`not a valid duration string: ${JSON.stringify(s)}`);
  let i = 0;
  let total = 0;
  let lastUnit = -1;
  while (i < s.length) {
    const startDigits = i;
    while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
    if (i === startDigits) throw new DurationError(`not a valid duration string: ${JSON.stringify(s)}`);
    const n = Number(s.slice(startDigits, i));
    let unit: string;
    if (s[i] === 'm' && s[i + 1] === 's') {
      unit = 'ms';
      i += 2;
    } else {
      unit = s[i] ?? '';
      i++;
    }
    const idx = UNIT_ORDER.indexOf(unit);
    if (idx < 0 || idx <= lastUnit) throw new DurationError(`not a valid duration string: ${JSON.stringify(s)}`);
    lastUnit = idx;
    total += n * (MS_PER[unit] ?? 0);
  }
  if (!Number.isSafeInteger(total)) throw new DurationError(`duration out of range: ${JSON.stringify(s)}`);
  return total;
}

/**
 * Formats milliseconds in Prometheus's canonical form: `90000` → `1m30s`, `0` → `0s`.
 * Years and weeks are used only when they divide the duration exactly. Negative values get a `-`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 0) return `-${formatDuration(-ms)}`;
  let rest = Math.round(ms);
  if (rest === 0) return '0s';
  let out = '';
  const unit = (name: string, mult: number, exact: boolean): void => {
    if (exact && rest % mult !== 0) return;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      out += `${v}${name}`;
      rest -= v * mult;
    }
  };
  unit('y', MS_PER.y!, true);
  unit('w', MS_PER.w!, true);
  unit('d', MS_PER.d!, false);
  unit('h', MS_PER.h!, false);
  unit('m', MS_PER.m!, false);
  unit('s', MS_PER.s!, false);
  unit('ms', 1, false);
  return out;
}

/** Inputs of a duration expression that are only known per query. */
export interface DurationContext {
  /** Query step in ms (0 for instant queries). */
  readonly stepMs: number;
  /** Query range (end - start) in ms (0 for instant queries). */
  readonly rangeMs: number;
}

/** Error evaluating a duration expression (e.g. division by zero). */
export class DurationExprError extends Error {
  override name = 'DurationExprError';
}

/**
 * Evaluates a duration expression to integer milliseconds. Arithmetic is done in seconds, as in
 * Prometheus (`2m * 15` = 120 s × 15 = 30m; a bare number is seconds), then rounded to ms.
 * Throws {@link DurationExprError} on division by zero or a non-finite result.
 */
export function evalDurationExpr(e: DurationExpr, ctx: DurationContext): number {
  const secs = evalSeconds(e, ctx);
  if (!Number.isFinite(secs)) throw new DurationExprError(`duration expression result is not finite: ${secs}`);
  const ms = Math.round(secs * 1000);
  if (!Number.isSafeInteger(ms)) throw new DurationExprError(`duration expression result out of range: ${secs}s`);
  return ms;
}

function evalSeconds(e: DurationExpr, ctx: DurationContext): number {
  switch (e.kind) {
    case 'DurNumber':
      return e.ms / 1000;
    case 'DurStep':
      return ctx.stepMs / 1000;
    case 'DurRange':
      return ctx.rangeMs / 1000;
    case 'DurUnary': {
      const v = evalSeconds(e.expr, ctx);
      return e.op === '-' ? -v : v;
    }
    case 'DurBinary': {
      const a = evalSeconds(e.lhs, ctx);
      const b = evalSeconds(e.rhs, ctx);
      switch (e.op) {
        case '+':
          return a + b;
        case '-':
          return a - b;
        case '*':
          return a * b;
        case '/':
          if (b === 0) throw new DurationExprError('division by zero in duration expression');
          return a / b;
        case '%':
          if (b === 0) throw new DurationExprError('modulo by zero in duration expression');
          return a % b;
        case '^':
          return Math.pow(a, b);
      }
      break;
    }
    case 'DurCall': {
      const vals = e.args.map((a) => evalSeconds(a, ctx));
      return e.func === 'min_of' ? Math.min(...vals) : Math.max(...vals);
    }
  }
  throw new DurationExprError('unknown duration expression');
}

/** True when the expression depends on the query's step or range (cannot be folded at parse time). */
export function durationExprIsDynamic(e: DurationExpr): boolean {
  switch (e.kind) {
    case 'DurNumber':
      return false;
    case 'DurStep':
    case 'DurRange':
      return true;
    case 'DurUnary':
      return durationExprIsDynamic(e.expr);
    case 'DurBinary':
      return durationExprIsDynamic(e.lhs) || durationExprIsDynamic(e.rhs);
    case 'DurCall':
      return e.args.some(durationExprIsDynamic);
  }
}

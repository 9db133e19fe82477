/**
 * Duration expressions inside `[...]` and after `offset`, and the `@` modifier value.
 * Experimental Prometheus syntax (`promql-duration-expr`): `[5m*2]`, `[step()+1]`,
 * `offset (1h+5m)`, `offset -step()*2` (offset binds one operand; `*2` applies to the result).
 */
import type { AtModifier, DurationExpr, PosRange } from './ast.js';
import { durationExprIsDynamic, DurationExprError, evalDurationExpr } from './duration.js';
import type { TokenStream } from './stream.js';

/** A parsed duration: folded ms (0 when dynamic) plus the expression when not a plain literal. */
export interface ParsedDuration {
  readonly ms: number;
  readonly expr?: DurationExpr;
  readonly dynamic: boolean;
  readonly pos: PosRange;
}

type DurOp = '+' | '-' | '*' | '/' | '%' | '^';
const DUR_PREC: Record<string, number> = { '+': 1, '-': 1, '*': 2, '/': 2, '%': 2, '^': 3 };
const MAX_DUR_DEPTH = 64;

/** Parses a full duration expression (binary operators allowed), as inside brackets. */
export function parseBracketDuration(s: TokenStream, context: string): ParsedDuration {
  const start = s.peek().start;
  const first = s.peek();
  const expr = parseDurBinary(s, 0, context, 0);
  const pos = { start, end: s.lastEnd() };
  const plain = (first.kind === 'duration' || first.kind === 'number') && s.lastEnd() === first.end;
  return finish(s, expr, pos, plain);
}

/**
 * Parses the operand of `offset`: an optional sign and one duration atom (literal, `step()`,
 * `range()`, `min_of(..)`, `max_of(..)` or a parenthesised duration expression).
 */
export function parseOffsetDuration(s: TokenStream): ParsedDuration {
  const start = s.peek().start;
  let sign: '-' | '+' | null = null;
  if (s.is('-') || s.is('+')) sign = s.next().kind as '-' | '+';
  const first = s.peek();
  const atom = parseDurAtom(s, 'offset', 0);
  const pos = { start, end: s.lastEnd() };
  const plain = first.kind === 'duration' || first.kind === 'number';
  const expr: DurationExpr = sign ? { kind: 'DurUnary', op: sign, expr: atom } : atom;
  return finish(s, expr, pos, plain);
}

function finish(s: TokenStream, expr: DurationExpr, pos: PosRange, plain: boolean): ParsedDuration {
  if (durationExprIsDynamic(expr)) return { ms: 0, expr, dynamic: true, pos };
  let ms: number;
  try {
    ms = evalDurationExpr(expr, { stepMs: 0, rangeMs: 0 });
  } catch (e) {
    if (e instanceof DurationExprError) throw s.error(pos, e.message, e);
    throw e;
  }
  return plain ? { ms, dynamic: false, pos } : { ms, expr, dynamic: false, pos };
}

function parseDurBinary(s: TokenStream, minPrec: number, context: string, depth: number): DurationExpr {
  if (depth > MAX_DUR_DEPTH) throw s.error({ start: s.peek().start, end: s.peek().end }, 'duration expression nesting too deep');
  let lhs = parseDurUnary(s, context, depth + 1);
  for (;;) {
    const t = s.peek();
    const prec = DUR_PREC[t.kind];
    if (prec === undefined || prec < minPrec) return lhs;
    s.next();
    const op = t.kind as DurOp;
    const rhs = parseDurBinary(s, op === '^' ? prec : prec + 1, context, depth + 1);
    lhs = { kind: 'DurBinary', op, lhs, rhs };
  }
}

function parseDurUnary(s: TokenStream, context: string, depth: number): DurationExpr {
  if (s.is('-') || s.is('+')) {
    const op = s.next().kind as '-' | '+';
    // Unary binds like `*`: `-a^b` = -(a^b).
    return { kind: 'DurUnary', op, expr: parseDurBinary(s, DUR_PREC['^']!, context, depth + 1) };
  }
  return parseDurAtom(s, context, depth);
}

function parseDurAtom(s: TokenStream, context: string, depth: number): DurationExpr {
  const t = s.peek();
  switch (t.kind) {
    case 'number':
      s.next();
      return { kind: 'DurNumber', ms: (t.num ?? 0) * 1000 };
    case 'duration':
      s.next();
      return { kind: 'DurNumber', ms: t.num ?? 0 };
    case '(': {
      s.next();
      const e = parseDurBinary(s, 0, context, depth + 1);
      s.expect(')', context, '")"');
      return e;
    }
    case 'ident': {
      const w = t.text.toLowerCase();
      if ((w === 'step' || w === 'range') && s.is('(', 1)) {
        s.next();
        s.next();
        s.expect(')', context, '")"');
        return { kind: w === 'step' ? 'DurStep' : 'DurRange' };
      }
      if ((w === 'min_of' || w === 'max_of') && s.is('(', 1)) {
        s.next();
        s.next();
        const a = parseDurBinary(s, 0, context, depth + 1);
        s.expect(',', `call to ${w}`, '","');
        const b = parseDurBinary(s, 0, context, depth + 1);
        s.expect(')', `call to ${w}`, '")"');
        return { kind: 'DurCall', func: w, args: [a, b] };
      }
      break;
    }
    default:
      break;
  }
  throw s.unexpected(context, 'duration');
}

/** Parses the value after `@`: a (signed) number of seconds, `start()` or `end()`. */
export function parseAtValue(s: TokenStream): { at: number | null; atModifier: AtModifier | null; pos: PosRange } {
  const start = s.peek().start;
  if ((s.isWord('start') || s.isWord('end')) && s.is('(', 1)) {
    const w = s.next().text.toLowerCase() as AtModifier;
    s.next();
    s.expect(')', '@ modifier', '")"');
    return { at: null, atModifier: w, pos: { start, end: s.lastEnd() } };
  }
  let neg = false;
  if (s.is('-') || s.is('+')) neg = s.next().kind === '-';
  const t = s.peek();
  let secs: number;
  if (t.kind === 'number') secs = t.num ?? NaN;
  else if (t.kind === 'duration') secs = (t.num ?? NaN) / 1000;
  else if (t.kind === 'ident' && /^(inf|nan)$/i.test(t.text)) secs = t.text.toLowerCase() === 'nan' ? NaN : Infinity;
  else throw s.unexpected('@', 'timestamp');
  s.next();
  if (neg) secs = -secs;
  const pos = { start, end: s.lastEnd() };
  const ms = Math.round(secs * 1000);
  if (!Number.isFinite(secs) || !Number.isSafeInteger(ms)) {
    throw s.error(pos, `timestamp out of bounds for @ modifier: ${secs}`);
  }
  return { at: ms, atModifier: null, pos };
}

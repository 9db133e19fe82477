/**
 * Prints an AST back to PromQL. `parseExpr(printExpr(parseExpr(q)))` equals `parseExpr(q)`
 * apart from positions. `prettyExpr` produces the multi-line form of Prometheus's `Pretty()`.
 */
import type { AggregateExpr, BinaryExpr, DurationExpr, Expr, VectorMatching, VectorSelector } from './ast.js';
import { assertNever } from '../../model/errors.js';
import type { Matcher } from '../../model/matchers.js';
import { formatDuration } from './duration.js';

const LABEL_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
/** Names that would parse as something else when written bare. */
const RESERVED = new Set([
  'sum', 'avg', 'count', 'min', 'max', 'group', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values',
  'limitk', 'limit_ratio', 'and', 'or', 'unless', 'atan2', 'inf', 'nan', 'bool', 'on', 'ignoring', 'group_left',
  'group_right', 'by', 'without', 'offset', 'anchored', 'smoothed', 'fill', 'fill_left', 'fill_right', 'start', 'end',
  'step', 'range',
]);

const BIN_PREC: Record<string, number> = {
  or: 1, and: 2, unless: 2, '==': 3, '!=': 3, '<': 3, '<=': 3, '>': 3, '>=': 3, '+': 4, '-': 4,
  '*': 5, '/': 5, '%': 5, atan2: 5, '</': 5, '>/': 5, '^': 6,
};

/** Quotes a string so the PromQL lexer reads it back unchanged (lone surrogates U+DC80..DCFF become `\xHH`). */
export function quoteString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x22: out += '\\"'; continue;
      case 0x5c: out += '\\\\'; continue;
      case 0x0a: out += '\\n'; continue;
      case 0x0d: out += '\\r'; continue;
      case 0x09: out += '\\t'; continue;
      default: break;
    }
    if (c < 0x20 || c === 0x7f) {
      out += `\\u${c.toString(16).padStart(4, '0')}`;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      out += s[i]! + s[i + 1]!;
      i++;
    } else if (c >= 0xdc80 && c <= 0xdcff) {
      out += `\\x${(c - 0xdc00).toString(16).padStart(2, '0')}`;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += '\\ufffd';
    } else {
      out += s[i]!;
    }
  }
  return `${out}"`;
}

/** Formats a float the way the lexer reads it back: `NaN`, `Inf`, `-Inf`, `-0`, `1e-7`. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Inf';
  if (v === -Infinity) return '-Inf';
  if (Object.is(v, -0)) return '-0';
  return String(v);
}

function labelName(n: string): string {
  return LABEL_RE.test(n) ? n : quoteString(n);
}

function labelList(ls: readonly string[]): string {
  return `(${ls.map(labelName).join(', ')})`;
}

function matcherStr(m: Matcher): string {
  return `${labelName(m.name)}${m.type}${quoteString(m.value)}`;
}

function selectorStr(vs: VectorSelector): string {
  let nameSkipped = false;
  const rest: string[] = [];
  for (const m of vs.matchers) {
    if (!nameSkipped && vs.name !== '' && m.name === '__name__' && m.type === '=' && m.value === vs.name) {
      nameSkipped = true;
      continue;
    }
    rest.push(matcherStr(m));
  }
  if (vs.name === '') return `{${rest.join(', ')}}`;
  if (METRIC_RE.test(vs.name) && !RESERVED.has(vs.name.toLowerCase())) {
    return rest.length ? `${vs.name}{${rest.join(', ')}}` : vs.name;
  }
  return `{${[quoteString(vs.name), ...rest].join(', ')}}`;
}

function modifiersStr(x: { offset: number; offsetExpr?: DurationExpr; at: number | null; atModifier: string | null }): string {
  let s = '';
  if (x.offsetExpr) s += ` offset (${durationExprStr(x.offsetExpr)})`;
  else if (x.offset !== 0) s += ` offset ${formatDuration(x.offset)}`;
  if (x.atModifier) s += ` @ ${x.atModifier}()`;
  else if (x.at !== null) s += ` @ ${formatNumber(x.at / 1000)}`;
  return s;
}

function extStr(vs: VectorSelector): string {
  return (vs.anchored ? ' anchored' : '') + (vs.smoothed ? ' smoothed' : '');
}

const DUR_PREC: Record<string, number> = { '+': 1, '-': 1, '*': 2, '/': 2, '%': 2, '^': 3 };

/** Prints a duration expression with minimal parentheses. */
export function durationExprStr(e: DurationExpr): string {
  switch (e.kind) {
    case 'DurNumber':
      return Number.isInteger(e.ms) && e.ms >= 0 ? formatDuration(e.ms) : formatNumber(e.ms / 1000);
    case 'DurStep':
      return 'step()';
    case 'DurRange':
      return 'range()';
    case 'DurCall':
      return `${e.func}(${e.args.map(durationExprStr).join(', ')})`;
    case 'DurUnary': {
      const inner = durationExprStr(e.expr);
      const wrap = e.expr.kind === 'DurBinary' && e.expr.op !== '^';
      return `${e.op}${wrap ? `(${inner})` : inner}`;
    }
    case 'DurBinary': {
      const p = DUR_PREC[e.op]!;
      const l = durationExprStr(e.lhs);
      const r = durationExprStr(e.rhs);
      const lp = e.lhs.kind === 'DurBinary' ? DUR_PREC[e.lhs.op]! : e.lhs.kind === 'DurUnary' ? 2.5 : 9;
      const rp = e.rhs.kind === 'DurBinary' ? DUR_PREC[e.rhs.op]! : 9;
      const lw = e.op === '^' ? lp <= p : lp < p;
      const rw = e.op === '^' ? rp < p : rp <= p;
      return `${lw ? `(${l})` : l} ${e.op} ${rw ? `(${r})` : r}`;
    }
  }
}

function bracketDur(ms: number, expr: DurationExpr | undefined): string {
  if (!expr) return formatDuration(ms);
  // A lone literal would read back as a plain duration without the expression.
  return expr.kind === 'DurNumber' ? `(${durationExprStr(expr)})` : durationExprStr(expr);
}

function matchingStr(op: string, m: VectorMatching | null, returnBool: boolean): string {
  let s = returnBool ? ' bool' : '';
  if (!m) return s;
  if (m.on) s += ` on${labelList(m.labels)}`;
  else if (m.labels.length > 0) s += ` ignoring${labelList(m.labels)}`;
  if (m.card === 'many-to-one' || m.card === 'one-to-many') {
    // Always print the list: `group_left (x)` would read `(x)` as the include list.
    s += (m.card === 'many-to-one' ? ' group_left' : ' group_right') + labelList(m.include);
  }
  const l = m.fillLeft;
  const r = m.fillRight;
  if (l !== undefined && r !== undefined && Object.is(l, r)) s += ` fill(${formatNumber(l)})`;
  else {
    if (l !== undefined) s += ` fill_left(${formatNumber(l)})`;
    if (r !== undefined) s += ` fill_right(${formatNumber(r)})`;
  }
  void op;
  return s;
}

/** Binding strength of an expression as an operand (higher binds tighter). */
function exprPrec(e: Expr): number {
  if (e.kind === 'BinaryExpr') return BIN_PREC[e.op]!;
  if (e.kind === 'UnaryExpr') return 5.5;
  if (e.kind === 'NumberLiteral' && (e.value < 0 || Object.is(e.value, -0))) return 5.5;
  return 10;
}

function binaryStr(e: BinaryExpr, print: (x: Expr) => string): string {
  const p = BIN_PREC[e.op]!;
  const lp = exprPrec(e.lhs);
  const rp = e.rhs.kind === 'UnaryExpr' || e.rhs.kind === 'NumberLiteral' ? 10 : exprPrec(e.rhs);
  const lw = e.op === '^' ? lp <= p : lp < p;
  const rw = e.op === '^' ? rp < p : rp <= p;
  const l = print(e.lhs);
  const r = print(e.rhs);
  return `${lw ? `(${l})` : l} ${e.op}${matchingStr(e.op, e.matching, e.returnBool)} ${rw ? `(${r})` : r}`;
}

function aggregateHead(e: AggregateExpr): string {
  if (e.without) return `${e.op} without ${labelList(e.grouping)} `;
  if (e.grouping.length > 0) return `${e.op} by ${labelList(e.grouping)} `;
  return e.op;
}

/** Prints an expression on one line. */
export function printExpr(e: Expr): string {
  switch (e.kind) {
    case 'NumberLiteral': {
      const ms = e.value * 1000;
      if (e.duration && Number.isFinite(ms) && Number.isInteger(ms)) return formatDuration(ms);
      return formatNumber(e.value);
    }
    case 'StringLiteral':
      return quoteString(e.value);
    case 'VectorSelector':
      return selectorStr(e) + modifiersStr(e) + extStr(e);
    case 'MatrixSelector': {
      const vs = e.vectorSelector;
      return `${selectorStr(vs)}[${bracketDur(e.range, e.rangeExpr)}]${modifiersStr(vs)}${extStr(vs)}`;
    }
    case 'SubqueryExpr': {
      const inner = printExpr(e.expr);
      const wrap = e.expr.kind === 'BinaryExpr' || e.expr.kind === 'UnaryExpr';
      const step = e.stepExpr || e.step !== 0 ? bracketDur(e.step, e.stepExpr) : '';
      return `${wrap ? `(${inner})` : inner}[${bracketDur(e.range, e.rangeExpr)}:${step}]${modifiersStr(e)}`;
    }
    case 'ParenExpr':
      return `(${printExpr(e.expr)})`;
    case 'UnaryExpr': {
      const inner = printExpr(e.expr);
      return `${e.op}${e.expr.kind === 'BinaryExpr' && exprPrec(e.expr) < 6 ? `(${inner})` : inner}`;
    }
    case 'BinaryExpr':
      return binaryStr(e, printExpr);
    case 'AggregateExpr': {
      const args = e.param ? `${printExpr(e.param)}, ${printExpr(e.expr)}` : printExpr(e.expr);
      return `${aggregateHead(e)}(${args})`;
    }
    case 'Call':
      return `${e.func}(${e.args.map(printExpr).join(', ')})`;
    case 'StepInvariantExpr':
      return printExpr(e.expr);
    default:
      return assertNever(e, 'expression');
  }
}

/** Line width above which {@link prettyExpr} splits an expression, as in Prometheus. */
export const PRETTY_MAX_WIDTH = 100;

/**
 * Multi-line form of an expression (Prometheus `Pretty()` style): a node that fits in
 * {@link PRETTY_MAX_WIDTH} characters stays on one line; otherwise binary operands, function and
 * aggregation arguments and parenthesised bodies go on their own, indented lines.
 */
export function prettyExpr(e: Expr, indent = 0): string {
  const pad = '  '.repeat(indent);
  const flat = printExpr(e);
  if (flat.length + pad.length <= PRETTY_MAX_WIDTH) return pad + flat;
  switch (e.kind) {
    case 'BinaryExpr': {
      const p = BIN_PREC[e.op]!;
      const lw = e.op === '^' ? exprPrec(e.lhs) <= p : exprPrec(e.lhs) < p;
      const rp = e.rhs.kind === 'UnaryExpr' || e.rhs.kind === 'NumberLiteral' ? 10 : exprPrec(e.rhs);
      const rw = e.op === '^' ? rp < p : rp <= p;
      // Operands one level deeper than the operator, as Prometheus's Pretty() does.
      const inner = '  '.repeat(indent + 1);
      const side = (x: Expr, wrap: boolean): string => (wrap ? `${inner}(\n${prettyExpr(x, indent + 2)}\n${inner})` : prettyExpr(x, indent + 1));
      return `${side(e.lhs, lw)}\n${pad}${e.op}${matchingStr(e.op, e.matching, e.returnBool)}\n${side(e.rhs, rw)}`;
    }
    case 'AggregateExpr': {
      const args = e.param ? [e.param, e.expr] : [e.expr];
      return `${pad}${aggregateHead(e)}(\n${args.map((a) => prettyExpr(a, indent + 1)).join(',\n')}\n${pad})`;
    }
    case 'Call':
      if (e.args.length === 0) return pad + flat;
      return `${pad}${e.func}(\n${e.args.map((a) => prettyExpr(a, indent + 1)).join(',\n')}\n${pad})`;
    case 'ParenExpr':
      return `${pad}(\n${prettyExpr(e.expr, indent + 1)}\n${pad})`;
    case 'UnaryExpr': {
      if (e.expr.kind === 'BinaryExpr' && exprPrec(e.expr) < 6) return `${pad}${e.op}(\n${prettyExpr(e.expr, indent + 1)}\n${pad})`;
      return `${pad}${e.op}${prettyExpr(e.expr, indent).trimStart()}`;
    }
    case 'SubqueryExpr': {
      const wrap = e.expr.kind === 'BinaryExpr' || e.expr.kind === 'UnaryExpr';
      const inner = wrap ? `${pad}(\n${prettyExpr(e.expr, indent + 1)}\n${pad})` : prettyExpr(e.expr, indent);
      const step = e.stepExpr || e.step !== 0 ? bracketDur(e.step, e.stepExpr) : '';
      return `${inner}[${bracketDur(e.range, e.rangeExpr)}:${step}]${modifiersStr(e)}`;
    }
    case 'StepInvariantExpr':
      return prettyExpr(e.expr, indent);
    default:
      return pad + flat;
  }
}

/**
 * Recursive-descent PromQL parser with precedence climbing for binary operators.
 * Builds the nodes of `ast.ts` and runs Prometheus's static checks while building them.
 */
import type {
  AtModifier,
  DurationExpr,
  AggregateExpr,
  AggregateOp,
  BinaryExpr,
  BinaryOp,
  Call,
  Cardinality,
  Expr,
  MatrixSelector,
  SubqueryExpr,
  VectorMatching,
  VectorSelector,
} from './ast.js';
import { AGGREGATORS, getFunction } from './functions.js';
import type { Token } from './lexer.js';
import { parseAtValue, parseBracketDuration, parseOffsetDuration } from './parse-duration-expr.js';
import { parseLabelList, parseVectorSelector } from './parse-selector.js';
import { TokenStream } from './stream.js';
import { checkAggregate, checkBinary, checkCall, checkUnary, exprType } from './check.js';
import { DEFAULT_MAX_DEPTH, DEFAULT_MAX_LENGTH, type ParseOptions } from './limits.js';
import { ParseError } from './errors.js';



const BIN_PREC: Record<string, number> = {
  or: 1,
  and: 2,
  unless: 2,
  '==': 3,
  '!=': 3,
  '<': 3,
  '<=': 3,
  '>': 3,
  '>=': 3,
  '+': 4,
  '-': 4,
  '*': 5,
  '/': 5,
  '%': 5,
  atan2: 5,
  '</': 5,
  '>/': 5,
  '^': 6,
};
const POW_PREC = 6;
const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);
const SET_OPS = new Set(['and', 'or', 'unless']);

function binaryOpOf(t: Token): BinaryOp | undefined {
  if (t.kind === 'ident') {
    const w = t.text.toLowerCase();
    return w === 'and' || w === 'or' || w === 'unless' || w === 'atan2' ? w : undefined;
  }
  return BIN_PREC[t.kind] !== undefined ? (t.kind as BinaryOp) : undefined;
}

class Parser {
  private depth = 0;
  private readonly maxDepth: number;

  constructor(
    private readonly s: TokenStream,
    opts: ParseOptions,
  ) {
    this.maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  }

  parseTop(): Expr {
    const e = this.parseBinary(0);
    if (!this.s.is('eof')) throw this.s.unexpected();
    return e;
  }

  private enter(extra = 1): void {
    this.depth += extra;
    if (this.depth > this.maxDepth) {
      const t = this.s.peek();
      throw this.s.error({ start: t.start, end: t.end }, `expression nesting depth exceeds maximum of ${this.maxDepth}`);
    }
  }

  private parseBinary(minPrec: number): Expr {
    this.enter();
    const saved = this.depth;
    let lhs = this.parseUnary();
    for (;;) {
      const t = this.s.peek();
      const op = binaryOpOf(t);
      if (op === undefined) break;
      const prec = BIN_PREC[op]!;
      if (prec < minPrec) break;
      this.s.next();
      this.enter(); // left-associative chains deepen the tree too
      const mods = this.parseBinModifiers();
      const rhs = this.parseBinary(op === '^' ? prec : prec + 1);
      lhs = this.makeBinary(op, lhs, rhs, mods, { start: t.start, end: t.end });
    }
    this.depth = saved - 1;
    return lhs;
  }

  private parseBinModifiers(): BinMods {
    const s = this.s;
    const mods: BinMods = { returnBool: false, matchingGiven: false, on: false, labels: [], card: null, include: [], fillLeft: undefined, fillRight: undefined, fillGiven: false };
    if (s.isWord('bool')) {
      s.next();
      mods.returnBool = true;
    }
    if ((s.isWord('on') || s.isWord('ignoring')) && s.is('(', 1)) {
      mods.on = s.next().text.toLowerCase() === 'on';
      mods.matchingGiven = true;
      mods.labels = parseLabelList(s);
    }
    if (s.isWord('group_left') || s.isWord('group_right')) {
      mods.card = s.next().text.toLowerCase() === 'group_left' ? 'many-to-one' : 'one-to-many';
      if (s.is('(')) mods.include = parseLabelList(s);
    }
    while ((s.isWord('fill') || s.isWord('fill_left') || s.isWord('fill_right')) && s.is('(', 1)) {
      const kw = s.next();
      const which = kw.text.toLowerCase();
      s.next();
      const v = this.parseSignedNumber('fill modifier');
      s.expect(')', 'fill modifier', '")"');
      const dup = (which !== 'fill_right' && mods.fillLeft !== undefined) || (which !== 'fill_left' && mods.fillRight !== undefined);
      if (dup) throw s.error({ start: kw.start, end: s.lastEnd() }, 'fill modifier may not be set multiple times');
      if (which !== 'fill_right') mods.fillLeft = v;
      if (which !== 'fill_left') mods.fillRight = v;
      mods.fillGiven = true;
    }
    return mods;
  }

  private parseSignedNumber(context: string): number {
    const s = this.s;
    let neg = false;
    if (s.is('-') || s.is('+')) neg = s.next().kind === '-';
    const t = s.peek();
    let v: number;
    if (t.kind === 'number') v = t.num ?? NaN;
    else if (t.kind === 'duration') v = (t.num ?? NaN) / 1000;
    else if (t.kind === 'ident' && /^(inf|nan)$/i.test(t.text)) v = t.text.toLowerCase() === 'nan' ? NaN : Infinity;
    else throw s.unexpected(context, 'number');
    s.next();
    return neg ? -v : v;
  }

  private makeBinary(op: BinaryOp, lhs: Expr, rhs: Expr, m: BinMods, opPos: { start: number; end: number }): BinaryExpr {
    const pos = { start: lhs.pos.start, end: rhs.pos.end };
    const lt = exprType(lhs);
    const rt = exprType(rhs);
    const isSet = SET_OPS.has(op);
    const draft: BinaryExpr = { kind: 'BinaryExpr', op, lhs, rhs, returnBool: m.returnBool, matching: null, pos };
    checkBinary(this.s, draft, lt, rt, opPos, COMPARISONS.has(op), isSet);
    if (lt !== 'vector' || rt !== 'vector') {
      if (m.matchingGiven && m.labels.length > 0) throw this.s.error(pos, 'vector matching only allowed between instant vectors');
      if (m.fillGiven) throw this.s.error(opPos, 'fill modifiers are only allowed between instant vectors');
      return draft;
    }
    let card: Cardinality = m.card ?? 'one-to-one';
    if (isSet) {
      if (m.card !== null) throw this.s.error(pos, `no grouping allowed for ${JSON.stringify(op)} operation`);
      if (m.fillGiven) throw this.s.error(opPos, `fill modifiers are not allowed for set operator ${JSON.stringify(op)}`);
      card = 'many-to-many';
    }
    if (m.on) {
      for (const l of m.include) {
        if (m.labels.includes(l)) throw this.s.error(opPos, `label ${JSON.stringify(l)} must not occur in ON and GROUP clause at once`);
      }
    }
    const base = { card, on: m.on, labels: m.labels, include: m.include };
    const matching: VectorMatching = m.fillGiven
      ? { ...base, ...(m.fillLeft !== undefined ? { fillLeft: m.fillLeft } : {}), ...(m.fillRight !== undefined ? { fillRight: m.fillRight } : {}) }
      : base;
    return { ...draft, matching };
  }

  private parseUnary(): Expr {
    const s = this.s;
    if (s.is('-') || s.is('+')) {
      const t = s.next();
      this.enter();
      const saved = this.depth;
      // Unary binds like `*`: only `^` binds tighter (`-2^2` = -(2^2)).
      const inner = this.parseBinary(POW_PREC);
      this.depth = saved - 1;
      const op = t.kind as '-' | '+';
      if (inner.kind === 'NumberLiteral') {
        return { kind: 'NumberLiteral', value: op === '-' ? -inner.value : inner.value, ...(inner.duration ? { duration: true } : {}), pos: { start: t.start, end: inner.pos.end } };
      }
      const e = { kind: 'UnaryExpr' as const, op, expr: inner, pos: { start: t.start, end: inner.pos.end } };
      checkUnary(s, e);
      return e;
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePrimary(): Expr {
    const s = this.s;
    const t = s.peek();
    switch (t.kind) {
      case 'number':
        s.next();
        return { kind: 'NumberLiteral', value: t.num ?? NaN, pos: { start: t.start, end: t.end } };
      case 'duration':
        s.next();
        return { kind: 'NumberLiteral', value: (t.num ?? 0) / 1000, duration: true, pos: { start: t.start, end: t.end } };
      case 'string':
        s.next();
        return { kind: 'StringLiteral', value: t.str ?? '', pos: { start: t.start, end: t.end } };
      case '(': {
        s.next();
        const inner = this.parseBinary(0);
        const close = s.expect(')', 'paren expression', '")"');
        return { kind: 'ParenExpr', expr: inner, pos: { start: t.start, end: close.end } };
      }
      case '{':
        return parseVectorSelector(s, null, false);
      case 'ident':
        return this.parseIdentExpr(t);
      default:
        throw s.unexpected();
    }
  }

  private parseIdentExpr(t: Token): Expr {
    const s = this.s;
    const lower = t.text.toLowerCase();
    if (lower === 'inf' || lower === 'nan') {
      s.next();
      return { kind: 'NumberLiteral', value: lower === 'nan' ? NaN : Infinity, pos: { start: t.start, end: t.end } };
    }
    if (AGGREGATORS.has(lower) && (s.is('(', 1) || s.isWord('by', 1) || s.isWord('without', 1))) {
      return this.parseAggregate();
    }
    if (s.is('(', 1)) {
      const sig = getFunction(t.text);
      if (!sig) throw s.error({ start: t.start, end: t.end }, `unknown function with name ${JSON.stringify(t.text)}`);
      return this.parseCall();
    }
    if (AGGREGATORS.has(lower) || lower === 'and' || lower === 'or' || lower === 'unless' || lower === 'atan2') {
      // An aggregation keyword without arguments, or an operator where an operand is expected.
      if (!s.is('{', 1)) throw s.unexpected();
    }
    s.next();
    return parseVectorSelector(s, t, false);
  }

  private parseAggregate(): AggregateExpr {
    const s = this.s;
    const opTok = s.next();
    const op = opTok.text.toLowerCase() as AggregateOp;
    let grouping: string[] | null = null;
    let without = false;
    if (s.isWord('by') || s.isWord('without')) {
      without = s.next().text.toLowerCase() === 'without';
      grouping = parseLabelList(s);
    }
    if (!s.is('(')) throw s.unexpected('aggregation', '"("');
    const args = this.parseArgs('aggregation');
    let end = s.lastEnd();
    if (grouping === null && (s.isWord('by') || s.isWord('without'))) {
      without = s.next().text.toLowerCase() === 'without';
      grouping = parseLabelList(s);
      end = s.lastEnd();
    }
    const pos = { start: opTok.start, end };
    const needsParam = AGGREGATORS.get(op)?.param != null;
    if (args.length === 0) throw s.error(pos, 'no arguments for aggregate expression provided');
    const want = needsParam ? 2 : 1;
    if (args.length !== want) {
      throw s.error(pos, `wrong number of arguments for aggregate expression provided, expected ${want}, got ${args.length}`);
    }
    const e: AggregateExpr = {
      kind: 'AggregateExpr',
      op,
      expr: needsParam ? args[1]! : args[0]!,
      param: needsParam ? args[0]! : null,
      grouping: grouping ?? [],
      without,
      pos,
    };
    checkAggregate(s, e);
    return e;
  }

  /** Parses `( expr, expr, ... )` with an optional trailing comma. */
  private parseArgs(context: string, infoCall = false): Expr[] {
    const s = this.s;
    s.expect('(', context, '"("');
    const args: Expr[] = [];
    while (!s.is(')')) {
      if (infoCall && args.length === 1 && s.is('{')) {
        // info()'s data-label selector may consist of matchers that all match the empty string.
        args.push(this.parsePostfix(parseVectorSelector(s, null, true)));
        const bin = binaryOpOf(s.peek());
        if (bin !== undefined) throw s.unexpected(context);
      } else {
        args.push(this.parseBinary(0));
      }
      if (s.is(',')) {
        s.next();
        continue;
      }
      if (!s.is(')')) throw s.unexpected(context, '"," or ")"');
    }
    s.next();
    return args;
  }

  private parseCall(): Call {
    const s = this.s;
    const nameTok = s.next();
    const args = this.parseArgs(`call to function ${JSON.stringify(nameTok.text)}`, nameTok.text === 'info');
    const e: Call = { kind: 'Call', func: nameTok.text, args, pos: { start: nameTok.start, end: s.lastEnd() } };
    checkCall(s, e);
    return e;
  }

  /** Range/subquery brackets and `offset`/`@`/`anchored`/`smoothed` modifiers after an operand. */
  private parsePostfix(e: Expr): Expr {
    const s = this.s;
    for (;;) {
      const t = s.peek();
      if (t.kind === '[') {
        e = this.parseBrackets(e);
      } else if (t.kind === 'ident' && t.text.toLowerCase() === 'offset') {
        s.next();
        const d = parseOffsetDuration(s);
        e = this.applyModifier(e, t, 'offset', (x) => {
          if (x.offset !== 0 || x.offsetExpr !== undefined) throw s.error({ start: t.start, end: d.pos.end }, 'offset may not be set multiple times');
          return d.expr ? { offset: d.ms, offsetExpr: d.expr } : { offset: d.ms };
        });
      } else if (t.kind === '@') {
        s.next();
        const a = parseAtValue(s);
        e = this.applyModifier(e, t, '@', (x) => {
          if (x.at !== null || x.atModifier !== null) throw s.error({ start: t.start, end: a.pos.end }, '@ <timestamp> may not be set multiple times');
          return { at: a.at, atModifier: a.atModifier };
        });
      } else if (t.kind === 'ident' && (t.text.toLowerCase() === 'anchored' || t.text.toLowerCase() === 'smoothed')) {
        e = this.applyExtended(e, t);
      } else {
        return e;
      }
    }
  }

  private applyModifier(
    e: Expr,
    t: Token,
    what: 'offset' | '@',
    patch: (x: VectorSelector | SubqueryExpr) => ModPatch,
  ): Expr {
    const end = this.s.lastEnd();
    switch (e.kind) {
      case 'VectorSelector':
        return { ...e, ...patch(e), pos: { start: e.pos.start, end } } as VectorSelector;
      case 'MatrixSelector': {
        const vs = { ...e.vectorSelector, ...patch(e.vectorSelector) } as VectorSelector;
        return { ...e, vectorSelector: vs, pos: { start: e.pos.start, end } };
      }
      case 'SubqueryExpr':
        return { ...e, ...patch(e), pos: { start: e.pos.start, end } } as SubqueryExpr;
      default:
        throw this.s.error(
          { start: t.start, end },
          `${what} modifier must be preceded by an instant vector selector or range vector selector or a subquery`,
        );
    }
  }

  private applyExtended(e: Expr, t: Token): Expr {
    const s = this.s;
    s.next();
    const which = t.text.toLowerCase() as 'anchored' | 'smoothed';
    const other = which === 'anchored' ? 'smoothed' : 'anchored';
    const vs = e.kind === 'VectorSelector' ? e : e.kind === 'MatrixSelector' ? e.vectorSelector : null;
    if (!vs) throw s.error({ start: t.start, end: t.end }, `${which} modifier must be preceded by an instant vector selector or range vector selector`);
    if (vs[which] || vs[other]) throw s.error({ start: t.start, end: t.end }, `${vs[which] ? which : other} modifier may not be combined with ${which}`);
    const nvs: VectorSelector = { ...vs, [which]: true };
    if (e.kind === 'VectorSelector') return { ...nvs, pos: { start: e.pos.start, end: t.end } };
    return { ...(e as MatrixSelector), vectorSelector: nvs, pos: { start: e.pos.start, end: t.end } };
  }

  private parseBrackets(e: Expr): Expr {
    const s = this.s;
    const open = s.next();
    const range = parseBracketDuration(s, 'range');
    if (!range.dynamic && range.ms < 0) throw s.error(range.pos, `duration must be greater than 0, got ${range.ms / 1000}s`);
    if (s.is(':')) {
      s.next();
      let step: ReturnType<typeof parseBracketDuration> | null = null;
      if (!s.is(']')) {
        step = parseBracketDuration(s, 'subquery step');
        if (!step.dynamic && step.ms < 0) throw s.error(step.pos, `duration must be greater than 0, got ${step.ms / 1000}s`);
      }
      const close = s.expect(']', 'subquery selector', '"]"');
      const ty = exprType(e);
      if (ty !== 'vector') throw s.error({ start: e.pos.start, end: close.end }, `subquery is only allowed on instant vector, got ${ty} instead`);
      const sq: SubqueryExpr = {
        kind: 'SubqueryExpr',
        expr: e,
        range: range.ms,
        ...(range.expr ? { rangeExpr: range.expr } : {}),
        step: step?.ms ?? 0,
        ...(step?.expr ? { stepExpr: step.expr } : {}),
        offset: 0,
        at: null,
        atModifier: null,
        pos: { start: e.pos.start, end: close.end },
      };
      return sq;
    }
    const close = s.expect(']', 'range', '"]" or ":"');
    const pos = { start: open.start, end: close.end };
    if (e.kind !== 'VectorSelector') throw s.error({ start: e.pos.start, end: close.end }, 'ranges only allowed for vector selectors');
    if (e.offset !== 0 || e.offsetExpr) throw s.error(pos, 'no offset modifiers allowed before range');
    if (e.at !== null || e.atModifier !== null) throw s.error(pos, 'no @ modifiers allowed before range');
    if (e.anchored || e.smoothed) throw s.error(pos, `no ${e.anchored ? 'anchored' : 'smoothed'} modifier allowed before range`);
    const ms: MatrixSelector = {
      kind: 'MatrixSelector',
      vectorSelector: e,
      range: range.ms,
      ...(range.expr ? { rangeExpr: range.expr } : {}),
      pos: { start: e.pos.start, end: close.end },
    };
    return ms;
  }
}

/** Time-modifier fields set by `offset` / `@`. */
interface ModPatch {
  offset?: number;
  offsetExpr?: DurationExpr;
  at?: number | null;
  atModifier?: AtModifier | null;
}

interface BinMods {
  returnBool: boolean;
  matchingGiven: boolean;
  on: boolean;
  labels: string[];
  card: 'many-to-one' | 'one-to-many' | null;
  include: string[];
  fillLeft: number | undefined;
  fillRight: number | undefined;
  fillGiven: boolean;
}

/**
 * Parses a PromQL expression. Throws {@link ParseError} (message `line:col: parse error: ...`)
 * for syntax and static type errors, and for inputs over the length or depth bounds.
 */
export function parseExpr(input: string, opts: ParseOptions = {}): Expr {
  const maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
  if (typeof input !== 'string') throw new ParseError('', { start: 0, end: 0 }, 'query must be a string');
  if (input.length > maxLength) {
    throw new ParseError('', { start: 0, end: 0 }, `query is too long: ${input.length} characters, maximum is ${maxLength}`);
  }
  const s = new TokenStream(input);
  if (s.is('eof')) throw new ParseError(input, { start: 0, end: 0 }, 'no expression found in input');
  try {
    return new Parser(s, opts).parseTop();
  } catch (e) {
    // A caller-raised maxDepth can exceed the JS stack; report it as a parse error, not a crash.
    if (e instanceof RangeError) throw new ParseError(input, { start: 0, end: 0 }, 'expression is nested too deeply', { cause: e });
    throw e;
  }
}


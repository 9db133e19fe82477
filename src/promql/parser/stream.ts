/**
 * Token cursor shared by the parser modules: lookahead, expectations, error construction, and
 * Prometheus-style token descriptions for "unexpected ..." messages.
 */
import type { PosRange } from './ast.js';
import { ParseError } from './errors.js';
import { AGGREGATORS } from './functions.js';
import { LexError, tokenize, type Token, type TokenKind } from './lexer.js';

const OPERATOR_WORDS = new Set(['and', 'or', 'unless', 'atan2']);
const KEYWORDS = new Set([
  'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'start', 'end', 'step', 'range',
  'anchored', 'smoothed', 'fill', 'fill_left', 'fill_right',
]);
const OPERATOR_KINDS = new Set<TokenKind>(['+', '-', '*', '/', '%', '^', '==', '!=', '<', '<=', '>', '>=', '=', '=~', '!~', '</', '>/']);

/** Go-like `%q` quoting, truncated to `max` characters of content followed by `...`. */
function goQuote(s: string, max = 0): string {
  if (max > 0 && s.length > max) return `${JSON.stringify(s.slice(0, max))}...`;
  return JSON.stringify(s);
}

/** Prometheus's description of a token in "unexpected ..." messages. */
export function describeToken(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of input';
    case 'ident': {
      const lower = t.text.toLowerCase();
      if (AGGREGATORS.has(lower)) return `<aggr:${t.text}>`;
      if (OPERATOR_WORDS.has(lower)) return `<op:${t.text}>`;
      if (KEYWORDS.has(lower)) return `<${t.text}>`;
      return `${t.text.includes(':') ? 'metric identifier' : 'identifier'} ${goQuote(t.text)}`;
    }
    case 'number':
      return `number ${goQuote(t.text, 10)}`;
    case 'duration':
      return `duration ${goQuote(t.text, 10)}`;
    case 'string':
      return `string ${goQuote(t.text, 10)}`;
    default:
      if (OPERATOR_KINDS.has(t.kind)) return `<op:${t.text}>`;
      return goQuote(t.text);
  }
}

/** Bracket balance check like Prometheus's lexer, run before parsing. */
function checkBalance(input: string, toks: readonly Token[]): void {
  let parens = 0;
  let brace = false;
  let bracket = false;
  for (const t of toks) {
    const at = { start: t.start, end: t.end };
    switch (t.kind) {
      case '(':
        parens++;
        break;
      case ')':
        if (parens === 0) throw new ParseError(input, at, "unexpected right parenthesis ')'");
        parens--;
        break;
      case '{':
        if (brace) throw new ParseError(input, at, "unexpected left brace '{'");
        brace = true;
        break;
      case '}':
        if (!brace) throw new ParseError(input, at, "unexpected right brace '}'");
        brace = false;
        break;
      case '[':
        if (bracket) throw new ParseError(input, at, "unexpected left bracket '['");
        bracket = true;
        break;
      case ']':
        if (!bracket) throw new ParseError(input, at, "unexpected right bracket ']'");
        bracket = false;
        break;
      case 'eof':
        if (brace) throw new ParseError(input, at, 'unclosed left brace');
        if (bracket) throw new ParseError(input, at, 'unclosed left bracket');
        if (parens > 0) throw new ParseError(input, at, 'unclosed left parenthesis');
        break;
      default:
        break;
    }
  }
}

/** Cursor over the tokens of one query. */
export class TokenStream {
  readonly toks: Token[];
  i = 0;

  constructor(readonly input: string) {
    try {
      this.toks = tokenize(input);
    } catch (e) {
      if (e instanceof LexError) throw new ParseError(input, { start: e.start, end: e.end }, e.message, { cause: e });
      throw e;
    }
    checkBalance(input, this.toks);
  }

  /** Current token (never past `eof`). */
  peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  /** Consumes and returns the current token. */
  next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }

  /** True when the current token has kind `k`. */
  is(k: TokenKind, off = 0): boolean {
    return this.peek(off).kind === k;
  }

  /** True when the current token is the (case-insensitive) keyword `word`. */
  isWord(word: string, off = 0): boolean {
    const t = this.peek(off);
    return t.kind === 'ident' && t.text.toLowerCase() === word;
  }

  /** Consumes a token of kind `k` or fails with `unexpected X[ in context][, expected Y]`. */
  expect(k: TokenKind, context: string, expected?: string): Token {
    const t = this.peek();
    if (t.kind !== k) throw this.unexpected(context, expected ?? `"${k}"`);
    return this.next();
  }

  /** An "unexpected <current token>" error. */
  unexpected(context?: string, expected?: string, tok: Token = this.peek()): ParseError {
    let msg = `unexpected ${describeToken(tok)}`;
    if (context) msg += ` in ${context}`;
    if (expected) msg += `, expected ${expected}`;
    return new ParseError(this.input, { start: tok.start, end: tok.end }, msg);
  }

  /** A ParseError at `pos`. */
  error(pos: PosRange, msg: string, cause?: unknown): ParseError {
    return new ParseError(this.input, pos, msg, cause === undefined ? undefined : { cause });
  }

  /** End offset of the last consumed token. */
  lastEnd(): number {
    return this.i > 0 ? this.toks[this.i - 1]!.end : 0;
  }
}

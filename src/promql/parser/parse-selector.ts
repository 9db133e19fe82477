/**
 * Vector selectors: `metric`, `metric{a="b"}`, `{"utf8.name", "a.b"=~"c"}`, and label-name lists
 * used by grouping clauses.
 */
import type { PosRange, VectorSelector } from './ast.js';
import { MatcherError, newMatcher, type Matcher, type MatchType } from '../../model/matchers.js';
import { safeMatcher, UnsafeRegexError } from './regex-safety.js';
import type { Token } from './lexer.js';
import { TokenStream } from './stream.js';
import { ParseError } from './errors.js';
import { DEFAULT_MAX_LENGTH, type ParseOptions } from './limits.js';

const MATCH_OPS = new Set(['=', '!=', '=~', '!~']);

/** Builds a matcher, turning a bad regex into a ParseError at `pos`. */
function matcher(s: TokenStream, type: MatchType, name: string, value: string, pos: PosRange): Matcher {
  try {
    return safeMatcher(type, name, value);
  } catch (e) {
    if (e instanceof MatcherError || e instanceof UnsafeRegexError) throw s.error(pos, e.message, e);
    throw e;
  }
}

/** A label name token: identifier (keywords included, no `:`) or quoted string. */
function labelName(t: Token): string | undefined {
  if (t.kind === 'ident' && !t.text.includes(':')) return t.text;
  if (t.kind === 'string') return t.str;
  return undefined;
}

/**
 * Parses `{...}` at the current `{` token. Returns the matchers (without a name matcher) and a
 * metric name given as a bare quoted string (`{"foo"}`), if any.
 */
export function parseLabelMatchers(s: TokenStream): { matchers: Matcher[]; quotedName: string | null; nameTok: Token | null; end: number } {
  s.expect('{', 'label matching');
  const matchers: Matcher[] = [];
  let quotedName: string | null = null;
  let nameTok: Token | null = null;
  for (;;) {
    const t = s.peek();
    if (t.kind === '}') break;
    const name = labelName(t);
    if (name === undefined) throw s.unexpected('label matching', 'identifier or "}"');
    s.next();
    const op = s.peek();
    if (t.kind === 'string' && (op.kind === ',' || op.kind === '}')) {
      // `{"metric.name"}`: a bare string is the metric name.
      if (quotedName !== null) {
        throw s.error({ start: t.start, end: t.end }, `metric name must not be set twice: ${JSON.stringify(quotedName)} or ${JSON.stringify(name)}`);
      }
      quotedName = name;
      nameTok = t;
    } else {
      if (!MATCH_OPS.has(op.kind)) throw s.unexpected('label matching', 'label matching operator');
      s.next();
      const v = s.peek();
      if (v.kind !== 'string') throw s.unexpected('label matching', 'string');
      s.next();
      matchers.push(matcher(s, op.kind as MatchType, name, v.str ?? '', { start: t.start, end: v.end }));
    }
    if (s.is(',')) {
      s.next();
      continue;
    }
    if (!s.is('}')) throw s.unexpected('label matching', '"," or "}"');
  }
  const close = s.next();
  return { matchers, quotedName, nameTok, end: close.end };
}

/**
 * Parses a vector selector. `nameTok` is the metric-name identifier already consumed, if any.
 * `allowEmpty` skips the "at least one non-empty matcher" check (second argument of `info()`).
 */
export function parseVectorSelector(s: TokenStream, nameTok: Token | null, allowEmpty: boolean): VectorSelector {
  const start = nameTok ? nameTok.start : s.peek().start;
  let name = nameTok ? nameTok.text : '';
  let matchers: Matcher[] = [];
  let end = nameTok ? nameTok.end : start;
  if (s.is('{')) {
    const lm = parseLabelMatchers(s);
    matchers = lm.matchers;
    end = lm.end;
    if (lm.quotedName !== null) {
      if (name !== '') {
        const at = lm.nameTok ?? nameTok!;
        throw s.error({ start: at.start, end: at.end }, `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(lm.quotedName)}`);
      }
      name = lm.quotedName;
    }
  }
  const pos = { start, end };
  if (name !== '') {
    for (const m of matchers) {
      if (m.name === '__name__' && m.type === '=') {
        throw s.error(pos, `metric name must not be set twice: ${JSON.stringify(name)} or ${JSON.stringify(m.value)}`);
      }
    }
    matchers.push(newMatcher('=', '__name__', name));
  }
  if (!allowEmpty && !matchers.some((m) => !m.matches(''))) {
    throw s.error(pos, 'vector selector must contain at least one non-empty matcher');
  }
  return { kind: 'VectorSelector', name, matchers, offset: 0, at: null, atModifier: null, pos };
}

/** Parses `(label, "label", ...)` for `by`, `without`, `on`, `ignoring`, `group_*`. */
export function parseLabelList(s: TokenStream, context = 'grouping opts'): string[] {
  s.expect('(', context, '"("');
  const out: string[] = [];
  for (;;) {
    if (s.is(')')) break;
    const name = labelName(s.peek());
    if (name === undefined) throw s.unexpected(context, 'label');
    s.next();
    out.push(name);
    if (s.is(',')) {
      s.next();
      continue;
    }
    if (!s.is(')')) throw s.unexpected(context, '"," or ")"');
  }
  s.next();
  return out;
}

/**
 * Parses a series selector for `match[]` parameters: `metric{a="b"}` or `{a="b"}`, and returns
 * its matchers (the metric name as a `__name__` matcher).
 */
export function parseMetricSelector(input: string, opts: ParseOptions = {}): Matcher[] {
  const maxLength = opts.maxLength ?? DEFAULT_MAX_LENGTH;
  if (input.length > maxLength) {
    throw new ParseError('', { start: 0, end: 0 }, `selector is too long: ${input.length} characters, maximum is ${maxLength}`);
  }
  const s = new TokenStream(input);
  const t = s.peek();
  let vs: VectorSelector;
  if (t.kind === 'ident' && !/^(inf|nan)$/i.test(t.text)) {
    s.next();
    vs = parseVectorSelector(s, t, false);
  } else if (t.kind === '{') {
    vs = parseVectorSelector(s, null, false);
  } else {
    throw s.unexpected('series selector', 'metric name or "{"');
  }
  if (!s.is('eof')) throw s.unexpected('series selector');
  return [...vs.matchers];
}

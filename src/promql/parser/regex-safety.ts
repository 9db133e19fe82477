/**
 * Bounds on regex matchers from untrusted PromQL (`=~`, `!~`). JavaScript regexes backtrack,
 * so a pattern like `(a+)+$` or `.*a.*b.*c` against a long label value can run for seconds or
 * hours in one uninterruptible `test()`. Three defences:
 *
 * 1. a length cap ({@link MAX_REGEX_LENGTH});
 * 2. patterns with nested unbounded quantifiers (`(a+)+`, `(x*y)*`, `(a{2,})+`) are rejected
 *    with a clear error (they are exponential and have a non-nested rewrite);
 * 3. V8's fallback from the backtracking engine to its linear-time engine after too many
 *    backtracks is switched on for the whole process (`--enable-experimental-regexp-engine-on-
 *    excessive-backtracks`), and patterns with two or more unbounded quantifiers (polynomial
 *    blow-up like `.*a.*b.*c`) are compiled without the `u` flag, which that engine needs.
 *    Measured: `.*a.*b.*c` against 4096 characters takes 2.4 s with `u`, ~10 ms without.
 */
import v8 from 'node:v8';
import { compileAnchored, newMatcher, type Matcher, type MatchType } from '../../model/matchers.js';

v8.setFlagsFromString('--enable-experimental-regexp-engine-on-excessive-backtracks');

/** Longest accepted regex source in a matcher (Grafana multi-value variables produce long alternations). */
export const MAX_REGEX_LENGTH = 32 * 1024;

/** Error for a refused regex (the parser turns it into a ParseError at the matcher's position). */
export class UnsafeRegexError extends Error {
  override name = 'UnsafeRegexError';
}

interface Scan {
  /** Unbounded quantifiers (`*`, `+`, `{n,}`) in the whole pattern. */
  unbounded: number;
  /** A problem found, if any. */
  problem?: string;
}

/**
 * Scans a regex source for nested unbounded quantifiers. Understands escapes, character
 * classes, groups and the quantifiers `* + ? {n} {n,} {n,m}` (lazy `?` suffixes ignored).
 */
export function scanRegex(src: string): Scan {
  // Stack of open groups: whether the group contains an unbounded quantifier so far.
  const stack: { hasUnbounded: boolean }[] = [{ hasUnbounded: false }];
  let unbounded = 0;
  /** What the last atom was: a group that contained an unbounded quantifier, or something else. */
  let lastAtomUnboundedGroup = false;
  let lastAtomQuantifiable = false;
  let i = 0;
  const top = (): { hasUnbounded: boolean } => stack[stack.length - 1]!;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') {
      i += 2;
      lastAtomUnboundedGroup = false;
      lastAtomQuantifiable = true;
      continue;
    }
    if (c === '[') {
      i++;
      if (src[i] === '^') i++;
      if (src[i] === ']') i++;
      while (i < src.length && src[i] !== ']') i += src[i] === '\\' ? 2 : 1;
      i++;
      lastAtomUnboundedGroup = false;
      lastAtomQuantifiable = true;
      continue;
    }
    if (c === '(') {
      stack.push({ hasUnbounded: false });
      i++;
      lastAtomQuantifiable = false;
      continue;
    }
    if (c === ')') {
      const g = stack.length > 1 ? stack.pop()! : { hasUnbounded: false };
      if (g.hasUnbounded) top().hasUnbounded = true;
      lastAtomUnboundedGroup = g.hasUnbounded;
      lastAtomQuantifiable = true;
      i++;
      continue;
    }
    let isUnbounded = false;
    let isRepeat = false;
    let len = 0;
    if (c === '*' || c === '+') {
      isUnbounded = true;
      isRepeat = true;
      len = 1;
    } else if (c === '?') {
      len = 1;
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(src.slice(i, i + 24));
      if (m) {
        len = m[0].length;
        isUnbounded = m[2] !== undefined && m[3] === '';
        isRepeat = isUnbounded || Number(m[3] ?? m[1]) > 1;
      }
    }
    if (len > 0 && lastAtomQuantifiable) {
      if (isRepeat && lastAtomUnboundedGroup) {
        return { unbounded, problem: 'nested quantifiers (a repeated group that itself contains *, + or {n,}) can backtrack catastrophically; rewrite it without the nesting' };
      }
      if (isUnbounded) {
        unbounded++;
        top().hasUnbounded = true;
      }
      i += len;
      if (src[i] === '?') i++; // lazy
      lastAtomUnboundedGroup = false;
      lastAtomQuantifiable = false;
      continue;
    }
    lastAtomUnboundedGroup = false;
    lastAtomQuantifiable = c !== '|' && c !== '^' && c !== '$';
    i++;
  }
  return { unbounded };
}

/** Returns why `src` is refused as a matcher regex, or undefined. */
export function regexProblem(src: string): string | undefined {
  if (src.length > MAX_REGEX_LENGTH) return `regex is ${src.length} characters long, more than the limit of ${MAX_REGEX_LENGTH}`;
  return scanRegex(src).problem;
}

/**
 * Builds a matcher from untrusted input: refuses unsafe regexes ({@link UnsafeRegexError}),
 * and compiles patterns with several unbounded quantifiers so the linear-time fallback applies.
 * Throws `MatcherError` for invalid regexes like `newMatcher`.
 */
export function safeMatcher(type: MatchType, name: string, value: string): Matcher {
  if (type !== '=~' && type !== '!~') return newMatcher(type, name, value);
  const p = regexProblem(value);
  if (p !== undefined) throw new UnsafeRegexError(`refused regex for label ${JSON.stringify(name)}: ${p}`);
  const m = newMatcher(type, name, value);
  if (scanRegex(value).unbounded < 2) return m;
  let re: RegExp;
  try {
    re = new RegExp(compileAnchored(value).source, 's');
  } catch {
    return m; // needs the u flag (e.g. \p{L}); the length cap still bounds it
  }
  const neg = type === '!~';
  return { type, name, value, matches: (v) => re.test(v) !== neg };
}

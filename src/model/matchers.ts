/**
 * Label matchers with Prometheus semantics: regexes are fully anchored; a matcher against a
 * missing label sees the empty string.
 */
import { labelsGet, type Labels } from './labels.js';

/** Matcher operator. */
export type MatchType = '=' | '!=' | '=~' | '!~';

/** A label matcher. Build with {@link newMatcher} so the regex is compiled once. */
export interface Matcher {
  readonly type: MatchType;
  readonly name: string;
  readonly value: string;
  /** True when the (possibly empty) label value satisfies the matcher. */
  matches(value: string): boolean;
}

/** Error for an invalid matcher (bad regex). */
export class MatcherError extends Error {
  override name = 'MatcherError';
}

/**
 * Compiles a matcher. Regexes follow RE2 syntax as far as JavaScript allows; they are anchored
 * (`^(?:re)$`) and use the `s` flag so `.` matches newlines, as in Prometheus 3.
 */
export function newMatcher(type: MatchType, name: string, value: string): Matcher {
  switch (type) {
    case '=':
      return { type, name, value, matches: (v) => v === value };
    case '!=':
      return { type, name, value, matches: (v) => v !== value };
    case '=~':
    case '!~': {
      const re = compileAnchored(value);
      const neg = type === '!~';
      // Fast paths for common literal alternations like "a|b|c".
      const lit = literalAlternatives(value);
      if (lit) return { type, name, value, matches: (v) => lit.has(v) !== neg };
      return { type, name, value, matches: (v) => re.test(v) !== neg };
    }
  }
}

/** Compiles a Prometheus regex to an anchored JS RegExp; throws {@link MatcherError}. */
export function compileAnchored(src: string): RegExp {
  try {
    return new RegExp(`^(?:${translateRe2(src)})$`, 'su');
  } catch (e) {
    try {
      return new RegExp(`^(?:${translateRe2(src)})$`, 's');
    } catch {
      throw new MatcherError(`invalid regular expression ${JSON.stringify(src)}: ${(e as Error).message}`, { cause: e });
    }
  }
}

/** Rewrites RE2-only syntax that JS lacks: `(?P<name>` → `(?<name>`, `\z` → `$`. */
function translateRe2(src: string): string {
  return src.replace(/\(\?P</g, '(?<').replace(/\\z/g, '$');
}

/** If the regex is a plain `a|b|c` of literal strings, the set of them. */
function literalAlternatives(src: string): Set<string> | undefined {
  if (src === '' || /[\\^$.|?*+()[\]{}]/.test(src.replace(/\|/g, ''))) return undefined;
  return new Set(src.split('|'));
}

/** True when every matcher accepts the label set. */
export function matchesAll(ls: Labels, ms: readonly Matcher[]): boolean {
  for (const m of ms) if (!m.matches(labelsGet(ls, m.name))) return false;
  return true;
}

/** Prometheus text form of a matcher: name="value". */
export function matcherToString(m: Matcher): string {
  const n = /^[a-zA-Z_][a-zA-Z0-9_]*$/.test(m.name) ? m.name : JSON.stringify(m.name);
  return `${n}${m.type}${JSON.stringify(m.value)}`;
}

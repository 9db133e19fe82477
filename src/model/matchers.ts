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
  const out = src.replace(/\(\?P</g, '(?<').replace(/\\z/g, '$');
  return out.includes('(?') ? expandFlagGroups(out) : out;
}

/**
 * Emulates RE2 inline flag groups that Node 20's RegExp lacks: `(?i)` / `(?i:...)` become
 * explicit case alternatives (`a` → `[aA]`); `s` is a no-op (always on); other flags are left
 * for the RegExp constructor to reject.
 */
function expandFlagGroups(src: string): string {
  let out = '';
  let ci = false;
  const stack: boolean[] = [];
  const both = (c: string): string => {
    const lo = c.toLowerCase();
    const up = c.toUpperCase();
    return lo !== up && lo.length === 1 && up.length === 1 ? lo + up : '';
  };
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (c === '\\') {
      out += src.slice(i, i + 2);
      i += 2;
    } else if (c === '[') {
      let j = i + 1;
      if (src[j] === '^') j++;
      if (src[j] === ']') j++;
      let extra = '';
      while (j < src.length && src[j] !== ']') {
        if (src[j] === '\\') {
          j += 2;
          continue;
        }
        const a = src[j]!;
        if (src[j + 1] === '-' && src[j + 2] !== undefined && src[j + 2] !== ']') {
          const b = src[j + 2]!;
          if (ci && /[a-z]/.test(a) && /[a-z]/.test(b)) extra += `${a.toUpperCase()}-${b.toUpperCase()}`;
          else if (ci && /[A-Z]/.test(a) && /[A-Z]/.test(b)) extra += `${a.toLowerCase()}-${b.toLowerCase()}`;
          j += 3;
          continue;
        }
        if (ci) extra += both(a).replace(a, '');
        j++;
      }
      out += src.slice(i, j) + extra;
      i = j;
    } else if (c === '(' && src[i + 1] === '?') {
      const m = /^\(\?([imsU]*)(?:-([imsU]*))?([:)])/.exec(src.slice(i));
      if (m && (m[1] !== '' || m[2] !== undefined)) {
        const on: boolean = m[1]!.includes('i') ? true : (m[2] ?? '').includes('i') ? false : ci;
        if (/[mU]/.test(m[1]! + (m[2] ?? ''))) {
          out += m[0]; // unsupported flag: let RegExp reject it
        } else if (m[3] === ')') {
          ci = on;
        } else {
          stack.push(ci);
          ci = on;
          out += '(?:';
        }
        i += m[0].length;
      } else {
        stack.push(ci);
        out += c;
        i++;
      }
    } else if (c === '(') {
      stack.push(ci);
      out += c;
      i++;
    } else if (c === ')') {
      ci = stack.pop() ?? ci;
      out += c;
      i++;
    } else {
      const b = ci ? both(c) : '';
      out += b ? `[${b}]` : c;
      i++;
    }
  }
  return out;
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

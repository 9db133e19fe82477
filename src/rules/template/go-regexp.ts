/**
 * Go (RE2) regular expressions on JavaScript's engine: translates the syntax differences
 * (`(?P<n>`, leading `(?flags)`, `\z`, `\A`, `\Q…\E`, POSIX classes, Go's `\s`, escaped
 * punctuation) and implements `Regexp.ReplaceAllString`'s `$1`/`${name}` expansion.
 * Note: JavaScript regexps backtrack; inputs are bounded by the template limits.
 */

const POSIX: Readonly<Record<string, string>> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};

const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const MAX_PATTERN = 4096;
const cache = new Map<string, RegExp>();

/** Error for patterns that do not compile; message like Go's `error parsing regexp: ...`. */
export class RegexpError extends Error {
  override name = 'RegexpError';
}

function escapeLiteral(ch: string, inClass: boolean): string {
  if (JS_SYNTAX.has(ch) || (inClass && ch === '-')) return '\\' + ch;
  return ch;
}

function translate(pattern: string): { source: string; flags: string } {
  let flags = 'u';
  let i = 0;
  const lead = /^\(\?([imsU]+)\)/.exec(pattern);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'U') throw new RegexpError('error parsing regexp: ungreedy flag (?U) is not supported');
      if (!flags.includes(f)) flags += f;
    }
    i = lead[0].length;
  }
  let out = '';
  let inClass = false;
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === '\\') {
      const n = pattern[i + 1];
      if (n === undefined) throw new RegexpError('error parsing regexp: trailing backslash at end of expression: ``');
      if (n === 'Q') {
        const end = pattern.indexOf('\\E', i + 2);
        const lit = end < 0 ? pattern.slice(i + 2) : pattern.slice(i + 2, end);
        for (const c of lit) out += escapeLiteral(c, inClass);
        i = end < 0 ? pattern.length : end + 2;
        continue;
      }
      if (n === 'z' && !inClass) out += '$(?![\\s\\S])';
      else if (n === 'A' && !inClass) out += '(?<![\\s\\S])';
      else if (n === 's') out += inClass ? '\\t\\n\\f\\r ' : '[\\t\\n\\f\\r ]';
      else if (n === 'S') out += inClass ? '\\S' : '[^\\t\\n\\f\\r ]';
      else if (/[dDwWbBpPtnrfvx0-7]/.test(n)) out += '\\' + n;
      else if (/[!-\/:-@\[-`{-~]/.test(n)) out += escapeLiteral(n, inClass);
      else throw new RegexpError(`error parsing regexp: invalid escape sequence: \`\\${n}\``);
      i += 2;
      continue;
    }
    if (inClass) {
      if (pattern.startsWith('[:', i)) {
        const m = /^\[:(\^?)([a-z]+):\]/.exec(pattern.slice(i));
        if (m && POSIX[m[2]!] !== undefined) {
          if (m[1]) throw new RegexpError('error parsing regexp: negated POSIX classes are not supported');
          out += POSIX[m[2]!];
          i += m[0].length;
          continue;
        }
      }
      if (ch === ']') inClass = false;
      out += ch === '[' ? '\\[' : ch;
      i++;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += '[';
      i++;
      if (pattern[i] === '^') {
        out += '^';
        i++;
      }
      if (pattern[i] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (pattern.startsWith('(?P<', i)) {
      out += '(?<';
      i += 4;
      continue;
    }
    out += ch;
    i++;
  }
  return { source: out, flags };
}

/** Compiles a Go regexp (cached). Throws {@link RegexpError}. */
export function compileGoRegexp(pattern: string): RegExp {
  const hit = cache.get(pattern);
  if (hit) return hit;
  if (pattern.length > MAX_PATTERN) throw new RegexpError(`error parsing regexp: expression too large`);
  const { source, flags } = translate(pattern);
  let re: RegExp;
  try {
    re = new RegExp(source, flags + 'g');
  } catch (e) {
    const msg = e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e);
    throw new RegexpError(`error parsing regexp: ${msg}`);
  }
  if (cache.size > 256) cache.clear();
  cache.set(pattern, re);
  return re;
}

/** Go's regexp.MatchString (unanchored). */
export function goMatch(pattern: string, text: string): boolean {
  const re = compileGoRegexp(pattern);
  re.lastIndex = 0;
  return re.test(text);
}

function expand(template: string, m: RegExpExecArray): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const d = template.indexOf('$', i);
    if (d < 0) {
      out += template.slice(i);
      break;
    }
    out += template.slice(i, d);
    i = d + 1;
    if (template[i] === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string | undefined;
    if (template[i] === '{') {
      const close = template.indexOf('}', i);
      const cand = close < 0 ? '' : template.slice(i + 1, close);
      if (/^[A-Za-z0-9_]+$/.test(cand)) {
        name = cand;
        i = close + 1;
      }
    } else {
      const mm = /^[A-Za-z0-9_]+/.exec(template.slice(i));
      if (mm) {
        name = mm[0];
        i += name.length;
      }
    }
    if (name === undefined) {
      out += '$';
      continue;
    }
    if (/^[0-9]+$/.test(name)) {
      const n = Number(name);
      out += n < m.length ? (m[n] ?? '') : '';
    } else out += m.groups?.[name] ?? '';
  }
  return out;
}

/** Go's Regexp.ReplaceAllString with `$n` / `${name}` expansion in `repl`. */
export function goReplaceAll(pattern: string, repl: string, text: string): string {
  const re = compileGoRegexp(pattern);
  re.lastIndex = 0;
  let out = '';
  let last = 0;
  let prevEnd = -1;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    const start = m.index;
    const end = start + m[0].length;
    // Go ignores empty matches abutting the preceding match.
    if (!(m[0].length === 0 && start === prevEnd)) {
      out += text.slice(last, start) + expand(repl, m);
      last = end;
      prevEnd = end;
    }
    if (m[0].length === 0) {
      if (start >= text.length) break;
      re.lastIndex = start + (text.codePointAt(start)! > 0xffff ? 2 : 1);
    }
  }
  return out + text.slice(last);
}

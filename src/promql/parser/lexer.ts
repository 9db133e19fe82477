/**
 * PromQL lexer. Context-free: words are returned as `ident` tokens and the parser decides
 * whether a word is a keyword (`by`, `offset`, `sum`, ...) or a name, since PromQL keywords are
 * contextual. Also usable for the test-script series notation (`foo{a="b"} 1+2x3`).
 */

/** Token kinds. Punctuation and operators use their own text as the kind. */
export type TokenKind =
  | 'eof'
  | 'ident'
  | 'number'
  | 'duration'
  | 'string'
  | '('
  | ')'
  | '{'
  | '}'
  | '['
  | ']'
  | ','
  | ':'
  | '@'
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '^'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '='
  | '=~'
  | '!~'
  | '</'
  | '>/';

/** A token. `value` is the number (for `number`), ms (for `duration`) or unescaped text (for `string`). */
export interface Token {
  readonly kind: TokenKind;
  /** Source text of the token. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Parsed number (number), milliseconds (duration). */
  readonly num?: number;
  /** Unescaped string value (string). */
  readonly str?: string;
}

/**
 * False when `s` holds a lone surrogate, which is how the lexer represents bytes of a string
 * literal that were not valid UTF-8 (`"a\xc5z"`). Use it to validate label names and values.
 */
export function isValidUtf8(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++;
    else if (c >= 0xd800 && c <= 0xdfff) return false;
  }
  return true;
}

/** Error raised by the lexer; the parser turns it into a ParseError. */
export class LexError extends Error {
  override name = 'LexError';
  constructor(
    message: string,
    readonly start: number,
    readonly end: number,
  ) {
    super(message);
  }
}

const DURATION_UNITS = 'ywdhms';

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isAlpha(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isHex(c: number): boolean {
  return isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/**
 * Splits `input` into tokens, ending with an `eof` token. Whitespace and `# comments` are skipped.
 * Throws {@link LexError} on malformed input.
 */
export function tokenize(input: string): Token[] {
  const out: Token[] = [];
  const n = input.length;
  let i = 0;
  while (true) {
    // Skip whitespace and comments.
    while (i < n) {
      const c = input.charCodeAt(i);
      if (c === 32 || c === 9 || c === 10 || c === 13) i++;
      else if (c === 35) {
        while (i < n && input.charCodeAt(i) !== 10) i++;
      } else break;
    }
    if (i >= n) {
      out.push({ kind: 'eof', text: '', start: n, end: n });
      return out;
    }
    const start = i;
    const c = input.charCodeAt(i);
    if (isDigit(c) || (c === 46 && isDigit(input.charCodeAt(i + 1)))) {
      out.push(lexNumberOrDuration(input, i));
      i = out[out.length - 1]!.end;
      continue;
    }
    if (isAlpha(c)) {
      i++;
      while (i < n) {
        const d = input.charCodeAt(i);
        if (isAlpha(d) || isDigit(d) || d === 58) i++;
        else break;
      }
      out.push({ kind: 'ident', text: input.slice(start, i), start, end: i });
      continue;
    }
    if (c === 34 || c === 39 || c === 96) {
      const tok = lexString(input, i);
      out.push(tok);
      i = tok.end;
      continue;
    }
    const two = input.slice(i, i + 2);
    let kind: TokenKind | undefined;
    switch (two) {
      case '==':
      case '!=':
      case '<=':
      case '>=':
      case '=~':
      case '!~':
      case '</':
      case '>/':
        kind = two;
        break;
    }
    if (kind) {
      out.push({ kind, text: two, start, end: i + 2 });
      i += 2;
      continue;
    }
    const ch = input[i]!;
    switch (ch) {
      case '(':
      case ')':
      case '{':
      case '}':
      case '[':
      case ']':
      case ',':
      case ':':
      case '@':
      case '+':
      case '-':
      case '*':
      case '/':
      case '%':
      case '^':
      case '<':
      case '>':
      case '=':
        out.push({ kind: ch, text: ch, start, end: i + 1 });
        i++;
        continue;
      case '!':
        throw new LexError(`unexpected character after '!': ${quoteChar(input, i + 1)}`, i, i + 2);
      default: {
        const cp = input.codePointAt(i) ?? 0;
        throw new LexError(`unexpected character: ${JSON.stringify(String.fromCodePoint(cp)).replace(/^"|"$/g, "'")}`, i, i + 1);
      }
    }
  }
}

function quoteChar(input: string, i: number): string {
  if (i >= input.length) return 'end of input';
  return `'${String.fromCodePoint(input.codePointAt(i) ?? 0)}'`;
}

/** Lexes a number (`1`, `1.5e3`, `0x1f`, `.5`) or a duration (`1h30m`, `100ms`) at `start`. */
function lexNumberOrDuration(input: string, start: number): Token {
  const n = input.length;
  let i = start;
  const bad = (end: number): never => {
    let e = end;
    while (e < n && (isAlpha(input.charCodeAt(e)) || isDigit(input.charCodeAt(e)) || input.charCodeAt(e) === 46)) e++;
    throw new LexError(`bad number or duration syntax: ${JSON.stringify(input.slice(start, e))}`, start, e);
  };
  if (input[i] === '0' && (input[i + 1] === 'x' || input[i + 1] === 'X')) {
    i += 2;
    const ds = i;
    while (i < n && isHex(input.charCodeAt(i))) i++;
    if (i === ds) bad(i);
    if (i < n && (isAlpha(input.charCodeAt(i)) || isDigit(input.charCodeAt(i)) || input[i] === '.')) bad(i);
    const text = input.slice(start, i);
    return { kind: 'number', text, start, end: i, num: parseInt(text.slice(2), 16) };
  }
  while (i < n && isDigit(input.charCodeAt(i))) i++;
  // Duration: digits followed by a unit letter.
  if (i > start && i < n && DURATION_UNITS.includes(input[i]!)) {
    let j = start;
    while (j < n && isDigit(input.charCodeAt(j))) {
      while (j < n && isDigit(input.charCodeAt(j))) j++;
      if (input[j] === 'm' && input[j + 1] === 's') j += 2;
      else if (j < n && DURATION_UNITS.includes(input[j]!)) j++;
      else bad(j);
    }
    if (j < n && (isAlpha(input.charCodeAt(j)) || input[j] === '.')) bad(j);
    const text = input.slice(start, j);
    let ms: number;
    try {
      ms = parseDurationStrict(text);
    } catch {
      throw new LexError(`bad number or duration syntax: ${JSON.stringify(text)}`, start, j);
    }
    return { kind: 'duration', text, start, end: j, num: ms };
  }
  if (input[i] === '.') {
    i++;
    while (i < n && isDigit(input.charCodeAt(i))) i++;
  }
  if (input[i] === 'e' || input[i] === 'E') {
    let j = i + 1;
    if (input[j] === '+' || input[j] === '-') j++;
    if (!isDigit(input.charCodeAt(j))) bad(j);
    while (j < n && isDigit(input.charCodeAt(j))) j++;
    i = j;
  }
  if (i < n && (isAlpha(input.charCodeAt(i)) || isDigit(input.charCodeAt(i)) || input[i] === '.')) bad(i);
  const text = input.slice(start, i);
  // Like Go's ParseInt with base 0 (which Prometheus tries first), a leading 0 means octal.
  const num = /^0[0-7]+$/.test(text) ? parseInt(text, 8) : Number(text);
  return { kind: 'number', text, start, end: i, num };
}

const UNIT_MS: Record<string, number> = { y: 31536000000, w: 604800000, d: 86400000, h: 3600000, m: 60000, s: 1000, ms: 1 };
const UNIT_RANK: Record<string, number> = { y: 0, w: 1, d: 2, h: 3, m: 4, s: 5, ms: 6 };

function parseDurationStrict(text: string): number {
  const re = /(\d+)(ms|[ywdhms])/gy;
  let total = 0;
  let last = -1;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(text)) !== null) {
    const rank = UNIT_RANK[m[2]!]!;
    if (rank <= last) throw new Error('order');
    last = rank;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    pos = re.lastIndex;
  }
  if (pos !== text.length || !Number.isSafeInteger(total)) throw new Error('bad');
  return total;
}

/**
 * Lexes a quoted string. Double and single quotes support Go escapes; backticks are raw.
 * `\xHH` / octal escapes produce bytes; byte runs are decoded as UTF-8 and bytes that are not
 * valid UTF-8 become lone surrogates U+DC80..U+DCFF ("surrogate escape"), so callers can detect
 * invalid UTF-8 with {@link isValidUtf8}.
 */
function lexString(input: string, start: number): Token {
  const q = input[start]!;
  const n = input.length;
  let i = start + 1;
  if (q === '`') {
    const end = input.indexOf('`', i);
    if (end < 0) throw new LexError('unterminated raw string', start, n);
    return { kind: 'string', text: input.slice(start, end + 1), start, end: end + 1, str: input.slice(i, end) };
  }
  let out = '';
  let bytes: number[] | null = null;
  const flush = (): void => {
    if (bytes) {
      out += decodeBytes(bytes);
      bytes = null;
    }
  };
  while (true) {
    if (i >= n) throw new LexError('unterminated quoted string', start, n);
    const ch = input[i]!;
    if (ch === q) break;
    if (ch === '\n') throw new LexError('unterminated quoted string', start, i);
    if (ch !== '\\') {
      flush();
      out += ch;
      i++;
      continue;
    }
    const e = input[i + 1];
    if (e === undefined) throw new LexError('unterminated quoted string', start, n);
    i += 2;
    switch (e) {
      case 'a': flush(); out += '\x07'; break;
      case 'b': flush(); out += '\b'; break;
      case 'f': flush(); out += '\f'; break;
      case 'n': flush(); out += '\n'; break;
      case 'r': flush(); out += '\r'; break;
      case 't': flush(); out += '\t'; break;
      case 'v': flush(); out += '\v'; break;
      case '\\': flush(); out += '\\'; break;
      case '"':
      case "'":
        if (e !== q) throw new LexError(`unknown escape sequence U+${hex4(e.charCodeAt(0))} '${e}'`, start, i);
        flush();
        out += e;
        break;
      case 'x': {
        const h = input.slice(i, i + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(h)) throw new LexError(`invalid character ${JSON.stringify(input[i] ?? '')} in escape sequence`, start, i + 2);
        (bytes ??= []).push(parseInt(h, 16));
        i += 2;
        break;
      }
      case 'u':
      case 'U': {
        const len = e === 'u' ? 4 : 8;
        const h = input.slice(i, i + len);
        if (h.length !== len || !/^[0-9a-fA-F]+$/.test(h)) throw new LexError(`invalid character in escape sequence`, start, i + len);
        const cp = parseInt(h, 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) throw new LexError('escape sequence is an invalid Unicode code point', start, i + len);
        flush();
        out += String.fromCodePoint(cp);
        i += len;
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          const o = input.slice(i - 1, i + 2);
          if (!/^[0-7]{3}$/.test(o)) throw new LexError('invalid character in escape sequence', start, i + 2);
          const v = parseInt(o, 8);
          if (v > 255) throw new LexError('octal escape value > 255', start, i + 2);
          (bytes ??= []).push(v);
          i += 2;
          break;
        }
        throw new LexError(`unknown escape sequence U+${hex4(input.codePointAt(i - 1) ?? 0)} '${String.fromCodePoint(input.codePointAt(i - 1) ?? 0)}'`, start, i);
    }
  }
  flush();
  return { kind: 'string', text: input.slice(start, i + 1), start, end: i + 1, str: out };
}

function hex4(c: number): string {
  return c.toString(16).toUpperCase().padStart(4, '0');
}

/** Strict UTF-8 decode; invalid bytes map to lone surrogates 0xDC00 + byte. */
function decodeBytes(b: readonly number[]): string {
  let s = '';
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    let need = 0;
    let cp = 0;
    let min = 0;
    if (c < 0x80) {
      s += String.fromCharCode(c);
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      need = 1; cp = c & 0x1f; min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2; cp = c & 0x0f; min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3; cp = c & 0x07; min = 0x10000;
    } else {
      s += String.fromCharCode(0xdc00 + c);
      i++;
      continue;
    }
    let ok = i + need < b.length;
    let v = cp;
    if (ok) {
      for (let k = 1; k <= need; k++) {
        const cc = b[i + k]!;
        if ((cc & 0xc0) !== 0x80) {
          ok = false;
          break;
        }
        v = (v << 6) | (cc & 0x3f);
      }
    }
    if (ok && v >= min && v <= 0x10ffff && !(v >= 0xd800 && v < 0xe000)) {
      s += String.fromCodePoint(v);
      i += need + 1;
    } else {
      s += String.fromCharCode(0xdc00 + c);
      i++;
    }
  }
  return s;
}

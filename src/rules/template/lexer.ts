/**
 * Lexer for Go `text/template` syntax: text, `{{ }}` actions with trim markers `{{- ` / ` -}}`,
 * comments `{{/* *\/}}`, and the tokens inside actions. Mirrors the token rules of Go's
 * `text/template/parse` lexer so that error messages match.
 */

/** Token types. */
export type TokenType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'assign'
  | 'declare'
  | 'pipe'
  | 'string'
  | 'rawString'
  | 'charConstant'
  | 'number'
  | 'identifier'
  | 'field'
  | 'variable'
  | 'dot'
  | 'bool'
  | 'nil'
  | 'leftParen'
  | 'rightParen'
  | 'char'
  | 'error'
  | 'eof'
  | Keyword;

/** Keywords of the template language. */
export type Keyword = 'block' | 'break' | 'continue' | 'define' | 'else' | 'end' | 'if' | 'range' | 'template' | 'with';

const KEYWORDS: ReadonlySet<string> = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with']);

/** One lexical item. */
export interface Token {
  readonly type: TokenType;
  /** Source text of the token (the message for `error`). */
  readonly val: string;
  /** Offset in the input. */
  readonly pos: number;
  /** 1-based line where the token starts. */
  readonly line: number;
}

/** True for the token types that are keywords. */
export function isKeyword(t: TokenType): t is Keyword {
  return KEYWORDS.has(t);
}

/** Renders a token like Go's `item.String()` (used in "unexpected X" messages). */
export function tokenString(t: Token): string {
  if (t.type === 'eof') return 'EOF';
  if (t.type === 'error') return t.val;
  if (isKeyword(t.type) || t.type === 'nil') return `<${t.val}>`;
  const q = goQuote(t.val.length > 10 ? t.val.slice(0, 10) : t.val);
  return t.val.length > 10 ? `${q}...` : q;
}

/** Quotes a string like Go's `%q` (ASCII-safe escapes for control characters). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 10) out += '\\n';
    else if (c === 13) out += '\\r';
    else if (c === 9) out += '\\t';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c === 0xfffd && ch !== '\ufffd') out += '\\ufffd';
    else if ((c >= 0x80 && c < 0xa0) || c === 0xad || (c >= 0xd800 && c <= 0xdfff)) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

const LEFT = '{{';
const RIGHT = '}}';

/** Space characters inside actions (Go's isSpace). */
export function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';
}

const ALNUM = /^[\p{L}\p{Nd}_]$/u;

/** Letters, decimal digits and underscore (Go's isAlphaNumeric). */
export function isAlphaNumeric(ch: string | undefined): boolean {
  return ch !== undefined && ALNUM.test(ch);
}

function hasLeftTrimMarker(s: string, i: number): boolean {
  return s[i] === '-' && isSpace(s[i + 1]);
}

function hasRightTrimMarker(s: string, i: number): boolean {
  return isSpace(s[i]) && s[i + 1] === '-';
}

/** Lexes `input` into tokens; the last token is `eof` or `error`. */
export function lex(input: string): Token[] {
  return new Lexer(input).run();
}

class Lexer {
  private pos = 0;
  private start = 0;
  private line = 1;
  private startLine = 1;
  private parenDepth = 0;
  private readonly items: Token[] = [];
  private done = false;

  constructor(private readonly input: string) {}

  run(): Token[] {
    while (!this.done) this.lexText();
    return this.items;
  }

  private emit(type: TokenType): void {
    this.items.push({ type, val: this.input.slice(this.start, this.pos), pos: this.start, line: this.startLine });
    this.ignore();
  }

  private ignore(): void {
    for (let i = this.start; i < this.pos; i++) if (this.input.charCodeAt(i) === 10) this.line++;
    this.start = this.pos;
    this.startLine = this.line;
  }

  private error(msg: string): void {
    this.items.push({ type: 'error', val: msg, pos: this.start, line: this.startLine });
    this.done = true;
  }

  /** Next code point as a string (undefined at EOF); advances. */
  private next(): string | undefined {
    if (this.pos >= this.input.length) {
      this.pos = this.input.length + 1; // so backup() is symmetric
      return undefined;
    }
    const cp = this.input.codePointAt(this.pos)!;
    const ch = String.fromCodePoint(cp);
    this.pos += ch.length;
    return ch;
  }

  private backupOne(ch: string | undefined): void {
    this.pos -= ch === undefined ? 1 : ch.length;
  }

  private peek(): string | undefined {
    if (this.pos >= this.input.length) return undefined;
    return String.fromCodePoint(this.input.codePointAt(this.pos)!);
  }

  private accept(valid: string): boolean {
    const ch = this.input[this.pos];
    if (ch !== undefined && valid.includes(ch)) {
      this.pos++;
      return true;
    }
    return false;
  }

  private acceptRun(valid: string): void {
    while (this.accept(valid));
  }

  private lexText(): void {
    const idx = this.input.indexOf(LEFT, this.pos);
    if (idx < 0) {
      this.pos = this.input.length;
      if (this.pos > this.start) this.emit('text');
      this.items.push({ type: 'eof', val: '', pos: this.pos, line: this.line });
      this.done = true;
      return;
    }
    this.pos = idx;
    const trim = hasLeftTrimMarker(this.input, idx + LEFT.length);
    let textEnd = idx;
    if (trim) while (textEnd > this.start && isSpace(this.input[textEnd - 1])) textEnd--;
    if (textEnd > this.start) {
      this.pos = textEnd;
      this.emit('text');
    }
    this.pos = idx;
    this.ignore();
    this.lexLeftDelim(trim);
  }

  /** At a right delimiter (with or without trim marker)? */
  private atRightDelim(): { delim: boolean; trim: boolean } {
    if (hasRightTrimMarker(this.input, this.pos) && this.input.startsWith(RIGHT, this.pos + 2)) return { delim: true, trim: true };
    if (this.input.startsWith(RIGHT, this.pos)) return { delim: true, trim: false };
    return { delim: false, trim: false };
  }

  private lexLeftDelim(trim: boolean): void {
    this.pos += LEFT.length;
    const afterMarker = trim ? 2 : 0;
    if (this.input.startsWith('/*', this.pos + afterMarker)) {
      this.pos += afterMarker;
      this.ignore();
      this.lexComment();
      return;
    }
    this.emit('leftDelim');
    this.pos += afterMarker;
    this.ignore();
    this.parenDepth = 0;
    this.lexInsideAction();
  }

  private lexComment(): void {
    this.pos += 2;
    const end = this.input.indexOf('*/', this.pos);
    if (end < 0) return this.error('unclosed comment');
    this.pos = end + 2;
    const { delim, trim } = this.atRightDelim();
    if (!delim) return this.error('comment ends before closing delimiter');
    if (trim) this.pos += 2;
    this.pos += RIGHT.length;
    if (trim) while (isSpace(this.input[this.pos])) this.pos++;
    this.ignore();
  }

  private lexRightDelim(trim: boolean): void {
    if (trim) {
      this.pos += 2;
      this.ignore();
    }
    this.pos += RIGHT.length;
    this.emit('rightDelim');
    if (trim) {
      while (isSpace(this.input[this.pos])) this.pos++;
      this.ignore();
    }
  }

  private lexInsideAction(): void {
    for (;;) {
      if (this.done) return;
      const { delim, trim } = this.atRightDelim();
      if (delim) {
        if (this.parenDepth === 0) return this.lexRightDelim(trim);
        return this.error('unclosed left paren');
      }
      const r = this.next();
      if (r === undefined) return this.error('unclosed action');
      if (isSpace(r)) {
        this.backupOne(r);
        if (this.lexSpace()) return;
        continue;
      }
      switch (r) {
        case '=':
          this.emit('assign');
          continue;
        case ':':
          if (this.next() !== '=') return this.error('expected :=');
          this.emit('declare');
          continue;
        case '|':
          this.emit('pipe');
          continue;
        case '"':
          this.lexQuote();
          continue;
        case '`':
          this.lexRawQuote();
          continue;
        case '$':
          this.lexFieldOrVariable('variable');
          continue;
        case "'":
          this.lexChar();
          continue;
        case '(':
          this.emit('leftParen');
          this.parenDepth++;
          continue;
        case ')':
          this.parenDepth--;
          if (this.parenDepth < 0) return this.error('unexpected right paren');
          this.emit('rightParen');
          continue;
        default:
          break;
      }
      if (r === '.') {
        const n = this.input[this.pos];
        if (n === undefined || n < '0' || n > '9') {
          this.lexFieldOrVariable('field');
          continue;
        }
      }
      if (r === '.' || r === '+' || r === '-' || (r >= '0' && r <= '9')) {
        this.backupOne(r);
        this.lexNumber();
        continue;
      }
      if (isAlphaNumeric(r)) {
        this.backupOne(r);
        this.lexIdentifier();
        continue;
      }
      const c = r.codePointAt(0)!;
      if (c >= 0x20 && c < 0x7f) {
        this.emit('char');
        continue;
      }
      return this.error(`unrecognized character in action: ${unicodeName(r)}`);
    }
  }

  /** Lexes a run of spaces; returns true if it lexed the closing delimiter too. */
  private lexSpace(): boolean {
    let n = 0;
    while (isSpace(this.input[this.pos])) {
      this.pos++;
      n++;
    }
    if (hasRightTrimMarker(this.input, this.pos - 1) && this.input.startsWith(RIGHT, this.pos + 1)) {
      this.pos--;
      if (n === 1) {
        this.lexRightDelim(true);
        return true;
      }
    }
    this.emit('space');
    return false;
  }

  private atTerminator(): boolean {
    const r = this.input[this.pos];
    if (r === undefined || isSpace(r)) return true;
    if ('.,|:()'.includes(r)) return true;
    return this.input.startsWith(RIGHT, this.pos);
  }

  private lexIdentifier(): void {
    let r: string | undefined;
    while (isAlphaNumeric((r = this.next())));
    this.backupOne(r);
    const word = this.input.slice(this.start, this.pos);
    if (!this.atTerminator()) return this.error(`bad character ${unicodeName(this.peek())}`);
    if (KEYWORDS.has(word)) this.emit(word as Keyword);
    else if (word === 'nil') this.emit('nil');
    else if (word === 'true' || word === 'false') this.emit('bool');
    else this.emit('identifier');
  }

  private lexFieldOrVariable(type: 'field' | 'variable'): void {
    if (this.atTerminator()) {
      this.emit(type === 'variable' ? 'variable' : 'dot');
      return;
    }
    let r: string | undefined;
    while (isAlphaNumeric((r = this.next())));
    this.backupOne(r);
    if (!this.atTerminator()) return this.error(`bad character ${unicodeName(this.peek())}`);
    this.emit(type);
  }

  private lexQuote(): void {
    for (;;) {
      const r = this.next();
      if (r === '\\') {
        const e = this.next();
        if (e !== undefined && e !== '\n') continue;
        return this.error('unterminated quoted string');
      }
      if (r === undefined || r === '\n') return this.error('unterminated quoted string');
      if (r === '"') break;
    }
    this.emit('string');
  }

  private lexRawQuote(): void {
    const end = this.input.indexOf('`', this.pos);
    if (end < 0) return this.error('unterminated raw quoted string');
    this.pos = end + 1;
    this.emit('rawString');
  }

  private lexChar(): void {
    for (;;) {
      const r = this.next();
      if (r === '\\') {
        const e = this.next();
        if (e !== undefined && e !== '\n') continue;
        return this.error('unterminated character constant');
      }
      if (r === undefined || r === '\n') return this.error('unterminated character constant');
      if (r === "'") break;
    }
    this.emit('charConstant');
  }

  private lexNumber(): void {
    if (!this.scanNumber()) return this.error(`bad number syntax: ${goQuote(this.input.slice(this.start, this.pos))}`);
    this.emit('number');
  }

  private scanNumber(): boolean {
    this.accept('+-');
    let digits = '0123456789_';
    if (this.accept('0')) {
      if (this.accept('xX')) digits = '0123456789abcdefABCDEF_';
      else if (this.accept('oO')) digits = '01234567_';
      else if (this.accept('bB')) digits = '01_';
    }
    this.acceptRun(digits);
    if (this.accept('.')) this.acceptRun(digits);
    if (digits.length === 11 && this.accept('eE')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    if (digits.length === 23 && this.accept('pP')) {
      this.accept('+-');
      this.acceptRun('0123456789_');
    }
    this.accept('i');
    if (isAlphaNumeric(this.peek())) {
      this.next();
      return false;
    }
    return true;
  }
}

/** Formats a rune like Go's `%#U`: `U+00A0 ' '` (quoted char only when printable). */
export function unicodeName(ch: string | undefined): string {
  if (ch === undefined) return 'U+FFFFFFFF';
  const c = ch.codePointAt(0)!;
  const hex = 'U+' + c.toString(16).toUpperCase().padStart(4, '0');
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u.test(ch) || ch === ' ' ? `${hex} '${ch}'` : hex;
}

/**
 * A cursor over one exposition line with the token readers shared by the text and OpenMetrics
 * parsers. All failures go through {@link LineScanner.fail}, which throws an
 * {@link ExpositionParseError} carrying the line number.
 */
import type { Label } from '../../model/labels.js';
import { ExpositionParseError, type ResolvedLimits } from './exposition.js';

/** Per-format lexical rules. */
export interface ScanMode {
  /** Blanks (spaces/tabs) allowed between tokens inside braces and before `{`. */
  readonly lenientBlanks: boolean;
  /** A trailing comma before `}` is accepted. */
  readonly trailingComma: boolean;
  /** Human name of the format for messages. */
  readonly formatName: string;
}

function isMetricStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58;
}
function isMetricChar(c: number): boolean {
  return isMetricStart(c) || (c >= 48 && c <= 57);
}
function isLabelStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isLabelChar(c: number): boolean {
  return isLabelStart(c) || (c >= 48 && c <= 57);
}

const FLOAT_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const SPECIAL_RE = /^[+-]?(?:inf|infinity|nan)$/i;

/** Parses a float as Go's ParseFloat does for decimal input (NaN, ±Inf accepted). */
export function parseGoFloat(tok: string): number | undefined {
  if (FLOAT_RE.test(tok)) return Number(tok);
  if (SPECIAL_RE.test(tok)) {
    const lower = tok.toLowerCase();
    if (lower.endsWith('nan')) return NaN;
    return lower.startsWith('-') ? -Infinity : Infinity;
  }
  return undefined;
}

/** Cursor over one line. */
export class LineScanner {
  pos = 0;
  constructor(
    readonly s: string,
    readonly line: number,
    readonly limits: ResolvedLimits,
    readonly mode: ScanMode,
  ) {}

  /** Throws the typed parse error for this line. */
  fail(reason: string): never {
    throw new ExpositionParseError(this.line, reason);
  }

  /** True at the end of the line. */
  eol(): boolean {
    return this.pos >= this.s.length;
  }

  /** Current char code or -1. */
  code(): number {
    return this.pos < this.s.length ? this.s.charCodeAt(this.pos) : -1;
  }

  /** Skips spaces and tabs; returns how many were skipped. */
  skipBlanks(): number {
    const start = this.pos;
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c !== 32 && c !== 9) break;
      this.pos++;
    }
    return this.pos - start;
  }

  /** Skips blanks only when the mode allows blanks around tokens. */
  optBlanks(): void {
    if (this.mode.lenientBlanks) this.skipBlanks();
  }

  /** Requires a separator before the next token: any blanks (text) or exactly one space (OM). */
  separator(what: string): void {
    if (this.mode.lenientBlanks) {
      if (this.skipBlanks() === 0) this.fail(`expected whitespace before ${what}`);
      return;
    }
    if (this.code() !== 32) this.fail(`expected single space before ${what}`);
    this.pos++;
    const c = this.code();
    if (c === 32 || c === 9) this.fail(`unexpected extra whitespace before ${what}`);
  }

  /** Reads a legacy metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`), '' when none starts here. */
  readMetricName(): string {
    const start = this.pos;
    if (!isMetricStart(this.code())) return '';
    this.pos++;
    while (isMetricChar(this.code())) this.pos++;
    return this.checkName(this.s.slice(start, this.pos));
  }

  /** Reads a legacy label name, '' when none starts here. */
  readLabelName(): string {
    const start = this.pos;
    if (!isLabelStart(this.code())) return '';
    this.pos++;
    while (isLabelChar(this.code())) this.pos++;
    return this.checkName(this.s.slice(start, this.pos));
  }

  private checkName(n: string): string {
    if (n.length > this.limits.maxNameLength) this.fail(`name longer than ${this.limits.maxNameLength} characters`);
    return n;
  }

  /**
   * Reads a double-quoted string at the cursor; escapes `\\`, `\"` and `\n` are decoded, any other
   * escape is kept literally (as Prometheus does).
   */
  readQuoted(what: string, maxLen: number): string {
    if (this.code() !== 34) this.fail(`expected '"' to start ${what}`);
    this.pos++;
    let out = '';
    let chunkStart = this.pos;
    const s = this.s;
    for (;;) {
      if (this.pos >= s.length) this.fail(`unterminated quoted ${what}`);
      const c = s.charCodeAt(this.pos);
      if (c === 34) {
        out += s.slice(chunkStart, this.pos);
        this.pos++;
        break;
      }
      if (c === 92) {
        out += s.slice(chunkStart, this.pos);
        const n = s.charCodeAt(this.pos + 1);
        if (n === 92) out += '\\';
        else if (n === 34) out += '"';
        else if (n === 110) out += '\n';
        else if (Number.isNaN(n)) this.fail(`unterminated quoted ${what}`);
        else out += '\\' + s[this.pos + 1];
        this.pos += 2;
        chunkStart = this.pos;
        if (out.length > maxLen) this.fail(`${what} longer than ${maxLen} characters`);
        continue;
      }
      this.pos++;
    }
    if (out.length > maxLen) this.fail(`${what} longer than ${maxLen} characters`);
    return out;
  }

  /** Reads a metric name that may be quoted (UTF-8 names). */
  readMetricNameMaybeQuoted(): string {
    if (this.code() === 34) {
      const n = this.readQuoted('metric name', this.limits.maxNameLength);
      if (n === '') this.fail('empty metric name');
      return n;
    }
    return this.readMetricName();
  }

  /** Reads a token up to the next blank or the end of the line. */
  readToken(): string {
    const start = this.pos;
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c === 32 || c === 9) break;
      this.pos++;
    }
    return this.s.slice(start, this.pos);
  }

  /**
   * Parses `{...}` at the cursor. Items are `name="value"`, `"quoted name"="value"`, or a bare
   * quoted string which is the metric name (allowed once, only when `name` is not set yet).
   */
  readLabelSet(name: string, pairs: Label[], what = 'label set'): string {
    this.pos++; // '{'
    let metric = name;
    let first = true;
    for (;;) {
      this.optBlanks();
      if (this.code() === 125) {
        this.pos++;
        return metric;
      }
      if (!first) {
        if (this.code() !== 44) this.fail(`expected ',' or '}' in ${what}`);
        this.pos++;
        this.optBlanks();
        if (this.code() === 125) {
          if (!this.mode.trailingComma) this.fail(`unexpected ',' before '}' in ${what}`);
          this.pos++;
          return metric;
        }
      }
      first = false;
      let lname: string;
      let quoted = false;
      if (this.code() === 34) {
        lname = this.readQuoted('label name', this.limits.maxNameLength);
        quoted = true;
      } else {
        lname = this.readLabelName();
        if (lname === '') this.fail(this.eol() ? `unterminated ${what}` : `invalid label name at column ${this.pos + 1} in ${what}`);
      }
      this.optBlanks();
      if (this.code() !== 61) {
        if (quoted && metric === '' && what === 'label set') {
          if (lname === '') this.fail('empty metric name');
          metric = lname;
          continue;
        }
        this.fail(`expected '=' after label name ${JSON.stringify(lname)}`);
      }
      if (lname === '') this.fail('empty label name');
      this.pos++;
      this.optBlanks();
      const value = this.readQuoted('label value', this.limits.maxLabelValueLength);
      if (pairs.length + 2 > this.limits.maxLabels) this.fail(`more than ${this.limits.maxLabels} labels`);
      pairs.push({ name: lname, value });
    }
  }
}

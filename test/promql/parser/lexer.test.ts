import { parseExpr } from '../../../src/promql/parser/index.js';
import { describe, expect, it } from 'vitest';
import { isValidUtf8, LexError, tokenize } from '../../../src/promql/parser/lexer.js';
import { formatDuration, parseDuration, evalDurationExpr } from '../../../src/promql/parser/duration.js';

const kinds = (s: string): string[] => tokenize(s).map((t) => t.kind);

describe('lexer', () => {
  it('lexes numbers in all notations', () => {
    const nums = (s: string): (number | undefined)[] => tokenize(s).filter((t) => t.kind === 'number').map((t) => t.num);
    expect(nums('1 1.5 .5 1e3 1.5E-2 0x1f 0X1F 010 08')).toEqual([1, 1.5, 0.5, 1000, 0.015, 31, 31, 8, 8]);
  });

  it('lexes durations including compound ones', () => {
    const d = tokenize('5m 1h30m 100ms 1y 1w 1d 2h0m5s').filter((t) => t.kind === 'duration').map((t) => t.num);
    expect(d).toEqual([300000, 5400000, 100, 31536000000, 604800000, 86400000, 7205000]);
  });

  it('rejects malformed numbers and durations', () => {
    for (const bad of ['1x', '5mm', '1m1h', '1.5m', '0x', '1e', '1.2.3']) {
      expect(() => tokenize(bad), bad).toThrow(LexError);
    }
    expect(() => tokenize('5mm')).toThrow(/bad number or duration syntax: "5mm"/);
  });

  it('lexes identifiers, metric identifiers and keywords as ident tokens', () => {
    const t = tokenize('foo job:rate5m:sum sum by offset');
    expect(t.map((x) => [x.kind, x.text])).toEqual([
      ['ident', 'foo'],
      ['ident', 'job:rate5m:sum'],
      ['ident', 'sum'],
      ['ident', 'by'],
      ['ident', 'offset'],
      ['eof', ''],
    ]);
  });

  it('lexes all operators and punctuation', () => {
    expect(kinds('+ - * / % ^ == != < <= > >= = =~ !~ </ >/ ( ) { } [ ] , : @')).toEqual([
      '+', '-', '*', '/', '%', '^', '==', '!=', '<', '<=', '>', '>=', '=', '=~', '!~', '</', '>/',
      '(', ')', '{', '}', '[', ']', ',', ':', '@', 'eof',
    ]);
  });

  it('unescapes Go string escapes', () => {
    const str = (s: string): string | undefined => tokenize(s)[0]!.str;
    expect(str(String.raw`"a\nb\t\\\""`)).toBe('a\nb\t\\"');
    expect(str(String.raw`'it\'s'`)).toBe("it's");
    expect(str(String.raw`"\x41\101\u00e9\U0001F600"`)).toBe('AAé😀');
    expect(str(String.raw`"\xc3\xa9"`)).toBe('é'); // UTF-8 bytes decode to a code point
    expect(str('`raw \\n "x"`')).toBe('raw \\n "x"');
  });

  it('keeps invalid UTF-8 bytes as lone surrogates', () => {
    const s = tokenize(String.raw`"a\xc5z"`)[0]!.str!;
    expect(s).toBe('a\udcc5z');
    expect(isValidUtf8(s)).toBe(false);
    expect(isValidUtf8('aé😀')).toBe(true);
  });

  it('rejects bad escapes and unterminated strings', () => {
    expect(() => tokenize(String.raw`"\."`)).toThrow(/unknown escape sequence U\+002E '.'/);
    // Like Prometheus, an escape error points at the start of the string, not at the escape.
    expect(() => parseExpr(String.raw`label_replace(up, "a", "$1", "b", "(v[0-9]*\.)")`)).toThrow(/^1:35: parse error: unknown escape sequence/);
    expect(() => tokenize(String.raw`"\'"`)).toThrow(/unknown escape sequence/);
    expect(() => tokenize('"abc')).toThrow(/unterminated quoted string/);
    expect(() => tokenize('"a\nb"')).toThrow(/unterminated quoted string/);
    expect(() => tokenize('`abc')).toThrow(/unterminated raw string/);
    expect(() => tokenize(String.raw`"\xZZ"`)).toThrow(LexError);
  });

  it('skips comments and reports positions', () => {
    const t = tokenize('foo # comment\n + 1');
    expect(t.map((x) => [x.kind, x.start, x.end])).toEqual([
      ['ident', 0, 3],
      ['+', 15, 16],
      ['number', 17, 18],
      ['eof', 18, 18],
    ]);
  });

  it('rejects stray characters', () => {
    expect(() => tokenize('foo ; bar')).toThrow(/unexpected character: ';'/);
    expect(() => tokenize('a ! b')).toThrow(/unexpected character after '!'/);
  });
});

describe('durations', () => {
  it('parses and formats canonical durations', () => {
    expect(parseDuration('1h30m')).toBe(5400000);
    expect(parseDuration('0')).toBe(0);
    expect(formatDuration(90_000)).toBe('1m30s');
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(86400000 * 14)).toBe('2w');
    expect(formatDuration(86400000 * 15)).toBe('15d');
    expect(formatDuration(31536000000)).toBe('1y');
    expect(formatDuration(1500)).toBe('1s500ms');
    expect(formatDuration(-300000)).toBe('-5m');
    for (const bad of ['', '5', '1m1h', '1.5h', 'abc', '1h1h']) expect(() => parseDuration(bad), bad).toThrow(/not a valid duration/);
  });

  it('evaluates duration expressions in seconds', () => {
    const num = (ms: number) => ({ kind: 'DurNumber' as const, ms });
    const bin = (op: '+' | '*' | '/' | '%', lhs: any, rhs: any) => ({ kind: 'DurBinary' as const, op, lhs, rhs });
    expect(evalDurationExpr(bin('*', num(120000), num(15000)), { stepMs: 0, rangeMs: 0 })).toBe(1800000);
    expect(evalDurationExpr(bin('+', { kind: 'DurStep' }, num(1000)), { stepMs: 5000, rangeMs: 0 })).toBe(6000);
    expect(evalDurationExpr({ kind: 'DurCall', func: 'min_of', args: [{ kind: 'DurRange' }, num(8000)] }, { stepMs: 0, rangeMs: 10000 })).toBe(8000);
    expect(() => evalDurationExpr(bin('/', num(1000), num(0)), { stepMs: 0, rangeMs: 0 })).toThrow(/division by zero/);
  });
});

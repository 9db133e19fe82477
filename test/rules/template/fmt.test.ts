import { describe, expect, it } from 'vitest';
import { formatFloat } from '../../../src/rules/template/go-float.js';
import { formatValue, sprint, sprintf, sprintln } from '../../../src/rules/template/fmt.js';
import { GoMap, GoSlice } from '../../../src/rules/template/values.js';

describe('formatFloat (Go strconv)', () => {
  const cases: readonly (readonly [number, 'e' | 'f' | 'g', number, string])[] = [
    [1, 'g', -1, '1'],
    [0.5, 'g', -1, '0.5'],
    [1e6, 'g', -1, '1e+06'],
    [100000, 'g', -1, '100000'],
    [1234567, 'g', -1, '1.234567e+06'],
    [0.0001, 'g', -1, '0.0001'],
    [0.00001, 'g', -1, '1e-05'],
    [1e21, 'g', -1, '1e+21'],
    [1234567, 'g', 4, '1.235e+06'],
    [100, 'g', 4, '100'],
    [0.12, 'g', 4, '0.12'],
    [123.45, 'g', 4, '123.5'],
    [0, 'g', 4, '0'],
    [2.5, 'f', 0, '2'],
    [3.5, 'f', 0, '4'],
    [0.125, 'f', 2, '0.12'],
    [0.375, 'f', 2, '0.38'],
    [1e22, 'f', 1, '10000000000000000000000.0'],
    [123.456, 'e', 2, '1.23e+02'],
    [0, 'e', 3, '0.000e+00'],
    [5e-324, 'g', -1, '5e-324'],
    [-1.5, 'g', -1, '-1.5'],
    [Infinity, 'g', -1, '+Inf'],
    [-Infinity, 'f', 2, '-Inf'],
    [NaN, 'e', 2, 'NaN'],
  ];
  it.each(cases)('%d %s %d', (x, f, p, want) => {
    expect(formatFloat(x, f, p)).toBe(want);
  });
});

describe('Sprintf', () => {
  const cases: readonly (readonly [string, unknown[], string])[] = [
    ['%.2f', [3.14159], '3.14'],
    ['%0.0f', [42.5], '42'],
    ['%.4g', [1234.5678], '1235'],
    ['%8.3f|', [-3.14159], '  -3.142|'],
    ['%-8.2f|', [1.5], '1.50    |'],
    ['%08.2f', [-1.5], '-0001.50'],
    ['%+.1f % .1f', [1.25, 1.25], '+1.2  1.2'],
    ['%5.1f%%', [99.44], ' 99.4%'],
    ['%d|%5d|%-5d|%05d|%+d', [42n, 42n, 42n, -42n, 42n], '42|   42|42   |-0042|+42'],
    ['%x %X %#x %o %#o %b %c %q %U', [255n, 255n, 255n, 8n, 8n, 5n, 0x41n, 0x41n, 0x41n], "ff FF 0xff 10 010 101 A 'A' U+0041"],
    ['%s|%10s|%-10s|%.2s', ['go', 'go', 'go', 'golang'], 'go|        go|go        |go'],
    ['%q %x % x %X', ['a"b\n', 'hi', 'hi', 'hi'], '"a\\"b\\n" 6869 68 69 6869'],
    ['%t %v', [true, false], 'true false'],
    ['%v %v %v', [1.0, 1n, 'x'], '1 1 x'],
    ['%T %T %T %T %T', [1.5, 2n, 's', true, null], 'float64 int string bool <nil>'],
    ['%d', [1.5], '%!d(float64=1.5)'],
    ['%s', [3n], '%!s(int=3)'],
    ['%f', [3n], '%!f(int=3)'],
    ['%d %d', [1n], '1 %!d(MISSING)'],
    ['%d', [1n, 'x', 2.5], '1%!(EXTRA string=x, float64=2.5)'],
    ['100%', [], '100%!(NOVERB)'],
    ['%z', [1n], '%!z(int=1)'],
    ['%[2]s %[1]s', ['a', 'b'], 'b a'],
    ['%[3]d', [1n], '%!d(BADINDEX)'],
    ['%*d|%-*d', [4n, 7n, 3n, 7n], '   7|7  '],
    ['%.*f', [1n, 2.25], '2.2'],
    ['%v', [new GoMap(new Map([['b', '2'], ['a', '1']]), 'map[string]string', '')], 'map[a:1 b:2]'],
    ['%v', [new GoSlice(['a', 1.5, 3n])], '[a 1.5 3]'],
    ['%d', [new GoSlice([1n, 2n])], '[1 2]'],
    ['%#v', [new GoMap(new Map([['a', '1']]), 'map[string]string', '')], 'map[string]string{"a":"1"}'],
    ['%s', [null], '%!s(<nil>)'],
    ['%v', [null], '<nil>'],
  ];
  it.each(cases)('%s', (format, args, want) => {
    expect(sprintf(format, args as never)).toBe(want);
  });
});

describe('Sprint / Sprintln / formatValue', () => {
  it('adds spaces only between non-string operands', () => {
    expect(sprint(['a', 'b', 1n, 2n, 'c', 3.5])).toBe('ab1 2c3.5');
    expect(sprint([1n, 'a', 2n])).toBe('1a2');
  });
  it('always separates with Sprintln', () => {
    expect(sprintln(['a', 'b', 1n])).toBe('a b 1\n');
  });
  it('formats nested composites', () => {
    const m = new GoMap(new Map([['k', new GoSlice(['x', new GoMap(new Map([['z', 1.5]]))])]]));
    expect(formatValue(m, 'v')).toBe('map[k:[x map[z:1.5]]]');
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeHelp, escapeLabelValue, formatFloat, isValidLabelName, isValidMetricName } from '../../src/export/text-format.js';

describe('formatFloat (Go FormatFloat(f, g, -1, 64))', () => {
  it.each([
    [1, '1'],
    [0, '0'],
    [-0, '-0'],
    [0.1, '0.1'],
    [-2.5, '-2.5'],
    [100000, '100000'],
    [123456.7, '123456.7'],
    [999999, '999999'],
    [1e6, '1e+06'],
    [1234567, '1.234567e+06'],
    [12345678901, '1.2345678901e+10'],
    [1e21, '1e+21'],
    [1.5e300, '1.5e+300'],
    [0.0001, '0.0001'],
    [0.00012345, '0.00012345'],
    [0.00001, '1e-05'],
    [1.25e-7, '1.25e-07'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
  ])('%s → %s', (v, want) => {
    expect(formatFloat(v)).toBe(want);
  });

  it('property: round-trips every finite double', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (v) => {
        const s = formatFloat(v);
        expect(Object.is(Number(s), v)).toBe(true);
        expect(s).toMatch(/^-?\d(\.\d+)?e[+-]\d{2,3}$|^-?\d+(\.\d+)?$/);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('escaping and names', () => {
  it('escapes label values (backslash, quote, newline) and HELP (backslash, newline)', () => {
    expect(escapeLabelValue('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
    expect(escapeLabelValue('plain')).toBe('plain');
    expect(escapeHelp('a\\b"c\nd')).toBe('a\\\\b"c\\nd');
  });

  it('validates metric and label names for the 0.0.4 format', () => {
    expect(isValidMetricName('job:up:sum')).toBe(true);
    expect(isValidMetricName('1up')).toBe(false);
    expect(isValidMetricName('a.b')).toBe(false);
    expect(isValidLabelName('__x')).toBe(true);
    expect(isValidLabelName('a:b')).toBe(false);
  });
});

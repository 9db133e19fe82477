import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseByteSize, parseDuration } from '../../src/config/duration.js';

describe('parseDuration', () => {
  it('parses Prometheus durations to ms', () => {
    expect(parseDuration('15s')).toBe(15_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('100ms')).toBe(100);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('1w')).toBe(7 * 86_400_000);
    expect(parseDuration('1y')).toBe(365 * 86_400_000);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('1m30s500ms')).toBe(90_500);
  });

  it('rejects malformed strings', () => {
    for (const s of ['', '15', '1.5s', '-1s', 's', '1m1h', '1s1s', ' 1s', '1S', '1mo']) {
      expect(() => parseDuration(s), s).toThrow(/not a valid duration/);
    }
  });

  it('formatDuration round-trips', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 365 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
      { numRuns: 200 },
    );
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(0)).toBe('0s');
  });
});

describe('parseByteSize', () => {
  it('parses base-2 units', () => {
    expect(parseByteSize('1024')).toBe(1024);
    expect(parseByteSize('10MB')).toBe(10 * 1024 * 1024);
    expect(parseByteSize('512KiB')).toBe(512 * 1024);
    expect(() => parseByteSize('10 parsecs')).toThrow(/not a valid byte size/);
  });
});

/**
 * Postings unions at sizes that take the bitmap path, and the "every value matches" shortcut
 * of regex matchers, against brute force.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { labelsFrom, type Labels } from '../../../src/model/labels.js';
import { matchesAll, newMatcher } from '../../../src/model/matchers.js';
import { MemPostings, union } from '../../../src/storage/head/postings.js';

const sortedSet = fc.uniqueArray(fc.integer({ min: 1, max: 5000 }), { maxLength: 300 }).map((a) => a.sort((x, y) => x - y));

describe('union', () => {
  it('equals the sorted distinct refs of all lists (dense, sparse, empty lists)', () => {
    fc.assert(
      fc.property(fc.array(sortedSet, { minLength: 2, maxLength: 8 }), fc.integer({ min: 0, max: 4_000_000 }), (lists, shift) => {
        const shifted = lists.map((l, i) => (i === 1 ? l.map((x) => x + shift) : l));
        const want = [...new Set(shifted.flat())].sort((a, b) => a - b);
        expect(Array.from(union(shifted))).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });
  it('handles refs at 32-bit word boundaries', () => {
    expect(Array.from(union([[31, 32, 63, 64, ...Array.from({ length: 80 }, (_, i) => 100 + i)], [1, 33, 95, 96]]))).toEqual(
      [1, 31, 32, 33, 63, 64, 95, 96, ...Array.from({ length: 80 }, (_, i) => 100 + i)],
    );
  });
});

describe('MemPostings regex selection at scale', () => {
  const series: Labels[] = [];
  for (let i = 0; i < 600; i++) series.push(labelsFrom({ __name__: `metric_${i % 97}`, pod: `p${i % 211}`, ...(i % 50 === 7 ? {} : { zone: `z${i % 5}` }) }));
  const p = new MemPostings();
  series.forEach((ls, i) => p.add(i + 1, ls));
  const brute = (ms: ReturnType<typeof newMatcher>[]) => series.map((ls, i) => (matchesAll(ls, ms) ? i + 1 : 0)).filter((r) => r > 0);

  it.each([
    [['=~', '__name__', '.+']],
    [['=~', '__name__', 'metric_1.*']],
    [['=~', 'zone', '.+']],
    [['=~', 'zone', 'z[0-4]']],
    [['!~', 'zone', 'z1|z2'], ['=~', 'pod', 'p1.*']],
    [['=~', 'pod', '.*'], ['!=', 'zone', 'z3']],
  ] as const)('%j', (...ms) => {
    const matchers = ms.map(([t, n, v]) => newMatcher(t, n, v));
    expect(p.forMatchers(matchers)).toEqual(brute(matchers));
  });

  it('{__name__=~".+"} selects every series without handing out the internal list', () => {
    const all = p.forMatchers([newMatcher('=~', '__name__', '.+')]);
    expect(all.length).toBe(600);
    all.push(0);
    expect(p.forMatchers([newMatcher('=~', '__name__', '.+')]).length).toBe(600);
  });
});

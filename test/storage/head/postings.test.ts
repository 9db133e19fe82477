import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { labelsFrom, labelsGet, type Labels } from '../../../src/model/labels.js';
import { newMatcher, matchesAll, type MatchType } from '../../../src/model/matchers.js';
import { MemPostings, intersectSorted, subtractSorted, union } from '../../../src/storage/head/postings.js';

function build(series: Labels[]): MemPostings {
  const p = new MemPostings();
  series.forEach((ls, i) => p.add(i + 1, ls));
  return p;
}

const SERIES: Labels[] = [
  labelsFrom({ __name__: 'up', job: 'api', env: 'prod' }), // 1
  labelsFrom({ __name__: 'up', job: 'api', env: 'dev' }), // 2
  labelsFrom({ __name__: 'up', job: 'db' }), // 3 (no env)
  labelsFrom({ __name__: 'errors', job: 'api', env: 'prod' }), // 4
];

describe('MemPostings matchers', () => {
  const p = build(SERIES);
  const sel = (...ms: [MatchType, string, string][]) => p.forMatchers(ms.map(([t, n, v]) => newMatcher(t, n, v)));

  it('= intersects', () => {
    expect(sel(['=', '__name__', 'up'])).toEqual([1, 2, 3]);
    expect(sel(['=', '__name__', 'up'], ['=', 'env', 'prod'])).toEqual([1]);
    expect(sel(['=', '__name__', 'nope'])).toEqual([]);
  });
  it('!= keeps series without the label', () => {
    expect(sel(['=', '__name__', 'up'], ['!=', 'env', 'prod'])).toEqual([2, 3]);
  });
  it('=~ and !~', () => {
    expect(sel(['=~', 'env', 'pr.*'])).toEqual([1, 4]);
    expect(sel(['=', '__name__', 'up'], ['!~', 'env', 'pr.*'])).toEqual([2, 3]);
    expect(sel(['=~', 'job', 'api|db'], ['=', '__name__', 'up'])).toEqual([1, 2, 3]);
  });
  it('empty-matching regex also selects series without the label', () => {
    expect(sel(['=', '__name__', 'up'], ['=~', 'env', 'dev|'])).toEqual([2, 3]);
    expect(sel(['=', '__name__', 'up'], ['=', 'env', ''])).toEqual([3]);
  });
  it('{a!=""} selects series that have the label', () => {
    expect(sel(['!=', 'env', ''])).toEqual([1, 2, 4]);
    expect(sel(['=~', 'env', '.+'])).toEqual([1, 2, 4]);
  });
  it('only empty-matching matchers select from all series without crashing', () => {
    expect(sel(['=~', 'env', '.*'])).toEqual([1, 2, 3, 4]);
    expect(sel(['!=', 'job', 'api'])).toEqual([3]);
    expect(p.forMatchers([])).toEqual([1, 2, 3, 4]);
  });
  it('does not hand out internal lists', () => {
    const r = sel(['=', '__name__', 'up']);
    r.push(99);
    expect(sel(['=', '__name__', 'up'])).toEqual([1, 2, 3]);
  });
  it('delete removes refs everywhere', () => {
    const q = build(SERIES);
    q.delete([{ ref: 1, labels: SERIES[0]! }, { ref: 4, labels: SERIES[3]! }]);
    expect(q.allRefs()).toEqual([2, 3]);
    expect(q.forMatchers([newMatcher('=', 'env', 'prod')])).toEqual([]);
    expect(q.names()).toEqual(['__name__', 'env', 'job']);
    expect([...q.values('__name__').keys()]).toEqual(['up']);
  });
  it('keeps lists sorted when a lower ref arrives late', () => {
    const q = new MemPostings();
    q.add(5, labelsFrom({ a: 'x' }));
    q.add(3, labelsFrom({ a: 'x' }));
    q.add(7, labelsFrom({ a: 'x' }));
    expect(q.get('a', 'x')).toEqual([3, 5, 7]);
    expect(q.allRefs()).toEqual([3, 5, 7]);
  });

  it('agrees with brute-force matching on random data', () => {
    const vals = ['', 'a', 'b', 'ab'];
    const lsArb = fc.record({ x: fc.constantFrom(...vals), y: fc.constantFrom(...vals), __name__: fc.constantFrom('m', 'n') }).map((o) => labelsFrom(o));
    const mArb = fc.tuple(fc.constantFrom<MatchType>('=', '!=', '=~', '!~'), fc.constantFrom('x', 'y', 'z'), fc.constantFrom('', 'a', 'b', 'a|', 'a.*', '.+', '.*'));
    fc.assert(
      fc.property(fc.array(lsArb, { maxLength: 30 }), fc.array(mArb, { minLength: 1, maxLength: 3 }), (series, ms) => {
        const q = build(series);
        const matchers = ms.map(([t, n, v]) => newMatcher(t, n, v));
        const want = series.map((ls, i) => (matchesAll(ls, matchers) ? i + 1 : 0)).filter((r) => r > 0);
        expect(q.forMatchers(matchers)).toEqual(want);
        expect(labelsGet(series[0] ?? [], 'zz')).toBe('');
      }),
      { numRuns: 300 },
    );
  });
});

describe('sorted set helpers', () => {
  it('intersect / subtract / union', () => {
    expect(intersectSorted([1, 3, 5, 7], [3, 4, 5])).toEqual([3, 5]);
    expect(subtractSorted([1, 3, 5, 7], [3, 4, 5])).toEqual([1, 7]);
    expect(union([[1, 5], [2, 5, 9], []])).toEqual([1, 2, 5, 9]);
  });
});

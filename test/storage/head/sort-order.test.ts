/**
 * Sorted head selects through label-order ranks (sort-order.ts): the order must equal sorting by
 * `labelsCompare` whether all, none or some of the selected series are ranked, after re-ranking,
 * and after series are removed and their slots reused by new series.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FakeClock } from '../../../src/model/clock.js';
import { labelsCompare, labelsFrom, type Labels } from '../../../src/model/labels.js';
import { newMatcher } from '../../../src/model/matchers.js';
import { Head } from '../../../src/storage/head/index.js';

const T0 = 1_000_000;
const ALL = [newMatcher('=~', '__name__', '.+')];

async function add(head: Head, sets: Labels[], t: number): Promise<void> {
  const app = head.appender();
  for (const ls of sets) app.append(0, ls, t, 1);
  await app.commit();
}

function selected(head: Head, mint = 0, maxt = 1e15): Labels[] {
  return head
    .querier(mint, maxt)
    .select({ mint, maxt, matchers: ALL })
    .map((s) => s.labels);
}

const sortedCopy = (xs: Labels[]): Labels[] => [...xs].sort(labelsCompare);
const key = (ls: Labels) => ls.map((l) => `${l.name}=${l.value}`).join(',');

/** Label sets with names/values chosen so that prefixes, case and non-ASCII order matter. */
const labelSet = fc
  .record({
    name: fc.constantFrom('a', 'ab', 'B', 'é', 'up'),
    x: fc.option(fc.constantFrom('', '0', '1', '10', '9', 'z', 'Z', 'é'), { nil: undefined }),
    y: fc.option(fc.string({ maxLength: 3 }), { nil: undefined }),
  })
  .map((r) => {
    const o: Record<string, string> = { __name__: r.name };
    if (r.x !== undefined) o['x'] = r.x;
    if (r.y !== undefined) o['y'] = r.y;
    return labelsFrom(o);
  });

function unique(sets: Labels[]): Labels[] {
  const seen = new Map<string, Labels>();
  for (const s of sets) seen.set(key(s), s);
  return [...seen.values()];
}

describe('label-order ranks for sorted selects', () => {
  it('sorts like labelsCompare with ranked, unranked and mixed selections', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(labelSet, { maxLength: 60 }), fc.array(labelSet, { maxLength: 60 }), async (a, b) => {
        const head = new Head({ retentionMs: 1e12, clock: new FakeClock(T0) });
        const first = unique(a);
        await add(head, first, T0);
        // Nothing ranked yet (below the re-rank threshold): comparator sort.
        expect(selected(head).map(key)).toEqual(sortedCopy(first).map(key));
        // Force a ranking of everything there is, then add more: a mixed select merges.
        (head.reader.order as unknown as { rerank(): void }).rerank();
        const second = unique([...first, ...b]);
        await add(head, second, T0 + 1);
        expect(selected(head).map(key)).toEqual(sortedCopy(second).map(key));
      }),
      { numRuns: 60 },
    );
  });

  it('re-ranks once many unranked series are selected, and stays correct', async () => {
    const head = new Head({ retentionMs: 1e12, clock: new FakeClock(T0) });
    const sets = Array.from({ length: 3000 }, (_, i) => labelsFrom({ __name__: `m${i % 7}`, i: String((i * 7919) % 3001) }));
    await add(head, sets, T0);
    const order = head.reader.order;
    expect(order.rankings).toBe(0);
    expect(selected(head).map(key)).toEqual(sortedCopy(sets).map(key));
    expect(order.rankings).toBe(1);
    expect(order.rankedSeries).toBe(3000);
    // A few new series: merged in without a new ranking.
    const more = Array.from({ length: 50 }, (_, i) => labelsFrom({ __name__: `m${i % 3}`, i: `new-${i}` }));
    await add(head, more, T0 + 1);
    expect(selected(head).map(key)).toEqual(sortedCopy([...sets, ...more]).map(key));
    expect(order.rankings).toBe(1);
  });

  it('sorts a select of many new series without ranking a large head again', async () => {
    const head = new Head({ retentionMs: 1e12, clock: new FakeClock(T0) });
    const sets = Array.from({ length: 20_000 }, (_, i) => labelsFrom({ __name__: 'old', i: String((i * 7919) % 20_011) }));
    await add(head, sets, T0);
    expect(selected(head)).toHaveLength(20_000);
    expect(head.reader.order.rankings).toBe(1);
    const fresh = Array.from({ length: 1500 }, (_, i) => labelsFrom({ __name__: 'fresh', i: String((i * 31) % 1511) }));
    await add(head, fresh, T0 + 1);
    const only = head
      .querier(0, 1e15)
      .select({ mint: 0, maxt: 1e15, matchers: [newMatcher('=', '__name__', 'fresh')] })
      .map((s) => key(s.labels));
    expect(only).toEqual(sortedCopy(fresh).map(key));
    expect(head.reader.order.rankings).toBe(1);
    // Once the head has grown by an eighth, a select meeting many new series ranks again.
    await add(head, Array.from({ length: 1200 }, (_, i) => labelsFrom({ __name__: 'fresh', i: `b${i}` })), T0 + 2);
    expect(selected(head)).toHaveLength(22_700);
    expect(head.reader.order.rankings).toBe(1);
    const more = Array.from({ length: 1000 }, (_, i) => labelsFrom({ __name__: 'fresh', i: `c${i}` }));
    await add(head, more, T0 + 3);
    const all = head.querier(0, 1e15).select({ mint: 0, maxt: 1e15, matchers: [newMatcher('=', '__name__', 'fresh')] });
    expect(all).toHaveLength(3700);
    expect(head.reader.order.rankings).toBe(2);
  });

  it('does not trust the rank of a slot reused by a new series', async () => {
    const clock = new FakeClock(T0);
    const head = new Head({ retentionMs: 1e12, clock });
    const old = Array.from({ length: 2000 }, (_, i) => labelsFrom({ __name__: 'old', i: String(i).padStart(4, '0') }));
    const keep = Array.from({ length: 2000 }, (_, i) => labelsFrom({ __name__: 'keep', i: String(i).padStart(4, '0') }));
    await add(head, old, T0);
    await add(head, keep, T0 + 10_000);
    expect(selected(head).length).toBe(4000);
    expect(head.reader.order.rankings).toBe(1);
    // Drop the old series; new ones take their slots (in reverse label order of the old ranks).
    expect(head.truncate(T0 + 5_000).length).toBe(2000);
    const fresh = Array.from({ length: 300 }, (_, i) => labelsFrom({ __name__: 'fresh', i: String(1000 - i) }));
    await add(head, fresh, T0 + 20_000);
    expect(selected(head).map(key)).toEqual(sortedCopy([...keep, ...fresh]).map(key));
    expect(selected(head, T0 + 15_000).map(key)).toEqual(sortedCopy(fresh).map(key));
  });
});

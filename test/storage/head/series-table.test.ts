import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/model/clock.js';
import { labelsFrom, type Labels } from '../../../src/model/labels.js';
import { newMatcher } from '../../../src/model/matchers.js';
import { Head } from '../../../src/storage/head/index.js';
import { k8sSeries, nextValue } from '../../../bench/lib.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;
const lbl = (i: number): Labels => labelsFrom({ __name__: 'm', id: String(i), pod: `pod-${i % 7}` });

function newHead(chunkSamples?: number): { head: Head; clock: FakeClock } {
  const clock = new FakeClock(T0);
  return { head: new Head({ retentionMs: 100 * HOUR, clock, ...(chunkSamples !== undefined ? { chunkSamples } : {}) }), clock };
}

/** Sum of per-series chunk bytes and samples, read through the series table. */
function perSeriesTotals(head: Head): { bytes: number; samples: number } {
  let bytes = 0;
  let samples = 0;
  head.series.forEach((ix) => {
    bytes += head.series.floatBytes(ix);
    samples += head.series.floatSamples(ix);
  });
  return { bytes, samples };
}

describe('struct-of-arrays series table', () => {
  it('keeps thousands of series intact across column growth, with stats matching per-series sums', async () => {
    const { head } = newHead(50);
    const N = 3000;
    const refs = new Array<number>(N).fill(0);
    for (let r = 0; r < 130; r++) {
      const app = head.appender();
      for (let i = 0; i < N; i++) refs[i] = app.append(refs[i]!, lbl(i), T0 + r * 15_000 + (i % 3), i % 5 === 0 ? 42 : i * 1000 + r * (i % 11));
      await app.commit();
    }
    const st = head.stats();
    expect(st.series).toBe(N);
    expect(st.samples).toBe(N * 130);
    expect(perSeriesTotals(head)).toEqual({ bytes: st.chunkBytes, samples: st.samples });
    for (const i of [0, 1, 999, 2047, 2999]) {
      const [s] = head.querier(-Infinity, Infinity).select({ mint: -Infinity, maxt: Infinity, matchers: [newMatcher('=', 'id', String(i))] });
      expect(s!.labels).toEqual(lbl(i));
      const x = s!.samples();
      expect(Array.from(x.t)).toEqual(Array.from({ length: 130 }, (_, r) => T0 + r * 15_000 + (i % 3)));
      expect(Array.from(x.v)).toEqual(Array.from({ length: 130 }, (_, r) => (i % 5 === 0 ? 42 : i * 1000 + r * (i % 11))));
    }
  });

  it('interns label strings once and releases them with the last series that uses them', async () => {
    const { head, clock } = newHead();
    const app = head.appender();
    for (let i = 0; i < 70; i++) app.append(0, lbl(i), T0, 1);
    await app.commit();
    // __name__, m, id, pod, 70 ids, 7 pods
    expect(head.series.symbols.size).toBe(4 + 70 + 7);
    clock.advance(HOUR);
    const b = head.appender();
    for (let i = 0; i < 7; i++) b.append(0, lbl(i), T0 + HOUR, 2);
    await b.commit();
    expect(head.truncate(T0 + 1)).toHaveLength(63);
    expect(head.series.symbols.size).toBe(4 + 7 + 7);
    expect(head.series.size).toBe(7);
    expect(perSeriesTotals(head)).toEqual({ bytes: head.stats().chunkBytes, samples: head.stats().samples });
  });

  it('a selected series whose slot was truncated and reused reads as empty, not as another series', async () => {
    const { head, clock } = newHead();
    const a = head.appender();
    a.append(0, lbl(1), T0, 1);
    await a.commit();
    const [old] = head.querier(-Infinity, Infinity).select({ mint: -Infinity, maxt: Infinity, matchers: [newMatcher('=', 'id', '1')] });
    clock.advance(HOUR);
    head.truncate(T0 + 1);
    const b = head.appender();
    b.append(0, lbl(2), T0 + HOUR, 2);
    await b.commit();
    expect(head.series.size).toBe(1);
    expect(old!.labels).toEqual(lbl(1));
    expect(Array.from(old!.samples().t)).toEqual([]);
  });

  it('does not keep a series created by an append that was rejected as too old', async () => {
    const { head } = newHead();
    const a = head.appender();
    expect(a.append(0, lbl(1), T0 - 200 * HOUR, 1)).toBe(0);
    expect(head.series.size).toBe(0);
    expect(head.series.symbols.size).toBe(0);
    expect(a.append(0, lbl(1), T0, 1)).toBeGreaterThan(0);
    await a.commit();
    expect(head.series.size).toBe(1);
  });

  it('meets the memory budget on the k8s benchmark data: < 1.4 bytes/sample and ~120 bytes of columns per series', async () => {
    const { head } = newHead();
    const series = k8sSeries(2000);
    const values = new Float64Array(series.length);
    const refs = new Array<number>(series.length).fill(0);
    for (let r = 0; r < 240; r++) {
      const app = head.appender();
      series.forEach((s, i) => {
        values[i] = nextValue(values[i]!, s.counter, i, r);
        refs[i] = app.append(refs[i]!, s.labels, T0 + r * 15_000 + (i % 1000), values[i]!);
      });
      await app.commit();
    }
    const st = head.stats();
    expect(st.chunkBytes / st.samples).toBeLessThan(1.4);
    const mem = head.series.memory();
    expect(mem.columnsPerSlot).toBeLessThanOrEqual(120);
    // Open chunks were all sealed at 240 samples: their regions went back to the pool.
    expect(mem.openPoolUsed).toBe(0);
    // Chunk slabs hold little more than the chunk bytes.
    expect(mem.chunkSlabs).toBeLessThan(st.chunkBytes * 1.1 + 256 * 1024);
  });

  it('does not grow under series churn: slots, symbols, label words and chunk slabs are reused', async () => {
    const { head, clock } = newHead(20);
    const sizes: Record<string, number>[] = [];
    for (let round = 0; round < 8; round++) {
      const base = T0 + round * HOUR;
      clock.set(base);
      for (let r = 0; r < 40; r++) {
        const app = head.appender();
        for (let i = 0; i < 500; i++) app.append(0, labelsFrom({ __name__: 'churn', pod: `p-${round}-${i}` }), base + r * 1000, r * i);
        await app.commit();
      }
      head.truncate(base - 1);
      expect(head.series.size).toBe(500);
      sizes.push({ ...head.series.memory(), symbols: head.series.symbols.size });
    }
    const first = sizes[1]!;
    const last = sizes[sizes.length - 1]!;
    expect(last.slots).toBe(first.slots);
    expect(last.labels).toBe(first.labels);
    expect(last.chunkMeta).toBe(first.chunkMeta);
    expect(last.chunkSlabs).toBeLessThanOrEqual(first.chunkSlabs!);
    expect(last.symbols).toBe(2 + 500 + 1);
    expect(head.postings.pairs).toBe(1 + 500);
  });
});

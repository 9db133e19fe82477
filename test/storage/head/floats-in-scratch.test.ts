/**
 * `floatsIn` decodes into shared output buffers: results of consecutive reads must not
 * alias each other, and a short window at the end of a long chunk yields exactly its samples.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/model/clock.js';
import { labelsFrom } from '../../../src/model/labels.js';
import { newMatcher } from '../../../src/model/matchers.js';
import { Head } from '../../../src/storage/head/index.js';

const T0 = 1_700_000_000_000;

describe('HeadSeries samples over a short window', () => {
  it('returns independent, exactly sized columns per series', async () => {
    const head = new Head({ retentionMs: 1e12, clock: new FakeClock(T0) });
    const n = 481;
    let refA = 0;
    let refB = 0;
    for (let k = 0; k < n; k++) {
      const app = head.appender();
      refA = app.append(refA, labelsFrom({ __name__: 'x', s: 'a' }), T0 + k * 15_000, k);
      refB = app.append(refB, labelsFrom({ __name__: 'x', s: 'b' }), T0 + k * 15_000, 1000 + 2 * k);
      await app.commit();
    }
    const end = T0 + (n - 1) * 15_000;
    const q = head.querier(end - 300_000 + 1, end);
    const ss = q.select({ mint: end - 300_000 + 1, maxt: end, matchers: [newMatcher('=', '__name__', 'x')] });
    expect(ss.map((s) => s.labels.find((l) => l.name === 's')?.value)).toEqual(['a', 'b']);
    const a = ss[0]!.samples();
    const b = ss[1]!.samples();
    // (end-5m, end] holds 20 samples at 15 s spacing.
    expect(a.t.length).toBe(20);
    expect(b.t.length).toBe(20);
    // Views of shared output buffers: never overlapping another read's samples.
    const overlap = (x: Float64Array, y: Float64Array) => x.buffer === y.buffer && x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
    expect([overlap(a.t, b.t), overlap(a.v, b.v), overlap(a.t, b.v), overlap(a.v, b.t)]).toEqual([false, false, false, false]);
    for (let i = 0; i < 20; i++) {
      const k = n - 20 + i;
      expect(a.t[i]).toBe(T0 + k * 15_000);
      expect(a.v[i]).toBe(k);
      expect(b.t[i]).toBe(T0 + k * 15_000);
      expect(b.v[i]).toBe(1000 + 2 * k);
    }
  });
});

/**
 * The head querier's full decode (bulk chunk decoder) against the appended samples: for random
 * series cut into chunks of several sizes and random windows, `samples()` returns exactly the
 * samples inside [mint, maxt], in order, bit-exact.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FakeClock } from '../../../src/model/clock.js';
import { labelsFrom } from '../../../src/model/labels.js';
import { newMatcher } from '../../../src/model/matchers.js';
import { Head } from '../../../src/storage/head/index.js';

const T0 = 1_700_000_000_000;

describe('HeadQuerier window decode', () => {
  it('returns exactly the appended samples inside the window, across sealed and open chunks', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            gaps: fc.array(fc.oneof(fc.constant(15_000), fc.integer({ min: 1, max: 40_000 })), { minLength: 1, maxLength: 60 }),
            vals: fc.array(fc.oneof(fc.integer({ min: -1e6, max: 1e6 }), fc.double({ noNaN: true }), fc.integer({ min: 0, max: 1e6 }).map((x) => x / 100)), { minLength: 1, maxLength: 7 }),
          }),
          { minLength: 1, maxLength: 4 },
        ),
        fc.constantFrom(3, 16, 120),
        fc.integer({ min: -20_000, max: 1_200_000 }),
        fc.integer({ min: 0, max: 600_000 }),
        async (series, chunkSamples, lo, len) => {
          const head = new Head({ retentionMs: 1e12, clock: new FakeClock(T0), chunkSamples });
          const app = head.appender();
          const want: { t: number[]; v: number[] }[] = [];
          const mint = T0 + lo;
          const maxt = mint + len;
          series.forEach((s, i) => {
            let t = T0;
            const w = { t: [] as number[], v: [] as number[] };
            s.gaps.forEach((g, k) => {
              t += g;
              const v = s.vals[k % s.vals.length]!;
              app.append(0, labelsFrom({ __name__: 'm', i: String(i).padStart(2, '0') }), t, v);
              if (t >= mint && t <= maxt) {
                w.t.push(t);
                w.v.push(v);
              }
            });
            want.push(w);
          });
          await app.commit();
          const got = head
            .querier(mint, maxt)
            .select({ mint, maxt, matchers: [newMatcher('=', '__name__', 'm')] })
            .map((s) => ({ i: Number(s.labels[1]!.value), d: s.samples() }));
          const nonEmpty = want.map((w, i) => ({ w, i })).filter((x) => x.w.t.length > 0);
          expect(got.map((g) => g.i)).toEqual(nonEmpty.map((x) => x.i));
          for (const g of got) {
            const w = want[g.i]!;
            expect(Array.from(g.d.t)).toEqual(w.t);
            expect(Array.from(g.d.v)).toEqual(w.v);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});

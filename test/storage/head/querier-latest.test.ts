/**
 * The head querier's read-path shortcuts against the plain decode: the `latestOnly` select
 * returns exactly the newest float sample of the full select (bit-exact, staleness markers
 * included), and series presence decided from chunk bounds equals presence by decoding.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FakeClock } from '../../../src/model/clock.js';
import { labelsFrom } from '../../../src/model/labels.js';
import { newMatcher } from '../../../src/model/matchers.js';
import { STALE_NAN, isStaleNaN } from '../../../src/model/samples.js';
import { Head } from '../../../src/storage/head/index.js';

const T0 = 1_000_000;

/** A head with `n` series `m{i}`, series i holding samples at the given gaps (chunks of 4). */
async function build(series: { gaps: number[]; vals: (number | 'stale')[] }[]): Promise<Head> {
  const head = new Head({ retentionMs: 1e12, clock: new FakeClock(T0), chunkSamples: 4 });
  const app = head.appender();
  series.forEach((s, i) => {
    let t = T0;
    const ls = labelsFrom({ __name__: 'm', i: String(i) });
    s.gaps.forEach((g, k) => {
      t += g;
      // 'stale' stands for the marker: a JS array of doubles may canonicalise its NaN payload.
      const v = s.vals[k % s.vals.length]!;
      app.append(0, ls, t, v === 'stale' ? STALE_NAN : v);
    });
  });
  await app.commit();
  return head;
}

const sel = (head: Head, mint: number, maxt: number, latestOnly: boolean) =>
  head
    .querier(mint, maxt)
    .select({ mint, maxt, matchers: [newMatcher('=', '__name__', 'm')], latestOnly })
    .map((s) => {
      const d = s.samples();
      // Values stay in their typed array: copying NaNs into a JS array may canonicalise them.
      return { labels: s.labels, t: Array.from(d.t), v: d.v };
    });

/** Bit pattern of element `i` of a Float64Array (NaN payloads included). */
const bits = (a: Float64Array, i: number): bigint => new BigUint64Array(a.buffer, a.byteOffset, a.length)[i]!;

describe('HeadQuerier latestOnly and presence', () => {
  it('returns the newest sample in range for windows before, inside and after the data', async () => {
    const head = await build([
      { gaps: [10, 10, 10, 10, 10, 10, 10, 10, 10, 10], vals: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10] },
      { gaps: [5, 100], vals: [7, 'stale'] },
    ]);
    // series 0: t = T0+10 … T0+100 (chunks of 4: [10..40] [50..80] open [90,100])
    const at = (mint: number, maxt: number) => sel(head, T0 + mint, T0 + maxt, true).map((s) => [s.labels[1]!.value, s.t.map((t) => t - T0), Array.from(s.v)]);
    expect(at(0, 1000)).toEqual([['0', [100], [10]], ['1', [105], [NaN]]]);
    const stale = sel(head, T0, T0 + 1000, true)[1]!.v;
    expect(isStaleNaN(stale[0]!)).toBe(true);
    expect(bits(stale, 0)).toBe(bits(Float64Array.of(STALE_NAN), 0));
    expect(at(0, 45)).toEqual([['0', [40], [4]], ['1', [5], [7]]]);
    expect(at(41, 49)).toEqual([]);
    expect(at(55, 85)).toEqual([['0', [80], [8]]]);
    expect(at(0, 9)).toEqual([['1', [5], [7]]]);
    expect(at(101, 104)).toEqual([]);
    expect(at(95, 95)).toEqual([]);
    expect(at(90, 90)).toEqual([['0', [90], [9]]]);
  });

  it('equals the last sample of the full select on random data and windows', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            gaps: fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 0, maxLength: 30 }),
            vals: fc.array(fc.oneof(fc.double(), fc.constant('stale' as const)), { minLength: 1, maxLength: 5 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
        fc.integer({ min: -20, max: 900 }),
        fc.integer({ min: 0, max: 400 }),
        async (series, lo, len) => {
          const head = await build(series);
          const mint = T0 + lo;
          const maxt = mint + len;
          const full = sel(head, mint, maxt, false);
          const latest = sel(head, mint, maxt, true);
          expect(latest.map((s) => s.labels)).toEqual(full.map((s) => s.labels));
          latest.forEach((s, i) => {
            const f = full[i]!;
            expect(s.t).toEqual([f.t[f.t.length - 1]]);
            expect(s.v.length).toBe(1);
            expect(bits(s.v, 0)).toBe(bits(f.v, f.v.length - 1));
          });
          // Presence (chunk-bound shortcut) equals presence by decoding: every selected series
          // has samples, and no series with samples in range is missing.
          for (const s of full) expect(s.t.length).toBeGreaterThan(0);
          let want = 0;
          series.forEach((s) => {
            let t = T0;
            if (s.gaps.some((g) => ((t += g), t >= mint && t <= maxt))) want++;
          });
          expect(full.length).toBe(want);
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('shared label objects', () => {
  it('select labels equal the stored label sets after series are truncated and symbol ids reused', async () => {
    const head = new Head({ retentionMs: 1e12, clock: new FakeClock(T0), chunkSamples: 4 });
    const put = async (t: number, sets: Record<string, string>[]) => {
      const app = head.appender();
      for (const o of sets) app.append(0, labelsFrom(o), t, 1);
      await app.commit();
    };
    await put(T0, [
      { __name__: 'old', job: 'a', pod: 'p1' },
      { __name__: 'old', job: 'b', pod: 'p2' },
    ]);
    const all = () => head.querier(0, Infinity).select({ mint: 0, maxt: Infinity, matchers: [newMatcher('=~', '__name__', '.+')], latestOnly: true });
    expect(all().map((s) => s.labels)).toEqual([labelsFrom({ __name__: 'old', job: 'a', pod: 'p1' }), labelsFrom({ __name__: 'old', job: 'b', pod: 'p2' })]);
    head.truncate(T0 + 1); // drops both series and frees their symbols
    // New strings may take the freed ids, under other names too.
    await put(T0 + 10, [
      { __name__: 'new', pod: 'a', job: 'p9' },
      { __name__: 'new', zone: 'b', job: 'x' },
    ]);
    const got = all().map((s) => s.labels);
    expect(got).toEqual([labelsFrom({ __name__: 'new', job: 'p9', pod: 'a' }), labelsFrom({ __name__: 'new', job: 'x', zone: 'b' })]);
    // The label objects are shared and frozen: a consumer cannot corrupt another series' labels.
    expect(Object.isFrozen(got[0]![0])).toBe(true);
    expect(all()[0]!.labels[0]).toBe(got[1]![0]);
  });
});

/**
 * The decoded-chunk cache (decoded-cache.ts): on its own (keying, ring bounds, disabling) and
 * through the head, where every read must equal the appended data bit for bit while the cache
 * serves hits, across appends that seal new chunks, rejected out-of-order samples, truncation
 * and slot reuse.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Registry } from 'prom-client';
import { FakeClock } from '../../../src/model/clock.js';
import { labelsFrom } from '../../../src/model/labels.js';
import { newMatcher } from '../../../src/model/matchers.js';
import { STALE_NAN } from '../../../src/model/samples.js';
import { XorChunk, type ChunkRef } from '../../../src/storage/chunkenc/index.js';
import { DecodedChunkCache } from '../../../src/storage/head/decoded-cache.js';
import { Head } from '../../../src/storage/head/index.js';

const T0 = 1_000_000;

/** 'stale' stands for the marker: a JS array of doubles may canonicalise its NaN payload. */
function chunkOf(ts: number[], vs: (number | 'stale')[]): ChunkRef {
  const c = new XorChunk(16);
  ts.forEach((t, i) => {
    const v = vs[i]!;
    c.append(t, v === 'stale' ? STALE_NAN : v);
  });
  const buf = c.bytes().slice();
  return { buf, off: 0, len: buf.length, n: ts.length, minT: ts[0]! };
}

/** Reads chunk `c` of slot `ix` / series `ref` through the cache: [timestamps, values]. */
function read(cache: DecodedChunkCache, ix: number, ref: number, c: ChunkRef, mint = -Infinity, maxt = Infinity): [number[], number[]] {
  const t = new Float64Array(c.n);
  const v = new Float64Array(c.n);
  const k = cache.copyInto(ix, ref, c, t, new Uint32Array(v.buffer), 0, mint, maxt);
  expect(k).toBeGreaterThanOrEqual(0);
  return [Array.from(t.subarray(0, k)), Array.from(v.subarray(0, k))];
}

describe('DecodedChunkCache', () => {
  it('hits for the same key, copies only the window, and misses for another series or chunk', () => {
    const cache = new DecodedChunkCache(1 << 20);
    const a = chunkOf([10, 20, 30, 40], [1, 2, 3, 4]);
    expect(read(cache, 3, 7, a)).toEqual([[10, 20, 30, 40], [1, 2, 3, 4]]);
    expect(cache.stats).toMatchObject({ hits: 0, misses: 1 });
    expect(read(cache, 3, 7, a, 15, 30)).toEqual([[20, 30], [2, 3]]);
    expect(read(cache, 3, 7, a, 41, 50)).toEqual([[], []]);
    expect(cache.stats).toMatchObject({ hits: 2, misses: 1 });
    // Same slot, same first timestamp and length, but another series (the slot was reused).
    const b = chunkOf([10, 20, 30, 40], [5, 6, 7, 8]);
    expect(read(cache, 3, 8, b)).toEqual([[10, 20, 30, 40], [5, 6, 7, 8]]);
    // A newer chunk of the same series replaces the entry.
    const c = chunkOf([50, 60, 70, 80], [9, 10, 11, 12]);
    expect(read(cache, 3, 8, c, 55, 75)).toEqual([[60, 70], [10, 11]]);
    expect(cache.stats).toMatchObject({ hits: 2, misses: 3 });
    cache.drop(3);
    read(cache, 3, 8, c);
    expect(cache.stats.misses).toBe(4);
  });

  it('keeps the part of the chunk reads need, extending it for a wider window', () => {
    const cache = new DecodedChunkCache(1 << 20);
    const c = chunkOf(Array.from({ length: 100 }, (_, i) => i * 10), Array.from({ length: 100 }, (_, i) => i));
    const bytes0 = cache.stats.bytes;
    expect(read(cache, 0, 1, c, 900, 2000)[1]).toEqual([90, 91, 92, 93, 94, 95, 96, 97, 98, 99]);
    // A later, equally wide window (the next evaluation) and a narrower one are served.
    expect(read(cache, 0, 1, c, 905, 2000)[1]).toEqual([91, 92, 93, 94, 95, 96, 97, 98, 99]);
    expect(read(cache, 0, 1, c, 950, 960)[1]).toEqual([95, 96]);
    expect(cache.stats).toMatchObject({ hits: 2, misses: 1 });
    // A wider one decodes again and keeps more; then both are served.
    expect(read(cache, 0, 1, c, 495, 505)[1]).toEqual([50]);
    expect(read(cache, 0, 1, c, 500, 2000)[1]).toHaveLength(50);
    expect(read(cache, 0, 1, c, 900, 2000)[1]).toHaveLength(10);
    expect(cache.stats).toMatchObject({ hits: 4, misses: 2 });
    expect(read(cache, 0, 1, c)[1]).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(read(cache, 0, 1, c, -5, 5)[1]).toEqual([0]);
    expect(cache.stats).toMatchObject({ hits: 5, misses: 3 });
    expect(cache.stats.bytes).toBeGreaterThan(bytes0);
  });

  it('serves the same window again when it starts between samples', () => {
    const cache = new DecodedChunkCache(1 << 20);
    const c = chunkOf(Array.from({ length: 100 }, (_, i) => i * 10), Array.from({ length: 100 }, (_, i) => i));
    expect(read(cache, 0, 1, c, 895, 2000)[1]).toHaveLength(10);
    expect(read(cache, 0, 1, c, 895, 2000)[1]).toHaveLength(10);
    expect(read(cache, 0, 1, c, 891, 2000)[1]).toHaveLength(10);
    expect(cache.stats).toMatchObject({ hits: 2, misses: 1 });
    // 890 is a sample the entry does not hold.
    expect(read(cache, 0, 1, c, 890, 2000)[1]).toHaveLength(11);
    expect(cache.stats).toMatchObject({ hits: 2, misses: 2 });
  });

  it('keeps its entries while the slab grows', () => {
    const cache = new DecodedChunkCache(64 * 1024 * 16);
    const chunks = Array.from({ length: 200 }, (_, s) => chunkOf(Array.from({ length: 100 }, (_, i) => i), Array.from({ length: 100 }, (_, i) => s * 1000 + i)));
    const all = (s: number) => Array.from({ length: 100 }, (_, i) => s * 1000 + i);
    chunks.forEach((c, s) => expect(read(cache, s, s + 1, c)[1]).toEqual(all(s)));
    const grown = cache.stats.bytes;
    chunks.forEach((c, s) => expect(read(cache, s, s + 1, c)[1]).toEqual(all(s)));
    expect(cache.stats).toMatchObject({ hits: 200, misses: 200, bytes: grown });
  });

  it('keeps values bit-exact (staleness markers)', () => {
    const cache = new DecodedChunkCache(1 << 20);
    const c = chunkOf([1, 2, 3], ['stale', 1, 'stale']);
    for (let i = 0; i < 2; i++) {
      const v = new Float64Array(3);
      cache.copyInto(0, 1, c, new Float64Array(3), new Uint32Array(v.buffer), 0, -Infinity, Infinity);
      const got = new BigUint64Array(v.buffer);
      const want = new BigUint64Array(Float64Array.of(STALE_NAN).buffer)[0]!;
      expect([got[0], got[2]]).toEqual([want, want]);
    }
  });

  it('stays within its bound and forgets what the ring overwrote', () => {
    const max = 64 * 1024;
    const cache = new DecodedChunkCache(max);
    const chunks = Array.from({ length: 400 }, (_, s) => chunkOf(Array.from({ length: 100 }, (_, i) => i * 10), Array.from({ length: 100 }, (_, i) => s * 1000 + i)));
    for (let round = 0; round < 2; round++) {
      chunks.forEach((c, s) => {
        const [, v] = read(cache, s, s + 1, c, 500, 520);
        expect(v).toEqual([s * 1000 + 50, s * 1000 + 51, s * 1000 + 52]);
      });
    }
    // 400 chunks of 100 samples do not fit in 4096 samples: the second round misses throughout.
    expect(cache.stats.misses).toBe(800);
    // Slab, per-slot entries (36 bytes each, at least 1024 slots) and one chunk's decode buffers.
    expect(cache.stats.bytes).toBeLessThanOrEqual(max + 1024 * 36 + 100 * 16);
    // The most recent ones are still there.
    read(cache, 399, 400, chunks[399]!, 500, 520);
    expect(cache.stats.hits).toBe(1);
  });

  it('misses once the ring has come round to an entry, however recently it was written', () => {
    const cache = new DecodedChunkCache(4096 * 16);
    const chunk = (s: number) => chunkOf(Array.from({ length: 100 }, (_, i) => i), Array.from({ length: 100 }, (_, i) => s * 1000 + i));
    read(cache, 0, 1, chunk(0));
    // 40 more chunks fill the 4096-sample ring up to 4100: the 41st lands where chunk 0 was.
    for (let s = 1; s <= 40; s++) read(cache, s, s + 1, chunk(s));
    expect(read(cache, 1, 2, chunk(1), 5, 6)[1]).toEqual([1005, 1006]);
    expect(cache.stats.hits).toBe(1);
    expect(read(cache, 0, 1, chunk(0), 5, 6)[1]).toEqual([5, 6]);
    expect(cache.stats.hits).toBe(1);
  });

  it('declines chunks when disabled or too large for the bound', () => {
    const off = new DecodedChunkCache(0);
    const c = chunkOf([1, 2], [1, 2]);
    expect(off.copyInto(0, 1, c, new Float64Array(2), new Uint32Array(4), 0, -Infinity, Infinity)).toBe(-1);
    const small = new DecodedChunkCache(16 * 4);
    expect(small.copyInto(0, 1, c, new Float64Array(2), new Uint32Array(4), 0, -Infinity, Infinity)).toBe(-1);
  });
});

describe('decoded-chunk cache in the head', () => {
  /** Everything appended so far to series i: its timestamps and values. */
  type Model = { t: number[]; v: number[] }[];

  function check(head: Head, model: Model, mint: number, maxt: number): void {
    const got = head
      .querier(mint, maxt)
      .select({ mint, maxt, matchers: [newMatcher('=', '__name__', 'm')] })
      .map((s) => {
        const d = s.samples();
        return { i: Number(s.labels.find((l) => l.name === 'i')!.value), t: Array.from(d.t), v: Array.from(d.v) };
      });
    const want = model
      .map((s, i) => {
        const keep = s.t.map((t, k) => [t, k] as const).filter(([t]) => t >= mint && t <= maxt);
        return { i, t: keep.map(([t]) => t), v: keep.map(([, k]) => s.v[k]!) };
      })
      .filter((s) => s.t.length > 0)
      .sort((a, b) => String(a.i).localeCompare(String(b.i)));
    expect(got).toEqual(want);
  }

  it('reads equal the appended data across appends, rejected out-of-order samples and truncation', async () => {
    const CHUNK = 5;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.tuple(fc.integer({ min: -5, max: 30 }), fc.integer({ min: -100, max: 100 })), { minLength: 1, maxLength: 12 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 200 })), { minLength: 1, maxLength: 6 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 200 }),
        async (batches, windows, truncateAfter, cutAt) => {
          const head = new Head({ retentionMs: 1e12, clock: new FakeClock(T0), chunkSamples: CHUNK });
          const model: Model = [0, 1, 2].map(() => ({ t: [], v: [] }));
          const last = [0, 0, 0];
          for (const [bi, batch] of batches.entries()) {
            const app = head.appender();
            for (const [k, [gap, v]] of batch.entries()) {
              const i = (bi + k) % 3;
              // gap ≤ 0 is out of order or a duplicate (unless the series is new): the head
              // rejects it, the model ignores it.
              const t = last[i]! + gap;
              app.append(0, labelsFrom({ __name__: 'm', i: String(i) }), T0 + t, v);
              if (gap > 0 || model[i]!.t.length === 0) {
                last[i] = t;
                model[i]!.t.push(T0 + t);
                model[i]!.v.push(v);
              }
            }
            await app.commit();
            for (const [a, w] of windows) for (let r = 0; r < 2; r++) check(head, model, T0 + a, T0 + a + w);
            if (bi === truncateAfter) {
              // Whole sealed chunks (CHUNK samples each) ending before the cut go; the open one
              // only when nothing sealed is left and it ends before the cut too.
              const cut = T0 + cutAt;
              head.truncate(cut);
              for (const s of model) {
                let drop = 0;
                while (drop + CHUNK <= s.t.length && s.t[drop + CHUNK - 1]! < cut) drop += CHUNK;
                if (drop + CHUNK > s.t.length && (drop === s.t.length || s.t[s.t.length - 1]! < cut)) drop = s.t.length;
                s.t.splice(0, drop);
                s.v.splice(0, drop);
              }
              for (const [a, w] of windows) check(head, model, T0 + a, T0 + a + w);
            }
          }
        },
      ),
      { numRuns: 100 },
    );
  });

  it('serves repeated reads of the newest sealed chunk from the cache', async () => {
    const head = new Head({ retentionMs: 1e12, clock: new FakeClock(T0), chunkSamples: 10 });
    const app = head.appender();
    for (let k = 0; k < 25; k++) app.append(0, labelsFrom({ __name__: 'm', i: '0' }), T0 + k * 10, k);
    await app.commit();
    const model: Model = [{ t: Array.from({ length: 25 }, (_, k) => T0 + k * 10), v: Array.from({ length: 25 }, (_, k) => k) }];
    const stats = head.series.decoded.stats;
    check(head, model, T0 + 150, T0 + 300);
    expect(stats).toMatchObject({ hits: 0, misses: 1 });
    check(head, model, T0 + 170, T0 + 300);
    expect(stats).toMatchObject({ hits: 1, misses: 1 });
    // Older chunks are not cached; a window in the open chunk only does not touch the cache.
    check(head, model, T0, T0 + 50);
    check(head, model, T0 + 205, T0 + 300);
    expect(stats).toMatchObject({ hits: 1, misses: 1 });
    // Sealing a newer chunk moves the entry on.
    const app2 = head.appender();
    for (let k = 25; k < 31; k++) app2.append(0, labelsFrom({ __name__: 'm', i: '0' }), T0 + k * 10, k);
    await app2.commit();
    model[0]!.t.push(...Array.from({ length: 6 }, (_, j) => T0 + (25 + j) * 10));
    model[0]!.v.push(...Array.from({ length: 6 }, (_, j) => 25 + j));
    check(head, model, T0 + 150, T0 + 400);
    expect(stats).toMatchObject({ hits: 1, misses: 2 });
    check(head, model, T0 + 150, T0 + 400);
    expect(stats).toMatchObject({ hits: 2, misses: 2 });
  });

  it('answers instant reads before the newest sample from the cache, and reports through metrics', async () => {
    const registry = new Registry();
    const head = new Head({ retentionMs: 1e12, clock: new FakeClock(T0), chunkSamples: 10, registry });
    const app = head.appender();
    for (let k = 0; k < 12; k++) app.append(0, labelsFrom({ __name__: 'm', i: '0' }), T0 + k * 10, k === 7 ? STALE_NAN : k);
    await app.commit();
    const latest = (maxt: number) =>
      head
        .querier(T0, maxt)
        .select({ mint: T0, maxt, matchers: [newMatcher('=', '__name__', 'm')], latestOnly: true })
        .map((s) => {
          const d = s.samples();
          return [d.t[0]! - T0, new BigUint64Array(d.v.buffer, d.v.byteOffset, 1)[0]!];
        });
    const bitsOf = (x: number) => new BigUint64Array(Float64Array.of(x).buffer)[0]!;
    expect(latest(T0 + 65)).toEqual([[60, bitsOf(6)]]);
    expect(latest(T0 + 75)).toEqual([[70, bitsOf(STALE_NAN)]]);
    expect(latest(T0 + 95)).toEqual([[90, bitsOf(9)]]);
    // The newest sample itself needs no decode at all.
    expect(latest(T0 + 200)).toEqual([[110, bitsOf(11)]]);
    expect(head.series.decoded.stats).toMatchObject({ hits: 2, misses: 1 });
    const text = await registry.metrics();
    expect(text).toMatch(/^vigil_head_decoded_chunk_cache_hits_total 2$/m);
    expect(text).toMatch(/^vigil_head_decoded_chunk_cache_misses_total 1$/m);
    const bytes = Number(/^vigil_head_decoded_chunk_cache_bytes (\d+)$/m.exec(text)?.[1]);
    expect(bytes).toBeGreaterThan(0);
    expect(bytes).toBeLessThanOrEqual(24 * 1024 * 1024 + 1024 * 36 + 10 * 16);
  });

  it('can be disabled', async () => {
    const head = new Head({ retentionMs: 1e12, clock: new FakeClock(T0), chunkSamples: 10, decodedCacheBytes: 0 });
    const app = head.appender();
    for (let k = 0; k < 25; k++) app.append(0, labelsFrom({ __name__: 'm', i: '0' }), T0 + k * 10, k);
    await app.commit();
    const model: Model = [{ t: Array.from({ length: 25 }, (_, k) => T0 + k * 10), v: Array.from({ length: 25 }, (_, k) => k) }];
    check(head, model, T0 + 150, T0 + 300);
    check(head, model, T0 + 150, T0 + 300);
    expect(head.series.decoded.stats).toMatchObject({ hits: 0, misses: 0, bytes: 0 });
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeWriteRequestV1 } from '../../../src/ingest/remote-write/encode.js';
import type { Fingerprint } from '../../../src/ingest/remote-write/series-cache.js';
import { hashBytes, hashLabelStrings, SeriesCache } from '../../../src/ingest/remote-write/series-cache.js';
import { SnappyScratch, snappyCompress, snappyDecompress } from '../../../src/ingest/remote-write/snappy.js';
import { labelsFrom } from '../../../src/model/labels.js';
import type { Appender, SeriesRef } from '../../../src/storage/interface.js';
import { FakeStorage } from './fake-appender.js';
import { ingestInto, L } from './helpers.js';

const fp = (): Fingerprint => ({ h1: 0, h2: 0, len: 0 });
const key = (f: Fingerprint): string => `${f.h1}:${f.h2}:${f.len}`;

describe('fingerprints', () => {
  it('are equal for equal bytes at any offset and distinct over 200k k8s-like label sets', () => {
    const c = new SeriesCache();
    const seen = new Set<string>();
    const enc = new TextEncoder();
    for (let i = 0; i < 200_000; i++) {
      const b = enc.encode(`__name__\x00m${i % 7}\x00pod\x00api-${Math.floor(i / 20)}\x00series_id\x00${i}`);
      const a = fp();
      hashBytes(c.seeds, b, 0, b.length, a);
      seen.add(key(a));
      if (i % 1000 === 0) {
        const shifted = new Uint8Array(b.length + 5);
        shifted.set(b, 3);
        const s = fp();
        hashBytes(c.seeds, shifted, 3, 3 + b.length, s);
        expect(s).toEqual(a);
      }
    }
    expect(seen.size).toBe(200_000);
  });

  it('depend on every byte, the length and the seeds', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 80 }), fc.nat(), (bytes, at) => {
        const c = new SeriesCache();
        const a = fp();
        hashBytes(c.seeds, bytes, 0, bytes.length, a);
        const flipped = bytes.slice();
        flipped[at % bytes.length]! ^= 1 << at % 8;
        const b = fp();
        hashBytes(c.seeds, flipped, 0, flipped.length, b);
        const shorter = fp();
        hashBytes(c.seeds, bytes, 0, bytes.length - 1, shorter);
        return key(a) !== key(b) && key(a) !== key(shorter);
      }),
      { numRuns: 2000 },
    );
    const b = new TextEncoder().encode('__name__up');
    const x = fp();
    const y = fp();
    hashBytes(new SeriesCache().seeds, b, 0, b.length, x);
    hashBytes({ s1: 1, s2: 2 }, b, 0, b.length, y);
    expect(key(x)).not.toBe(key(y));
  });

  it('of label strings keep name/value boundaries', () => {
    const seeds = new SeriesCache().seeds;
    const a = fp();
    const b = fp();
    hashLabelStrings(seeds, ['ab'], ['c'], 1, a);
    hashLabelStrings(seeds, ['a'], ['bc'], 1, b);
    expect(key(a)).not.toBe(key(b));
    const c = fp();
    hashLabelStrings(seeds, ['ab', 'x'], ['c', 'y'], 1, c); // only the first label counts
    expect(c).toEqual(a);
    const d = fp();
    hashLabelStrings(seeds, ['é'], ['😀'], 1, d);
    expect(key(d)).not.toBe(key(a));
  });
});

describe('SeriesCache table', () => {
  it('behaves like a map under random set/delete (grow, probe runs, backward-shift deletion)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1, max: 1e6 })), { minLength: 200, maxLength: 1500 }),
        (ops) => {
          const c = new SeriesCache(1_000_000);
          const model = new Map<number, number>();
          // Few, close home slots (some past the table's end): long overlapping probe runs that
          // wrap around.
          const f = (k: number): Fingerprint => ({ h1: 1000 + (k % 13) * 3, h2: k, len: k % 3 });
          for (const [isSet, k, ref] of ops) {
            if (isSet) {
              c.set(f(k).h1, f(k).h2, f(k).len, ref);
              model.set(k, ref);
            } else {
              c.delete(f(k));
              model.delete(k);
            }
          }
          expect(c.size).toBe(model.size);
          for (let k = 0; k <= 300; k++) expect(c.get(f(k))).toBe(model.get(k) ?? 0);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('is bounded and compact: about 16–40 bytes per entry, cleared when full', () => {
    const c = new SeriesCache(50_000);
    for (let i = 1; i <= 40_000; i++) c.set(Math.imul(i, 0x9e3779b1) >>> 0, i, 100, i);
    expect(c.size).toBe(40_000);
    expect(c.bytes / c.size).toBeLessThanOrEqual(40);
    expect(c.get({ h1: Math.imul(777, 0x9e3779b1) >>> 0, h2: 777, len: 100 })).toBe(777);
    for (let i = 40_001; i <= 50_001; i++) c.set(i, i, 1, i);
    expect(c.size).toBe(1);
    expect(c.get({ h1: 50_001, h2: 50_001, len: 1 })).toBe(50_001);
    c.set(1, 1, 1, 0); // refs must be > 0
    expect(c.get({ h1: 1, h2: 1, len: 1 })).toBe(0);
  });
});

describe('decoders with the fingerprint cache', () => {
  for (const version of ['1.0', '2.0'] as const) {
    it(`${version}: cached series are appended by ref without labels; messages still name them`, async () => {
      const st = new FakeStorage();
      const seen: { ref: SeriesRef; n: number }[] = [];
      const orig = st.appender.bind(st);
      st.appender = (): Appender => {
        const a = orig();
        const append = a.append.bind(a);
        a.append = (ref, labels, t, v) => (seen.push({ ref, n: labels.length }), append(ref, labels, t, v));
        return a;
      };
      const { encodeWriteRequestV2 } = await import('../../../src/ingest/remote-write/encode.js');
      const enc = version === '1.0' ? encodeWriteRequestV1 : encodeWriteRequestV2;
      const cache = new SeriesCache();
      const series = (t: number, ex?: boolean) => [
        { labels: L({ __name__: 'm', a: '1' }), samples: [{ t, v: t }], ...(ex ? { exemplars: [{ labels: L({ '': 'x' }), value: 1, t }] } : {}) },
        { labels: L({ __name__: 'm', a: '2' }), samples: [{ t, v: t }] },
      ];
      await ingestInto(version, enc(series(1)), st, { cache });
      expect(seen.map((s) => s.n)).toEqual([2, 2]);
      expect(cache.size).toBe(2);
      seen.length = 0;
      const { rep } = await ingestInto(version, enc(series(2, true)), st, { cache });
      expect(seen).toEqual([
        { ref: st.get(labelsFrom({ __name__: 'm', a: '1' }))!.ref, n: 0 },
        { ref: st.get(labelsFrom({ __name__: 'm', a: '2' }))!.ref, n: 0 },
      ]);
      expect(rep.messages.join()).toMatch(/invalid exemplar for series \{__name__="m", a="1"\}/);
      expect(st.get(labelsFrom({ __name__: 'm', a: '1' }))!.samples).toEqual([{ t: 1, v: 1 }, { t: 2, v: 2 }]);
      // Without hasSeries cached refs are trusted, but labels are still sent along.
      seen.length = 0;
      await ingestInto(version, enc(series(3)), st, { cache, hasSeries: false });
      expect(seen.map((s) => s.n)).toEqual([2, 2]);
      expect(seen[0]!.ref).toBe(st.get(labelsFrom({ __name__: 'm', a: '1' }))!.ref);
    });
  }
});

describe('SnappyScratch', () => {
  it('decompresses into one reused buffer', () => {
    const scratch = new SnappyScratch();
    const a = Buffer.from('abc'.repeat(50_000));
    const b = Buffer.from('xyz'.repeat(40_000) + 'q');
    const ra = snappyDecompress(snappyCompress(a), 1e7, scratch);
    expect(ra.equals(a)).toBe(true);
    const rb = snappyDecompress(snappyCompress(b), 1e7, scratch);
    expect(rb.equals(b)).toBe(true);
    expect(rb.buffer).toBe(ra.buffer);
    const big = new SnappyScratch(1000);
    const r1 = snappyDecompress(snappyCompress(a), 1e7, big);
    const r2 = snappyDecompress(snappyCompress(a), 1e7, big);
    expect(r1.buffer).not.toBe(r2.buffer); // above keepBytes: not kept
    expect(r2.equals(a)).toBe(true);
  });
});

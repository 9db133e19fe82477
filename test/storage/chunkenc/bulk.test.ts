import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChunkArena, TS_DOD, TS_GRID, VAL_DEC_D, VAL_DEC_DD, VAL_XOR, XorChunk, XorIterator } from '../../../src/storage/chunkenc/index.js';
import { decodeChunkInto } from '../../../src/storage/chunkenc/bulk.js';
import { STALE_NAN } from '../../../src/model/samples.js';
import { k8sSeries, nextValue } from '../../../bench/lib.js';

const T0 = 1_700_000_000_000;
const f = new Float64Array(1);
const u = new Uint32Array(f.buffer);

/** Reference: the one-at-a-time iterator, filtered to [mint, maxt], as [t, hi, lo] triples. */
function viaIterator(buf: Uint8Array, off: number, n: number, t0: number, mint: number, maxt: number): number[][] {
  const it = new XorIterator(buf, off, n, t0);
  const out: number[][] = [];
  while (it.next()) {
    if (it.t < mint) continue;
    if (it.t > maxt) break;
    out.push([it.t, it.hi, it.lo]);
  }
  return out;
}

function viaBulk(buf: Uint8Array, off: number, len: number, n: number, t0: number, mint: number, maxt: number): number[][] {
  const ts = new Float64Array(n + 3);
  const vs = new Float64Array(n + 3);
  const w = new Uint32Array(vs.buffer);
  const end = decodeChunkInto({ buf, off, len, n, minT: t0 }, ts, vs, 2, mint, maxt);
  const out: number[][] = [];
  for (let i = 2; i < end; i++) out.push([ts[i]!, w[2 * i + 1]!, w[2 * i]!]);
  return out;
}

const val = fc.oneof(
  fc.integer({ min: -1e9, max: 1e9 }),
  fc.integer({ min: -1e9, max: 1e9 }).map((x) => x / 1000),
  fc.integer({ min: -(2 ** 48), max: 2 ** 48 }),
  fc.double(),
  fc.tuple(fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff })).map(([hi, lo]) => {
    u[1] = hi;
    u[0] = lo;
    return f[0]!;
  }),
  fc.constantFrom(STALE_NAN, NaN, -0, 0, Infinity, -Infinity, 2 ** 52, 1e15 + 0.5),
);
const delta = fc.oneof(fc.constant(15_000), fc.integer({ min: 14_000, max: 16_000 }), fc.integer({ min: 1, max: 2 ** 40 }));

describe('decodeChunkInto', () => {
  it('decodes open and sealed chunks exactly like XorIterator, in every mode and window', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(delta, val), { minLength: 1, maxLength: 150 }),
        fc.constantFrom(VAL_XOR, VAL_DEC_DD, VAL_DEC_D),
        fc.constantFrom(TS_DOD, TS_GRID),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (samples, pv, pt, a, b) => {
          const c = new XorChunk(16);
          c.prefVal = pv;
          c.prefTs = pt;
          let t = T0;
          for (const [d, v] of samples) {
            c.append(t, v);
            t += d;
          }
          const lastT = c.maxT;
          const span = lastT - T0;
          const windows: [number, number][] = [
            [-Infinity, Infinity],
            [T0 + Math.floor(span * Math.min(a, b)), T0 + Math.floor(span * Math.max(a, b))],
            [lastT, lastT],
            [lastT + 1, Infinity],
            [-Infinity, T0 - 1],
          ];
          const open = c.bytes();
          for (const [lo, hi] of windows) {
            expect(viaBulk(c.w.buf, c.w.base, open.length, c.n, T0, lo, hi)).toEqual(viaIterator(c.w.buf, c.w.base, c.n, T0, lo, hi));
          }
          const n = c.n;
          const sealed = c.seal(new ChunkArena(1 << 16));
          for (const [lo, hi] of windows) {
            expect(viaBulk(sealed.buf, sealed.off, sealed.len, n, T0, lo, hi)).toEqual(viaIterator(sealed.buf, sealed.off, n, T0, lo, hi));
          }
          // Exactly-sized buffer: the decoder must not depend on bytes past the chunk.
          const exact = sealed.buf.slice(sealed.off, sealed.off + sealed.len);
          expect(viaBulk(exact, 0, exact.length, n, T0, -Infinity, Infinity)).toEqual(viaIterator(exact, 0, n, T0, -Infinity, Infinity));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('decodes the benchmark data set (re-encoded sealed chunks) like XorIterator', () => {
    const series = k8sSeries(200);
    const arena = new ChunkArena(1 << 16);
    let total = 0;
    for (let i = 0; i < series.length; i++) {
      const c = new XorChunk();
      let v = 0;
      for (let k = 0; k < 120; k++) {
        v = i % 10 === 9 ? v + 0.1 * k : nextValue(v, series[i]!.counter, i, k);
        c.append(T0 + k * 15_000 + ((k * 37) % 11), v);
      }
      const n = c.n;
      const s = c.seal(arena);
      const got = viaBulk(s.buf, s.off, s.len, n, T0, -Infinity, Infinity);
      expect(got).toEqual(viaIterator(s.buf, s.off, n, T0, -Infinity, Infinity));
      total += got.length;
    }
    expect(total).toBe(200 * 120);
  });

  it('does not throw on corrupt bytes and writes at most n samples', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), fc.integer({ min: 1, max: 200 }), (bytes, n) => {
        const ts = new Float64Array(n);
        const vs = new Float64Array(n);
        const end = decodeChunkInto({ buf: bytes, off: 0, len: bytes.length, n, minT: T0 }, ts, vs, 0);
        expect(end).toBeLessThanOrEqual(n);
      }),
      { numRuns: 300 },
    );
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChunkArena, XorChunk, sealedIterator, XorIterator } from '../../../src/storage/chunkenc/index.js';
import { STALE_NAN, isStaleNaN } from '../../../src/model/samples.js';

const f = new Float64Array(1);
const u = new Uint32Array(f.buffer);
function fromBits(hi: number, lo: number): number {
  u[0] = lo;
  u[1] = hi;
  return f[0]!;
}

function decodeAll(it: XorIterator): { t: number; hi: number; lo: number }[] {
  const out: { t: number; hi: number; lo: number }[] = [];
  while (it.next()) out.push({ t: it.t, hi: it.hi, lo: it.lo });
  return out;
}

const wordArb = fc.integer({ min: 0, max: 0xffffffff });
const specialArb = fc.constantFrom<[number, number]>(
  [0x7ff00000, 0x00000002], // stale NaN
  [0x7ff80000, 0x00000000], // quiet NaN
  [0x7ff80000, 0x12345678], // NaN with payload
  [0xfff00000, 0x00000001], // negative signalling NaN
  [0x7ff00000, 0x00000000], // +Inf
  [0xfff00000, 0x00000000], // -Inf
  [0x80000000, 0x00000000], // -0
  [0x00000000, 0x00000000], // +0
  [0x00000000, 0x00000001], // smallest subnormal
);
const bitsArb = fc.oneof(fc.tuple(wordArb, wordArb), specialArb, fc.double().map((d) => {
  f[0] = d;
  return [u[1]!, u[0]!] as [number, number];
}));

/** Strictly increasing timestamps from a start and positive deltas of very different sizes. */
const tsArb = fc
  .tuple(
    fc.integer({ min: -(2 ** 45), max: 2 ** 45 }),
    fc.array(fc.oneof(fc.constant(15000), fc.integer({ min: 14990, max: 15010 }), fc.integer({ min: 1, max: 2 ** 40 })), { maxLength: 200 }),
  )
  .map(([start, deltas]) => {
    const ts = [start];
    for (const d of deltas) ts.push(ts[ts.length - 1]! + d);
    return ts;
  });

describe('XorChunk', () => {
  it('round-trips random timestamps and arbitrary float bit patterns bit-exactly', () => {
    fc.assert(
      fc.property(tsArb, fc.array(bitsArb, { minLength: 201, maxLength: 201 }), (ts, vals) => {
        const c = new XorChunk(8);
        const want = ts.map((t, i) => ({ t, hi: vals[i]![0] >>> 0, lo: vals[i]![1] >>> 0 }));
        for (const s of want) c.appendBits(s.t, s.hi, s.lo);
        expect(c.n).toBe(ts.length);
        expect(decodeAll(c.iterator())).toEqual(want);
        // Sealed copy decodes the same and the chunk is reusable afterwards.
        const arena = new ChunkArena(1024);
        const sealed = c.seal(arena);
        expect(sealed.minT).toBe(ts[0]);
        expect(sealed.maxT).toBe(ts[ts.length - 1]);
        expect(decodeAll(sealedIterator(sealed))).toEqual(want);
        expect(c.n).toBe(0);
        c.appendBits(5, 1, 2);
        expect(decodeAll(c.iterator())).toEqual([{ t: 5, hi: 1, lo: 2 }]);
      }),
      { numRuns: 300 },
    );
  });

  it('round-trips slowly-changing values (exercises the reused XOR window)', () => {
    fc.assert(
      fc.property(fc.double({ min: -1e12, max: 1e12, noNaN: true }), fc.array(fc.double({ min: -100, max: 100, noNaN: true }), { maxLength: 150 }), (start, steps) => {
        const c = new XorChunk();
        let v = start;
        const want: number[] = [];
        steps.forEach((s, i) => {
          v += s;
          want.push(v);
          c.append(1_700_000_000_000 + i * 15000, v);
        });
        const ts = new Float64Array(want.length);
        const vs = new Float64Array(want.length);
        expect(c.iterator().readInto(ts, vs, 0)).toBe(want.length);
        expect(Array.from(vs)).toEqual(want);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the staleness marker bit-exact through readInto', () => {
    const c = new XorChunk();
    c.append(1000, 1);
    c.append(2000, STALE_NAN);
    c.append(3000, NaN);
    c.append(4000, -0);
    const ts = new Float64Array(4);
    const vs = new Float64Array(4);
    c.iterator().readInto(ts, vs, 0);
    expect(isStaleNaN(vs[1]!)).toBe(true);
    expect(isStaleNaN(vs[2]!)).toBe(false);
    expect(Number.isNaN(vs[2]!)).toBe(true);
    expect(Object.is(vs[3], -0)).toBe(true);
  });

  it('readInto trims to [mint, maxt] inclusively', () => {
    const c = new XorChunk();
    for (let i = 0; i < 10; i++) c.append(i * 10, i);
    const ts = new Float64Array(10);
    const vs = new Float64Array(10);
    const n = c.iterator().readInto(ts, vs, 0, 20, 50);
    expect(Array.from(ts.subarray(0, n))).toEqual([20, 30, 40, 50]);
    expect(Array.from(vs.subarray(0, n))).toEqual([2, 3, 4, 5]);
  });

  it('handles timestamps beyond 2^32 and negative timestamps', () => {
    const c = new XorChunk();
    const ts = [-5e12, -1, 0, 2 ** 33 + 7, 2 ** 50, 2 ** 50 + 1];
    ts.forEach((t, i) => c.append(t, i));
    expect(decodeAll(c.iterator()).map((s) => s.t)).toEqual(ts);
    expect(fromBits(0x3ff00000, 0)).toBe(1);
  });

  it('compresses regular 15 s samples of a constant to about 2 bits per sample', () => {
    const c = new XorChunk();
    for (let i = 0; i < 120; i++) c.append(1_700_000_000_000 + i * 15000, 1);
    // header: 3 mode bits, decimal value (4-bit scale, 6-bit bucket width, 1-byte varint),
    // 2-byte first delta and a 1-bit value; then 2 bits per sample (grid residual 0, value
    // delta-of-delta 0).
    expect(c.byteLength).toBe(Math.ceil((3 + 4 + 6 + 8 + 16 + 1 + 118 * 2) / 8));
  });
});

describe('SlotPool-backed chunks', () => {
  it('grow across size classes, reuse freed slots and keep neighbours intact', async () => {
    const { SlotPool } = await import('../../../src/storage/chunkenc/pool.js');
    const pool = new SlotPool(1024);
    const chunks = Array.from({ length: 20 }, () => new XorChunk(32, pool));
    const want: number[][] = chunks.map(() => []);
    // Interleave appends so regions grow and move while neighbours are in use.
    for (let i = 0; i < 100; i++) {
      chunks.forEach((c, k) => {
        const v = Math.sin(i * (k + 1)) * 1e6;
        c.append(1000 * i + k, v);
        want[k]!.push(v);
      });
    }
    chunks.forEach((c, k) => {
      const ts = new Float64Array(100);
      const vs = new Float64Array(100);
      c.iterator().readInto(ts, vs, 0);
      expect(Array.from(vs)).toEqual(want[k]);
      expect(c.capacity).toBeGreaterThanOrEqual(c.byteLength);
    });
    const reserved = pool.reservedBytes;
    for (const c of chunks) c.release();
    expect(pool.allocatedBytes).toBe(0);
    // Freed regions are zeroed and reused: a second round needs no new pages.
    const again = Array.from({ length: 20 }, () => new XorChunk(32, pool));
    for (let i = 0; i < 100; i++) again.forEach((c, k) => c.append(1000 * i + k, Math.sin(i * (k + 1)) * 1e6));
    again.forEach((c, k) => {
      const vs = new Float64Array(100);
      c.iterator().readInto(new Float64Array(100), vs, 0);
      expect(Array.from(vs)).toEqual(want[k]);
    });
    expect(pool.reservedBytes).toBe(reserved);
  });
});

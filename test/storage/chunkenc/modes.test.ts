import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChunkArena, ChunkEncoder, ENC_F64, ENC_I32, SlotPool, TS_DOD, TS_GRID, VAL_DEC_D, VAL_DEC_DD, VAL_XOR, XorChunk, XorIterator, sealedIterator } from '../../../src/storage/chunkenc/index.js';
import { decScale, minScale } from '../../../src/storage/chunkenc/codec.js';
import { STALE_NAN } from '../../../src/model/samples.js';
import { k8sSeries, nextValue } from '../../../bench/lib.js';

const T0 = 1_700_000_000_000;
const f = new Float64Array(1);
const u = new Uint32Array(f.buffer);
const bits = (v: number): [number, number] => {
  f[0] = v;
  return [u[1]!, u[0]!];
};

function decode(it: XorIterator): { t: number; hi: number; lo: number }[] {
  const out: { t: number; hi: number; lo: number }[] = [];
  while (it.next()) out.push({ t: it.t, hi: it.hi, lo: it.lo });
  return out;
}

/** Appends values at 15 s ± jitter and checks the open and the sealed chunk decode bit-exactly. */
function roundTrip(values: number[], opts: { jitter?: number[]; pref?: number } = {}): { open: XorChunk; sealedLen: number } {
  const c = new XorChunk(16);
  if (opts.pref !== undefined) c.prefVal = opts.pref;
  const want = values.map((v, i) => {
    const [hi, lo] = bits(v);
    return { t: T0 + i * 15_000 + (opts.jitter?.[i] ?? 0), hi, lo };
  });
  for (const s of want) c.appendBits(s.t, s.hi, s.lo);
  expect(decode(c.iterator())).toEqual(want);
  const sealed = c.seal(new ChunkArena(1 << 16));
  expect(decode(sealedIterator(sealed))).toEqual(want);
  return { open: c, sealedLen: sealed.len };
}

describe('decimal scaling', () => {
  it('finds the smallest exact decimal exponent, and none for non-decimals', () => {
    expect(minScale(42, bits(42)[0])).toBe(0);
    expect(minScale(0.25, bits(0.25)[0])).toBe(2);
    expect(minScale(12345.123456789, bits(12345.123456789)[0])).toBe(9);
    expect(minScale(0.1 + 0.2, bits(0.1 + 0.2)[0])).toBe(-1);
    expect(minScale(NaN, bits(NaN)[0])).toBe(-1);
    expect(minScale(Infinity, bits(Infinity)[0])).toBe(-1);
    expect(minScale(-0, bits(-0)[0])).toBe(-1);
    expect(minScale(2 ** 60, bits(2 ** 60)[0])).toBe(-1); // beyond the exact-delta bound
    expect(decScale(1.5, bits(1.5)[0], 1)).toBe(15);
  });
});

describe('chunk value modes', () => {
  it('starts integer data in decimal mode and falls back to XOR for non-decimal first values', () => {
    const a = new XorChunk();
    a.append(T0, 7);
    expect(a.valMode).toBe(VAL_DEC_DD);
    const b = new XorChunk();
    b.append(T0, Math.PI);
    expect(b.valMode).toBe(VAL_XOR);
  });

  it('rescales when a value needs more decimals and switches to XOR for NaN, stale markers and -0', () => {
    expect(roundTrip([1, 2, 3, 3.5, 3.75, 4, 100, 1e6, 0.001, 7]).open.valMode).toBe(VAL_DEC_DD);
    // Started decimal, switched to XOR at the staleness marker.
    expect(roundTrip([1, 2, 3, STALE_NAN, 5, 6, NaN, -0, 8, Math.PI]).open.valMode).toBe(VAL_XOR);
    roundTrip([-5, -0, 0, -1e12, 1e12, 2 ** 48, -(2 ** 48), 2 ** 50, 3]);
  });

  it('round-trips arbitrary bit patterns and decimals mixed, in every starting mode', () => {
    const val = fc.oneof(
      fc.integer({ min: -1e9, max: 1e9 }),
      fc.integer({ min: -1e9, max: 1e9 }).map((x) => x / 1000),
      fc.double(),
      fc.constantFrom(STALE_NAN, NaN, -0, 0, Infinity, -Infinity, 2 ** 52, 1e15 + 0.5),
    );
    fc.assert(
      fc.property(fc.array(val, { minLength: 1, maxLength: 150 }), fc.array(fc.integer({ min: -3000, max: 3000 }), { minLength: 150, maxLength: 150 }), fc.constantFrom(VAL_XOR, VAL_DEC_DD, VAL_DEC_D), (vs, jit, pref) => {
        roundTrip(vs, { jitter: jit.map((j, i) => (i === 0 ? 0 : j)), pref });
      }),
      { numRuns: 300 },
    );
  });

  it('a steady counter costs about 2 bits per sample in decimal delta-of-delta mode', () => {
    const c = new XorChunk();
    for (let i = 0; i < 120; i++) c.append(T0 + i * 15_000, 1000 + 17 * i);
    expect(c.valMode).toBe(VAL_DEC_DD);
    expect(c.byteLength).toBeLessThanOrEqual(Math.ceil((3 + 4 + 6 + 16 + 16 + 2 + 8 + 118 * 2) / 8));
  });
});

describe('seal-time re-encoding', () => {
  it('picks delta mode for a random walk and grid timestamps for jittered scrapes', () => {
    let v = 1e6;
    let s = 7;
    const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const vals = Array.from({ length: 120 }, () => (v += Math.round((rnd() - 0.5) * 2000)));
    const jitter = Array.from({ length: 120 }, () => Math.round((rnd() - 0.5) * 4));
    const c = new XorChunk();
    c.prefVal = VAL_DEC_DD;
    c.prefTs = TS_DOD;
    vals.forEach((x, i) => c.append(T0 + i * 15_000 + jitter[i]!, x));
    const before = c.byteLength;
    const sealed = c.seal(new ChunkArena());
    expect(sealed.len).toBeLessThan(before);
    expect(c.prefVal).toBe(VAL_DEC_D);
    expect(c.prefTs).toBe(TS_GRID);
    const got = decode(sealedIterator(sealed));
    expect(got.map((x) => x.t)).toEqual(vals.map((_, i) => T0 + i * 15_000 + jitter[i]!));
  });

  it('keeps XOR for values that are not decimal', () => {
    const c = new XorChunk();
    for (let i = 0; i < 120; i++) c.append(T0 + i * 15_000, Math.sin(i + 1) / 3);
    c.seal(new ChunkArena());
    expect(c.prefVal).toBe(VAL_XOR);
  });

  it('gets the k8s benchmark data (bench/lib.ts) below 1.4 bytes per sample; Gorilla-style XOR needs ~2', () => {
    const series = k8sSeries(500);
    const arena = new ChunkArena();
    let bytes = 0;
    let samples = 0;
    let xorBytes = 0;
    series.forEach((s, i) => {
      const c = new XorChunk();
      const x = new XorChunk();
      x.prefVal = VAL_XOR;
      x.prefTs = TS_DOD;
      let v = 0;
      for (let r = 0; r < 240; r++) {
        v = nextValue(v, s.counter, i, r);
        const t = T0 + r * 15_000 + (i % 1000);
        c.append(t, v);
        x.append(t, v);
        if (c.n === 120) {
          const sealed = c.seal(arena);
          bytes += sealed.len;
          samples += sealed.n;
          xorBytes += x.byteLength;
          x.reset();
          x.prefVal = VAL_XOR;
        }
      }
    });
    expect(bytes / samples).toBeLessThan(1.4);
    expect(xorBytes / samples).toBeGreaterThan(1.8);
  });
});

describe('encoder state in typed arrays', () => {
  it('save/load between appends gives the same bytes as one long-lived encoder', () => {
    const pool = new SlotPool(4096);
    const direct = new ChunkEncoder(32);
    const moved = new ChunkEncoder(32, pool);
    moved.w.release();
    const f64 = new Float64Array(ENC_F64);
    const i32 = new Int32Array(ENC_I32);
    i32[3] = direct.prefVal | (direct.prefTs << 2) | (8 << 3);
    let handle = -1;
    let maxT = 0;
    let hi = 0;
    let lo = 0;
    const vals = [5, 6, 7.5, STALE_NAN, 9, 10, 1e6, 2, 3];
    vals.forEach((v, i) => {
      const t = T0 + i * 15_001;
      const [h, l] = bits(v);
      direct.appendBits(t, h, l);
      moved.load(f64, 0, i32, 0, handle);
      if (handle < 0) moved.w.fresh(16);
      moved.setLast(maxT, hi, lo);
      moved.appendBits(t, h, l);
      handle = moved.w.regionHandle;
      moved.save(f64, 0, i32, 0);
      maxT = t;
      hi = h;
      lo = l;
    });
    expect(Array.from(moved.w.bytes())).toEqual(Array.from(direct.w.bytes()));
    expect(VAL_DEC_D).toBe(2);
  });
});

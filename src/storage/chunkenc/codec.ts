/**
 * Shared pieces of the chunk format (see `xor.ts` for the layout): mode numbers, bit-level
 * helpers for float words, decimal scaling, zig-zag and the bucketed integer codes.
 */
import type { BitReader, BitWriter } from './bstream.js';

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('chunkenc: big-endian hosts are not supported');

/** 2^32 as a float. */
export const TWO32 = 4294967296;

/** Value mode: Gorilla XOR of the IEEE-754 bits. */
export const VAL_XOR = 0;
/** Value mode: decimal (`v = m / 10^e`), delta-of-delta of `m` (counters). */
export const VAL_DEC_DD = 1;
/** Value mode: decimal, delta of `m` (gauges). */
export const VAL_DEC_D = 2;
/** Timestamp mode: delta-of-delta (Gorilla). */
export const TS_DOD = 0;
/** Timestamp mode: delta minus the chunk's grid interval (derived from its first delta). */
export const TS_GRID = 1;

/** |m| bound of the decimal modes, so deltas-of-deltas and their zig-zag stay exact in float64. */
const DEC_BOUND = 2 ** 49;
/** Largest decimal exponent. */
export const MAX_SCALE = 15;
/** 10^e for e = 0..15 (all exact in float64). */
export const POW10: readonly number[] = Array.from({ length: MAX_SCALE + 1 }, (_, e) => 10 ** e);

/** Loads the IEEE-754 bits of `v` into a scratch slot; read them with {@link bitsHi} / {@link bitsLo}. */
export function floatBits(v: number): void {
  F64[0] = v;
}
/** High word of the last {@link floatBits} call. */
export function bitsHi(): number {
  return U32[1]!;
}
/** Low word of the last {@link floatBits} call. */
export function bitsLo(): number {
  return U32[0]!;
}
/** The float with the given bit words (bit-exact when stored straight into a typed array). */
export function floatFromBits(hi: number, lo: number): number {
  U32[0] = lo;
  U32[1] = hi;
  return F64[0]!;
}

/**
 * The integer `m` with `m / 10^e` bit-identical to `v` (whose high word is `hi`), or NaN when
 * there is none within the bound (NaN, ±Inf, -0 and values needing more digits never fit).
 */
export function decScale(v: number, hi: number, e: number): number {
  const p = POW10[e]!;
  const m = Math.round(v * p);
  if (!(m < DEC_BOUND && m > -DEC_BOUND) || m / p !== v) return NaN;
  if (m === 0 && hi !== 0) return NaN;
  return m;
}

/** Smallest decimal exponent at which `v` is representable, or -1. */
export function minScale(v: number, hi: number): number {
  if (v !== v) return -1;
  for (let e = 0; e <= MAX_SCALE; e++) {
    const m = decScale(v, hi, e);
    if (m === m) return e;
  }
  return -1;
}

/** Zig-zag mapping of an integer (|x| < 2^52) to a non-negative one. */
export function zig(x: number): number {
  return x >= 0 ? 2 * x : -2 * x - 1;
}
/** Inverse of {@link zig}. */
export function unzig(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Writes a non-negative integer (< 2^53) as a varint in 8-bit groups. */
export function writeVarint(w: BitWriter, x: number): void {
  while (x >= 128) {
    w.writeBits((x % 128) | 128, 8);
    x = Math.floor(x / 128);
  }
  w.writeBits(x, 8);
}

/** Reads a varint written by {@link writeVarint}. */
export function readVarint(r: BitReader): number {
  let x = 0;
  let mul = 1;
  for (let k = 0; k < 8; k++) {
    const b = r.readBits(8);
    x += (b & 127) * mul;
    if (b < 128) break;
    mul *= 128;
  }
  return x;
}

/** Writes the low `n` (≤ 53) bits of the non-negative integer `x`. */
export function writeWide(w: BitWriter, x: number, n: number): void {
  if (n > 32) {
    w.writeBits(Math.floor(x / TWO32), n - 32);
    w.writeBits(x % TWO32 >>> 0, 32);
  } else {
    w.writeBits(x, n);
  }
}

/** Reads `n` (≤ 53) bits as a non-negative integer. */
export function readWide(r: BitReader, n: number): number {
  if (n > 32) {
    const hi = r.readBits(n - 32);
    return hi * TWO32 + r.readBits(32);
  }
  return r.readBits(n);
}

/** 2^i for i = 0..53. */
const POW2: readonly number[] = Array.from({ length: 54 }, (_, i) => 2 ** i);

/** Default width of the first zig-zag bucket for a series' first chunk. */
export const DEFAULT_ZK = 8;
/** Largest width of the first zig-zag bucket. */
export const MAX_ZK = 52;
/** Prefix of four ones: escape (rescale or switch to XOR). */
export const Z_ESCAPE = 4;

/** Number of significant bits of a non-negative integer < 2^53 (0 for 0). */
export function bitLength(z: number): number {
  return z < TWO32 ? 32 - Math.clz32(z) : 64 - Math.clz32(Math.floor(z / TWO32));
}

/** Width of the second zig-zag bucket for first-bucket width `k`. */
export function zk2(k: number): number {
  return k + 6 > 53 ? 53 : k + 6;
}

/**
 * Writes a zig-zagged value (< 2^53) with first-bucket width `k`: `0` → 0; `10` + k bits;
 * `110` + (k+6) bits; `1110` + 6-bit length L + L bits.
 */
export function writeZ(w: BitWriter, z: number, k: number): void {
  if (z === 0) {
    w.writeBit(0);
  } else if (z < POW2[k]!) {
    w.writeBits(0b10, 2);
    writeWide(w, z, k);
  } else {
    const k2 = zk2(k);
    if (z < POW2[k2]!) {
      w.writeBits(0b110, 3);
      writeWide(w, z, k2);
    } else {
      const n = bitLength(z);
      w.writeBits(0b1110, 4);
      w.writeBits(n, 6);
      writeWide(w, z, n);
    }
  }
}

/** Bits {@link writeZ} spends on a value of bit length `n` (0 for zero). */
export function zBitsByLength(n: number, k: number): number {
  if (n === 0) return 1;
  if (n <= k) return 2 + k;
  const k2 = zk2(k);
  if (n <= k2) return 3 + k2;
  return 10 + n;
}

/** Writes the escape prefix of the decimal modes. */
export function writeZEscape(w: BitWriter): void {
  w.writeBits(0b1111, 4);
}

/** Reads a bucket prefix (number of leading ones, at most {@link Z_ESCAPE}). */
export function readZPrefix(r: BitReader): number {
  let k = 0;
  while (k < Z_ESCAPE && r.readBit() === 1) k++;
  return k;
}

/** Reads the payload of bucket `prefix` (1..3) for first-bucket width `k`. */
export function readZPayload(r: BitReader, prefix: number, k: number): number {
  if (prefix === 1) return readWide(r, k);
  if (prefix === 2) return readWide(r, zk2(k));
  return readWide(r, r.readBits(6));
}

/**
 * Timestamp residual buckets (delta-of-delta or delta minus grid), tuned for millisecond jitter:
 * `0` → 0; `10`+3 bits; `110`+6; `1110`+14; `11110`+20; `11111`+64 (two's complement).
 */
export function writeResidual(w: BitWriter, d: number): void {
  if (d === 0) {
    w.writeBit(0);
  } else if (d >= -4 && d <= 3) {
    w.writeBits(0b10, 2);
    w.writeBits(d & 0x7, 3);
  } else if (d >= -32 && d <= 31) {
    w.writeBits(0b110, 3);
    w.writeBits(d & 0x3f, 6);
  } else if (d >= -8192 && d <= 8191) {
    w.writeBits(0b1110, 4);
    w.writeBits(d & 0x3fff, 14);
  } else if (d >= -524288 && d <= 524287) {
    w.writeBits(0b11110, 5);
    w.writeBits(d & 0xfffff, 20);
  } else {
    w.writeBits(0b11111, 5);
    const hi = Math.floor(d / TWO32);
    w.writeBits(hi >>> 0, 32);
    w.writeBits((d - hi * TWO32) >>> 0, 32);
  }
}

/** Bits {@link writeResidual} uses for `d`. */
export function residualBits(d: number): number {
  if (d === 0) return 1;
  if (d >= -4 && d <= 3) return 5;
  if (d >= -32 && d <= 31) return 9;
  if (d >= -8192 && d <= 8191) return 18;
  if (d >= -524288 && d <= 524287) return 25;
  return 69;
}

/** Reads a residual written by {@link writeResidual}. */
export function readResidual(r: BitReader): number {
  if (r.readBit() === 0) return 0;
  if (r.readBit() === 0) return signed(r.readBits(3), 3);
  if (r.readBit() === 0) return signed(r.readBits(6), 6);
  if (r.readBit() === 0) return signed(r.readBits(14), 14);
  if (r.readBit() === 0) return signed(r.readBits(20), 20);
  const hi = r.readBits(32) | 0;
  const lo = r.readBits(32);
  return hi * TWO32 + lo;
}

function signed(x: number, bits: number): number {
  return x >= 1 << (bits - 1) ? x - (1 << bits) : x;
}

/** The grid interval of a chunk whose first delta is `d1`: `d1` rounded to 10 ms when ≥ 1 s. */
export function gridOf(d1: number): number {
  return d1 >= 1000 ? Math.round(d1 / 10) * 10 : d1;
}

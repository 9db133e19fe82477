/**
 * Bulk decoder of the chunk format described in `xor.ts`: decodes a whole chunk (or its part in
 * a time window) into typed arrays in one loop with all state in locals, no per-sample method
 * calls on objects and no allocation. Bits are read by peeking 32-bit windows, so prefix codes
 * are resolved with one `Math.clz32` instead of bit-by-bit reads. It produces exactly what
 * {@link XorIterator} produces (values bit-exact, NaN payloads included).
 */
import { floatBits, bitsHi, bitsLo, gridOf, POW10, TS_GRID, TWO32, VAL_DEC_DD, VAL_XOR, zk2 } from './codec.js';

/** Bytes a chunk may need beyond its length for the 5-byte peeks (see {@link decodeChunkInto}). */
const PAD = 8;
let scratch = new Uint8Array(256);

/** `n` bits (1 ≤ n ≤ 32) at bit position `pos` of `buf`, as an unsigned integer. `buf` must have 5 bytes from pos/8 on. */
function rb(buf: Uint8Array, pos: number, n: number): number {
  const b = pos >>> 3;
  const o = pos & 7;
  const w = (buf[b]! << 24) | (buf[b + 1]! << 16) | (buf[b + 2]! << 8) | buf[b + 3]!;
  if (o + n <= 32) return (w << o) >>> (32 - n);
  return (((w << o) >>> (32 - n)) | (buf[b + 4]! >>> (40 - o - n))) >>> 0;
}

/** `n` bits (0 ≤ n ≤ 53) at `pos` as a non-negative integer. */
function rw(buf: Uint8Array, pos: number, n: number): number {
  if (n > 32) return rb(buf, pos, n - 32) * TWO32 + rb(buf, pos + n - 32, 32);
  return n === 0 ? 0 : rb(buf, pos, n);
}

function unzig(z: number): number {
  return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
}

/** Decoder state that does not fit in the loop's return value. */
let vpos = 0;

/** Reads a varint at `pos`; its value is returned and the new position left in `vpos`. */
function varint(buf: Uint8Array, pos: number): number {
  let x = 0;
  let mul = 1;
  for (let k = 0; k < 8; k++) {
    const b = rb(buf, pos, 8);
    pos += 8;
    x += (b & 127) * mul;
    if (b < 128) break;
    mul *= 128;
  }
  vpos = pos;
  return x;
}

/** Where to decode to: see {@link decodeChunkInto}. */
export interface ChunkRef {
  /** Bytes holding the chunk. */
  readonly buf: Uint8Array;
  /** Byte offset of the chunk in `buf`. */
  readonly off: number;
  /** Encoded length in bytes (bits past it read as zero). */
  readonly len: number;
  /** Number of samples. */
  readonly n: number;
  /** First timestamp (the chunk's minT; not stored in the bytes). */
  readonly minT: number;
}

/**
 * Decodes the samples of a chunk with `mint ≤ t ≤ maxt` into `ts` / `vs` from index `at` on
 * (values bit-exact, as 32-bit words into `vs`'s buffer) and returns the index after the last
 * written sample. Decoding stops at the first sample after `maxt`. `ts` and `vs` need room for
 * `c.n` more samples. Never throws on corrupt bytes (it decodes garbage, bounded by `c.n`).
 */
export function decodeChunkInto(c: ChunkRef, ts: Float64Array, vs: Float64Array, at: number, mint = -Infinity, maxt = Infinity): number {
  const n = c.n;
  if (n <= 0) return at;
  let buf = c.buf;
  let pos = c.off * 8;
  if (c.off + c.len + PAD > buf.length) {
    // Copy near the end of its buffer so that the peeks never read past it.
    const len = Math.max(0, Math.min(c.len, buf.length - c.off));
    if (scratch.length < len + PAD) scratch = new Uint8Array(Math.max(len + PAD, scratch.length * 2));
    scratch.set(buf.subarray(c.off, c.off + len));
    scratch.fill(0, len, len + PAD);
    buf = scratch;
    pos = 0;
  }
  const vw = new Uint32Array(vs.buffer, vs.byteOffset, vs.length * 2);
  const h = rb(buf, pos, 3);
  pos += 3;
  let valMode = h >>> 1;
  const grid = (h & 1) === TS_GRID;
  let t = c.minT;
  let hi = 0;
  let lo = 0;
  let e = 0;
  let k = 0;
  let k2 = 0;
  let m = 0;
  let dm = 0;
  let p10 = 1;
  if (valMode === VAL_XOR) {
    hi = rb(buf, pos, 32);
    lo = rb(buf, pos + 32, 32);
    pos += 64;
  } else {
    e = rb(buf, pos, 4);
    k = rb(buf, pos + 4, 6);
    k2 = zk2(k);
    m = unzig(varint(buf, pos + 10));
    pos = vpos;
    p10 = POW10[e] ?? 1;
  }
  const dd = valMode === VAL_DEC_DD;
  if (t > maxt) return at;
  if (t >= mint) {
    ts[at] = t;
    if (valMode === VAL_XOR) {
      vw[2 * at] = lo;
      vw[2 * at + 1] = hi;
    } else {
      vs[at] = p10 === 1 ? m : m / p10;
    }
    at++;
  }
  let td = 0;
  let leading = 0;
  let trailing = 0;
  for (let i = 1; i < n; i++) {
    // Timestamp.
    let d: number;
    if (i === 1) {
      d = varint(buf, pos);
      pos = vpos;
      td = grid ? gridOf(d) : d;
    } else {
      const p = rb(buf, pos, 32);
      if (p >= 0 && p < 0x80000000) {
        d = td;
        pos += 1;
      } else {
        const ones = Math.clz32(~p);
        let r: number;
        if (ones === 1) {
          r = (p >>> 27) & 7;
          if (r >= 4) r -= 8;
          pos += 5;
        } else if (ones === 2) {
          r = (p >>> 23) & 63;
          if (r >= 32) r -= 64;
          pos += 9;
        } else if (ones === 3) {
          r = (p >>> 14) & 0x3fff;
          if (r >= 0x2000) r -= 0x4000;
          pos += 18;
        } else if (ones === 4) {
          r = (p >>> 7) & 0xfffff;
          if (r >= 0x80000) r -= 0x100000;
          pos += 25;
        } else {
          r = (rb(buf, pos + 5, 32) | 0) * TWO32 + rb(buf, pos + 37, 32);
          pos += 69;
        }
        d = td + r;
      }
      if (!grid) td = d;
    }
    t += d;
    // Value.
    if (valMode !== VAL_XOR) {
      const p = rb(buf, pos, 32);
      let pre = Math.clz32(~p);
      if (pre > 4) pre = 4;
      if (pre < 4) {
        let x = 0;
        if (pre === 0) {
          pos += 1;
        } else if (pre === 1) {
          x = unzig(rw(buf, pos + 2, k));
          pos += 2 + k;
        } else if (pre === 2) {
          x = unzig(rw(buf, pos + 3, k2));
          pos += 3 + k2;
        } else {
          const len = rb(buf, pos + 4, 6);
          x = unzig(rw(buf, pos + 10, len > 53 ? 53 : len));
          pos += 10 + len;
        }
        dm = dd ? dm + x : x;
        m += dm;
      } else if (((p >>> 27) & 1) === 1) {
        e = (p >>> 23) & 15;
        p10 = POW10[e] ?? 1;
        m = unzig(varint(buf, pos + 9));
        pos = vpos;
        dm = 0;
      } else {
        // The chunk continues in XOR mode; the previous value is the reference.
        pos += 5;
        floatBits(m / p10);
        hi = bitsHi();
        lo = bitsLo();
        valMode = VAL_XOR;
      }
    }
    if (valMode === VAL_XOR) {
      const p = rb(buf, pos, 32);
      if (p >= 0x80000000) {
        if ((p & 0x40000000) !== 0) {
          leading = (p >>> 25) & 31;
          let sig = (p >>> 19) & 63;
          if (sig === 0) sig = 64;
          trailing = 64 - leading - sig;
          if (trailing < 0) trailing = 0;
          pos += 13;
        } else {
          pos += 2;
        }
        const sig = 64 - leading - trailing;
        let xh = 0;
        let xl: number;
        if (sig > 32) {
          xh = rb(buf, pos, sig - 32);
          xl = rb(buf, pos + sig - 32, 32);
        } else {
          xl = sig === 0 ? 0 : rb(buf, pos, sig);
        }
        pos += sig;
        const s = trailing;
        if (s >= 32) {
          xh = xl << (s - 32);
          xl = 0;
        } else if (s > 0) {
          xh = (xh << s) | (xl >>> (32 - s));
          xl = xl << s;
        }
        hi = (hi ^ xh) >>> 0;
        lo = (lo ^ xl) >>> 0;
      } else {
        pos += 1;
      }
    }
    if (t < mint) continue;
    if (t > maxt) break;
    ts[at] = t;
    if (valMode === VAL_XOR) {
      vw[2 * at] = lo;
      vw[2 * at + 1] = hi;
    } else {
      vs[at] = p10 === 1 ? m : m / p10;
    }
    at++;
  }
  return at;
}

/**
 * Float chunks after "Gorilla: A Fast, Scalable, In-Memory Time Series Database" (Pelkonen et
 * al., VLDB 2015), with two extensions that matter for scrape data. Layout (bits, MSB first):
 *
 * - header: 2 bits value mode (0 XOR, 1 decimal delta-of-delta, 2 decimal delta), 1 bit
 *   timestamp mode (0 delta-of-delta, 1 grid). The first timestamp is not stored: it is the
 *   chunk's `minT`, kept beside the chunk.
 * - sample 0: XOR mode: the value's 64 bits; decimal modes: 4 bits `e`, 6 bits `k` (width of
 *   the first value bucket, chosen per chunk) and zig-zag varint `m` with `v = m / 10^e`
 *   bit-exact.
 * - sample 1: timestamp delta as a varint; sample n ≥ 2: timestamp residual in buckets tuned for
 *   millisecond jitter (`0`; `10`+3; `110`+6; `1110`+14; `11110`+20; `11111`+64 bits) where the
 *   residual is the delta-of-delta (mode 0) or the delta minus the grid interval, i.e. the first
 *   delta rounded to 10 ms (mode 1: scrape jitter does not accumulate).
 * - values n ≥ 1, XOR mode: `0` same bits; `10` + bits inside the previous leading/trailing-zero
 *   window; `11` + 5 bits leading zeros + 6 bits length (64 stored as 0) + meaningful bits.
 * - values n ≥ 1, decimal modes: zig-zag `z` of the delta (mode 2) or delta-of-delta (mode 1)
 *   of `m`: `0` → 0; `10` + k bits; `110` + (k+6) bits; `1110` + 6-bit length L + L bits;
 *   `1111` escapes: then `1` + 4 bits new `e` + zig-zag varint `m` (rescale), or `0` and the
 *   chunk continues in XOR mode from this value on (NaN, staleness markers, -0, non-decimals).
 *
 * Open chunks are written in the modes (and `k`) that won for the series' previous chunk; when a
 * chunk is sealed it may be re-encoded in the cheapest ones for its data (see `recode.ts`).
 * Values are handled as two 32-bit words (hi, lo), so NaN payloads (the staleness marker
 * 0x7ff0000000000002) are preserved bit-exact.
 */
import { BitWriter, type ByteAllocator } from './bstream.js';
import {
  DEFAULT_ZK,
  decScale,
  floatFromBits,
  gridOf,
  minScale,
  TS_DOD,
  TS_GRID,
  VAL_DEC_D,
  VAL_DEC_DD,
  VAL_XOR,
  writeResidual,
  writeVarint,
  writeZ,
  writeZEscape,
  zig,
} from './codec.js';
import { XorIterator } from './iterator.js';

export { bitsHi, bitsLo, floatBits, floatFromBits } from './codec.js';

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** A sealed (immutable) chunk: `len` bytes at `off` in `buf` (usually a shared slab). */
export interface SealedChunk {
  readonly buf: Uint8Array;
  readonly off: number;
  readonly len: number;
  /** Number of samples. */
  readonly n: number;
  readonly minT: number;
  readonly maxT: number;
}

/**
 * Bump allocator for sealed chunk bytes: slabs of `slabBytes`, never reused. A slab is freed by
 * the garbage collector once no sealed chunk references it any more.
 */
export class ChunkArena {
  private slab: Uint8Array;
  private used = 0;

  /** @param slabBytes slab size */
  constructor(private readonly slabBytes = 64 * 1024) {
    this.slab = new Uint8Array(slabBytes);
  }

  /** Copies `bytes` into the arena; returns where they landed. */
  store(bytes: Uint8Array): { buf: Uint8Array; off: number } {
    const n = bytes.length;
    if (n > this.slabBytes >>> 2) {
      return { buf: bytes.slice(), off: 0 };
    }
    if (this.used + n > this.slabBytes) {
      this.slab = new Uint8Array(this.slabBytes);
      this.used = 0;
    }
    const off = this.used;
    this.slab.set(bytes, off);
    this.used += n;
    return { buf: this.slab, off };
  }
}

/** Float64 words of an encoder's saved state (see {@link ChunkEncoder.save}). */
export const ENC_F64 = 3;
/** Int32 words of an encoder's saved state. */
export const ENC_I32 = 4;

/**
 * The appending side of a chunk: a bit writer plus the encoding state. The head keeps one
 * instance and moves per-series state in and out of typed arrays ({@link load} / {@link save});
 * {@link XorChunk} owns one per chunk. The caller keeps `maxT`, `phi`, `plo` (last sample).
 */
export class ChunkEncoder {
  /** The bit writer. */
  readonly w: BitWriter;
  /** Number of samples. */
  n = 0;
  /** First timestamp (valid when n > 0). */
  minT = 0;
  /** Last timestamp (valid when n > 0). */
  maxT = 0;
  /** Bits of the last value (valid when n > 0). */
  phi = 0;
  plo = 0;
  /** Modes used when the next chunk starts (a decimal mode falls back to XOR when the first value is not decimal). */
  prefVal = VAL_DEC_DD;
  prefTs = TS_GRID;
  prefK = DEFAULT_ZK;
  /** Modes of the current chunk. */
  valMode = VAL_XOR;
  tsMode = TS_GRID;
  /** Previous delta (TS_DOD) or grid interval (TS_GRID). */
  private td = 0;
  /** Decimal state: first-bucket width, exponent, previous `m`, previous delta of `m`. */
  private k = DEFAULT_ZK;
  private e = 0;
  private pm = 0;
  private pdm = 0;
  private leading = -1;
  private trailing = 0;

  /**
   * @param initialBytes initial buffer capacity
   * @param alloc shared region allocator (e.g. a `SlotPool`); default a private buffer
   */
  constructor(initialBytes = 32, alloc?: ByteAllocator) {
    this.w = new BitWriter(initialBytes, alloc);
  }

  /** Bytes used by the encoded data. */
  get byteLength(): number {
    return this.w.byteLength;
  }

  /** Appends a value given as its IEEE-754 bit words. `t` must exceed {@link maxT} when n > 0. */
  appendBits(t: number, hi: number, lo: number): void {
    const w = this.w;
    w.ensure(24);
    const n = this.n;
    if (n === 0) {
      this.start(t, hi, lo);
    } else {
      const d = t - this.maxT;
      if (n === 1) {
        writeVarint(w, d);
        this.td = this.tsMode === TS_GRID ? gridOf(d) : d;
      } else {
        const r = d - this.td;
        // Small residuals go as int32 (keeps the call free of boxed doubles).
        if (r <= 524287 && r >= -524288) writeResidual(w, r | 0);
        else writeResidual(w, r);
        if (this.tsMode === TS_DOD) this.td = d;
      }
      if (this.valMode === VAL_XOR) this.writeXor(hi, lo);
      else this.writeDec(hi, lo);
    }
    this.maxT = t;
    this.n = n + 1;
  }

  private start(t: number, hi: number, lo: number): void {
    const w = this.w;
    let mode = this.prefVal;
    let e = -1;
    const v = floatFromBits(hi, lo);
    if (mode !== VAL_XOR) {
      e = minScale(v, hi);
      if (e < 0) mode = VAL_XOR;
    }
    this.valMode = mode;
    this.tsMode = this.prefTs;
    w.writeBits((mode << 1) | this.tsMode, 3);
    if (mode === VAL_XOR) {
      w.writeBits(hi, 32);
      w.writeBits(lo, 32);
    } else {
      const m = decScale(v, hi, e);
      w.writeBits(e, 4);
      w.writeBits(this.prefK, 6);
      this.k = this.prefK;
      writeVarint(w, zig(m));
      this.e = e;
      this.pm = m;
      this.pdm = 0;
    }
    this.minT = t;
    this.phi = hi;
    this.plo = lo;
    this.leading = -1;
    this.trailing = 0;
  }

  private writeDec(hi: number, lo: number): void {
    const w = this.w;
    const v = floatFromBits(hi, lo);
    const m = decScale(v, hi, this.e);
    if (m === m) {
      const dm = m - this.pm;
      const z = zig(this.valMode === VAL_DEC_DD ? dm - this.pdm : dm);
      if (z < 0x40000000) writeZ(w, z | 0, this.k);
      else writeZ(w, z, this.k);
      this.pm = m;
      this.pdm = dm;
      this.phi = hi;
      this.plo = lo;
      return;
    }
    writeZEscape(w);
    const e = minScale(v, hi);
    if (e >= 0) {
      const m2 = decScale(v, hi, e);
      w.writeBit(1);
      w.writeBits(e, 4);
      writeVarint(w, zig(m2));
      this.e = e;
      this.pm = m2;
      this.pdm = 0;
      this.phi = hi;
      this.plo = lo;
      return;
    }
    // Switch to XOR for the rest of the chunk; the XOR reference is the previous value.
    w.writeBit(0);
    this.valMode = VAL_XOR;
    this.leading = -1;
    this.writeXor(hi, lo);
  }

  private writeXor(hi: number, lo: number): void {
    const w = this.w;
    const xh = (hi ^ this.phi) >>> 0;
    const xl = (lo ^ this.plo) >>> 0;
    this.phi = hi;
    this.plo = lo;
    if (xh === 0 && xl === 0) {
      w.writeBit(0);
      return;
    }
    let lz = xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl);
    const tz = xl !== 0 ? ctz32(xl) : 32 + ctz32(xh);
    if (lz > 31) lz = 31;
    if (this.leading >= 0 && lz >= this.leading && tz >= this.trailing) {
      w.writeBits(0b10, 2);
      writeShifted(w, xh, xl, this.trailing, 64 - this.leading - this.trailing);
      return;
    }
    const sig = 64 - lz - tz;
    w.writeBits(0b11, 2);
    w.writeBits(lz, 5);
    w.writeBits(sig & 63, 6);
    writeShifted(w, xh, xl, tz, sig);
    this.leading = lz;
    this.trailing = tz;
  }

  /** An iterator over the samples currently in the chunk. */
  iterator(): XorIterator {
    return new XorIterator(this.w.buf, this.w.base, this.n, this.minT);
  }

  /** Empties the chunk, keeping its buffer. */
  reset(): void {
    this.w.reset();
    this.n = 0;
  }

  /**
   * Saves the encoding state (everything but the writer's region, `maxT`, `phi`, `plo`) into
   * `f64[fo .. fo+ENC_F64)` and `i32[io .. io+ENC_I32)`.
   */
  save(f64: Float64Array, fo: number, i32: Int32Array, io: number): void {
    f64[fo] = this.minT;
    f64[fo + 1] = this.td;
    f64[fo + 2] = this.pdm;
    i32[io] = this.w.bitPos;
    i32[io + 1] = this.n;
    i32[io + 2] = (this.leading + 1) | (this.trailing << 6) | (this.e << 13) | (this.valMode << 17) | (this.tsMode << 19) | (this.k << 20);
    i32[io + 3] = this.prefVal | (this.prefTs << 2) | (this.prefK << 3);
  }

  /**
   * Restores state saved by {@link save}; `handle` names the writer's region in its allocator
   * (ignored when n is 0 and handle < 0). Set `maxT`, `phi`, `plo` before appending.
   */
  load(f64: Float64Array, fo: number, i32: Int32Array, io: number, handle: number): void {
    this.minT = f64[fo]!;
    this.td = f64[fo + 1]!;
    this.pdm = f64[fo + 2]!;
    const bitPos = i32[io]!;
    this.n = i32[io + 1]!;
    const p = i32[io + 2]!;
    this.leading = (p & 63) - 1;
    this.trailing = (p >>> 6) & 127;
    this.e = (p >>> 13) & 15;
    this.valMode = (p >>> 17) & 3;
    this.tsMode = (p >>> 19) & 1;
    this.k = (p >>> 20) & 63;
    const q = i32[io + 3]!;
    this.prefVal = q & 3;
    this.prefTs = (q >>> 2) & 1;
    this.prefK = (q >>> 3) & 63;
    if (handle >= 0) this.w.attach(handle, bitPos);
  }

  /** After {@link load}: sets the last sample and recomputes the decimal reference from it. */
  setLast(maxT: number, hi: number, lo: number): void {
    this.maxT = maxT;
    this.phi = hi;
    this.plo = lo;
    if (this.n > 0 && this.valMode !== VAL_XOR) this.pm = decScale(floatFromBits(hi, lo), hi, this.e);
  }
}

/** Writes the `nbits` bits of (hi:lo) >> shift. */
function writeShifted(w: BitWriter, hi: number, lo: number, shift: number, nbits: number): void {
  let sh = hi;
  let sl = lo;
  if (shift >= 32) {
    sl = hi >>> (shift - 32);
    sh = 0;
  } else if (shift > 0) {
    sl = ((lo >>> shift) | (hi << (32 - shift))) >>> 0;
    sh = hi >>> shift;
  }
  if (nbits > 32) {
    w.writeBits(sh, nbits - 32);
    w.writeBits(sl, 32);
  } else {
    w.writeBits(sl, nbits);
  }
}

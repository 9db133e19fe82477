/**
 * Gorilla-style XOR chunks for float samples, written from the description in "Gorilla: A Fast,
 * Scalable, In-Memory Time Series Database" (Pelkonen et al., VLDB 2015):
 *
 * - sample 0: timestamp as a zig-zag varint (in 8-bit groups), value as 64 raw bits;
 * - sample 1: timestamp delta as an unsigned varint, value XOR-encoded;
 * - sample n ≥ 2: timestamp delta-of-delta in buckets tuned for millisecond jitter, value
 *   XOR-encoded against the previous value:
 *     `0` → dod 0; `10`+3 bits; `110`+6 bits; `1110`+14 bits; `11110`+20 bits; `11111`+64 bits
 *     (two's complement) — small buckets because scrape timestamps jitter by a few ms;
 *   values: `0` → same bits; `10` + meaningful bits inside the previous leading/trailing-zero
 *   window; `11` + 5 bits leading zeros + 6 bits length (64 stored as 0) + meaningful bits.
 *
 * Values are handled as two 32-bit words (hi, lo) taken from a Float64Array/Uint32Array alias, so
 * NaN payloads (the staleness marker 0x7ff0000000000002) are preserved bit-exact.
 * The format assumes a little-endian host (x64, arm64), checked at load.
 */
import { BitReader, BitWriter, type ByteAllocator } from './bstream.js';

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('chunkenc: big-endian hosts are not supported');

const TWO32 = 4294967296;

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

/** An appendable XOR chunk. Samples must be appended with strictly increasing timestamps. */
export class XorChunk {
  private readonly w: BitWriter;
  /** Number of samples. */
  n = 0;
  /** First timestamp (valid when n > 0). */
  minT = 0;
  /** Last timestamp (valid when n > 0). */
  maxT = 0;
  private delta = 0;
  private phi = 0;
  private plo = 0;
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

  /** Capacity of the backing buffer. */
  get capacity(): number {
    return this.w.cap;
  }

  /** High word of the last value's bits (valid when n > 0). */
  get lastHi(): number {
    return this.phi;
  }
  /** Low word of the last value's bits (valid when n > 0). */
  get lastLo(): number {
    return this.plo;
  }

  /** A view of the encoded bytes (valid until the next append or reset). */
  bytes(): Uint8Array {
    return this.w.bytes();
  }

  /** Appends a float value. */
  append(t: number, v: number): void {
    F64[0] = v;
    this.appendBits(t, U32[1]!, U32[0]!);
  }

  /** Appends a value given as its IEEE-754 bit words. `t` must exceed {@link maxT}. */
  appendBits(t: number, hi: number, lo: number): void {
    const w = this.w;
    w.ensure(24);
    const n = this.n;
    if (n === 0) {
      writeVarint(w, t >= 0 ? t * 2 : -t * 2 - 1);
      w.writeBits(hi, 32);
      w.writeBits(lo, 32);
      this.minT = t;
      this.phi = hi;
      this.plo = lo;
    } else {
      const d = t - this.maxT;
      if (n === 1) {
        writeVarint(w, d);
      } else {
        writeDod(w, d - this.delta);
      }
      this.delta = d;
      this.writeValue(hi, lo);
    }
    this.maxT = t;
    this.n = n + 1;
  }

  private writeValue(hi: number, lo: number): void {
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
    return new XorIterator(this.w.buf, this.w.base, this.n);
  }

  /** Copies the chunk into `arena` as a sealed chunk and resets this chunk for reuse. */
  seal(arena: ChunkArena): SealedChunk {
    const { buf, off } = arena.store(this.bytes());
    const sealed: SealedChunk = { buf, off, len: this.byteLength, n: this.n, minT: this.minT, maxT: this.maxT };
    this.reset();
    return sealed;
  }

  /** Returns the chunk's region to its allocator; the chunk must not be used afterwards. */
  release(): void {
    this.w.release();
    this.n = 0;
  }

  /** Empties the chunk, keeping its buffer. */
  reset(): void {
    this.w.reset();
    this.n = 0;
    this.delta = 0;
    this.phi = 0;
    this.plo = 0;
    this.leading = -1;
    this.trailing = 0;
  }
}

function writeVarint(w: BitWriter, x: number): void {
  while (x >= 128) {
    w.writeBits((x % 128) | 128, 8);
    x = Math.floor(x / 128);
  }
  w.writeBits(x, 8);
}

function writeDod(w: BitWriter, dod: number): void {
  if (dod === 0) {
    w.writeBit(0);
  } else if (dod >= -4 && dod <= 3) {
    w.writeBits(0b10, 2);
    w.writeBits(dod & 0x7, 3);
  } else if (dod >= -32 && dod <= 31) {
    w.writeBits(0b110, 3);
    w.writeBits(dod & 0x3f, 6);
  } else if (dod >= -8192 && dod <= 8191) {
    w.writeBits(0b1110, 4);
    w.writeBits(dod & 0x3fff, 14);
  } else if (dod >= -524288 && dod <= 524287) {
    w.writeBits(0b11110, 5);
    w.writeBits(dod & 0xfffff, 20);
  } else {
    w.writeBits(0b11111, 5);
    const hi = Math.floor(dod / TWO32);
    w.writeBits(hi >>> 0, 32);
    w.writeBits((dod - hi * TWO32) >>> 0, 32);
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

/** Decodes the samples of a chunk one at a time. After {@link next} returns true, `t`, `hi`, `lo` hold the sample. */
export class XorIterator {
  private readonly r: BitReader;
  private i = 0;
  /** Timestamp of the current sample. */
  t = 0;
  /** High bit word of the current value. */
  hi = 0;
  /** Low bit word of the current value. */
  lo = 0;
  private delta = 0;
  private leading = 0;
  private trailing = 0;

  /**
   * @param buf bytes holding the chunk
   * @param off byte offset of the chunk in `buf`
   * @param n number of samples to decode
   */
  constructor(
    buf: Uint8Array,
    off: number,
    private readonly n: number,
  ) {
    this.r = new BitReader(buf, off);
  }

  /** The current value as a number (bit-exact only when stored straight into a typed array). */
  get v(): number {
    return floatFromBits(this.hi, this.lo);
  }

  /** Advances to the next sample; false at the end. */
  next(): boolean {
    const i = this.i;
    if (i >= this.n) return false;
    const r = this.r;
    if (i === 0) {
      const z = readVarint(r);
      this.t = z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      this.hi = r.readBits(32);
      this.lo = r.readBits(32);
    } else {
      if (i === 1) this.delta = readVarint(r);
      else this.delta += readDod(r);
      this.t += this.delta;
      this.readValue();
    }
    this.i = i + 1;
    return true;
  }

  private readValue(): void {
    const r = this.r;
    if (r.readBit() === 0) return;
    if (r.readBit() === 1) {
      this.leading = r.readBits(5);
      let sig = r.readBits(6);
      if (sig === 0) sig = 64;
      this.trailing = 64 - this.leading - sig;
    }
    const sig = 64 - this.leading - this.trailing;
    let h = 0;
    let l: number;
    if (sig > 32) {
      h = r.readBits(sig - 32);
      l = r.readBits(32);
    } else {
      l = r.readBits(sig);
    }
    const s = this.trailing;
    if (s >= 32) {
      h = l << (s - 32);
      l = 0;
    } else if (s > 0) {
      h = (h << s) | (l >>> (32 - s));
      l = l << s;
    }
    this.hi = (this.hi ^ h) >>> 0;
    this.lo = (this.lo ^ l) >>> 0;
  }

  /**
   * Decodes the remaining samples with `mint ≤ t ≤ maxt` into `ts` / `vs` starting at index
   * `at` (values are copied as bit words, so NaN payloads survive). Stops after `maxt`.
   * Returns the index after the last written sample. The arrays must have room.
   */
  readInto(ts: Float64Array, vs: Float64Array, at: number, mint = -Infinity, maxt = Infinity): number {
    const vw = new Uint32Array(vs.buffer, vs.byteOffset, vs.length * 2);
    while (this.next()) {
      const t = this.t;
      if (t < mint) continue;
      if (t > maxt) break;
      ts[at] = t;
      vw[2 * at] = this.lo;
      vw[2 * at + 1] = this.hi;
      at++;
    }
    return at;
  }
}

function readVarint(r: BitReader): number {
  let x = 0;
  let mul = 1;
  for (let k = 0; k < 10; k++) {
    const b = r.readBits(8);
    x += (b & 127) * mul;
    if (b < 128) break;
    mul *= 128;
  }
  return x;
}

function readDod(r: BitReader): number {
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

/** An iterator over a sealed chunk. */
export function sealedIterator(c: SealedChunk): XorIterator {
  return new XorIterator(c.buf, c.off, c.n);
}

/**
 * Growable byte writer and bounds-checked byte reader used by the WAL record codec.
 * Integers are unsigned LEB128 varints (up to 2^53) or zigzag varints; floats are the raw 8
 * bytes of the IEEE-754 value in little-endian order so NaN payloads (the staleness marker)
 * survive bit-exact. The reader throws only {@link WalCorruptionError}.
 */
import { WalCorruptionError } from './errors.js';

const scratchF64 = new Float64Array(1);
const scratchU8 = new Uint8Array(scratchF64.buffer);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Largest value a varint may carry (2^53 - 1). */
const MAX_VARINT = Number.MAX_SAFE_INTEGER;

/** Appends encoded values to a growing buffer. */
export class ByteWriter {
  private buf: Buffer;
  private pos = 0;

  /** @param initial initial capacity in bytes */
  constructor(initial = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initial));
  }

  /** Bytes written so far. */
  get length(): number {
    return this.pos;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** One byte. */
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v & 0xff;
  }

  /** Unsigned varint; `v` must be an integer in [0, 2^53). */
  uvarint(v: number): void {
    this.ensure(8);
    const b = this.buf;
    let p = this.pos;
    if (v < 0x80000000) {
      while (v >= 0x80) {
        b[p++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
    } else {
      while (v >= 0x80) {
        b[p++] = (v % 128) | 0x80;
        v = Math.floor(v / 128);
      }
    }
    b[p++] = v;
    this.pos = p;
  }

  /** Signed varint (zigzag); `v` must be an integer with |v| <= 2^52. */
  zigzag(v: number): void {
    this.uvarint(v >= 0 ? v * 2 : -v * 2 - 1);
  }

  /** Raw 8 bytes (little-endian IEEE-754). */
  f64(v: number): void {
    this.ensure(8);
    scratchF64[0] = v;
    if (LITTLE_ENDIAN) this.buf.set(scratchU8, this.pos);
    else for (let i = 0; i < 8; i++) this.buf[this.pos + i] = scratchU8[7 - i]!;
    this.pos += 8;
  }

  /** Raw bytes of a Float64Array prefix (bit-exact, little-endian). */
  f64Column(a: Float64Array, n: number): void {
    this.ensure(n * 8);
    if (LITTLE_ENDIAN) {
      this.buf.set(new Uint8Array(a.buffer, a.byteOffset, n * 8), this.pos);
      this.pos += n * 8;
    } else {
      const src = new Uint8Array(a.buffer, a.byteOffset, n * 8);
      for (let i = 0; i < n; i++) for (let j = 0; j < 8; j++) this.buf[this.pos++] = src[i * 8 + 7 - j]!;
    }
  }

  /** Length-prefixed UTF-8 string. */
  str(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.uvarint(n);
    this.ensure(n);
    this.pos += this.buf.write(s, this.pos, n, 'utf8');
  }

  /** The bytes written (a view; do not keep the writer using it afterwards). */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}

/** Reads values written by {@link ByteWriter}; every read is bounds-checked. */
export class ByteReader {
  private readonly buf: Buffer;
  private pos: number;
  private readonly end: number;

  /** Reads `data[start, end)`. */
  constructor(data: Uint8Array, start = 0, end = data.length) {
    this.buf = Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    this.pos = start;
    this.end = end;
  }

  /** Current offset. */
  get offset(): number {
    return this.pos;
  }

  /** Bytes left. */
  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (n > this.end - this.pos) throw new WalCorruptionError(`truncated ${what}: need ${n} bytes, ${this.end - this.pos} left`, this.pos);
  }

  /** One byte. */
  u8(): number {
    this.need(1, 'byte');
    return this.buf[this.pos++]!;
  }

  /** Unsigned varint (at most 2^53 - 1). */
  uvarint(): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw new WalCorruptionError('truncated varint', this.pos);
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (result > MAX_VARINT) throw new WalCorruptionError('varint out of range', this.pos);
        return result;
      }
      mul *= 128;
    }
    throw new WalCorruptionError('varint too long', this.pos);
  }

  /** Signed (zigzag) varint. */
  zigzag(): number {
    const u = this.uvarint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  /**
   * An element count, validated against the bytes left (each element takes at least
   * `minBytesEach` bytes) so a corrupt count cannot cause a huge allocation.
   */
  count(minBytesEach: number, what: string): number {
    const n = this.uvarint();
    if (n * minBytesEach > this.end - this.pos) {
      throw new WalCorruptionError(`${what} count ${n} exceeds the ${this.end - this.pos} bytes left`, this.pos);
    }
    return n;
  }

  /** Raw 8-byte float. */
  f64(): number {
    this.need(8, 'float');
    if (LITTLE_ENDIAN) for (let i = 0; i < 8; i++) scratchU8[i] = this.buf[this.pos + i]!;
    else for (let i = 0; i < 8; i++) scratchU8[7 - i] = this.buf[this.pos + i]!;
    this.pos += 8;
    return scratchF64[0]!;
  }

  /** `n` raw floats into a new Float64Array (bit-exact copy). */
  f64Column(n: number): Float64Array {
    this.need(n * 8, 'float column');
    const out = new Float64Array(n);
    const dst = new Uint8Array(out.buffer);
    if (LITTLE_ENDIAN) dst.set(this.buf.subarray(this.pos, this.pos + n * 8));
    else for (let i = 0; i < n; i++) for (let j = 0; j < 8; j++) dst[i * 8 + 7 - j] = this.buf[this.pos + i * 8 + j]!;
    this.pos += n * 8;
    return out;
  }

  /** Length-prefixed UTF-8 string (invalid sequences become U+FFFD, never throw). */
  str(): string {
    const n = this.uvarint();
    this.need(n, 'string');
    const s = this.buf.toString('utf8', this.pos, this.pos + n);
    this.pos += n;
    return s;
  }
}

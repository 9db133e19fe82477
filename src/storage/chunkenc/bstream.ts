/**
 * Bit-level writer and reader over byte buffers, most significant bit first. Used by the XOR
 * chunk encoding. Writes and reads are at most 32 bits at a time; 64-bit quantities are split
 * into two 32-bit halves by the caller, so no float arithmetic ever touches value bits.
 */

const MASKS: readonly number[] = [0x00, 0x01, 0x03, 0x07, 0x0f, 0x1f, 0x3f, 0x7f, 0xff];

/**
 * Hands out zeroed byte regions from shared buffers (see `SlotPool`), so that many small
 * growable streams do not each need their own `ArrayBuffer`.
 */
export interface ByteAllocator {
  /** Allocates a zeroed region of at least `bytes` bytes; returns a handle. */
  alloc(bytes: number): number;
  /** Buffer holding the region of `handle`. */
  buf(handle: number): Uint8Array;
  /** Byte offset of the region in its buffer. */
  off(handle: number): number;
  /** Size of the region in bytes. */
  size(handle: number): number;
  /** Returns a region; its first `used` bytes are zeroed for reuse. */
  free(handle: number, used: number): void;
}

/**
 * Appends bits to a growable, zero-initialised byte region: its own `Uint8Array`, or a region
 * from a {@link ByteAllocator}. Bytes past the write position must stay zero (writes OR into them).
 */
export class BitWriter {
  /** Backing buffer; replaced when the region grows. */
  buf: Uint8Array;
  /** Offset of the region in `buf`. */
  base: number;
  /** Region size in bytes. */
  cap: number;
  /** Number of bits written. */
  bitPos = 0;
  private handle: number;

  /**
   * @param initialBytes initial capacity (grows by doubling)
   * @param alloc where regions come from (default: a private `Uint8Array`)
   */
  constructor(
    initialBytes = 32,
    private readonly alloc?: ByteAllocator,
  ) {
    const want = Math.max(1, initialBytes);
    if (alloc === undefined) {
      this.handle = -1;
      this.buf = new Uint8Array(want);
      this.base = 0;
      this.cap = want;
    } else {
      this.handle = alloc.alloc(want);
      this.buf = alloc.buf(this.handle);
      this.base = alloc.off(this.handle);
      this.cap = alloc.size(this.handle);
    }
  }

  /** Number of bytes touched so far. */
  get byteLength(): number {
    return (this.bitPos + 7) >>> 3;
  }

  /** A view of the bytes written so far (valid until the next write or reset). */
  bytes(): Uint8Array {
    return this.buf.subarray(this.base, this.base + this.byteLength);
  }

  /** Makes sure `bytes` more bytes fit after the current position. */
  ensure(bytes: number): void {
    const need = (this.bitPos >>> 3) + bytes + 1;
    if (need <= this.cap) return;
    let cap = this.cap * 2;
    while (cap < need) cap *= 2;
    const used = this.byteLength;
    const old = this.bytes();
    if (this.alloc === undefined) {
      const nb = new Uint8Array(cap);
      nb.set(old);
      this.buf = nb;
      this.base = 0;
      this.cap = cap;
      return;
    }
    // Shared regions grow in small steps (the allocator's size classes are ~25 % apart).
    const h = this.alloc.alloc(Math.max(need, Math.ceil(this.cap * 1.25)));
    const nb = this.alloc.buf(h);
    const off = this.alloc.off(h);
    nb.set(old, off);
    this.alloc.free(this.handle, used);
    this.handle = h;
    this.buf = nb;
    this.base = off;
    this.cap = this.alloc.size(h);
  }

  /** Writes one bit (0 or 1). Capacity must have been ensured. */
  writeBit(bit: number): void {
    if (bit !== 0) this.buf[this.base + (this.bitPos >>> 3)]! |= 0x80 >>> (this.bitPos & 7);
    this.bitPos++;
  }

  /** Writes the low `n` bits (0 ≤ n ≤ 32) of `value`, most significant first. Capacity must have been ensured. */
  writeBits(value: number, n: number): void {
    const buf = this.buf;
    const base = this.base;
    let pos = this.bitPos;
    while (n > 0) {
      const free = 8 - (pos & 7);
      const take = free < n ? free : n;
      const bits = (value >>> (n - take)) & MASKS[take]!;
      buf[base + (pos >>> 3)]! |= bits << (free - take);
      pos += take;
      n -= take;
    }
    this.bitPos = pos;
  }

  /**
   * Points the writer at an existing region of its allocator (state kept outside, e.g. in typed
   * arrays) with `bitPos` bits already written. Only for writers built with an allocator.
   */
  attach(handle: number, bitPos: number): void {
    const a = this.alloc!;
    this.handle = handle;
    this.buf = a.buf(handle);
    this.base = a.off(handle);
    this.cap = a.size(handle);
    this.bitPos = bitPos;
  }

  /** Allocator handle of the current region (-1 for a private buffer or after release). */
  get regionHandle(): number {
    return this.handle;
  }

  /** Takes a fresh region of at least `bytes` from the allocator (the previous one is not freed). */
  fresh(bytes: number): void {
    this.attach(this.alloc!.alloc(Math.max(1, bytes)), 0);
  }

  /** Clears the written bytes and rewinds to the start, keeping the region. */
  reset(): void {
    this.buf.fill(0, this.base, this.base + this.byteLength);
    this.bitPos = 0;
  }

  /** Returns the region to its allocator; the writer must not be used afterwards. */
  release(): void {
    if (this.alloc !== undefined && this.handle >= 0) this.alloc.free(this.handle, this.byteLength);
    this.handle = -1;
    this.bitPos = 0;
  }
}

/** Reads bits from a byte buffer starting at a byte offset. Never reads past `buf`'s end (missing bits read as 0). */
export class BitReader {
  /** Absolute bit position in `buf`. */
  pos: number;

  constructor(
    private readonly buf: Uint8Array,
    byteOffset = 0,
  ) {
    this.pos = byteOffset * 8;
  }

  /** Reads one bit. */
  readBit(): number {
    const p = this.pos++;
    return ((this.buf[p >>> 3] ?? 0) >>> (7 - (p & 7))) & 1;
  }

  /** Reads `n` bits (0 ≤ n ≤ 32) as an unsigned integer. */
  readBits(n: number): number {
    const buf = this.buf;
    let pos = this.pos;
    let out = 0;
    while (n > 0) {
      const avail = 8 - (pos & 7);
      const take = avail < n ? avail : n;
      const byte = buf[pos >>> 3] ?? 0;
      out = (out << take) | ((byte >>> (avail - take)) & MASKS[take]!);
      pos += take;
      n -= take;
    }
    this.pos = pos;
    return out >>> 0;
  }
}

/**
 * Sealed float chunks of all series, struct-of-arrays: per chunk (slab, offset, length, count,
 * minT, maxT, next) in typed arrays, bytes in shared slabs. Chunks of a series form a singly
 * linked list in time order. A slab is dropped once every chunk in it was freed.
 */

const NONE = -1;
/** Bytes per chunk over all columns. */
const META_BYTES = 8 + 8 + 4 * 5;

/** Sealed chunk storage. Chunk ids are reused after {@link free}. */
export class ChunkTable {
  private slabs: (Uint8Array | undefined)[] = [];
  private slabLive: number[] = [];
  private cur = -1;
  private used = 0;
  private cap = 0;
  private freeHead = NONE;
  private count = 0;
  /** Slab index of each chunk. */
  slab = new Uint32Array(0);
  /** Byte offset in its slab. */
  off = new Uint32Array(0);
  /** Byte length. */
  len = new Uint32Array(0);
  /** Number of samples. */
  n = new Uint32Array(0);
  minT = new Float64Array(0);
  maxT = new Float64Array(0);
  /** Next chunk of the same series, or -1. */
  next = new Int32Array(0);

  /** @param slabBytes bytes per slab (chunks larger than a quarter of it get their own slab) */
  constructor(private readonly slabBytes = 256 * 1024) {}

  /** Number of chunks held. */
  get size(): number {
    return this.count;
  }

  /** Bytes of the per-chunk columns. */
  get metaBytes(): number {
    return this.cap * META_BYTES;
  }

  /** Bytes in live slabs. */
  get reservedBytes(): number {
    let b = 0;
    for (const s of this.slabs) if (s !== undefined) b += s.length;
    return b;
  }

  /** Grows the capacity by half; all columns are views into one new `ArrayBuffer` (see `SeriesTable`). */
  private grow(): void {
    const cap = Math.max(1024, Math.ceil((this.cap * 1.5) / 1024) * 1024);
    const buf = new ArrayBuffer(cap * META_BYTES);
    let at = 0;
    const take = <T extends Uint32Array | Int32Array | Float64Array>(old: T): T => {
      const C = old.constructor as new (b: ArrayBuffer, off: number, n: number) => T;
      const v = new C(buf, at, cap);
      v.set(old);
      at += cap * old.BYTES_PER_ELEMENT;
      return v;
    };
    this.minT = take(this.minT);
    this.maxT = take(this.maxT);
    this.slab = take(this.slab);
    this.off = take(this.off);
    this.len = take(this.len);
    this.n = take(this.n);
    const next = take(this.next);
    for (let i = cap - 1; i >= this.cap; i--) {
      next[i] = this.freeHead;
      this.freeHead = i;
    }
    this.next = next;
    this.cap = cap;
  }

  /** Copies `bytes` into a slab and records a chunk; returns its id (its `next` is -1). */
  add(bytes: Uint8Array, n: number, minT: number, maxT: number): number {
    if (this.freeHead === NONE) this.grow();
    const id = this.freeHead;
    this.freeHead = this.next[id]!;
    const len = bytes.length;
    let s: number;
    let off: number;
    if (len > this.slabBytes >>> 2) {
      s = this.newSlab(len);
      off = 0;
    } else {
      if (this.cur < 0 || this.used + len > this.slabBytes) {
        this.cur = this.newSlab(this.slabBytes);
        this.used = 0;
      }
      s = this.cur;
      off = this.used;
      this.used += len;
    }
    this.slabs[s]!.set(bytes, off);
    this.slabLive[s]! += len;
    this.slab[id] = s;
    this.off[id] = off;
    this.len[id] = len;
    this.n[id] = n;
    this.minT[id] = minT;
    this.maxT[id] = maxT;
    this.next[id] = NONE;
    this.count++;
    return id;
  }

  private newSlab(bytes: number): number {
    let s = this.slabs.indexOf(undefined);
    if (s < 0) {
      s = this.slabs.length;
      this.slabs.push(undefined);
      this.slabLive.push(0);
    }
    this.slabs[s] = new Uint8Array(bytes);
    this.slabLive[s] = 0;
    return s;
  }

  /** Buffer of chunk `id`'s slab. */
  buf(id: number): Uint8Array {
    return this.slabs[this.slab[id]!]!;
  }

  /** Frees chunk `id`; returns its `next`. */
  free(id: number): number {
    const nx = this.next[id]!;
    const s = this.slab[id]!;
    const live = (this.slabLive[s]! -= this.len[id]!);
    if (live === 0 && s !== this.cur) this.slabs[s] = undefined;
    this.next[id] = this.freeHead;
    this.freeHead = id;
    this.count--;
    return nx;
  }
}

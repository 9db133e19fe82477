/**
 * A bounded cache of each series' newest sealed chunk, decoded. Reads of recent data (an
 * instant `rate(x[5m])`, a rule's `x[10m]`) mostly fall into a series' open chunk and the sealed
 * one before it; the sealed one does not change until the next chunk is cut, yet was decoded in
 * full on every read. Decoded samples live in one slab of typed arrays written as a ring (no
 * per-entry allocation, so a cache too small for the working set costs no garbage, only the
 * decode it would have done anyway); a per-slot entry says where. An entry is valid while the
 * ring has not come round to its samples and its key matches: the series ref (never reused),
 * the chunk's first timestamp (unique within a series, whose samples only move forward) and
 * its sample count. Sealed chunks are immutable, so that key is all the invalidation needed;
 * {@link DecodedChunkCache.drop} just frees an entry early (series removed or truncated).
 */
import { decodeChunkInto, type ChunkRef } from '../chunkenc/bulk.js';

/** Default slab size: samples cost 16 bytes each. */
export const DEFAULT_DECODED_CACHE_BYTES = 24 * 1024 * 1024;
/** The slab starts this small and doubles up to the bound as the ring fills. */
const MIN_SLAB_SAMPLES = 16 * 1024;

/** Cache counters (monotonic) and current size. */
export interface DecodedCacheStats {
  hits: number;
  misses: number;
  /** Bytes held: slab plus per-slot entries. */
  bytes: number;
}

/** See the file comment. */
export class DecodedChunkCache {
  private maxSamples: number;
  private slabT = new Float64Array(0);
  private slabV = new Float64Array(0);
  private slabW = new Uint32Array(0);
  /** Absolute ring position: samples ever reserved (slab index = abs mod slab length). */
  private abs = 0;
  /** Absolute start of each slot's entry (-1: none), and its key. */
  private entAbs = new Float64Array(0);
  private entMinT = new Float64Array(0);
  private entRef = new Uint32Array(0);
  private entN = new Uint32Array(0);
  readonly stats: DecodedCacheStats = { hits: 0, misses: 0, bytes: 0 };

  constructor(maxBytes = DEFAULT_DECODED_CACHE_BYTES) {
    this.maxSamples = Math.max(0, Math.floor(maxBytes / 16));
  }

  /** Changes the bound (0 disables the cache); drops every entry. */
  setMaxBytes(maxBytes: number): void {
    this.maxSamples = Math.max(0, Math.floor(maxBytes / 16));
    this.slabT = new Float64Array(0);
    this.slabV = new Float64Array(0);
    this.slabW = new Uint32Array(0);
    this.entAbs.fill(-1);
    this.updateBytes();
  }

  /** Samples the slab may hold. */
  get capacity(): number {
    return this.maxSamples;
  }

  /**
   * Copies the samples of chunk `c` (the newest sealed chunk of slot `ix`, series `ref`) with
   * `mint ≤ t ≤ maxt` into `ts` / `vw` (the words of the destination values) from index `at`,
   * decoding the chunk into the cache first on a miss. Returns the index after the last copied
   * sample, or -1 when the chunk cannot be cached (then the caller decodes it itself).
   */
  copyInto(ix: number, ref: number, c: ChunkRef, ts: Float64Array, vw: Uint32Array, at: number, mint: number, maxt: number): number {
    const n = c.n;
    if (n <= 0 || n > this.maxSamples >>> 2) return -1;
    let start = this.lookup(ix, ref, c.minT, n);
    if (start < 0) {
      this.stats.misses++;
      start = this.reserve(n);
      decodeChunkInto(c, this.slabT, this.slabV, start);
      this.remember(ix, ref, c.minT, n, this.abs - n);
    } else {
      this.stats.hits++;
    }
    const t = this.slabT;
    const w = this.slabW;
    // First sample ≥ mint by binary search, then copy until past maxt (values as words: bit-exact).
    let lo = start;
    let hi = start + n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (t[mid]! < mint) lo = mid + 1;
      else hi = mid;
    }
    const end = start + n;
    let o = at;
    for (let i = lo; i < end; i++) {
      const x = t[i]!;
      if (x > maxt) break;
      ts[o] = x;
      vw[2 * o] = w[2 * i]!;
      vw[2 * o + 1] = w[2 * i + 1]!;
      o++;
    }
    return o;
  }

  /** Slab index of a valid entry for this key, or -1. */
  private lookup(ix: number, ref: number, minT: number, n: number): number {
    if (ix >= this.entAbs.length) return -1;
    const a = this.entAbs[ix]!;
    if (a < 0 || this.entRef[ix] !== ref || this.entMinT[ix] !== minT || this.entN[ix] !== n) return -1;
    // Overwritten once the ring has written past a + slab length.
    const len = this.slabT.length;
    if (this.abs > a + len) return -1;
    return a % len;
  }

  /** Reserves `n` contiguous slab samples at the ring's head; returns their slab index. */
  private reserve(n: number): number {
    let len = this.slabT.length;
    let at = this.abs % Math.max(1, len);
    if (len === 0 || (at + n > len && len < this.maxSamples)) {
      // Grow (doubling) instead of wrapping while below the bound; old entries are dropped by
      // moving the ring past them.
      const next = Math.min(this.maxSamples, Math.max(MIN_SLAB_SAMPLES, len * 2, n));
      this.slabT = new Float64Array(next);
      this.slabV = new Float64Array(next);
      this.slabW = new Uint32Array(this.slabV.buffer);
      this.abs = Math.ceil((this.abs + len + 1) / next) * next;
      len = next;
      at = 0;
      this.updateBytes();
    } else if (at + n > len) {
      // Does not fit before the end: skip the rest of this lap.
      this.abs += len - at;
      at = 0;
    }
    this.abs += n;
    return at;
  }

  private remember(ix: number, ref: number, minT: number, n: number, a: number): void {
    if (ix >= this.entAbs.length) this.growEntries(ix + 1);
    this.entAbs[ix] = a;
    this.entRef[ix] = ref;
    this.entMinT[ix] = minT;
    this.entN[ix] = n;
  }

  private growEntries(need: number): void {
    const cap = Math.max(1024, need, Math.ceil(this.entAbs.length * 1.5));
    const grow = <T extends Float64Array | Uint32Array>(old: T, C: new (n: number) => T): T => {
      const a = new C(cap);
      a.set(old);
      return a;
    };
    const abs = new Float64Array(cap).fill(-1);
    abs.set(this.entAbs);
    this.entAbs = abs;
    this.entMinT = grow(this.entMinT, Float64Array);
    this.entRef = grow(this.entRef, Uint32Array);
    this.entN = grow(this.entN, Uint32Array);
    this.updateBytes();
  }

  /** Forgets slot `ix`'s entry (its series was removed or its chunk truncated). */
  drop(ix: number): void {
    if (ix < this.entAbs.length) this.entAbs[ix] = -1;
  }

  private updateBytes(): void {
    this.stats.bytes = this.slabT.byteLength + this.slabV.byteLength + this.entAbs.length * 24;
  }
}

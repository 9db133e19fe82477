/**
 * A bounded cache of the recent part of each series' newest sealed chunk, decoded. Reads of
 * recent data (an instant `rate(x[5m])`, a rule's `x[10m]`, an instant selector evaluated just
 * before the newest scrape) mostly fall into a series' open chunk and the sealed one before it;
 * the sealed one does not change until the next chunk is cut, yet was decoded in full on every
 * read. An entry keeps the chunk's samples from the first one a read needed to its end (a later
 * read with the same window, a rule's next evaluation, needs no more; a wider one extends it), so
 * a 5-minute window costs a fifth of a 120-sample chunk. Samples live in one slab of typed arrays
 * written as a ring (no per-entry allocation: a cache too small for the working set costs no
 * garbage, only the decode that would have happened anyway); a per-slot entry says where.
 * An entry is valid while the ring has not come round to its samples and its key matches: the
 * series ref (never reused), the chunk's first timestamp (unique within a series, whose samples
 * only move forward) and its sample count. Sealed chunks are immutable, so that key is all the
 * invalidation needed; {@link DecodedChunkCache.drop} frees an entry early.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { decodeChunkInto, type ChunkRef } from '../chunkenc/bulk.js';

/** Default bound (samples cost 16 bytes each, entries 32 bytes per series slot). */
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
  /** Entries starting before this absolute position are gone (written before a growth or a reset). */
  private validFrom = 0;
  /** Per slot: absolute start of the entry (-1: none), its key, the samples kept and the first one's time. */
  private entAbs = new Float64Array(0);
  private entMinT = new Float64Array(0);
  private entFirst = new Float64Array(0);
  private entRef = new Uint32Array(0);
  private entN = new Uint32Array(0);
  private entLen = new Uint32Array(0);
  /** Decode buffers for misses. */
  private decT = new Float64Array(0);
  private decV = new Float64Array(0);
  private decW = new Uint32Array(0);
  readonly stats: DecodedCacheStats = { hits: 0, misses: 0, bytes: 0 };

  constructor(maxBytes = DEFAULT_DECODED_CACHE_BYTES) {
    this.maxSamples = samplesFor(maxBytes);
  }

  /** Changes the bound (0 disables the cache); drops every entry. */
  setMaxBytes(maxBytes: number): void {
    this.maxSamples = samplesFor(maxBytes);
    this.slabT = new Float64Array(0);
    this.slabV = new Float64Array(0);
    this.slabW = new Uint32Array(0);
    this.validFrom = this.abs;
    this.updateBytes();
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
    let start = this.lookup(ix, ref, c.minT, n, mint);
    let len = this.entLen[ix]!;
    if (start < 0) {
      this.stats.misses++;
      // Decode it all, keep from the first sample this read needs (or an earlier entry kept).
      if (this.decT.length < n) {
        this.decT = new Float64Array(n);
        this.decV = new Float64Array(n);
        this.decW = new Uint32Array(this.decV.buffer);
      }
      decodeChunkInto(c, this.decT, this.decV, 0);
      const keyed = this.keyMatches(ix, ref, c.minT, n);
      const from = Math.min(firstAtOrAfter(this.decT, 0, n, mint), keyed ? n - this.entLen[ix]! : n);
      len = n - from;
      if (len === 0) {
        // Nothing at or after mint: nothing to keep, nothing to copy.
        return at;
      }
      start = this.reserve(len);
      this.slabT.set(this.decT.subarray(from, n), start);
      this.slabW.set(this.decW.subarray(2 * from, 2 * n), 2 * start);
      this.remember(ix, ref, c.minT, n, len, this.abs - len, from === 0 ? -Infinity : this.decT[from - 1]!);
    } else {
      this.stats.hits++;
    }
    const t = this.slabT;
    const w = this.slabW;
    const end = start + len;
    let o = at;
    for (let i = firstAtOrAfter(t, start, end, mint); i < end; i++) {
      const x = t[i]!;
      if (x > maxt) break;
      ts[o] = x;
      vw[2 * o] = w[2 * i]!;
      vw[2 * o + 1] = w[2 * i + 1]!;
      o++;
    }
    return o;
  }

  private keyMatches(ix: number, ref: number, minT: number, n: number): boolean {
    return ix < this.entAbs.length && this.entAbs[ix]! >= 0 && this.entRef[ix] === ref && this.entMinT[ix] === minT && this.entN[ix] === n && !this.overwritten(ix);
  }

  private overwritten(ix: number): boolean {
    // The ring has come round once it wrote past the entry's start + slab length.
    const a = this.entAbs[ix]!;
    return a < this.validFrom || this.abs > a + this.slabT.length;
  }

  /** Slab index of a valid entry for this key holding every sample ≥ mint, or -1. */
  private lookup(ix: number, ref: number, minT: number, n: number, mint: number): number {
    // entFirst: the time of the last sample before the kept ones (-Infinity: all kept).
    if (!this.keyMatches(ix, ref, minT, n)) return -1;
    const before = this.entFirst[ix]!;
    if (before !== -Infinity && before >= mint) return -1;
    return this.entAbs[ix]! % this.slabT.length;
  }

  /** Reserves `n` contiguous slab samples at the ring's head; returns their slab index. */
  private reserve(n: number): number {
    let len = this.slabT.length;
    let at = len === 0 ? 0 : this.abs % len;
    if (len === 0 || (at + n > len && len < this.maxSamples)) {
      // Grow (doubling) instead of wrapping while below the bound, so a working set that fits
      // never wraps. The last lap's samples move to the same absolute positions in the new slab
      // (no entry crosses a multiple of the old length, so none crosses one of the new).
      // Sizes are the bound halved while it stays even and ≥ MIN_SLAB_SAMPLES, then doubled:
      // each a multiple of the one before.
      let next = len * 2;
      if (len === 0) for (next = this.maxSamples; next % 2 === 0 && next / 2 >= MIN_SLAB_SAMPLES; ) next /= 2;
      while (next < n) next *= 2;
      const t = new Float64Array(next);
      const v = new Float64Array(next);
      const w = new Uint32Array(v.buffer);
      const from = Math.max(this.validFrom, this.abs - len);
      for (let p = from; p < this.abs; ) {
        const o = p % len;
        const k = Math.min(this.abs - p, len - o);
        t.set(this.slabT.subarray(o, o + k), p % next);
        w.set(this.slabW.subarray(2 * o, 2 * (o + k)), 2 * (p % next));
        p += k;
      }
      this.validFrom = from;
      this.slabT = t;
      this.slabV = v;
      this.slabW = w;
      len = next;
      at = this.abs % len;
      this.updateBytes();
    }
    if (at + n > len) {
      // Does not fit before the end: skip the rest of this lap.
      this.abs += len - at;
      at = 0;
    }
    this.abs += n;
    return at;
  }

  private remember(ix: number, ref: number, minT: number, n: number, len: number, a: number, first: number): void {
    if (ix >= this.entAbs.length) this.growEntries(ix + 1);
    this.entAbs[ix] = a;
    this.entRef[ix] = ref;
    this.entMinT[ix] = minT;
    this.entN[ix] = n;
    this.entLen[ix] = len;
    this.entFirst[ix] = first;
  }

  private growEntries(need: number): void {
    const cap = Math.max(1024, need, Math.ceil(this.entAbs.length * 1.5));
    const f64 = (old: Float64Array, fill = 0) => {
      const a = new Float64Array(cap).fill(fill);
      a.set(old);
      return a;
    };
    const u32 = (old: Uint32Array) => {
      const a = new Uint32Array(cap);
      a.set(old);
      return a;
    };
    this.entAbs = f64(this.entAbs, -1);
    this.entMinT = f64(this.entMinT);
    this.entFirst = f64(this.entFirst);
    this.entRef = u32(this.entRef);
    this.entN = u32(this.entN);
    this.entLen = u32(this.entLen);
    this.updateBytes();
  }

  /** Forgets slot `ix`'s entry (its series was removed or its chunks truncated). */
  drop(ix: number): void {
    if (ix < this.entAbs.length) this.entAbs[ix] = -1;
  }

  private updateBytes(): void {
    this.stats.bytes = this.slabT.byteLength + this.slabV.byteLength + this.entAbs.length * 36 + this.decT.byteLength * 2;
  }
}

/** Slab samples for a bound in bytes: whole KiB-samples above 1024 (so halving stays exact). */
function samplesFor(maxBytes: number): number {
  const n = Math.max(0, Math.floor(maxBytes / 16));
  return n >= 1024 ? n - (n % 1024) : n;
}

/** First index in [lo, hi) of ascending `t` with t ≥ x (hi when none). */
function firstAtOrAfter(t: Float64Array, lo: number, hi: number, x: number): number {
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (t[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Registers `vigil_head_decoded_chunk_cache_*` metrics reading `stats` at collect time. */
export function registerDecodedCacheMetrics(registry: Registry, stats: DecodedCacheStats): void {
  // Counters mirror the cache's own monotonic counts (reset + inc sets them at collect time).
  new Counter({
    name: 'vigil_head_decoded_chunk_cache_hits_total',
    help: 'Reads of a newest sealed chunk served from the decoded-chunk cache.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats.hits);
    },
  });
  new Counter({
    name: 'vigil_head_decoded_chunk_cache_misses_total',
    help: 'Reads of a newest sealed chunk that decoded it into the decoded-chunk cache.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(stats.misses);
    },
  });
  new Gauge({
    name: 'vigil_head_decoded_chunk_cache_bytes',
    help: 'Bytes held by the decoded-chunk cache (sample slab and per-series entries).',
    registers: [registry],
    collect() {
      this.set(stats.bytes);
    },
  });
}

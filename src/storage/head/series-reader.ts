/**
 * The read path over a {@link SeriesTable}: what the querier needs to select series and decode
 * their float samples. It only reads the table's columns (they are package-internal) and owns
 * the state that exists for reads alone: reused chunk descriptions and decode buffers, the
 * shared output buffers of {@link SeriesReader.floatsIn}, the shared `Label` objects and the
 * label-order ranks ({@link SortOrder}). The decoded-chunk cache stays with the table, which
 * must invalidate it when it drops chunks or slots.
 *
 * Performance: these methods run per selected series; none allocates per chunk or sample.
 * The table's columns are re-created when it grows, so they are read through `this.st` on each
 * call (one property load per call), never kept across calls.
 */
import type { Label, Labels } from '../../model/labels.js';
import { ENC_F64, ENC_I32 } from '../chunkenc/xor.js';
import { decodeChunkInto, type ChunkRef } from '../chunkenc/bulk.js';
import { SortOrder } from './sort-order.js';
import type { SeriesTable } from './series-table.js';

/** Samples per output buffer of the read path (see `SeriesReader.reserveOut`): 2 × 128 KiB. */
const OUT_BUFFER_SAMPLES = 16 * 1024;

/** Decode buffers with room for `n` samples (`w`: the values as 32-bit words). */
function scratchOf(n: number): { t: Float64Array; v: Float64Array; w: Uint32Array } {
  const v = new Float64Array(n);
  return { t: new Float64Array(n), v, w: new Uint32Array(v.buffer) };
}

/** Read-path access to a {@link SeriesTable} (one per head; not reentrant across awaits). */
export class SeriesReader {
  /** Label order of the series, for sorted selects. */
  readonly order: SortOrder;
  /** Reused description of the chunk being read. */
  private readonly cref: { buf: Uint8Array; off: number; len: number; n: number; minT: number; c: number } = { buf: new Uint8Array(0), off: 0, len: 0, n: 0, minT: 0, c: -1 };
  /** Reused decode buffers for reads that keep one sample. */
  private scratch = scratchOf(128);
  /** `Label` objects shared between label sets, by value id (name checked). */
  private readonly pairByValue: (Label | undefined)[] = [];

  /** @param st the table read (its columns, chunks, pool and decoded-chunk cache). */
  constructor(readonly st: SeriesTable) {
    this.order = new SortOrder(this);
  }

  /**
   * The label set of a slot like `SeriesTable.labels`, but built from frozen `Label` objects
   * shared with other series (one array per call, no object per label): queries that select
   * many series then allocate little. The cache holds one pair per value id, checked against
   * the symbols on use (ids are reused; a value under another name replaces the entry).
   */
  sharedLabels(ix: number): Labels {
    const st = this.st;
    const n = st.labLen[ix]!;
    const o = st.labOff[ix]!;
    const d = st.labelData;
    const sy = st.symbols;
    const cache = this.pairByValue;
    const out: Label[] = new Array<Label>(n);
    for (let i = 0; i < n; i++) {
      const vi = d[o + 2 * i + 1]!;
      const name = sy.str(d[o + 2 * i]!);
      const value = sy.str(vi);
      let l = cache[vi];
      if (l === undefined || l.name !== name || l.value !== value) {
        l = Object.freeze({ name, value });
        while (cache.length < vi) cache.push(undefined);
        cache[vi] = l;
      }
      out[i] = l;
    }
    return out;
  }

  /**
   * Compares the label sets of two slots like `labelsCompare` (names and values in order, by
   * UTF-16 code units) without materialising them; equal symbol ids are equal strings.
   */
  compareSlots(a: number, b: number): number {
    const st = this.st;
    const d = st.labelData;
    const na = st.labLen[a]!;
    const nb = st.labLen[b]!;
    const oa = st.labOff[a]!;
    const ob = st.labOff[b]!;
    const n = 2 * Math.min(na, nb);
    for (let i = 0; i < n; i++) {
      const x = d[oa + i]!;
      const y = d[ob + i]!;
      if (x !== y) return st.symbols.str(x) < st.symbols.str(y) ? -1 : 1;
    }
    return na - nb;
  }

  /**
   * Calls `fn` for each float chunk overlapping [mint, maxt] in time order (the chunk is
   * described by the shared, reused {@link cref}); stops early when `fn` returns false.
   * Returns the total number of samples of the visited chunks.
   */
  private eachChunk(ix: number, mint: number, maxt: number, fn: ((c: ChunkRef) => boolean) | undefined): number {
    const st = this.st;
    let total = 0;
    const ch = st.chunks;
    const r = this.cref;
    for (let c = st.first[ix]!; c >= 0; c = ch.next[c]!) {
      if (ch.maxT[c]! < mint) continue;
      if (ch.minT[c]! > maxt) return total;
      total += ch.n[c]!;
      if (fn !== undefined) {
        r.buf = ch.buf(c);
        r.off = ch.off[c]!;
        r.len = ch.len[c]!;
        r.n = ch.n[c]!;
        r.minT = ch.minT[c]!;
        r.c = c;
        if (!fn(r)) return total;
      }
    }
    const h = st.openH[ix]!;
    const io = ix * ENC_I32;
    const n = st.encI[io + 1]!;
    if (h >= 0 && n > 0) {
      const minT = st.encF[ix * ENC_F64]!;
      if (st.maxT[ix]! >= mint && minT <= maxt) {
        total += n;
        if (fn !== undefined) {
          r.buf = st.pool.buf(h);
          r.off = st.pool.off(h);
          r.len = (st.encI[io]! + 7) >>> 3;
          r.n = n;
          r.minT = minT;
          r.c = -1;
          fn(r);
        }
      }
    }
    return total;
  }

  /** True when the slot has a float sample in [mint, maxt]. */
  hasFloatIn(ix: number, mint: number, maxt: number): boolean {
    let found = false;
    this.eachChunk(ix, mint, maxt, (c) => {
      found = this.chunkHasIn(c, mint, maxt);
      return !found;
    });
    return found;
  }

  /**
   * Decodes float samples in [mint, maxt] (values bit-exact). They decode straight into the
   * shared output buffers and are returned as views of them ({@link reserveOut}).
   */
  floatsIn(ix: number, mint: number, maxt: number): { t: Float64Array; v: Float64Array } {
    const cap = this.eachChunk(ix, mint, maxt, undefined);
    if (cap === 0) return { t: new Float64Array(0), v: new Float64Array(0) };
    const s = this.reserveOut(cap);
    const start = this.outPos;
    this.fillN = start;
    this.fillIx = ix;
    this.fillMint = mint;
    this.fillMaxt = maxt;
    this.eachChunk(ix, mint, maxt, this.fill);
    const n = this.fillN;
    this.outPos = n;
    return { t: s.t.subarray(start, n), v: s.v.subarray(start, n) };
  }

  /**
   * Output buffers of {@link floatsIn}, bump-allocated and never written twice: the samples of
   * a select of many series share a few large buffers instead of two small ones per series
   * (each its own allocation with its own finaliser). A view keeps at most one of them alive.
   */
  private out = scratchOf(0);
  private outPos = 0;

  /** The output buffers with room for `n` samples from {@link outPos} on. */
  private reserveOut(n: number): { t: Float64Array; v: Float64Array; w: Uint32Array } {
    if (this.outPos + n > this.out.t.length) {
      this.out = scratchOf(Math.max(n, OUT_BUFFER_SAMPLES));
      this.outPos = 0;
    }
    return this.out;
  }

  // State of the `fill` callback, in fields so that it is one closure made once, not one per call.
  private fillN = 0;
  private fillIx = 0;
  private fillMint = 0;
  private fillMaxt = 0;
  /**
   * Decodes one chunk into the output buffers after the samples already there; the newest
   * sealed chunk comes from (or goes through) the decoded-chunk cache.
   */
  private readonly fill = (c: ChunkRef): boolean => {
    const s = this.out;
    const ix = this.fillIx;
    const st = this.st;
    if (this.cref.c >= 0 && this.cref.c === st.last[ix]) {
      const k = st.decoded.copyInto(ix, st.ref[ix]!, c, s.t, s.w, this.fillN, this.fillMint, this.fillMaxt);
      if (k >= 0) {
        this.fillN = k;
        return true;
      }
    }
    this.fillN = decodeChunkInto(c, s.t, s.v, this.fillN, this.fillMint, this.fillMaxt);
    return true;
  };

  /**
   * True when the slot has a float sample in [mint, maxt]. Like {@link hasFloatIn} but decides
   * from chunk bounds (a chunk's first and last timestamps are samples) and decodes only a chunk
   * that spans the whole range.
   */
  floatPresentIn(ix: number, mint: number, maxt: number): boolean {
    const st = this.st;
    if (st.floatsEmpty(ix) || st.maxT[ix]! < mint) return false;
    const ch = st.chunks;
    for (let c = st.first[ix]!; c >= 0; c = ch.next[c]!) {
      const lo = ch.minT[c]!;
      const hi = ch.maxT[c]!;
      if (hi < mint) continue;
      if (lo > maxt) return false;
      if (lo >= mint || hi <= maxt) return true;
      const r = this.cref;
      r.buf = ch.buf(c);
      r.off = ch.off[c]!;
      r.len = ch.len[c]!;
      r.n = ch.n[c]!;
      r.minT = lo;
      return this.chunkHasIn(r, mint, maxt);
    }
    const h = st.openH[ix]!;
    const io = ix * ENC_I32;
    const n = st.encI[io + 1]!;
    if (h < 0 || n === 0) return false;
    const lo = st.encF[ix * ENC_F64]!;
    const hi = st.maxT[ix]!;
    if (lo > maxt || hi < mint) return false;
    if (lo >= mint || hi <= maxt) return true;
    const r = this.cref;
    r.buf = st.pool.buf(h);
    r.off = st.pool.off(h);
    r.len = (st.encI[io]! + 7) >>> 3;
    r.n = n;
    r.minT = lo;
    return this.chunkHasIn(r, mint, maxt);
  }

  private chunkHasIn(c: ChunkRef, mint: number, maxt: number): boolean {
    const s = this.scratchFor(c.n);
    return decodeChunkInto(c, s.t, s.v, 0, mint, maxt) > 0;
  }

  /** Shared decode buffers with room for `n` samples. */
  private scratchFor(n: number): { t: Float64Array; v: Float64Array; w: Uint32Array } {
    if (this.scratch.t.length < n) this.scratch = scratchOf(Math.max(n, this.scratch.t.length * 2));
    return this.scratch;
  }

  /**
   * The newest float sample in [mint, maxt] into `out` (value as bit words); false when there
   * is none. Reads the series' last value without decoding when it is within the range, else
   * decodes only the one chunk that holds the newest sample at or before `maxt`.
   */
  lastFloatIn(ix: number, mint: number, maxt: number, out: { t: number; hi: number; lo: number }): boolean {
    const st = this.st;
    if (st.floatsEmpty(ix)) return false;
    const last = st.maxT[ix]!;
    if (last <= maxt) {
      if (last < mint) return false;
      out.t = last;
      out.hi = st.lastHi[ix]!;
      out.lo = st.lastLo[ix]!;
      return true;
    }
    // The newest chunk starting at or before maxt holds the answer.
    const r = this.cref;
    let have = false;
    let chosen = -1;
    const ch = st.chunks;
    for (let c = st.first[ix]!; c >= 0; c = ch.next[c]!) {
      if (ch.minT[c]! > maxt) break;
      have = ch.maxT[c]! >= mint;
      if (have) {
        chosen = c;
        r.buf = ch.buf(c);
        r.off = ch.off[c]!;
        r.len = ch.len[c]!;
        r.n = ch.n[c]!;
        r.minT = ch.minT[c]!;
      }
    }
    const h = st.openH[ix]!;
    const io = ix * ENC_I32;
    const n = st.encI[io + 1]!;
    if (h >= 0 && n > 0 && st.encF[ix * ENC_F64]! <= maxt) {
      have = true;
      chosen = -1;
      r.buf = st.pool.buf(h);
      r.off = st.pool.off(h);
      r.len = (st.encI[io]! + 7) >>> 3;
      r.n = n;
      r.minT = st.encF[ix * ENC_F64]!;
    }
    if (!have) return false;
    const s = this.scratchFor(r.n);
    // An instant read before the series' last sample (query time before the newest scrape, or
    // an offset) mostly lands in the newest sealed chunk: through the cache.
    let k = chosen >= 0 && chosen === st.last[ix] ? st.decoded.copyInto(ix, st.ref[ix]!, r, s.t, s.w, 0, mint, maxt) : -1;
    if (k < 0) k = decodeChunkInto(r, s.t, s.v, 0, mint, maxt);
    if (k === 0) return false;
    const w = s.w;
    out.t = s.t[k - 1]!;
    out.lo = w[2 * k - 2]!;
    out.hi = w[2 * k - 1]!;
    return true;
  }
}

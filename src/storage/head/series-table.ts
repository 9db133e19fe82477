/**
 * All series of the head as a struct of arrays: every per-series scalar lives in a typed array
 * indexed by a dense slot index (`ix`), so a series costs no JS object. Refs are monotonic and
 * never reused; slots are (via a free list) and a {@link HashIndex} maps ref → slot. Label sets
 * are stored as symbol ids ({@link SymbolTable}) in one shared `Uint32Array`, sealed chunks in a
 * {@link ChunkTable}, the open chunk's encoder state in typed arrays and its bytes in a
 * {@link SlotPool}. Rare per-series state (histograms, exemplars) lives in maps keyed by slot.
 *
 * This file is the write side (create/remove, labels, appends, truncation). The query engine's
 * read path lives in `series-reader.ts` ({@link SeriesReader}) and reads the columns directly;
 * those it needs are marked `@internal` (package-internal, not for use outside `storage/head`).
 */
import type { Label, Labels } from '../../model/labels.js';
import { SlotPool } from '../chunkenc/pool.js';
import { Recoder } from '../chunkenc/recode.js';
import { DEFAULT_ZK, TS_GRID, VAL_DEC_DD } from '../chunkenc/codec.js';
import { ChunkEncoder, ENC_F64, ENC_I32 } from '../chunkenc/xor.js';
import { ChunkTable } from './chunk-table.js';
import { HashIndex } from './hash-index.js';
import { DecodedChunkCache } from './decoded-cache.js';
import { SymbolTable } from './symbols.js';
import type { ExemplarRing, HistState } from './series.js';
import type { StartRuns } from './start-times.js';
import type { SeriesReader } from './series-reader.js';

/** Series flag: in the postings index (its data may be read). */
export const F_VISIBLE = 1;
/** Series flag: a `series` record for it was handed to the WAL. */
export const F_WAL_LOGGED = 2;

/** Accumulator of chunk statistics changes. */
export interface ChunkDelta {
  chunks: number;
  bytes: number;
  samples: number;
}

/** Bytes per slot over all columns (see {@link SeriesTable.grow}). */
const SLOT_BYTES = 8 * (2 + ENC_F64) + 4 * (15 + ENC_I32) + 2 + 1;

/** Seal-time re-encoding tries all modes on a series' first chunk and then every this many chunks. */
const EXPLORE_EVERY = 8;

/**
 * Struct-of-arrays series storage. Columns are package-internal: outside the table only
 * {@link SeriesReader} (reads) and `HeadAppender` (transaction columns) touch them.
 */
export class SeriesTable {
  /** Interned label strings. */
  readonly symbols = new SymbolTable();
  /** Sealed chunks. */
  readonly chunks = new ChunkTable();
  /** @internal Open chunks' bytes (read by {@link SeriesReader}). */
  readonly pool = new SlotPool(8 * 1024);
  private readonly enc: ChunkEncoder;
  private readonly recoder = new Recoder();
  private readonly refIndex = new HashIndex(1024);
  private readonly hashIndex = new HashIndex(1024);
  private readonly freeSlots: number[] = [];
  private cap = 0;
  private top = 0;
  /** @internal Label sets as (name id, value id) pairs; a slot's are at labOff, labLen pairs long. */
  labelData = new Uint32Array(4096);
  private labelTop = 0;
  private labelGarbage = 0;
  /** Histogram state by slot. */
  readonly hist = new Map<number, HistState>();
  /** Exemplars by slot. */
  readonly exemplars = new Map<number, ExemplarRing>();
  /** Start timestamps of float samples by slot (only series that had one). */
  readonly starts = new Map<number, StartRuns>();
  /**
   * Each series' newest sealed chunk, decoded (bounded). Read by {@link SeriesReader}; kept here
   * because the table must drop entries when it frees chunks or slots.
   */
  readonly decoded = new DecodedChunkCache();

  ref = new Uint32Array(0);
  hash = new Uint32Array(0);
  flags = new Uint8Array(0);
  pending = new Uint32Array(0);
  /** Max committed float t and the bits of the value at it. */
  maxT = new Float64Array(0);
  lastHi = new Uint32Array(0);
  lastLo = new Uint32Array(0);
  /** Max float t among committed and in-flight samples, and the bits at it. */
  walT = new Float64Array(0);
  walHi = new Uint32Array(0);
  walLo = new Uint32Array(0);
  /** Transaction that claimed the slot (0: none) and its last staged float/histogram index. */
  txn = new Int32Array(0);
  txnF = new Int32Array(0);
  txnH = new Int32Array(0);
  // Columns below are @internal: read (never written) by SeriesReader. They are replaced on
  // growth, so readers must load them from the table on each call.
  /** @internal Offset and pair count of a slot's labels in {@link labelData}. */
  labOff = new Uint32Array(0);
  /** @internal */
  labLen = new Uint16Array(0);
  /** @internal First and last sealed chunk of a slot (-1: none), linked by `chunks.next`. */
  first = new Int32Array(0);
  /** @internal */
  last = new Int32Array(0);
  private sealedCount = new Uint32Array(0);
  /** @internal Pool handle of the open chunk (-1: none). */
  openH = new Int32Array(0);
  /** @internal Open-chunk encoder state: ENC_F64 floats per slot (`[0]`: minT)… */
  encF = new Float64Array(0);
  /** @internal …and ENC_I32 ints per slot (`[0]`: bit length, `[1]`: sample count). */
  encI = new Int32Array(0);

  constructor() {
    this.enc = new ChunkEncoder(64, this.pool);
    this.enc.w.release();
  }

  /** Slots in use. */
  get size(): number {
    return this.top - this.freeSlots.length;
  }

  /**
   * Grows the capacity by half. All columns are views into one new `ArrayBuffer` (widest element
   * type first, so every view is aligned): one large allocation and one large free per growth
   * step, which the allocator returns to the OS, instead of twenty-odd mid-sized ones that
   * would stay resident as heap fragments.
   */
  private grow(): void {
    const cap = Math.max(1024, Math.ceil((this.cap * 1.5) / 1024) * 1024);
    const buf = new ArrayBuffer(cap * SLOT_BYTES);
    let at = 0;
    const take = <T extends Uint32Array | Uint16Array | Uint8Array | Int32Array | Float64Array>(old: T, per = 1): T => {
      const C = old.constructor as new (b: ArrayBuffer, off: number, n: number) => T;
      const v = new C(buf, at, cap * per);
      v.set(old);
      at += cap * per * old.BYTES_PER_ELEMENT;
      return v;
    };
    this.maxT = take(this.maxT);
    this.walT = take(this.walT);
    this.encF = take(this.encF, ENC_F64);
    this.ref = take(this.ref);
    this.hash = take(this.hash);
    this.pending = take(this.pending);
    this.lastHi = take(this.lastHi);
    this.lastLo = take(this.lastLo);
    this.walHi = take(this.walHi);
    this.walLo = take(this.walLo);
    this.txn = take(this.txn);
    this.txnF = take(this.txnF);
    this.txnH = take(this.txnH);
    this.labOff = take(this.labOff);
    this.first = take(this.first);
    this.last = take(this.last);
    this.sealedCount = take(this.sealedCount);
    this.openH = take(this.openH);
    this.encI = take(this.encI, ENC_I32);
    this.labLen = take(this.labLen);
    this.flags = take(this.flags);
    this.cap = cap;
  }

  /** Slot of a live series by ref, or -1. */
  slotOf(ref: number): number {
    return this.refIndex.get(ref);
  }

  /** Slot of the series with exactly these (normalised) labels and hash, or -1. */
  find(h: number, ls: Labels): number {
    const hi = this.hashIndex;
    for (let s = hi.next(h); s >= 0; s = hi.next(h, s)) {
      const ix = hi.valueAt(s);
      if (this.labelsEqual(ix, ls)) return ix;
    }
    return -1;
  }

  private labelsEqual(ix: number, ls: Labels): boolean {
    const n = this.labLen[ix]!;
    if (n !== ls.length) return false;
    const o = this.labOff[ix]!;
    const d = this.labelData;
    const sy = this.symbols;
    for (let i = 0; i < n; i++) {
      const l = ls[i]!;
      if (sy.str(d[o + 2 * i]!) !== l.name || sy.str(d[o + 2 * i + 1]!) !== l.value) return false;
    }
    return true;
  }

  /** Creates a series (not visible, not logged); returns its slot. */
  create(ref: number, ls: Labels, h: number): number {
    let ix = this.freeSlots.pop();
    if (ix === undefined) {
      if (this.top === this.cap) this.grow();
      ix = this.top++;
    }
    this.ref[ix] = ref;
    this.hash[ix] = h;
    this.flags[ix] = 0;
    this.pending[ix] = 0;
    this.maxT[ix] = -Infinity;
    this.walT[ix] = -Infinity;
    this.lastHi[ix] = this.lastLo[ix] = this.walHi[ix] = this.walLo[ix] = 0;
    this.txn[ix] = 0;
    this.txnF[ix] = -1;
    this.txnH[ix] = -1;
    this.first[ix] = -1;
    this.last[ix] = -1;
    this.sealedCount[ix] = 0;
    this.openH[ix] = -1;
    this.encF.fill(0, ix * ENC_F64, (ix + 1) * ENC_F64);
    this.encI.fill(0, ix * ENC_I32, (ix + 1) * ENC_I32);
    this.encI[ix * ENC_I32 + 3] = VAL_DEC_DD | (TS_GRID << 2) | (DEFAULT_ZK << 3);
    this.storeLabels(ix, ls);
    this.refIndex.insert(ref, ix);
    this.hashIndex.insert(h, ix);
    return ix;
  }

  private storeLabels(ix: number, ls: Labels): void {
    const need = 2 * ls.length;
    if (this.labelTop + need > this.labelData.length) this.compactLabels(need);
    const o = this.labelTop;
    const d = this.labelData;
    for (let i = 0; i < ls.length; i++) {
      d[o + 2 * i] = this.symbols.intern(ls[i]!.name);
      d[o + 2 * i + 1] = this.symbols.intern(ls[i]!.value);
    }
    this.labOff[ix] = o;
    this.labLen[ix] = ls.length;
    this.labelTop = o + need;
  }

  /** Makes room for `need` more words: drops freed label sets, grows when still short. */
  private compactLabels(need: number): void {
    let live = this.labelTop - this.labelGarbage;
    let cap = this.labelData.length;
    // Compact in place of growing while that frees at least 1/8; grow to 1.25× what is
    // needed (not ×2: label words are ~100 bytes per series, and doubling left up to half
    // of them as slack).
    if (live + need > cap * 0.875) cap = Math.ceil(((live + need) * 1.25) / 1024) * 1024;
    const d = new Uint32Array(cap);
    let k = 0;
    for (let ix = 0; ix < this.top; ix++) {
      if (this.ref[ix] === 0) continue;
      const o = this.labOff[ix]!;
      const n = 2 * this.labLen[ix]!;
      d.set(this.labelData.subarray(o, o + n), k);
      this.labOff[ix] = k;
      k += n;
    }
    live = k;
    this.labelData = d;
    this.labelTop = live;
    this.labelGarbage = 0;
  }

  /** Frees a series' slot, labels, chunks and side state. */
  remove(ix: number): void {
    const o = this.labOff[ix]!;
    const n = this.labLen[ix]!;
    for (let i = 0; i < 2 * n; i++) this.symbols.release(this.labelData[o + i]!);
    this.labelGarbage += 2 * n;
    this.labLen[ix] = 0;
    for (let c = this.first[ix]!; c >= 0; ) c = this.chunks.free(c);
    const h = this.openH[ix]!;
    if (h >= 0) this.pool.free(h, this.encI[ix * ENC_I32]! + 7 >>> 3);
    this.openH[ix] = -1;
    this.refIndex.remove(this.ref[ix]!, ix);
    this.hashIndex.remove(this.hash[ix]!, ix);
    this.hist.delete(ix);
    this.exemplars.delete(ix);
    this.starts.delete(ix);
    this.decoded.drop(ix);
    this.ref[ix] = 0;
    this.flags[ix] = 0;
    this.freeSlots.push(ix);
  }

  /** The label set of a slot, materialised from symbols (a fresh array). */
  labels(ix: number): Labels {
    const n = this.labLen[ix]!;
    const o = this.labOff[ix]!;
    const d = this.labelData;
    const sy = this.symbols;
    const out: Label[] = new Array<Label>(n);
    for (let i = 0; i < n; i++) out[i] = { name: sy.str(d[o + 2 * i]!), value: sy.str(d[o + 2 * i + 1]!) };
    return out;
  }

  /** Value of label `name` of a slot, or ''. */
  labelValue(ix: number, name: string): string {
    const id = this.symbols.lookup(name);
    if (id < 0) return '';
    const n = this.labLen[ix]!;
    const o = this.labOff[ix]!;
    for (let i = 0; i < n; i++) if (this.labelData[o + 2 * i] === id) return this.symbols.str(this.labelData[o + 2 * i + 1]!);
    return '';
  }

  /** Label names of a slot. */
  labelNames(ix: number): string[] {
    const n = this.labLen[ix]!;
    const o = this.labOff[ix]!;
    const out: string[] = [];
    for (let i = 0; i < n; i++) out.push(this.symbols.str(this.labelData[o + 2 * i]!));
    return out;
  }

  /** Calls `f` for every live slot. */
  forEach(f: (ix: number) => void): void {
    for (let ix = 0; ix < this.top; ix++) if (this.ref[ix] !== 0) f(ix);
  }

  /** Appends a float sample (must be newer than maxT); adds the change in chunk bytes and count to `acc`. */
  appendFloat(ix: number, t: number, hi: number, lo: number, chunkSamples: number, acc: ChunkDelta): void {
    const enc = this.enc;
    const fo = ix * ENC_F64;
    const io = ix * ENC_I32;
    let h = this.openH[ix]!;
    enc.load(this.encF, fo, this.encI, io, h);
    if (h < 0) {
      enc.w.fresh(64);
      enc.n = 0;
      acc.chunks++;
    } else if (enc.n === 0) {
      acc.chunks++;
    }
    enc.setLast(this.maxT[ix]!, this.lastHi[ix]!, this.lastLo[ix]!);
    const before = enc.byteLength;
    enc.appendBits(t, hi, lo);
    acc.bytes += enc.byteLength - before;
    this.maxT[ix] = t;
    this.lastHi[ix] = hi;
    this.lastLo[ix] = lo;
    if (t > this.walT[ix]!) {
      this.walT[ix] = t;
      this.walHi[ix] = hi;
      this.walLo[ix] = lo;
    }
    h = enc.w.regionHandle;
    if (enc.n >= chunkSamples) {
      const explore = this.sealedCount[ix]! % EXPLORE_EVERY === 0;
      const len = enc.byteLength;
      const r = explore ? this.recoder.best(enc.w.buf, enc.w.base, len, enc.n, enc.minT) : null;
      const bytes = r === null ? enc.w.bytes() : r.bytes;
      const c = this.chunks.add(bytes, enc.n, enc.minT, t);
      acc.bytes += bytes.length - len;
      if (r !== null) {
        enc.prefVal = r.valMode;
        enc.prefTs = r.tsMode;
        enc.prefK = r.k;
      }
      const lastC = this.last[ix]!;
      if (lastC >= 0) this.chunks.next[lastC] = c;
      else this.first[ix] = c;
      this.last[ix] = c;
      this.sealedCount[ix]!++;
      this.pool.free(h, len);
      h = -1;
      enc.n = 0;
      enc.w.bitPos = 0;
    }
    this.openH[ix] = h;
    enc.save(this.encF, fo, this.encI, io);
  }

  /** Number of float samples held by a slot. */
  floatSamples(ix: number): number {
    let n = this.openH[ix]! >= 0 ? this.encI[ix * ENC_I32 + 1]! : 0;
    for (let c = this.first[ix]!; c >= 0; c = this.chunks.next[c]!) n += this.chunks.n[c]!;
    return n;
  }

  /** Float chunk bytes held by a slot (sealed and open). */
  floatBytes(ix: number): number {
    let b = this.openH[ix]! >= 0 ? (this.encI[ix * ENC_I32]! + 7) >>> 3 : 0;
    for (let c = this.first[ix]!; c >= 0; c = this.chunks.next[c]!) b += this.chunks.len[c]!;
    return b;
  }

  /** Capacity of the slot's open chunk region in bytes (0 when none). */
  openCapacity(ix: number): number {
    const h = this.openH[ix]!;
    return h >= 0 ? this.pool.size(h) : 0;
  }

  /**
   * Drops whole float chunks that end before `mint` (the open one only when nothing sealed is
   * left and it ends before `mint`), adding the changes to `acc` (negative).
   */
  truncateFloats(ix: number, mint: number, acc: ChunkDelta): void {
    const ch = this.chunks;
    let c = this.first[ix]!;
    while (c >= 0 && ch.maxT[c]! < mint) {
      acc.chunks--;
      acc.bytes -= ch.len[c]!;
      acc.samples -= ch.n[c]!;
      c = ch.free(c);
    }
    this.first[ix] = c;
    if (c < 0) {
      this.last[ix] = -1;
      this.decoded.drop(ix);
    }
    const h = this.openH[ix]!;
    const io = ix * ENC_I32;
    const n = this.encI[io + 1]!;
    if (h >= 0 && c < 0 && (n === 0 || this.maxT[ix]! < mint)) {
      const bytes = (this.encI[io]! + 7) >>> 3;
      if (n > 0) {
        acc.chunks--;
        acc.bytes -= bytes;
        acc.samples -= n;
      }
      this.pool.free(h, bytes);
      this.openH[ix] = -1;
      this.encI[io] = 0;
      this.encI[io + 1] = 0;
    }
  }

  /** True when the slot holds no float samples. */
  floatsEmpty(ix: number): boolean {
    return this.first[ix]! < 0 && (this.openH[ix]! < 0 || this.encI[ix * ENC_I32 + 1] === 0);
  }

  /** Smallest float timestamp held, or +Infinity. */
  floatMinTime(ix: number): number {
    const c = this.first[ix]!;
    if (c >= 0) return this.chunks.minT[c]!;
    if (this.openH[ix]! >= 0 && this.encI[ix * ENC_I32 + 1]! > 0) return this.encF[ix * ENC_F64]!;
    return Infinity;
  }

  /** Bytes reserved by the open-chunk pool. */
  get openPoolBytes(): number {
    return this.pool.reservedBytes;
  }

  /** Bytes reserved in typed arrays, by part (for benchmarks and the memory diet's tests). */
  memory(): Record<string, number> {
    const columns = this.cap * SLOT_BYTES;
    return {
      columns,
      columnsPerSlot: this.cap > 0 ? columns / this.cap : 0,
      slots: this.cap,
      labels: this.labelData.byteLength,
      indexes: this.refIndex.capacity * 8 + this.hashIndex.capacity * 8,
      chunkMeta: this.chunks.metaBytes,
      chunkSlabs: this.chunks.reservedBytes,
      openPool: this.pool.reservedBytes,
      openPoolUsed: this.pool.allocatedBytes,
    };
  }
}

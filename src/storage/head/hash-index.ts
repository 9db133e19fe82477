/**
 * Open-addressing hash multimap from 32-bit keys to non-negative int32 values, in typed arrays
 * (linear probing, tombstones, rehash when more than 70 % of slots are used). Several values
 * may share a key (hash collisions): callers walk the candidates and compare.
 */

const EMPTY = -1;
const TOMB = -2;

/** A typed-array hash multimap `uint32 → int32 (≥ 0)`. */
export class HashIndex {
  private keys: Uint32Array;
  private vals: Int32Array;
  private mask: number;
  private live = 0;
  private used = 0;

  /** @param initialCapacity initial slots (rounded up to a power of two, at least 16) */
  constructor(initialCapacity = 1024) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.keys = new Uint32Array(cap);
    this.vals = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
  }

  /** Number of entries. */
  get size(): number {
    return this.live;
  }

  /** Number of slots. */
  get capacity(): number {
    return this.mask + 1;
  }

  private slot(key: number): number {
    return Math.imul(key ^ (key >>> 16), 0x45d9f3b) & this.mask;
  }

  /** Adds `key → val` (no check for an existing equal entry). */
  insert(key: number, val: number): void {
    if ((this.used + 1) * 10 > (this.mask + 1) * 7) this.rehash();
    key >>>= 0;
    let i = this.slot(key);
    for (;;) {
      const v = this.vals[i]!;
      if (v < 0) {
        if (v === EMPTY) this.used++;
        this.keys[i] = key;
        this.vals[i] = val;
        this.live++;
        return;
      }
      i = (i + 1) & this.mask;
    }
  }

  /** First slot holding `key` at or after probe position `from` (use -1 to start), or -1. */
  next(key: number, from = -1): number {
    key >>>= 0;
    const mask = this.mask;
    let i = from < 0 ? this.slot(key) : (from + 1) & mask;
    for (;;) {
      const v = this.vals[i]!;
      if (v === EMPTY) return -1;
      if (v >= 0 && this.keys[i] === key) return i;
      i = (i + 1) & mask;
    }
  }

  /** Value at a slot returned by {@link next}. */
  valueAt(slot: number): number {
    return this.vals[slot]!;
  }

  /** The first value for `key`, or -1. For keys known to be unique. */
  get(key: number): number {
    const s = this.next(key);
    return s < 0 ? -1 : this.vals[s]!;
  }

  /** Removes the entry `key → val`; false when absent. */
  remove(key: number, val: number): boolean {
    for (let s = this.next(key); s >= 0; s = this.next(key, s)) {
      if (this.vals[s] === val) {
        this.vals[s] = TOMB;
        this.live--;
        return true;
      }
    }
    return false;
  }

  private rehash(): void {
    const oldK = this.keys;
    const oldV = this.vals;
    let cap = this.mask + 1;
    if (this.live * 10 > cap * 4) cap *= 2;
    this.keys = new Uint32Array(cap);
    this.vals = new Int32Array(cap).fill(EMPTY);
    this.mask = cap - 1;
    this.live = 0;
    this.used = 0;
    for (let i = 0; i < oldV.length; i++) if (oldV[i]! >= 0) this.insert(oldK[i]!, oldV[i]!);
  }
}

/**
 * The receiver's series fast-path cache: the identity of a series as sent (its raw label bytes
 * in 1.0, its resolved label strings in 2.0) → the storage ref. Keys are not stored: an entry
 * is a 96-bit fingerprint (two independently seeded 32-bit hash lanes plus the key length) and
 * the ref, 16 bytes in one open-addressing `Uint32Array` (linear probing, backward-shift
 * deletion, load ≤ 0.7), about 25 bytes per series instead of the ~1 KB a `Map<string, …>`
 * holding the key string and a label set costs.
 *
 * Collisions: two different series are confused only when both 32-bit lanes and the length
 * agree. With n cached series, a new series hits a wrong entry with probability about
 * n / 2^64 (≈ 1e-14 at the default 200,000 entries); the seeds are random per cache, so a
 * sender cannot prepare colliding label sets offline, and each tenant has its own cache, so a
 * crafted collision could only misfile that sender's own samples.
 */
import type { SeriesRef } from '../../storage/interface.js';

/** Fingerprint of the key last hashed by {@link hashBytes} / {@link hashLabelStrings}. */
export interface Fingerprint {
  h1: number;
  h2: number;
  len: number;
}

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;
const C3 = 0x85ebca77;
const C4 = 0xc2b2ae3d;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Hash seeds of one cache (random, see the module comment). */
export interface Seeds {
  readonly s1: number;
  readonly s2: number;
}

/** Random seeds. */
export function randomSeeds(): Seeds {
  return { s1: (Math.random() * 0x100000000) >>> 0, s2: (Math.random() * 0x100000000) >>> 0 };
}

/**
 * Fingerprints `buf[start, end)` into `out` (two murmur3-style lanes with different constants
 * and seeds, 4 bytes per step).
 */
export function hashBytes(seeds: Seeds, buf: Uint8Array, start: number, end: number, out: Fingerprint): void {
  let h1 = seeds.s1;
  let h2 = seeds.s2;
  let i = start;
  const stop = end - 3;
  for (; i < stop; i += 4) {
    const k = buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24);
    let k1 = Math.imul(k, C1);
    k1 = Math.imul((k1 << 15) | (k1 >>> 17), C2);
    h1 ^= k1;
    h1 = (Math.imul((h1 << 13) | (h1 >>> 19), 5) + 0xe6546b64) | 0;
    let k2 = Math.imul(k, C3);
    k2 = Math.imul((k2 << 16) | (k2 >>> 16), C4);
    h2 ^= k2;
    h2 = (Math.imul((h2 << 17) | (h2 >>> 15), 9) + 0x7f4a7c15) | 0;
  }
  let k = 0;
  for (let sh = 0; i < end; i++, sh += 8) k |= buf[i]! << sh;
  h1 ^= Math.imul(k ^ 0x5bd1e995, C1);
  h2 ^= Math.imul(k ^ 0x27d4eb2f, C3);
  const len = end - start;
  out.h1 = fmix(h1 ^ len);
  out.h2 = fmix(h2 ^ Math.imul(len, 0x9e3779b1));
  out.len = len;
}

/** Mixes one 32-bit word into both lanes (string fingerprints). */
function mix(fp: Fingerprint, k: number): void {
  let k1 = Math.imul(k, C1);
  k1 = Math.imul((k1 << 15) | (k1 >>> 17), C2);
  const h1 = fp.h1 ^ k1;
  fp.h1 = (Math.imul((h1 << 13) | (h1 >>> 19), 5) + 0xe6546b64) | 0;
  let k2 = Math.imul(k, C3);
  k2 = Math.imul((k2 << 16) | (k2 >>> 16), C4);
  const h2 = fp.h2 ^ k2;
  fp.h2 = (Math.imul((h2 << 17) | (h2 >>> 15), 9) + 0x7f4a7c15) | 0;
}

/**
 * Fingerprints a list of label name/value strings (the first `n` of each) into `out`. Every
 * string is preceded by its length, so boundaries are unambiguous; `len` counts UTF-16 units
 * plus two per label.
 */
export function hashLabelStrings(seeds: Seeds, names: readonly string[], values: readonly string[], n: number, out: Fingerprint): void {
  out.h1 = seeds.s1;
  out.h2 = seeds.s2;
  let len = 0;
  for (let j = 0; j < 2 * n; j++) {
    const s = (j & 1) === 0 ? names[j >> 1]! : values[j >> 1]!;
    const l = s.length;
    mix(out, l);
    let i = 0;
    for (; i + 1 < l; i += 2) mix(out, s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16));
    if (i < l) mix(out, s.charCodeAt(i) | 0x10000);
    len += l + 2;
  }
  out.h1 = fmix(out.h1 ^ len);
  out.h2 = fmix(out.h2 ^ Math.imul(len, 0x9e3779b1));
  out.len = len;
}

const INITIAL_SLOTS = 1024;

/**
 * Bounded fingerprint → ref table (see the module comment). Cleared when full: cheap, and the
 * hot set refills within one send interval.
 */
export class SeriesCache {
  /** Hash seeds of this cache's fingerprints. */
  readonly seeds: Seeds = randomSeeds();
  private tab = new Uint32Array(INITIAL_SLOTS * 4);
  private mask = INITIAL_SLOTS - 1;
  private live = 0;

  /** @param maxSize entries before the cache is cleared (default 200,000) */
  constructor(readonly maxSize = 200_000) {}

  /** Number of entries. */
  get size(): number {
    return this.live;
  }

  /** Bytes held by the table. */
  get bytes(): number {
    return this.tab.byteLength;
  }

  private find(h1: number, h2: number, len: number): number {
    const tab = this.tab;
    const mask = this.mask;
    for (let i = h1 & mask; ; i = (i + 1) & mask) {
      const o = i << 2;
      if (tab[o + 3] === 0) return -1 - i;
      if (tab[o] === h1 && tab[o + 1] === h2 && tab[o + 2] === len) return i;
    }
  }

  /** The ref cached for a fingerprint, or 0. */
  get(fp: Fingerprint): SeriesRef {
    const i = this.find(fp.h1, fp.h2, fp.len);
    return i < 0 ? 0 : this.tab[(i << 2) + 3]!;
  }

  /** Adds or replaces an entry (`ref` > 0; clears the cache first when it is full). */
  set(h1: number, h2: number, len: number, ref: SeriesRef): void {
    if (!(ref > 0)) return;
    let i = this.find(h1, h2, len);
    if (i >= 0) {
      this.tab[(i << 2) + 3] = ref;
      return;
    }
    if (this.live >= this.maxSize) {
      this.clear();
      i = this.find(h1, h2, len);
    } else if ((this.live + 1) * 10 > (this.mask + 1) * 7) {
      this.grow();
      i = this.find(h1, h2, len);
    }
    const o = (-1 - i) << 2;
    this.tab[o] = h1;
    this.tab[o + 1] = h2;
    this.tab[o + 2] = len;
    this.tab[o + 3] = ref;
    this.live++;
  }

  /** Forgets an entry (e.g. its series was dropped by retention). */
  delete(fp: Fingerprint): void {
    let i = this.find(fp.h1, fp.h2, fp.len);
    if (i < 0) return;
    const tab = this.tab;
    const mask = this.mask;
    // Backward-shift deletion: move later entries of the probe run into the hole when their
    // home slot does not lie cyclically in (hole, j].
    for (let j = (i + 1) & mask; tab[(j << 2) + 3] !== 0; j = (j + 1) & mask) {
      const home = tab[j << 2]! & mask;
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      tab.copyWithin(i << 2, j << 2, (j << 2) + 4);
      i = j;
    }
    tab.fill(0, i << 2, (i << 2) + 4);
    this.live--;
  }

  /** Drops every entry (keeps the capacity). */
  clear(): void {
    this.tab.fill(0);
    this.live = 0;
  }

  private grow(): void {
    const old = this.tab;
    const slots = (this.mask + 1) * 2;
    this.tab = new Uint32Array(slots * 4);
    this.mask = slots - 1;
    for (let o = 0; o < old.length; o += 4) {
      if (old[o + 3] === 0) continue;
      const i = -1 - this.find(old[o]!, old[o + 1]!, old[o + 2]!);
      this.tab.set(old.subarray(o, o + 4), i << 2);
    }
  }
}

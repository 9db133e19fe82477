/**
 * A slot allocator for small growable byte regions (open chunks): size classes four per
 * doubling (32, 40, 48, 56, 64, 80, …; at most 25 % slack), each carved out of shared pages,
 * with free lists. Avoids one `ArrayBuffer` (and its ~200 bytes of bookkeeping) per series.
 */
import type { ByteAllocator } from './bstream.js';

const CLASS_BITS = 6;
const CLASS_MASK = (1 << CLASS_BITS) - 1;

interface SizeClass {
  readonly size: number;
  readonly perPage: number;
  /** Pages by index; `undefined` once a page was given back (indices are never reused). */
  readonly pages: (Uint8Array | undefined)[];
  /** Slots in use per page. */
  readonly live: number[];
  /** Free slots (may name slots of given-back pages: skipped when popped). */
  readonly free: number[];
  /** Slots handed out from the last page so far. */
  next: number;
}

/** Size of class `c`: (4 + c mod 4) · 8 · 2^⌊c/4⌋ bytes. */
function classSize(c: number): number {
  return ((4 + (c & 3)) * 8) << (c >>> 2);
}

/** Slot pools by size class, sharing pages of `pageBytes`. Handles encode slot index and class. */
export class SlotPool implements ByteAllocator {
  private readonly classes: SizeClass[] = [];
  private usedBytes = 0;

  /** @param pageBytes page size (regions larger than this get a page of their own size) */
  constructor(private readonly pageBytes = 64 * 1024) {}

  private cls(c: number): SizeClass {
    let k = this.classes[c];
    if (k === undefined) {
      const size = classSize(c);
      k = { size, perPage: Math.max(1, Math.floor(this.pageBytes / size)), pages: [], live: [], free: [], next: 0 };
      this.classes[c] = k;
    }
    return k;
  }

  /** @inheritdoc */
  alloc(bytes: number): number {
    let c = 0;
    while (classSize(c) < bytes) c++;
    if (c > CLASS_MASK) throw new RangeError(`region of ${bytes} bytes is too large`);
    const k = this.cls(c);
    this.usedBytes += k.size;
    for (let f = k.free.pop(); f !== undefined; f = k.free.pop()) {
      const page = Math.floor(f / k.perPage);
      if (k.pages[page] === undefined) continue;
      k.live[page]!++;
      return f * (CLASS_MASK + 1) + c;
    }
    if (k.pages.length === 0 || k.next === k.perPage || k.pages[k.pages.length - 1] === undefined) {
      k.pages.push(new Uint8Array(k.perPage * k.size));
      k.live.push(0);
      k.next = 0;
    }
    const page = k.pages.length - 1;
    k.live[page]!++;
    const slot = page * k.perPage + k.next++;
    return slot * (CLASS_MASK + 1) + c;
  }

  /** @inheritdoc */
  buf(h: number): Uint8Array {
    const k = this.classes[h & CLASS_MASK]!;
    return k.pages[Math.floor(Math.floor(h / (CLASS_MASK + 1)) / k.perPage)]!;
  }

  /** @inheritdoc */
  off(h: number): number {
    const k = this.classes[h & CLASS_MASK]!;
    return (Math.floor(h / (CLASS_MASK + 1)) % k.perPage) * k.size;
  }

  /** @inheritdoc */
  size(h: number): number {
    return classSize(h & CLASS_MASK);
  }

  /** @inheritdoc */
  free(h: number, used: number): void {
    const k = this.classes[h & CLASS_MASK]!;
    const slot = Math.floor(h / (CLASS_MASK + 1));
    const page = Math.floor(slot / k.perPage);
    this.usedBytes -= k.size;
    if (--k.live[page]! === 0 && page !== k.pages.length - 1) {
      // Give the whole page back; its slots still on the free list are skipped when popped.
      k.pages[page] = undefined;
      if (k.free.length > 4 * k.perPage) this.compactFree(k);
      return;
    }
    const off = this.off(h);
    this.buf(h).fill(0, off, off + Math.min(used, k.size));
    k.free.push(slot);
  }

  private compactFree(k: SizeClass): void {
    let j = 0;
    for (const f of k.free) if (k.pages[Math.floor(f / k.perPage)] !== undefined) k.free[j++] = f;
    k.free.length = j;
  }

  /** Bytes in slots currently handed out. */
  get allocatedBytes(): number {
    return this.usedBytes;
  }

  /** Bytes in pages (handed out or free). */
  get reservedBytes(): number {
    let n = 0;
    for (const k of this.classes) if (k !== undefined) for (const p of k.pages) if (p !== undefined) n += p.length;
    return n;
  }
}

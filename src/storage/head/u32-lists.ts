/**
 * Many growable lists of uint32 in one shared `Uint32Array`: per list (offset, length,
 * capacity) in typed arrays, capacities in powers of two (growth by doubling), freed regions
 * kept on per-size free lists. Used for postings (ascending series refs).
 */

/** A pool of growable uint32 lists addressed by list id. */
export class U32Lists {
  private data = new Uint32Array(4096);
  private top = 0;
  private off = new Uint32Array(256);
  private len = new Uint32Array(256);
  private capLog = new Uint8Array(256);
  private nextId = 0;
  private readonly freeIds: number[] = [];
  /** Free regions by log2 of their size. */
  private readonly freeRegions: number[][] = [];

  /** Number of live lists. */
  get lists(): number {
    return this.nextId - this.freeIds.length;
  }

  /** Words reserved in the shared array. */
  get reservedWords(): number {
    return this.data.length;
  }

  private region(log: number): number {
    const fl = this.freeRegions[log];
    const r = fl?.pop();
    if (r !== undefined) return r;
    const size = 1 << log;
    if (this.top + size > this.data.length) {
      let cap = this.data.length * 2;
      while (this.top + size > cap) cap *= 2;
      const d = new Uint32Array(cap);
      d.set(this.data.subarray(0, this.top));
      this.data = d;
    }
    const at = this.top;
    this.top += size;
    return at;
  }

  private release(off: number, log: number): void {
    (this.freeRegions[log] ??= []).push(off);
  }

  /** A new empty list. */
  create(): number {
    let id = this.freeIds.pop();
    if (id === undefined) {
      id = this.nextId++;
      if (id >= this.off.length) {
        const n = this.off.length * 2;
        const o = new Uint32Array(n);
        o.set(this.off);
        this.off = o;
        const l = new Uint32Array(n);
        l.set(this.len);
        this.len = l;
        const c = new Uint8Array(n);
        c.set(this.capLog);
        this.capLog = c;
      }
    }
    this.off[id] = this.region(0);
    this.len[id] = 0;
    this.capLog[id] = 0;
    return id;
  }

  /** Frees a list; its id may be handed out again. */
  destroy(id: number): void {
    this.release(this.off[id]!, this.capLog[id]!);
    this.len[id] = 0;
    this.freeIds.push(id);
  }

  /** Number of elements of list `id`. */
  length(id: number): number {
    return this.len[id]!;
  }

  /** A view of list `id` (valid until the next change to any list). */
  view(id: number): Uint32Array {
    const o = this.off[id]!;
    return this.data.subarray(o, o + this.len[id]!);
  }

  /** Last element of list `id` (undefined when empty). */
  last(id: number): number | undefined {
    const n = this.len[id]!;
    return n === 0 ? undefined : this.data[this.off[id]! + n - 1];
  }

  private ensure(id: number): void {
    const n = this.len[id]!;
    const log = this.capLog[id]!;
    if (n < 1 << log) return;
    const to = this.region(log + 1);
    const from = this.off[id]!;
    this.data.copyWithin(to, from, from + n);
    this.release(from, log);
    this.off[id] = to;
    this.capLog[id] = log + 1;
  }

  /** Inserts `x` keeping the list ascending (no-op when present). */
  insertSorted(id: number, x: number): void {
    const n = this.len[id]!;
    const o0 = this.off[id]!;
    if (n > 0 && this.data[o0 + n - 1]! >= x) {
      // Rare: find the place by binary search.
      let lo = 0;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.data[o0 + mid]! < x) lo = mid + 1;
        else hi = mid;
      }
      if (this.data[o0 + lo] === x) return;
      this.ensure(id);
      const o = this.off[id]!;
      this.data.copyWithin(o + lo + 1, o + lo, o + n);
      this.data[o + lo] = x;
      this.len[id] = n + 1;
      return;
    }
    this.ensure(id);
    this.data[this.off[id]! + n] = x;
    this.len[id] = n + 1;
  }

  /** Removes every element `x` with `drop(x)`; shrinks the region when it gets mostly empty. Returns the new length. */
  removeWhere(id: number, drop: (x: number) => boolean): number {
    const o = this.off[id]!;
    const n = this.len[id]!;
    const d = this.data;
    let k = 0;
    for (let i = 0; i < n; i++) {
      const x = d[o + i]!;
      if (!drop(x)) d[o + k++] = x;
    }
    this.len[id] = k;
    let log = this.capLog[id]!;
    if (log > 2 && k <= 1 << (log - 2)) {
      while (log > 0 && k <= 1 << (log - 1)) log--;
      const to = this.region(log);
      this.data.copyWithin(to, this.off[id]!, this.off[id]! + k);
      this.release(this.off[id]!, this.capLog[id]!);
      this.off[id] = to;
      this.capLog[id] = log;
    }
    return k;
  }
}

/**
 * Interned strings (label names and values) with reference counts: each distinct string is
 * held once and named by a small integer id. Ids of strings no longer referenced are reused.
 */

/** A reference-counted string table. */
export class SymbolTable {
  private readonly ids = new Map<string, number>();
  private readonly strs: string[] = [];
  private refs = new Uint32Array(256);
  private readonly freeIds: number[] = [];

  /** Number of distinct live strings. */
  get size(): number {
    return this.ids.size;
  }

  /** Id of `s`, adding it when new; takes one reference. */
  intern(s: string): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.freeIds.pop() ?? this.strs.length;
      if (id === this.strs.length) this.strs.push(s);
      else this.strs[id] = s;
      if (id >= this.refs.length) {
        const r = new Uint32Array(this.refs.length * 2);
        r.set(this.refs);
        this.refs = r;
      }
      this.ids.set(s, id);
    }
    this.refs[id]!++;
    return id;
  }

  /** Id of `s`, or -1 when it is not interned. Takes no reference. */
  lookup(s: string): number {
    return this.ids.get(s) ?? -1;
  }

  /** The string of a live id. */
  str(id: number): string {
    return this.strs[id]!;
  }

  /** Drops one reference of `id`; the string is forgotten when none are left. */
  release(id: number): void {
    if (this.refs[id] === 0) return;
    if (--this.refs[id]! === 0) {
      this.ids.delete(this.strs[id]!);
      this.strs[id] = '';
      this.freeIds.push(id);
    }
  }

  /** References held on `id` (0 when free). */
  refCount(id: number): number {
    return this.refs[id] ?? 0;
  }
}

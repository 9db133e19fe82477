/**
 * Postings index: label name → label value → ascending series refs, plus the list of all refs.
 * Lists live in one shared `Uint32Array` ({@link U32Lists}); label strings are the head's
 * interned ones. Refs are handed out in increasing order, so appends almost always stay sorted;
 * the rare out-of-order insert (a series made visible after a newer one) is placed by binary
 * search.
 */
import type { Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matchers.js';
import { U32Lists } from './u32-lists.js';

const EMPTY: readonly number[] = Object.freeze([]) as readonly number[];

/** The in-memory postings index. */
export class MemPostings {
  private readonly byName = new Map<string, Map<string, number>>();
  private readonly lists = new U32Lists();
  private readonly all: number;

  constructor() {
    this.all = this.lists.create();
  }

  /** Adds a series. */
  add(ref: number, labels: Labels): void {
    const lists = this.lists;
    lists.insertSorted(this.all, ref);
    for (const l of labels) {
      let values = this.byName.get(l.name);
      if (values === undefined) {
        values = new Map();
        this.byName.set(l.name, values);
      }
      let id = values.get(l.value);
      if (id === undefined) {
        id = lists.create();
        values.set(l.value, id);
      }
      lists.insertSorted(id, ref);
    }
  }

  /** Removes a batch of series (each list touched once). */
  delete(series: readonly { ref: number; labels: Labels }[]): void {
    if (series.length === 0) return;
    const refs = new Set<number>();
    const touched = new Map<string, Set<string>>();
    for (const s of series) {
      refs.add(s.ref);
      for (const l of s.labels) {
        let vs = touched.get(l.name);
        if (vs === undefined) touched.set(l.name, (vs = new Set()));
        vs.add(l.value);
      }
    }
    const drop = (r: number): boolean => refs.has(r);
    this.lists.removeWhere(this.all, drop);
    for (const [name, vs] of touched) {
      const values = this.byName.get(name);
      if (values === undefined) continue;
      for (const v of vs) {
        const id = values.get(v);
        if (id === undefined) continue;
        if (this.lists.removeWhere(id, drop) === 0) {
          this.lists.destroy(id);
          values.delete(v);
        }
      }
      if (values.size === 0) this.byName.delete(name);
    }
  }

  /** All refs, ascending (a copy). */
  allRefs(): number[] {
    return Array.from(this.lists.view(this.all));
  }

  /** Number of series indexed. */
  get size(): number {
    return this.lists.length(this.all);
  }

  /** Refs with label `name` = `value`, ascending (a copy; empty when none). */
  get(name: string, value: string): number[] {
    const v = this.view(name, value);
    return v.length === 0 ? [] : Array.from(v);
  }

  private view(name: string, value: string): ArrayLike<number> {
    const id = this.byName.get(name)?.get(value);
    return id === undefined ? EMPTY : this.lists.view(id);
  }

  /** Label names, sorted. */
  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** Values of label `name` (unsorted) with their number of series. */
  values(name: string): ReadonlyMap<string, number> {
    const out = new Map<string, number>();
    const values = this.byName.get(name);
    if (values !== undefined) for (const [v, id] of values) out.set(v, this.lists.length(id));
    return out;
  }

  /** Values of label `name`, unsorted. */
  valueNames(name: string): string[] {
    const values = this.byName.get(name);
    return values === undefined ? [] : [...values.keys()];
  }

  /** Number of label name/value pairs. */
  get pairs(): number {
    let n = 0;
    for (const v of this.byName.values()) n += v.size;
    return n;
  }

  /**
   * Union of the lists of the values of `name` for which `pick(value)` holds. When every value
   * matches and every series has the label (e.g. `{__name__=~".+"}`), that is the list of all
   * series, returned without merging anything.
   */
  private unionWhere(name: string, pick: (v: string) => boolean): ArrayLike<number> {
    const values = this.byName.get(name);
    if (values === undefined) return EMPTY;
    const out: ArrayLike<number>[] = [];
    let total = 0;
    for (const [v, id] of values) {
      if (!pick(v)) continue;
      const l = this.lists.view(id);
      out.push(l);
      total += l.length;
    }
    // A series holds one value per name, so the picked lists are disjoint: when they cover as
    // many refs as there are series, they are all of them.
    if (out.length === values.size && total === this.lists.length(this.all)) return this.lists.view(this.all);
    return out.length === 0 ? EMPTY : union(out);
  }

  /**
   * Refs of series matching all matchers, with Prometheus semantics: a matcher that matches the
   * empty string also selects series without the label. Without matchers, all series.
   * The result is a fresh array.
   */
  forMatchers(matchers: readonly Matcher[]): number[] {
    const intersect: ArrayLike<number>[] = [];
    const subtract: ArrayLike<number>[] = [];
    for (const m of matchers) {
      if (m.matches('')) {
        // Selects every series except those whose value of m.name does not match.
        if (m.type === '!=') {
          subtract.push(this.view(m.name, m.value));
        } else {
          const l = this.unionWhere(m.name, (v) => !m.matches(v));
          if (l.length > 0) subtract.push(l);
        }
      } else if (m.type === '=') {
        const l = this.view(m.name, m.value);
        if (l.length === 0) return [];
        intersect.push(l);
      } else {
        const l = this.unionWhere(m.name, (v) => m.matches(v));
        if (l.length === 0) return [];
        intersect.push(l);
      }
    }
    let out: ArrayLike<number>;
    if (intersect.length === 0) out = this.lists.view(this.all);
    else {
      intersect.sort((a, b) => a.length - b.length);
      out = intersect[0]!;
      for (let i = 1; i < intersect.length && out.length > 0; i++) out = intersectSorted(out, intersect[i]!);
    }
    for (const s of subtract) {
      if (out.length === 0) break;
      out = subtractSorted(out, s);
    }
    return Array.isArray(out) ? (out as number[]) : Array.from(out);
  }
}

/** Intersection of two ascending lists. */
export function intersectSorted(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) {
      out.push(x);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

/** Elements of ascending `a` not in ascending `b`. */
export function subtractSorted(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const out: number[] = [];
  let j = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    while (j < b.length && b[j]! < x) j++;
    if (j < b.length && b[j] === x) continue;
    out.push(x);
  }
  return out;
}

/**
 * Union of ascending lists, ascending and deduplicated (the list itself when there is one).
 * Few short lists are merged by sorting; otherwise refs are marked in a bitmap over
 * [min, max] and read back in order (linear in the refs and the span, no comparison sort).
 */
export function union(lists: readonly ArrayLike<number>[]): ArrayLike<number> {
  if (lists.length === 1) return lists[0]!;
  let total = 0;
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of lists) {
    if (l.length === 0) continue;
    total += l.length;
    if (l[0]! < lo) lo = l[0]!;
    if (l[l.length - 1]! > hi) hi = l[l.length - 1]!;
  }
  if (total === 0) return EMPTY;
  if (total <= 64 || hi - lo > 64 * total) {
    const all = new Float64Array(total);
    let k = 0;
    for (const l of lists) for (let i = 0; i < l.length; i++) all[k++] = l[i]!;
    all.sort();
    const out: number[] = [];
    for (let i = 0; i < total; i++) if (i === 0 || all[i] !== all[i - 1]) out.push(all[i]!);
    return out;
  }
  const words = new Uint32Array(((hi - lo) >>> 5) + 1);
  for (const l of lists) {
    for (let i = 0; i < l.length; i++) {
      const d = l[i]! - lo;
      const j = d >>> 5;
      words[j] = words[j]! | (1 << (d & 31));
    }
  }
  const out = new Uint32Array(total);
  let k = 0;
  for (let w = 0; w < words.length; w++) {
    let x = words[w]!;
    while (x !== 0) {
      const b = 31 - Math.clz32(x & -x);
      out[k++] = lo + (w << 5) + b;
      x &= x - 1;
    }
  }
  return k === total ? out : out.subarray(0, k);
}

/**
 * Postings index: label name → label value → ascending series refs, plus the list of all refs.
 * Refs are handed out in increasing order, so appends almost always stay sorted; the rare
 * out-of-order insert (a series made visible after a newer one) is placed by binary search.
 */
import type { Labels } from '../../model/labels.js';
import type { Matcher } from '../../model/matchers.js';

function insertSorted(arr: number[], ref: number): void {
  const n = arr.length;
  if (n === 0 || arr[n - 1]! < ref) {
    arr.push(ref);
    return;
  }
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid]! < ref) lo = mid + 1;
    else hi = mid;
  }
  if (arr[lo] !== ref) arr.splice(lo, 0, ref);
}

/** The in-memory postings index. */
export class MemPostings {
  private readonly byName = new Map<string, Map<string, number[]>>();
  private readonly all: number[] = [];

  /** Adds a series. */
  add(ref: number, labels: Labels): void {
    insertSorted(this.all, ref);
    for (const l of labels) {
      let values = this.byName.get(l.name);
      if (values === undefined) {
        values = new Map();
        this.byName.set(l.name, values);
      }
      const list = values.get(l.value);
      if (list === undefined) values.set(l.value, [ref]);
      else insertSorted(list, ref);
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
    const keepAll = this.all.filter((r) => !refs.has(r));
    this.all.length = 0;
    for (const r of keepAll) this.all.push(r);
    for (const [name, vs] of touched) {
      const values = this.byName.get(name);
      if (values === undefined) continue;
      for (const v of vs) {
        const list = values.get(v);
        if (list === undefined) continue;
        const kept = list.filter((r) => !refs.has(r));
        if (kept.length === 0) values.delete(v);
        else values.set(v, kept);
      }
      if (values.size === 0) this.byName.delete(name);
    }
  }

  /** All refs, ascending. Do not mutate. */
  allRefs(): readonly number[] {
    return this.all;
  }

  /** Refs with label `name` = `value`, ascending (empty when none). Do not mutate. */
  get(name: string, value: string): readonly number[] {
    return this.byName.get(name)?.get(value) ?? [];
  }

  /** Label names, sorted. */
  names(): string[] {
    return [...this.byName.keys()].sort();
  }

  /** Values of label `name` (unsorted) with their postings. */
  values(name: string): ReadonlyMap<string, readonly number[]> {
    return this.byName.get(name) ?? new Map();
  }

  /** Number of label name/value pairs. */
  get pairs(): number {
    let n = 0;
    for (const v of this.byName.values()) n += v.size;
    return n;
  }

  /**
   * Refs of series matching all matchers, with Prometheus semantics: a matcher that matches the
   * empty string also selects series without the label. Without matchers, all series.
   */
  forMatchers(matchers: readonly Matcher[]): number[] {
    const intersect: (readonly number[])[] = [];
    const subtract: (readonly number[])[] = [];
    for (const m of matchers) {
      if (m.matches('')) {
        // Selects every series except those whose value of m.name does not match.
        if (m.type === '!=') {
          subtract.push(this.get(m.name, m.value));
        } else {
          const lists: (readonly number[])[] = [];
          for (const [v, refs] of this.values(m.name)) if (!m.matches(v)) lists.push(refs);
          if (lists.length > 0) subtract.push(union(lists));
        }
      } else if (m.type === '=') {
        const l = this.get(m.name, m.value);
        if (l.length === 0) return [];
        intersect.push(l);
      } else {
        const lists: (readonly number[])[] = [];
        for (const [v, refs] of this.values(m.name)) if (m.matches(v)) lists.push(refs);
        if (lists.length === 0) return [];
        intersect.push(union(lists));
      }
    }
    let out: readonly number[];
    if (intersect.length === 0) out = this.all;
    else {
      intersect.sort((a, b) => a.length - b.length);
      out = intersect[0]!;
      for (let i = 1; i < intersect.length && out.length > 0; i++) out = intersectSorted(out, intersect[i]!);
    }
    for (const s of subtract) {
      if (out.length === 0) break;
      out = subtractSorted(out, s);
    }
    return out === this.all || intersect.length === 1 ? out.slice() : (out as number[]);
  }
}

/** Intersection of two ascending lists. */
export function intersectSorted(a: readonly number[], b: readonly number[]): number[] {
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
export function subtractSorted(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let j = 0;
  for (const x of a) {
    while (j < b.length && b[j]! < x) j++;
    if (j < b.length && b[j] === x) continue;
    out.push(x);
  }
  return out;
}

/** Union of ascending lists, ascending and deduplicated. */
export function union(lists: readonly (readonly number[])[]): readonly number[] {
  if (lists.length === 1) return lists[0]!;
  let total = 0;
  for (const l of lists) total += l.length;
  const all = new Float64Array(total);
  let k = 0;
  for (const l of lists) for (const r of l) all[k++] = r;
  all.sort();
  const out: number[] = [];
  for (let i = 0; i < total; i++) if (i === 0 || all[i] !== all[i - 1]) out.push(all[i]!);
  return out;
}

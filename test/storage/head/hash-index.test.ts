import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HashIndex } from '../../../src/storage/head/hash-index.js';

function values(h: HashIndex, key: number): number[] {
  const out: number[] = [];
  for (let s = h.next(key); s >= 0; s = h.next(key, s)) out.push(h.valueAt(s));
  return out.sort((a, b) => a - b);
}

describe('HashIndex', () => {
  it('keeps several values under one key (collisions) and removes exactly one', () => {
    const h = new HashIndex(16);
    h.insert(7, 1);
    h.insert(7, 2);
    h.insert(0xffffffff, 3);
    expect(values(h, 7)).toEqual([1, 2]);
    expect(h.get(0xffffffff)).toBe(3);
    expect(h.remove(7, 1)).toBe(true);
    expect(h.remove(7, 1)).toBe(false);
    expect(values(h, 7)).toEqual([2]);
    expect(h.get(8)).toBe(-1);
    expect(h.size).toBe(2);
  });

  it('grows and keeps every entry across rehashes, including after many removals', () => {
    const h = new HashIndex(16);
    for (let i = 0; i < 10_000; i++) h.insert(i * 2654435761, i);
    expect(h.capacity).toBeGreaterThanOrEqual(10_000 / 0.7);
    for (let i = 0; i < 10_000; i += 2) expect(h.remove(i * 2654435761, i)).toBe(true);
    for (let i = 10_000; i < 20_000; i++) h.insert(i * 2654435761, i);
    for (let i = 0; i < 20_000; i++) expect(h.get(i * 2654435761)).toBe(i < 10_000 && i % 2 === 0 ? -1 : i);
    expect(h.size).toBe(15_000);
  });

  it('agrees with a Map of arrays on random operations', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 5 })), { maxLength: 400 }), (ops) => {
        const h = new HashIndex(16);
        const ref = new Map<number, number[]>();
        for (const [ins, key, val] of ops) {
          const k = key * 0x9e3779b1; // spreads keys, many share low bits
          const list = ref.get(k) ?? [];
          if (ins) {
            h.insert(k, val);
            list.push(val);
          } else {
            const i = list.indexOf(val);
            expect(h.remove(k, val)).toBe(i >= 0);
            if (i >= 0) list.splice(i, 1);
          }
          ref.set(k, list);
        }
        for (const [k, list] of ref) expect(values(h, k)).toEqual([...list].sort((a, b) => a - b));
      }),
      { numRuns: 200 },
    );
  });
});

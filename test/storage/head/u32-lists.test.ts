import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { U32Lists } from '../../../src/storage/head/u32-lists.js';

describe('U32Lists', () => {
  it('grows lists by doubling while neighbours stay intact', () => {
    const l = new U32Lists();
    const a = l.create();
    const b = l.create();
    for (let i = 0; i < 3000; i++) {
      l.insertSorted(a, i * 2);
      if (i % 3 === 0) l.insertSorted(b, i);
    }
    expect(l.length(a)).toBe(3000);
    expect(Array.from(l.view(a))).toEqual(Array.from({ length: 3000 }, (_, i) => i * 2));
    expect(Array.from(l.view(b))).toEqual(Array.from({ length: 1000 }, (_, i) => i * 3));
    expect(l.last(a)).toBe(5998);
  });

  it('inserts out-of-order values in place and ignores duplicates', () => {
    const l = new U32Lists();
    const a = l.create();
    for (const x of [5, 9, 1, 7, 5, 3, 9]) l.insertSorted(a, x);
    expect(Array.from(l.view(a))).toEqual([1, 3, 5, 7, 9]);
  });

  it('removes, shrinks and reuses freed regions and ids', () => {
    const l = new U32Lists();
    const a = l.create();
    for (let i = 0; i < 1024; i++) l.insertSorted(a, i);
    const reserved = l.reservedWords;
    expect(l.removeWhere(a, (x) => x >= 3)).toBe(3);
    expect(Array.from(l.view(a))).toEqual([0, 1, 2]);
    l.destroy(a);
    expect(l.lists).toBe(0);
    const b = l.create();
    expect(b).toBe(a);
    for (let i = 0; i < 1024; i++) l.insertSorted(b, i);
    expect(l.reservedWords).toBe(reserved);
  });

  it('matches a sorted set model on random operations', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 200 }), fc.boolean()), { maxLength: 500 }), (ops) => {
        const l = new U32Lists();
        const ids = [l.create(), l.create(), l.create(), l.create()];
        const model = ids.map(() => new Set<number>());
        for (const [k, x, add] of ops) {
          if (add) {
            l.insertSorted(ids[k]!, x);
            model[k]!.add(x);
          } else {
            l.removeWhere(ids[k]!, (y) => y === x);
            model[k]!.delete(x);
          }
        }
        ids.forEach((id, k) => expect(Array.from(l.view(id))).toEqual([...model[k]!].sort((a, b) => a - b)));
      }),
      { numRuns: 200 },
    );
  });
});

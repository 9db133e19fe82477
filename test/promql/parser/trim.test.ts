import { describe, expect, it } from 'vitest';
import { parseExpr, printExpr } from '../../../src/promql/parser/index.js';
import { sexpr, strip } from './helpers.js';

describe('histogram trim operators `</` and `>/`', () => {
  it.each([
    ['h</1.5', 'h </ 1.5'],
    ['h >/ -Inf', 'h >/ -Inf'],
    ['h >/on(job)group_left(x) f', 'h >/ on(job) group_left(x) f'],
    ['(h </ 10) >/ 2', '(h </ 10) >/ 2'],
    ['histogram_count(h </ 2 * 3)', 'histogram_count(h </ 2 * 3)'],
  ])('prints %s as %s and parses it back to the same tree', (q, want) => {
    const e = parseExpr(q);
    const p = printExpr(e);
    expect(p).toBe(want);
    expect(strip(parseExpr(p))).toEqual(strip(e));
  });

  it.each([
    // Same precedence as `*`, left-associative, below `^`.
    ['a </ b * c', '(* (</ a b) c)'],
    ['a * b >/ c', '(>/ (* a b) c)'],
    ['a </ b ^ c', '(</ a (^ b c))'],
    ['a + b </ c', '(+ a (</ b c))'],
    ['a </ b >/ c', '(>/ (</ a b) c)'],
  ])('%s parses as %s', (q, tree) => {
    expect(sexpr(parseExpr(q))).toBe(tree);
  });

  it('rejects the bool modifier', () => {
    expect(() => parseExpr('h </ bool 1')).toThrow(/bool modifier can only be used on comparison operators/);
  });
});

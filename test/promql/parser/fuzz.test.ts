/**
 * Fuzz: random token soups and mutations of real queries. `parseExpr` must return an Expr or throw
 * ParseError (never another error, never hang), and whatever parses must round-trip via the printer.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExpr, ParseError, printExpr } from '../../../src/promql/parser/index.js';
import { SHARED, strip } from './helpers.js';

const TOKENS = [
  'foo', 'bar', 'sum', 'rate', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', '@',
  'start()', 'end()', 'step()', 'min_of', 'topk', 'count_values', 'and', 'or', 'unless', 'atan2', 'fill', 'fill_left',
  'anchored', 'smoothed', 'Inf', 'NaN', '1', '0x1f', '1.5e3', '5m', '1h30m', '"a"', "'b'", '`c`', '"\\xff"', '(', ')',
  '{', '}', '[', ']', ',', ':', '+', '-', '*', '/', '%', '^', '==', '!=', '<', '>=', '=~', '!~', '</', '>/', '=', '#',
  'job', '"x.y"', 'histogram_quantile', 'label_replace', 'vector', 'time()', 'info', 'abs', ' ', '\n',
];

function check(q: string): void {
  let e;
  try {
    e = parseExpr(q);
  } catch (err) {
    if (!(err instanceof ParseError)) throw new Error(`non-ParseError for ${JSON.stringify(q)}: ${String(err)}`);
    return;
  }
  expect(typeof e.kind).toBe('string');
  const printed = printExpr(e);
  let again;
  try {
    again = parseExpr(printed);
  } catch (err) {
    throw new Error(`printed form does not parse: ${JSON.stringify(q)} → ${JSON.stringify(printed)}: ${(err as Error).message}`);
  }
  expect(strip(again), `${q} → ${printed}`).toEqual(strip(e));
}

const corpus = (() => {
  const dir = join(fileURLToPath(SHARED), 'conformance/promql');
  const out: string[] = [];
  for (const f of ['operators.test', 'functions.test', 'duration_expression.test', 'fill-modifier.test', 'subquery.test', 'at_modifier.test']) {
    for (const l of readFileSync(join(dir, f), 'utf8').split('\n')) {
      const m = /^\s*eval\s+(?:instant\s+at\s+\S+|range\s+from\s+\S+\s+to\s+\S+\s+step\s+\S+)\s+(.*)$/.exec(l);
      if (m) out.push(m[1]!);
    }
  }
  return out;
})();

describe('parser fuzz', () => {
  it('token soups: ParseError or a round-tripping Expr', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...TOKENS), { maxLength: 25 }), fc.boolean(), (toks, spaced) => {
        check(toks.join(spaced ? ' ' : ''));
      }),
      { numRuns: 5000, seed: 42 },
    );
  });

  it('arbitrary strings', () => {
    fc.assert(fc.property(fc.string({ maxLength: 40, unit: 'binary' }), (s) => check(s)), { numRuns: 2000, seed: 7 });
  });

  it('mutations of real queries', () => {
    const mutation = fc.record({
      base: fc.constantFrom(...corpus),
      at: fc.nat(),
      del: fc.nat({ max: 4 }),
      ins: fc.constantFrom('', ...TOKENS),
    });
    fc.assert(
      fc.property(mutation, ({ base, at, del, ins }) => {
        const i = at % (base.length + 1);
        check(base.slice(0, i) + ins + base.slice(i + del));
      }),
      { numRuns: 5000, seed: 1 },
    );
  });

  it('stays fast on pathological input', () => {
    const t0 = performance.now();
    for (const q of ['('.repeat(60000), '-'.repeat(60000), 'a+'.repeat(30000), '"'.repeat(60000), '{a="b",'.repeat(8000), 'a[' .repeat(20000)]) {
      expect(() => parseExpr(q)).toThrow(ParseError);
    }
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

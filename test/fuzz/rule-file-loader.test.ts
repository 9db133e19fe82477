/**
 * Fuzz: the rule-file loader on generated rule files (real keys, random values, random PromQL
 * fragments and templates) and mutations. `parseRuleFileText` must never throw: it returns
 * groups and positioned errors; each case within 1 s. Seed fixed and printed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRuleFileText } from '../../src/config/rule-files.js';

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 7_101;
const RUNS = 10_000; // per target, split between the two properties below
console.log(`rule-file-loader fuzz seed=${SEED} runs=${RUNS}`);

const value = fc.oneof(
  fc.constantFrom('1m', '0s', '-1s', 'x', 'true', '5', '-1', 'null', '[]', '{}', '"sum(rate(x[5m])) by (job)"', '"up == 0"', '"foo{"', '"{{ $value }}"', '"{{ query \\"up\\" }}"', '"{{ end }}"', 'team-a', '"../x"', 'ALERTS', 'a:b'),
  fc.string({ maxLength: 15 }).map((s) => JSON.stringify(s)),
);
const ruleKeys = ['record', 'alert', 'expr', 'for', 'keep_firing_for', 'labels', 'annotations', 'bogus'];
const groupKeys = ['name', 'interval', 'limit', 'query_offset', 'labels', 'eval_on_ingest', 'tenant', 'bogus'];
const kv = (keys: string[], pad: string) => fc.array(fc.tuple(fc.constantFrom(...keys), value), { maxLength: 6 }).map((xs) => xs.map(([k, v]) => `${pad}${k}: ${v}`).join('\n'));
const rule = kv(ruleKeys, '        ').map((b) => `      -\n${b}`);
const group = fc.tuple(kv(groupKeys, '    '), fc.array(rule, { maxLength: 4 })).map(([g, rs]) => `  -\n${g}\n    rules:\n${rs.join('\n')}`);
const file = fc.array(group, { maxLength: 3 }).map((gs) => `groups:\n${gs.join('\n')}\n`);
const mutated = fc.tuple(file, fc.nat(300), fc.constantFrom('', ':', '- ', '  ', '\t', '{', '"', '\n', '#')).map(([d, at, ins]) => d.slice(0, at) + ins + d.slice(at));

function check(text: string): void {
  const t0 = performance.now();
  const r = parseRuleFileText(text, '/fuzz/rules.yml');
  expect(Array.isArray(r.groups) && Array.isArray(r.errors)).toBe(true);
  for (const e of r.errors) expect(e.message).toMatch(/\/fuzz\/rules\.yml/);
  expect(performance.now() - t0).toBeLessThan(1000);
}

describe('rule-file loader fuzz', () => {
  it(`${RUNS / 2} generated files`, () => {
    fc.assert(fc.property(file, check), { seed: SEED, numRuns: RUNS / 2 });
  }, 60_000);
  it(`${RUNS / 2} mutated files`, () => {
    fc.assert(fc.property(mutated, check), { seed: SEED + 1, numRuns: RUNS / 2 });
  }, 60_000);
});

/**
 * Fuzz: the PromQL evaluator on random valid-ish expressions (a grammar of selectors, range
 * selectors, functions, aggregations, binary operators, subqueries, offsets, hostile regexes)
 * over a small head. Every query must resolve, or reject with a ParseError / QueryError /
 * LimitError (never a TypeError or RangeError), within its 1 s timeout. Seed fixed and printed.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { LimitError } from '../../src/model/errors.js';
import { labelsFrom } from '../../src/model/labels.js';
import { Engine } from '../../src/promql/engine/index.js';
import { QueryError } from '../../src/promql/engine/values.js';
import { ParseError } from '../../src/promql/parser/index.js';
import { Head } from '../../src/storage/head/index.js';

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 7_201;
const RUNS = 10_000;
console.log(`promql-evaluator fuzz seed=${SEED} runs=${RUNS}`);

const T0 = 1_700_000_000_000;
const head = new Head({ retentionMs: 1e13, clock: { now: () => T0 + 3_600_000 } });
const engine = new Engine({ timeoutMs: 1000, maxSamples: 200_000, clock: { now: () => T0 + 3_600_000 } });

beforeAll(async () => {
  const app = head.appender();
  const long = 'ab'.repeat(1500);
  for (const [name, n] of [['up', 3], ['http_requests_total', 4], ['mem_bytes', 2]] as const) {
    for (let i = 0; i < n; i++) {
      const ls = labelsFrom({ __name__: name, job: `job${i % 2}`, instance: `i${i}`, path: i === 0 ? long : `/p${i}` });
      let ref = 0;
      for (let k = 0; k < 60; k++) ref = app.append(ref, ls, T0 + k * 60_000, name.endsWith('total') ? k * (i + 1) : Math.sin(k + i) * 10);
    }
  }
  await app.commit();
});

const metric = fc.constantFrom('up', 'http_requests_total', 'mem_bytes', 'nonexistent', '{__name__=~".+"}', '{job=~"job.*"}', '{path=~".*a.*b.*c"}', '{path=~"(a+)+"}', '{path!~"(ab)*"}', 'up{instance="i1"}');
const dur = fc.constantFrom('1m', '5m', '30s', '1h', '0s');
const fn1 = fc.constantFrom('abs', 'ceil', 'exp', 'ln', 'sqrt', 'sort', 'timestamp', 'absent', 'scalar', 'vector', 'sgn', 'round');
const fnRange = fc.constantFrom('rate', 'irate', 'increase', 'delta', 'deriv', 'avg_over_time', 'max_over_time', 'count_over_time', 'stddev_over_time', 'changes', 'resets', 'last_over_time', 'absent_over_time', 'quantile_over_time');
const agg = fc.constantFrom('sum', 'avg', 'min', 'max', 'count', 'stddev', 'group', 'topk', 'bottomk', 'quantile', 'count_values', 'limitk');
const binop = fc.constantFrom('+', '-', '*', '/', '%', '^', '==', '!=', '>', '<=', 'and', 'or', 'unless', 'atan2', '> bool');
const modifier = fc.constantFrom('', ' on(job)', ' ignoring(instance)', ' on(job) group_left', ' on() group_right(job)');

const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    metric,
    fc.constantFrom('1', '-2.5', 'NaN', 'Inf', 'time()', 'pi()', '0x10'),
    fc.tuple(fnRange, metric, dur).map(([f, m, d]) => (f === 'quantile_over_time' ? `${f}(0.5, ${m}[${d}])` : `${f}(${m}[${d}])`)),
    fc.tuple(fn1, tie('e')).map(([f, e]) => `${f}(${e})`),
    fc.tuple(agg, tie('e'), fc.constantFrom('', ' by (job)', ' without (instance)')).map(([a, e, g]) =>
      a === 'topk' || a === 'bottomk' || a === 'limitk' ? `${a}${g}(2, ${e})` : a === 'quantile' ? `${a}${g}(0.9, ${e})` : a === 'count_values' ? `${a}${g}("v", ${e})` : `${a}${g}(${e})`,
    ),
    fc.tuple(tie('e'), binop, modifier, tie('e')).map(([a, op, m, b]) => `(${a}) ${op}${op === 'and' || op === 'or' || op === 'unless' ? '' : m} (${b})`),
    fc.tuple(tie('e'), dur, dur).map(([e, r, s]) => `max_over_time((${e})[${r}:${s === '0s' ? '' : s}])`),
    fc.tuple(metric, dur).map(([m, d]) => `${m} offset ${d}`),
    fc.tuple(tie('e'), fc.constantFrom('dst', 'job'), fc.constantFrom('(.*)', '(a+)+', 'i(\\\\d)')).map(([e, d, re]) => `label_replace(${e}, "${d}", "$1", "instance", "${re}")`),
    fc.tuple(tie('e')).map(([e]) => `histogram_quantile(0.9, ${e})`),
  ),
})).e;

async function check(q: string, range: boolean): Promise<void> {
  const t0 = performance.now();
  try {
    if (range) await engine.rangeQuery(head, q, T0, T0 + 3_600_000, 60_000);
    else await engine.instantQuery(head, q, T0 + 1_800_000);
  } catch (e) {
    const ok = e instanceof ParseError || e instanceof QueryError || e instanceof LimitError || (e as Error).name === 'TimeoutError';
    if (!ok) throw new Error(`unexpected ${(e as Error).name} for ${JSON.stringify(q)}: ${(e as Error).message}`);
  }
  expect(performance.now() - t0, q).toBeLessThan(1500);
}

describe('PromQL evaluator fuzz', () => {
  it(`${RUNS * 0.8} instant queries`, async () => {
    await fc.assert(fc.asyncProperty(expr, (q) => check(q, false)), { seed: SEED, numRuns: RUNS * 0.8 });
  }, 80_000);
  it(`${RUNS * 0.2} range queries`, async () => {
    await fc.assert(fc.asyncProperty(expr, (q) => check(q, true)), { seed: SEED + 1, numRuns: RUNS * 0.2 });
  }, 80_000);
});

/**
 * The evaluator's column fast paths (`*_over_time`, deriv, predict_linear, irate, idelta,
 * changes, resets, rate/increase/delta) against the general per-window path of the same
 * function library: an engine whose function table wraps each implementation (so no fast path
 * recognises it) must give identical results and annotations on random data with NaN, ±Inf,
 * staleness markers and gaps, for instant and range queries, with offset and `@`.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { labelsFrom, labelsToString } from '../../../src/model/labels.js';
import { STALE_NAN } from '../../../src/model/samples.js';
import { Engine, type QueryResult } from '../../../src/promql/engine/engine.js';
import { FUNCTIONS } from '../../../src/promql/engine/functions/index.js';
import type { FunctionImpl } from '../../../src/promql/engine/functions/contract.js';
import { MemoryStorage } from '../../fakes/memory-storage.js';

const FUNCS = [
  'max_over_time', 'min_over_time', 'avg_over_time', 'sum_over_time', 'count_over_time', 'stddev_over_time',
  'stdvar_over_time', 'present_over_time', 'last_over_time', 'first_over_time', 'ts_of_last_over_time',
  'ts_of_first_over_time', 'deriv', 'irate', 'idelta', 'changes', 'resets', 'rate', 'increase', 'delta',
];

/** The same library with every implementation wrapped: the evaluator sees unknown functions. */
const wrapped: Record<string, FunctionImpl> = {};
for (const [name, impl] of Object.entries(FUNCTIONS)) wrapped[name] = (a, e, c) => impl(a, e, c);

const fast = new Engine({ functions: FUNCTIONS });
const general = new Engine({ functions: wrapped });

/** Canonical text of a query's outcome: its error, or {@link canonResult}. */
async function canon(p: Promise<QueryResult>): Promise<string> {
  try {
    return canonResult(await p);
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

/** Canonical text of a result: sorted series with exact values (NaN and ±Inf by name). */
function canonResult(r: QueryResult): string {
  const v = r.value;
  const rows: string[] = [];
  if (v.kind === 'vector') for (const s of v.vector) rows.push(`${labelsToString(s.metric)} ${s.t} ${Object.is(s.f, -0) ? '-0' : String(s.f)}`);
  else if (v.kind === 'matrix') for (const s of v.matrix) rows.push(`${labelsToString(s.metric)} ${s.floats.map((p) => `${p.t}:${String(p.f)}`).join(',')}`);
  else rows.push(JSON.stringify(v));
  return [...rows.sort(), 'W', ...[...r.warnings].sort(), 'I', ...[...r.infos].sort()].join('\n');
}

const valueArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -50, max: 50 }).map((x) => x * 1.5) },
  { weight: 1, arbitrary: fc.constantFrom<number | 'stale' | null>(NaN, Infinity, -Infinity, 'stale', null) },
);

const bigArb = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<number | 'stale' | null>(1e308, -1e308, 1.5e308, 3, -7.5) },
  { weight: 1, arbitrary: fc.constantFrom<number | 'stale' | null>(NaN, Infinity, -Infinity, 'stale', null) },
);

function storage(series: (number | 'stale' | null)[][]): MemoryStorage {
  const s = new MemoryStorage();
  series.forEach((vals, i) => {
    const ls = labelsFrom({ __name__: i % 2 ? 'm_total' : 'm', i: String(i), g: String(i % 3) });
    vals.forEach((v, k) => {
      if (v !== null) s.addFloat(ls, k * 15_000 + (i % 3) * 1000, v === 'stale' ? STALE_NAN : v);
    });
  });
  return s;
}

describe('column fast paths equal the general path', () => {
  it('instant and range queries over random series', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(valueArb, { minLength: 0, maxLength: 40 }), { minLength: 1, maxLength: 4 }),
        fc.constantFrom(...FUNCS),
        fc.constantFrom('1m', '2m', '5m'),
        fc.constantFrom('', ' offset 1m', ' @ 300', ' offset -30s'),
        fc.integer({ min: 0, max: 40 }),
        async (series, fn, range, mod, at) => {
          const st = storage(series);
          const q = `${fn}({__name__=~"m.*"}[${range}]${mod})`;
          const ts = at * 15_000 + 7_000;
          expect(await canon(fast.instantQuery(st, q, ts)), q).toBe(await canon(general.instantQuery(st, q, ts)));
          expect(await canon(fast.rangeQuery(st, q, 0, 600_000, 20_000)), q).toBe(await canon(general.rangeQuery(st, q, 0, 600_000, 20_000)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('quantile_over_time and predict_linear with scalar parameters (incl. invalid quantiles)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(valueArb, { minLength: 0, maxLength: 40 }), { minLength: 1, maxLength: 3 }),
        fc.constantFrom('quantile_over_time(0.9, X)', 'quantile_over_time(-1, X)', 'quantile_over_time(time() / 300, X)', 'predict_linear(X, 600)', 'predict_linear(X, time())'),
        async (series, tmpl) => {
          const st = storage(series);
          const q = tmpl.replace('X', '{__name__=~"m.*"}[3m]');
          expect(await canon(fast.instantQuery(st, q, 400_000)), q).toBe(await canon(general.instantQuery(st, q, 400_000)));
          expect(await canon(fast.rangeQuery(st, q, 0, 600_000, 30_000)), q).toBe(await canon(general.rangeQuery(st, q, 0, 600_000, 30_000)));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('aggregations over range functions (fused path) equal the per-step path', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.array(fc.oneof(valueArb, bigArb), { minLength: 0, maxLength: 30 }), { minLength: 1, maxLength: 7 }),
        fc.constantFrom('sum', 'avg', 'count', 'min', 'max', 'group'),
        fc.constantFrom(' by (g)', ' without (i)', '', ' by (__name__)', ' by (g, __name__)'),
        fc.constantFrom('rate', 'increase', 'max_over_time', 'avg_over_time', 'last_over_time', 'deriv', 'changes'),
        fc.constantFrom('', ' offset 1m', ' @ 200'),
        async (series, op, grouping, fn, mod) => {
          const st = storage(series);
          const q = `${op}${grouping} (${fn}({__name__=~"m.*"}[2m]${mod}))`;
          expect(await canon(fast.instantQuery(st, q, 250_000)), q).toBe(await canon(general.instantQuery(st, q, 250_000)));
          expect(await canon(fast.rangeQuery(st, q, 0, 500_000, 20_000)), q).toBe(await canon(general.rangeQuery(st, q, 0, 500_000, 20_000)));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps the per-step order of groups in instant results', async () => {
    const st = storage([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14, 15, 16]]);
    const q = 'sum by (g) (max_over_time({__name__=~"m.*"}[1m]))';
    const order = (r: QueryResult) => (r.value.kind === 'vector' ? r.value.vector.map((s) => labelsToString(s.metric)) : []);
    expect(order(await fast.instantQuery(st, q, 50_000))).toEqual(order(await general.instantQuery(st, q, 50_000)));
  });
});

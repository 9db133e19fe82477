/**
 * `sum`/`avg`/`count`/`min`/`max`/`group` straight over an instant-vector selector take a fused
 * path (no per-step sample vectors). It must give what the per-step aggregation gives: the same
 * expression over `X unless on () (vector(0) > 1)` (the same samples, names kept, through the
 * general path) on random data with NaN, ±Inf, huge values, staleness markers, gaps and a
 * native histogram series, for instant and range queries, with offset and `@`, on the memory
 * storage and on the head.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FakeClock } from '../../../src/model/clock.js';
import { labelsFrom, labelsToString } from '../../../src/model/labels.js';
import { STALE_NAN } from '../../../src/model/samples.js';
import { Engine, type QueryResult } from '../../../src/promql/engine/engine.js';
import { Head } from '../../../src/storage/head/index.js';
import type { Storage } from '../../../src/storage/interface.js';
import { MemoryStorage } from '../../fakes/memory-storage.js';

const engine = new Engine();

/** Result rows in result order (the order is part of what must not change), then annotations. */
async function canon(p: Promise<QueryResult>): Promise<string> {
  try {
    const r = await p;
    const v = r.value;
    const rows: string[] = [];
    if (v.kind === 'vector') for (const s of v.vector) rows.push(`${labelsToString(s.metric)} ${s.t} ${Object.is(s.f, -0) ? '-0' : String(s.f)}${s.h ? ' H' : ''}`);
    else if (v.kind === 'matrix') for (const s of v.matrix) rows.push(`${labelsToString(s.metric)} ${s.floats.map((p) => `${p.t}:${String(p.f)}`).join(',')} H${s.histograms.length}`);
    else rows.push(JSON.stringify(v));
    return [...rows, 'W', ...[...r.warnings].sort(), 'I', ...[...r.infos].sort()].join('\n');
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

const valueArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -50, max: 50 }).map((x) => x * 1.5) },
  { weight: 2, arbitrary: fc.constantFrom<number | 'stale' | null>(1e308, -1e308, 1.5e308) },
  { weight: 2, arbitrary: fc.constantFrom<number | 'stale' | null>(NaN, Infinity, -Infinity, 'stale', null) },
);

type Data = { vals: (number | 'stale' | null)[][]; histogram: boolean };

async function fill(st: Storage | MemoryStorage, d: Data): Promise<void> {
  const app = st.appender();
  d.vals.forEach((vals, i) => {
    const ls = labelsFrom({ __name__: i % 2 ? 'm_total' : 'm', i: String(i), g: String(i % 3) });
    vals.forEach((v, k) => {
      if (v !== null) app.append(0, ls, k * 15_000 + (i % 3) * 1000, v === 'stale' ? STALE_NAN : v);
    });
  });
  if (d.histogram) {
    const h = { schema: 0, zeroThreshold: 0, zeroCount: 1, count: 3, sum: 4, positiveSpans: [{ offset: 0, length: 1 }], positiveBuckets: [2], negativeSpans: [], negativeBuckets: [] };
    for (let k = 0; k < 20; k++) app.appendHistogram(0, labelsFrom({ __name__: 'm', i: 'h', g: '0' }), k * 15_000, { ...h, count: 3 + k } as never);
  }
  await app.commit();
}

describe('aggregation over an instant selector (fused path)', () => {
  it('equals the per-step aggregation', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ vals: fc.array(fc.array(valueArb, { minLength: 0, maxLength: 30 }), { minLength: 1, maxLength: 7 }), histogram: fc.boolean() }),
        fc.constantFrom('sum', 'avg', 'count', 'min', 'max', 'group'),
        fc.constantFrom(' by (g)', ' without (i)', '', ' by (__name__)', ' by (g, __name__)', ' by (nope)'),
        fc.constantFrom('', ' offset 1m', ' @ 200', ' offset -30s'),
        fc.integer({ min: 0, max: 30 }),
        fc.boolean(),
        async (data, op, grouping, mod, at, onHead) => {
          const st = onHead ? new Head({ retentionMs: 1e12, clock: new FakeClock(0), chunkSamples: 8 }) : new MemoryStorage();
          await fill(st, data);
          const sel = `{__name__=~"m.*"}${mod}`;
          const fused = `${op}${grouping} (${sel})`;
          const general = `${op}${grouping} (${sel} unless on () (vector(0) > 1))`;
          const ts = at * 15_000 + 7_000;
          expect(await canon(engine.instantQuery(st, fused, ts)), fused).toBe(await canon(engine.instantQuery(st, general, ts)));
          expect(await canon(engine.rangeQuery(st, fused, 0, 500_000, 20_000)), fused).toBe(await canon(engine.rangeQuery(st, general, 0, 500_000, 20_000)));
        },
      ),
      { numRuns: 300 },
    );
  });
});

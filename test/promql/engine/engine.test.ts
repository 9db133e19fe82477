import { describe, expect, it } from 'vitest';
import { labelsFrom, labelsToString } from '../../../src/model/labels.js';
import { STALE_NAN } from '../../../src/model/samples.js';
import { Engine } from '../../../src/promql/engine/engine.js';
import { QueryError, type Value } from '../../../src/promql/engine/values.js';
import { MemoryStorage } from '../../fakes/memory-storage.js';

const M = 60_000;

function store(series: Record<string, (number | null | 'stale')[]>, interval = M): MemoryStorage {
  const s = new MemoryStorage();
  for (const [desc, vals] of Object.entries(series)) {
    const m = /^(\w*)(?:\{(.*)\})?$/.exec(desc)!;
    const obj: Record<string, string> = {};
    if (m[1]) obj['__name__'] = m[1];
    for (const kv of (m[2] ?? '').split(',').filter(Boolean)) {
      const [k, v] = kv.split('=');
      obj[k!.trim()] = v!.trim().replace(/"/g, '');
    }
    vals.forEach((v, i) => {
      // Staleness markers are passed as 'stale': V8 may canonicalise NaN payloads inside arrays.
      if (v !== null) s.addFloat(labelsFrom(obj), i * interval, v === 'stale' ? STALE_NAN : v);
    });
  }
  return s;
}

/** Sorted "labels value" lines of an instant vector (or scalar). */
function lines(v: Value): string[] {
  if (v.kind === 'scalar') return [String(v.v)];
  if (v.kind !== 'vector') throw new Error(`not a vector: ${v.kind}`);
  return v.vector.map((s) => `${labelsToString(s.metric)} ${s.f}`).sort();
}

const engine = new Engine();

describe('Engine instant queries', () => {
  const s = store({
    'up{job="a",instance="1"}': [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    'up{job="b",instance="1"}': [10, 20, 30, null, null, null, null, null, null, null],
    'stale{job="a"}': [1, 2, 'stale'],
  });

  it('uses a left-open 5m lookback window', async () => {
    // up{job="b"} has its last sample at 2m: visible until 7m exclusive.
    expect(lines((await engine.instantQuery(s, 'up{job="b"}', 6 * M + 59_999)).value)).toEqual(['up{instance="1", job="b"} 30']);
    expect(lines((await engine.instantQuery(s, 'up{job="b"}', 7 * M)).value)).toEqual([]);
  });

  it('ends a series at a staleness marker', async () => {
    expect(lines((await engine.instantQuery(s, 'stale', M)).value)).toEqual(['stale{job="a"} 2']);
    expect(lines((await engine.instantQuery(s, 'stale', 2 * M)).value)).toEqual([]);
  });

  it('applies offset (also negative) and @', async () => {
    expect(lines((await engine.instantQuery(s, 'up{job="a"} offset 2m', 5 * M)).value)).toEqual(['up{instance="1", job="a"} 4']);
    expect(lines((await engine.instantQuery(s, 'up{job="a"} offset -2m', 5 * M)).value)).toEqual(['up{instance="1", job="a"} 8']);
    expect(lines((await engine.instantQuery(s, 'up{job="a"} @ 120', 9 * M)).value)).toEqual(['up{instance="1", job="a"} 3']);
  });

  it('selects range windows left-open: (t-range, t]', async () => {
    const r = await engine.instantQuery(s, 'up{job="a"}[2m]', 4 * M);
    expect(r.value.kind).toBe('matrix');
    if (r.value.kind === 'matrix') expect(r.value.matrix[0]!.floats.map((p) => p.f)).toEqual([4, 5]);
  });

  it('matches vectors and drops the name on arithmetic only', async () => {
    expect(lines((await engine.instantQuery(s, 'up + on(instance) group_left sum by (instance) (up)', 2 * M)).value)).toEqual([
      '{instance="1", job="a"} 36',
      '{instance="1", job="b"} 63',
    ]);
    expect(lines((await engine.instantQuery(s, 'up > 5', 2 * M)).value)).toEqual(['up{instance="1", job="b"} 30']);
    expect(lines((await engine.instantQuery(s, 'up > bool 5', 2 * M)).value)).toEqual(['{instance="1", job="a"} 0', '{instance="1", job="b"} 1']);
  });

  it('reports many-to-many matching like Prometheus', async () => {
    await expect(engine.instantQuery(s, 'up * on(instance) up', M)).rejects.toThrow(
      /found duplicate series for the match group \{instance="1"\} on the right hand-side of the operation: .*many-to-many matching not allowed/,
    );
    await expect(engine.instantQuery(s, 'up / ignoring(job) sum by (instance) (up)', M)).rejects.toThrow(
      'multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)',
    );
  });

  it('rejects duplicate label sets after name removal', async () => {
    const d = store({ 'a{x="1"}': [1], 'b{x="1"}': [2] });
    await expect(engine.instantQuery(d, '{x="1"} * 2', 0)).rejects.toThrow('vector cannot contain metrics with the same labelset');
  });

  it('aggregates with Kahan summation and validates parameters', async () => {
    const k = store({ 'v{i="1"}': [1e100], 'v{i="2"}': [1], 'v{i="3"}': [-1e100] });
    expect(lines((await engine.instantQuery(k, 'sum(v)', 0)).value)).toEqual(['{} 1']);
    expect(lines((await engine.instantQuery(k, 'avg(v)', 0)).value)).toEqual([`{} ${1 / 3}`]);
    await expect(engine.instantQuery(k, 'topk(NaN, v)', 0)).rejects.toThrow('Parameter value is NaN');
    const q = await engine.instantQuery(k, 'quantile(2, v)', 0);
    expect(q.warnings).toEqual(['PromQL warning: quantile value should be between 0 and 1, got 2 (1:10)']);
  });

  it('aligns subquery steps to absolute multiples of the step', async () => {
    const r = await engine.instantQuery(s, 'up{job="a"}[5m:2m]', 9 * M + 30_000);
    expect(r.value.kind === 'matrix' && r.value.matrix[0]!.floats.map((p) => p.t / M)).toEqual([6, 8]);
  });
});

describe('Engine range queries', () => {
  const s = store({ 'c{a="1"}': [0, 10, 20, 30, 40, 50] });

  it('evaluates every step and merges series after name removal', async () => {
    const r = await engine.rangeQuery(s, 'c * 2', 0, 3 * M, M);
    expect(r.value.kind).toBe('matrix');
    if (r.value.kind !== 'matrix') return;
    expect(r.value.matrix).toHaveLength(1);
    expect(labelsToString(r.value.matrix[0]!.metric)).toBe('{a="1"}');
    expect(r.value.matrix[0]!.floats).toEqual([0, 20, 40, 60].map((f, i) => ({ t: i * M, f })));
  });

  it('broadcasts step-invariant subtrees', async () => {
    const r = await engine.rangeQuery(s, 'c @ 120 + 0 * c', 0, 3 * M, M);
    if (r.value.kind !== 'matrix') throw new Error('matrix expected');
    expect(r.value.matrix[0]!.floats.map((p) => p.f)).toEqual([20, 20, 20, 20]);
  });

  it('returns scalars as one unlabelled series and rejects range vectors', async () => {
    const r = await engine.rangeQuery(s, 'time()', 0, 2 * M, M);
    expect(r.value.kind === 'matrix' && r.value.matrix[0]!.floats.map((p) => p.f)).toEqual([0, 60, 120]);
    await expect(engine.rangeQuery(s, 'c[1m]', 0, M, M)).rejects.toThrow(/invalid expression type "range vector" for range query/);
  });
});

describe('Engine limits', () => {
  const s = store({ 'x{i="1"}': [1, 2, 3, 4], 'x{i="2"}': [1, 2, 3, 4] });

  it('enforces maxSamples', async () => {
    const small = new Engine({ maxSamples: 3 });
    await expect(small.rangeQuery(s, 'x', 0, 3 * M, M)).rejects.toThrow('query processing would load too many samples into memory in query execution');
    await expect(small.instantQuery(s, 'x', 0)).resolves.toBeDefined();
  });

  it('times out using the injected clock', async () => {
    let t = 0;
    const clock = { now: () => (t += 1000) };
    const e = new Engine({ clock, timeoutMs: 500 });
    const err = await e.instantQuery(s, 'x', 0).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(QueryError);
    expect((err as QueryError).errorType).toBe('timeout');
  });

  it('honours an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    const err = await engine.instantQuery(s, 'x', 0, { signal: ac.signal }).catch((x: unknown) => x);
    expect((err as QueryError).errorType).toBe('canceled');
  });

  it('turns parse errors into bad_data', async () => {
    const err = await engine.instantQuery(s, 'sum(', 0).catch((x: unknown) => x);
    expect((err as QueryError).errorType).toBe('bad_data');
  });
});

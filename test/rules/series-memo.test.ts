import { describe, expect, it } from 'vitest';
import { labelsFrom, labelsToObject, type Labels } from '../../src/model/labels.js';
import type { Vector } from '../../src/promql/engine/values.js';
import { AlertingRule } from '../../src/rules/alerting.js';
import type { AlertingRuleConfig, EvalContext, QueryFunc } from '../../src/rules/rule.js';
import { seriesHash, SeriesMemoTable, type SeriesMemoInit } from '../../src/rules/series-memo.js';
import { goTemplater, type Templater } from '../../src/rules/templating.js';

const S = 1000;
const T0 = 1_700_000_000_000;

function init(metric: Labels, value = 0): SeriesMemoInit {
  return { metric, value, vals: [], labels: metric, key: '', annotations: [] };
}

describe('seriesHash', () => {
  it('depends on names, values and their boundaries, not on object identity', () => {
    const a = labelsFrom({ a: 'b', c: 'd' });
    expect(seriesHash(a)).toBe(seriesHash(labelsFrom({ a: 'b', c: 'd' })));
    expect(seriesHash(a)).not.toBe(seriesHash(labelsFrom({ a: 'bc', c: '' })));
    expect(seriesHash(labelsFrom({ ab: 'c' }))).not.toBe(seriesHash(labelsFrom({ a: 'bc' })));
    expect(seriesHash([])).toBe(0x811c9dc5);
  });
});

describe('SeriesMemoTable', () => {
  it('finds by label equality within a hash chain and sweeps entries not seen', () => {
    const t = new SeriesMemoTable();
    const x = labelsFrom({ i: 'x' });
    const y = labelsFrom({ i: 'y' });
    const z = labelsFrom({ i: 'z' });
    // Force one chain: all three under the same (fake) hash.
    t.beginEval();
    const ex = t.add(7, init(x));
    const ey = t.add(7, init(y));
    const ez = t.add(7, init(z));
    t.endEval();
    expect(t.find(7, labelsFrom({ i: 'x' }))).toBe(ex);
    expect(t.find(7, y)).toBe(ey);
    expect(t.find(8, y)).toBeUndefined();
    // Only y seen: x and z (head and tail of the chain) go.
    t.beginEval();
    t.touch(t.find(7, y)!);
    t.endEval();
    expect(t.find(7, x)).toBeUndefined();
    expect(t.find(7, z)).toBeUndefined();
    expect(t.find(7, y)).toBe(ey);
    expect(ey.next).toBeUndefined();
    // Nothing seen: the hash disappears; a re-added series is a new entry.
    t.beginEval();
    t.endEval();
    expect(t.find(7, y)).toBeUndefined();
    t.beginEval();
    expect(t.add(7, init(z))).not.toBe(ez);
    t.endEval();
    expect(t.find(7, z)).toBeDefined();
    t.clear();
    expect(t.find(7, z)).toBeUndefined();
  });

  it('keeps entries touched twice in one evaluation and counts them once', () => {
    const t = new SeriesMemoTable();
    const x = labelsFrom({ i: 'x' });
    const y = labelsFrom({ i: 'y' });
    t.beginEval();
    t.add(1, init(x));
    t.add(2, init(y));
    t.endEval();
    t.beginEval();
    const e = t.find(1, x)!;
    t.touch(e);
    t.touch(e); // a second touch must not make the table think y was seen
    t.endEval();
    expect(t.find(1, x)).toBe(e);
    expect(t.find(2, y)).toBeUndefined();
  });
});

describe('alerting rule: asynchronous expansions', () => {
  const cfg: AlertingRuleConfig = {
    kind: 'alerting',
    alert: 'A',
    expr: 'm > 0',
    for: 0,
    keepFiringFor: 0,
    labels: { who: '{{ $labels.instance }}', sev: 'page' },
    annotations: { a: 'v={{ $value }}', b: 'q:{{ $labels.instance }}', c: '{{ $labels.instance }}/{{ $value }}' },
    pos: { file: 't.yml', line: 1 },
  };
  function ctx(ts: number, query: QueryFunc): EvalContext {
    return { ts, query, externalLabels: {}, externalURL: 'http://vigil:9090', interval: 30 * S, limit: 0 };
  }

  it('continues after a template that returns a promise, with the same results and reuse as the synchronous path', async () => {
    const calls = new Map<string, number>();
    // The templater answers "q:" texts asynchronously, like a template that runs a query.
    const t: Templater = {
      pure: true,
      check: goTemplater.check,
      expand: (name, text, data, opts) => {
        calls.set(text, (calls.get(text) ?? 0) + 1);
        const out = goTemplater.expand(name, text, data, opts);
        return text.startsWith('q:') ? Promise.resolve(out).then((s) => s) : out;
      },
    };
    let vals: [string, number][] = [
      ['i1', 1],
      ['i2', 2],
    ];
    const q: QueryFunc = async (_e, ts): Promise<Vector> => vals.map(([i, v]) => ({ metric: labelsFrom({ __name__: 'm', instance: i }), t: ts, f: v }));
    const r = new AlertingRule(cfg, { templater: t });
    const check = () => {
      const got = r.activeAlerts().map((a) => ({ labels: labelsToObject(a.labels), ann: labelsToObject(a.annotations) }));
      expect(got.sort((x, y) => (x.labels.instance! < y.labels.instance! ? -1 : 1))).toEqual(
        vals.map(([i, v]) => ({ labels: { alertname: 'A', instance: i, who: i, sev: 'page' }, ann: { a: `v=${v}`, b: `q:${i}`, c: `${i}/${v}` } })),
      );
    };
    await r.eval(ctx(T0, q));
    expect(r.health()).toBe('ok');
    check();
    const before = r.activeAlerts().map((a) => a.labels);
    vals = [
      ['i1', 1],
      ['i2', 3],
    ];
    await r.eval(ctx(T0 + 30 * S, q));
    check();
    // Label sets are reused (no label template changed); $value ones re-expanded for i2 only.
    expect(r.activeAlerts().every((a, i) => a.labels === before[i])).toBe(true);
    expect(calls.get('q:{{ $labels.instance }}')).toBe(2);
    expect(calls.get('v={{ $value }}')).toBe(3);
    expect(calls.get('{{ $labels.instance }}/{{ $value }}')).toBe(3);
  });
});

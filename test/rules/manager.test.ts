import { describe, expect, it } from 'vitest';
import { parseRuleFileText } from '../../src/config/rule-files.js';
import { FakeClock, systemClock } from '../../src/model/clock.js';
import { isStaleNaN } from '../../src/model/samples.js';
import { RuleManager } from '../../src/rules/manager.js';
import type { RuleGroupConfig } from '../../src/rules/rule.js';
import { basicTemplater } from '../../src/rules/templating.js';
import { deps, load, M, newHead, raw, S, T0 } from './helpers.js';

function groups(yaml: string, file = 'm.yml'): RuleGroupConfig[] {
  const r = parseRuleFileText(yaml, file, { checkTemplate: basicTemplater.check });
  if (r.errors.length) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.groups;
}

const V1 = `groups:
- name: a
  rules:
  - alert: High
    expr: x > 0
    for: 5m
    labels: { severity: page }
  - record: x:sum
    expr: sum(x)
- name: b
  rules:
  - record: y
    expr: x * 2
`;

/** Group a after the edit (a new rule, an annotation added to High), group b gone. */
const CHANGED_A = `groups:
- name: a
  rules:
  - alert: High
    expr: x > 0
    for: 5m
    labels: { severity: page }
    annotations: { summary: changed }
  - record: x:count
    expr: count(x)
`;

describe('rule manager', () => {
  it('hot reload: unchanged groups keep running, changed groups keep alert state, removed groups go stale', async () => {
    const clock = new FakeClock(T0 + 60 * M);
    const head = newHead(clock);
    await load(head, [{ __name__: 'x', i: '1' }], T0, T0 + 30 * M, 15 * S, () => 1);
    const { deps: d, sink } = deps(head, clock);
    const m = new RuleManager({ ...d, defaultIntervalMs: M, autoStart: false });
    await m.update(groups(V1));
    const [a1, b1] = m.groups();
    for (let ts = T0; ts <= T0 + 3 * M; ts += M) for (const g of m.groups()) await g.evalAt(ts);
    expect(a1!.rules()[0]!.activeAlerts!()[0]!.activeAt).toBe(T0);

    // change group a (new rule, annotation added to High: labels and expr unchanged), drop group b
    await m.update(groups(CHANGED_A));
    const [a2] = m.groups();
    expect(m.groups()).toHaveLength(1);
    expect(a2).not.toBe(a1);
    expect(a2!.rules()[0]!.activeAlerts!()[0]!.activeAt).toBe(T0); // state carried over
    // group b removed: its output got a stale marker, the sink forgot it
    const y = raw(head, { __name__: 'y', i: '1' });
    expect(isStaleNaN(y.v.at(-1)!)).toBe(true);
    expect(sink.dropped).toEqual([b1!.key]);

    await a2!.evalAt(T0 + 5 * M);
    expect(a2!.rules()[0]!.activeAlerts!()[0]!.state).toBe('firing');
    // the removed rule x:sum gets its stale marker at the next evaluation of the new group
    const xs = raw(head, { __name__: 'x:sum' });
    expect(xs.t.at(-1)).toBe(T0 + 5 * M);
    expect(isStaleNaN(xs.v.at(-1)!)).toBe(true);

    // identical config: the group object keeps running
    await m.update(groups(CHANGED_A));
    expect(m.groups()[0]).toBe(a2);
    // a changed expression is a different rule: state is not carried over
    await m.update(groups(`groups:\n- name: a\n  rules:\n  - alert: High\n    expr: x > 0.5\n    for: 5m\n    labels: { severity: page }\n`));
    expect(m.groups()[0]!.rules()[0]!.activeAlerts!()).toEqual([]);
    await m.stop();
  });

  it('eval_on_ingest: triggers groups selecting the touched metrics, coalesced', async () => {
    const head = newHead(new FakeClock(0));
    const evals: Record<string, number[]> = { hot: [], cold: [], any: [] };
    const { deps: d } = deps(head, new FakeClock(0), {
      clock: systemClock,
      query: async (e, ts) => {
        const s = typeof e === 'string' ? e : JSON.stringify(e);
        const key = s.includes('hot_metric') ? 'hot' : s.includes('cold_metric') ? 'cold' : 'any';
        evals[key]!.push(ts);
        await new Promise((r) => setTimeout(r, 5));
        return [];
      },
    });
    const m = new RuleManager({ ...d, defaultIntervalMs: 3600 * S, ingestMinSpacingMs: 30 });
    await m.update(
      groups(`groups:
- name: hot
  eval_on_ingest: true
  rules:
  - record: hot:rate
    expr: rate(hot_metric[5m])
- name: cold
  rules:
  - record: cold:rate
    expr: rate(cold_metric[5m])
- name: any
  eval_on_ingest: true
  rules:
  - record: any:count
    expr: 'count({job="x"})'
`),
    );
    const t0 = Date.now();
    for (let i = 0; i < 50; i++) m.notifyIngest(['hot_metric']);
    await new Promise((r) => setTimeout(r, 60));
    // 50 notifications in a burst: one run (plus possibly one more if a notification raced the start)
    expect(evals.hot!.length).toBeGreaterThanOrEqual(1);
    expect(evals.hot!.length).toBeLessThanOrEqual(2);
    expect(evals.hot![0]!).toBeGreaterThanOrEqual(t0); // evaluated at "now", not aligned
    expect(evals.cold).toEqual([]); // not eval_on_ingest
    expect(evals.any!.length).toBe(1); // a selector without a metric name matches everything
    // the group's own output does not trigger it
    m.notifyIngest(['hot:rate']);
    await new Promise((r) => setTimeout(r, 50));
    expect(evals.hot!.length).toBeLessThanOrEqual(2);
    // sustained notifications are rate limited by the minimum spacing
    const before = evals.hot!.length;
    const until = Date.now() + 300;
    while (Date.now() < until) {
      m.notifyIngest(['hot_metric']);
      await new Promise((r) => setTimeout(r, 2));
    }
    await new Promise((r) => setTimeout(r, 50));
    const runs = evals.hot!.length - before;
    expect(runs).toBeGreaterThanOrEqual(3);
    expect(runs).toBeLessThanOrEqual(12); // ≤ 300ms / 30ms + 1
    await m.stop();
    const n = evals.hot!.length;
    m.notifyIngest(['hot_metric']);
    await new Promise((r) => setTimeout(r, 50));
    expect(evals.hot!.length).toBe(n);
  });
});

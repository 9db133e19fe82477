import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { parseRuleFileText } from '../../src/config/rule-files.js';
import { FakeClock, systemClock } from '../../src/model/clock.js';
import { labelsToObject } from '../../src/model/labels.js';
import { isStaleNaN } from '../../src/model/samples.js';
import { RuleGroup } from '../../src/rules/group.js';
import type { RuleGroupConfig } from '../../src/rules/rule.js';
import { basicTemplater } from '../../src/rules/templating.js';
import { deps, load, M, newHead, raw, S, T0 } from './helpers.js';

const complianceRules = fileURLToPath(new URL('../../../shared/conformance/alert-generator/rules.yaml', import.meta.url));

function group(yaml: string, name?: string): RuleGroupConfig {
  const r = parseRuleFileText(yaml, 'g.yml', { checkTemplate: basicTemplater.check });
  if (r.errors.length) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return name ? r.groups.find((g) => g.name === name)! : r.groups[0]!;
}

describe('rule group evaluation', () => {
  it('recording rules: rename, labels, chaining within one iteration, group labels', async () => {
    const clock = new FakeClock(T0 + 10 * M);
    const head = newHead(clock);
    const series = ['job1', 'job2'].flatMap((job) => ['cluster1', 'cluster2'].map((cluster) => ({ __name__: 'http_requests_total', job, cluster, namespace: 'namespace1' })));
    await load(head, series, T0, T0 + 5 * M, 15 * S, (ts, i) => ((ts - T0) / 1000) * (i + 1));
    const cfg = group(`groups:
- name: chain
  labels: { source: vigil }
  rules:
  - record: job_cluster:http_requests:rate1m
    expr: sum by (job, cluster, namespace)(rate(http_requests_total[1m]))
    labels: { source: rule }
  - record: job1:http_requests:rate1m
    expr: job_cluster:http_requests:rate1m{job="job1"}
  - record: job1_cluster1:http_requests:rate1m
    expr: job1:http_requests:rate1m{cluster="cluster1"}
`);
    const { deps: d, sink } = deps(head, clock);
    const g = new RuleGroup(cfg, d, { defaultIntervalMs: M });
    const ts = T0 + 5 * M;
    await g.evalAt(ts);
    for (const r of g.rules()) expect(r.lastError()).toBeUndefined();
    const out = raw(head, { __name__: 'job1_cluster1:http_requests:rate1m', job: 'job1', cluster: 'cluster1', namespace: 'namespace1', source: 'vigil' });
    expect(out.t).toEqual([ts]);
    expect(out.v[0]).toBeCloseTo(1, 6); // series 0 grows 1/s
    const first = raw(head, { __name__: 'job_cluster:http_requests:rate1m', job: 'job2', cluster: 'cluster2', namespace: 'namespace1', source: 'rule' });
    expect(first.v[0]).toBeCloseTo(4, 6);
    const pub = sink.published.get(g.key)!;
    expect(pub.ts).toBe(ts);
    expect(pub.series).toHaveLength(4 + 2 + 1);
    expect(g.lastEvaluation()).toBe(ts);
  });

  it('writes stale markers for series that vanish, not for failing rules', async () => {
    const clock = new FakeClock(T0 + 10 * M);
    const head = newHead(clock);
    await load(head, [{ __name__: 'x', i: 'a' }, { __name__: 'x', i: 'b' }], T0, T0 + M, 15 * S, () => 1);
    const cfg = group(`groups:
- name: g
  rules:
  - record: y
    expr: x{i=~"a|b"} > 0
`);
    const { deps: d } = deps(head, clock);
    const g = new RuleGroup(cfg, d, { defaultIntervalMs: M });
    await g.evalAt(T0 + M);
    // b goes to 0: the rule output for b vanishes
    const app = head.appender();
    app.append(0, [{ name: '__name__', value: 'x' }, { name: 'i', value: 'a' }], T0 + M + 30 * S, 1);
    app.append(0, [{ name: '__name__', value: 'x' }, { name: 'i', value: 'b' }], T0 + M + 30 * S, 0);
    await app.commit();
    await g.evalAt(T0 + 2 * M);
    const b = raw(head, { __name__: 'y', i: 'b' });
    expect(b.t).toEqual([T0 + M, T0 + 2 * M]);
    expect(isStaleNaN(b.v[1]!)).toBe(true);
    expect(raw(head, { __name__: 'y', i: 'a' }).v).toEqual([1, 1]);
  });

  it('recording rule errors: duplicate label sets and limit', async () => {
    const clock = new FakeClock(T0 + 10 * M);
    const head = newHead(clock);
    await load(head, [{ __name__: 'm1', job: 'j' }, { __name__: 'm2', job: 'j' }, { __name__: 'm3', job: 'k' }], T0, T0 + M, 15 * S, () => 1);
    const cfg = group(`groups:
- name: g
  limit: 1
  rules:
  - record: dup
    expr: '{__name__=~"m1|m2"}'
  - record: over
    expr: '{__name__=~"m1|m3"}'
  - record: fine
    expr: m1
`);
    const reg = new Registry();
    const { deps: d } = deps(head, clock, { registry: reg });
    const g = new RuleGroup(cfg, d, { defaultIntervalMs: M });
    await g.evalAt(T0 + M);
    const [dup, over, fine] = g.rules();
    expect(dup!.lastError()).toBe('vector contains metrics with the same labelset after applying rule labels');
    expect(over!.lastError()).toBe('exceeded limit of 1 with 2 series');
    expect(fine!.health()).toBe('ok');
    expect(raw(head, { __name__: 'over', job: 'j' }).t).toEqual([]);
    const metrics = await reg.getMetricsAsJSON();
    const failures = metrics.find((m) => m.name === 'vigil_rule_evaluation_failures_total')!;
    expect(failures.values.find((v) => v.labels.rule_group === g.key)!.value).toBe(2);
  });

  it('compliance NewAlerts_OrderCheck: a later rule sees ALERTS of an earlier rule in the same iteration', async () => {
    const clock = new FakeClock(T0 + 20 * M);
    const head = newHead(clock);
    const base = { __name__: 'alert_generator_test_suite', alertname: 'NewAlerts_OrderCheck_Rule1', rulegroup: 'NewAlerts_OrderCheck' };
    await load(head, [{ ...base, variant: 'one' }, { ...base, variant: 'two' }], T0, T0 + 10 * M, 15 * S, () => 11);
    const cfg = group(readFileSync(complianceRules, 'utf8'), 'NewAlerts_OrderCheck');
    const { deps: d, notified } = deps(head, clock);
    const g = new RuleGroup(cfg, d, { defaultIntervalMs: M });
    expect(g.interval).toBe(30 * S);
    for (let ts = T0; ts <= T0 + 4 * M; ts += 30 * S) await g.evalAt(ts);
    const [r1, r2] = g.rules();
    expect(r1!.lastError()).toBeUndefined();
    expect(r2!.lastError()).toBeUndefined();
    const a2 = r2!.activeAlerts!();
    expect(a2).toHaveLength(1);
    expect(a2[0]!.activeAt).toBe(T0 + 3 * M); // same iteration in which Rule1 started firing
    expect(labelsToObject(a2[0]!.labels)).toEqual({ alertname: 'NewAlerts_OrderCheck_Rule2', alertstate: 'firing', ba_dum: 'tss', foo: 'baz', rulegroup: 'NewAlerts_OrderCheck' });
    const sent2 = notified.filter((n) => labelsToObject(n.alerts[0]!.labels).alertname === 'NewAlerts_OrderCheck_Rule2');
    expect(sent2[0]!.alerts[0]!.firedAt).toBe(T0 + 3 * M);
    expect(sent2[0]!.url).toMatch(/^http:\/\/vigil:9090\/graph\?g0\.expr=%28ALERTS%7B.*&g0\.tab=1$/);
    const alerts = raw(head, { __name__: 'ALERTS', alertname: 'NewAlerts_OrderCheck_Rule1', alertstate: 'pending', foo: 'bar', rulegroup: 'NewAlerts_OrderCheck', variant: 'one' });
    expect(alerts.t[0]).toBe(T0);
    // pending series went stale when the alert started firing
    expect(alerts.t.at(-1)).toBe(T0 + 3 * M);
    expect(isStaleNaN(alerts.v.at(-1)!)).toBe(true);
  });

  it('schedules aligned evaluations and counts missed iterations', async () => {
    const clock = systemClock;
    const head = newHead(new FakeClock(Date.now()));
    const reg = new Registry();
    let slow = false;
    const seen: number[] = [];
    const { deps: d } = deps(head, new FakeClock(0), {
      clock,
      registry: reg,
      query: async (_e, ts) => {
        seen.push(ts);
        if (slow) await new Promise((r) => setTimeout(r, 130));
        return [];
      },
    });
    const cfg = group(`groups:
- name: sched
  interval: 40ms
  rules:
  - record: r
    expr: vector(1)
`);
    const g = new RuleGroup(cfg, d, { defaultIntervalMs: M });
    g.start();
    await new Promise((r) => setTimeout(r, 200));
    slow = true;
    await new Promise((r) => setTimeout(r, 300));
    await g.stop();
    expect(seen.length).toBeGreaterThanOrEqual(3);
    for (const ts of seen) expect(((ts - g.offset) % 40 + 40) % 40).toBe(0);
    const missed = (await reg.getMetricsAsJSON()).find((m) => m.name === 'vigil_rule_group_iterations_missed_total')!;
    expect(missed.values[0]!.value).toBeGreaterThan(0);
    const n = seen.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.length).toBe(n); // stopped
  });
});

import { describe, expect, it } from 'vitest';
import { parseRuleFileText } from '../../src/config/rule-files.js';
import { FakeClock } from '../../src/model/clock.js';
import { alertsApiData, formatTime, formatValue, rulesApiData } from '../../src/rules/api.js';
import { RuleGroup } from '../../src/rules/group.js';
import { basicTemplater } from '../../src/rules/templating.js';
import { deps, load, M, newHead, S, T0 } from './helpers.js';

describe('rules and alerts API data', () => {
  it('formats values and times like Prometheus', () => {
    expect(formatValue(15)).toBe('1.5e+01');
    expect(formatValue(0.001)).toBe('1e-03');
    expect(formatValue(1e100)).toBe('1e+100');
    expect(formatValue(NaN)).toBe('NaN');
    expect(formatTime(0)).toBe('0001-01-01T00:00:00Z');
    expect(formatTime(Date.UTC(2024, 0, 2, 3, 4, 5, 500))).toBe('2024-01-02T03:04:05.5Z');
    expect(formatTime(Date.UTC(2024, 0, 2, 3, 4, 5))).toBe('2024-01-02T03:04:05Z');
  });

  it('/api/v1/rules and /api/v1/alerts', async () => {
    const cfg = parseRuleFileText(
      `groups:
- name: g
  interval: 30s
  limit: 10
  rules:
  - alert: High
    expr: x   >   1
    for: 1m
    keep_firing_for: 2m
    labels: { severity: page }
    annotations: { summary: "{{ $labels.i }} is {{ $value }}" }
  - record: x:sum
    expr: sum(x)
  - record: broken
    expr: x + on(i) group_left {__name__=~"x|y"}
`,
      'api.yml',
      { checkTemplate: basicTemplater.check },
    ).groups[0]!;
    const clock = new FakeClock(T0 + 10 * M);
    const head = newHead(clock);
    await load(head, [{ __name__: 'x', i: 'a' }, { __name__: 'y', i: 'a' }], T0 - M, T0, 15 * S, () => 2);
    const g = new RuleGroup(cfg, deps(head, clock).deps, { defaultIntervalMs: M });
    await g.evalAt(T0);
    const data = rulesApiData([g]);
    expect(data.groups).toHaveLength(1);
    const grp = data.groups[0]!;
    expect(grp).toMatchObject({ name: 'g', file: 'api.yml', interval: 30, limit: 10, lastEvaluation: formatTime(T0) });
    const [alert, rec, broken] = grp.rules;
    expect(alert).toMatchObject({
      type: 'alerting',
      name: 'High',
      query: 'x > 1',
      duration: 60,
      keepFiringFor: 120,
      labels: { severity: 'page' },
      annotations: { summary: '{{ $labels.i }} is {{ $value }}' },
      health: 'ok',
      state: 'pending',
      alerts: [{ labels: { alertname: 'High', i: 'a', severity: 'page' }, annotations: { summary: 'a is 2' }, state: 'pending', activeAt: formatTime(T0), value: '2e+00' }],
    });
    expect(alert!.lastError).toBeUndefined();
    expect(rec).toMatchObject({ type: 'recording', name: 'x:sum', query: 'sum(x)', health: 'ok' });
    expect(broken!.health).toBe('err');
    expect(broken!.lastError).toBeTruthy();
    expect(broken!.recentEvaluations).toHaveLength(1);
    expect(broken!.recentEvaluations[0]!.error).toBe(broken!.lastError);
    expect(rulesApiData([g], { type: 'alert' }).groups[0]!.rules.map((r) => r.name)).toEqual(['High']);
    expect(rulesApiData([g], { type: 'record' }).groups[0]!.rules.map((r) => r.name)).toEqual(['x:sum', 'broken']);
    expect(rulesApiData([g], { ruleNames: ['nope'] }).groups).toEqual([]);
    expect(alertsApiData([g]).alerts).toEqual([{ labels: { alertname: 'High', i: 'a', severity: 'page' }, annotations: { summary: 'a is 2' }, state: 'pending', activeAt: formatTime(T0), value: '2e+00' }]);
  });
});

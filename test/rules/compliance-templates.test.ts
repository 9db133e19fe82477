import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseRuleFileText } from '../../src/config/rule-files.js';
import { FakeClock } from '../../src/model/clock.js';
import { labelsToObject } from '../../src/model/labels.js';
import { RuleGroup } from '../../src/rules/group.js';
import { goTemplater } from '../../src/rules/templating.js';
import { deps, load, M, newHead, S, T0 } from './helpers.js';

const rulesFile = fileURLToPath(new URL('../../../shared/conformance/alert-generator/rules.yaml', import.meta.url));

describe('compliance rules.yaml with the Go-template engine', () => {
  it('loads all groups without errors', () => {
    const r = parseRuleFileText(readFileSync(rulesFile, 'utf8'), rulesFile);
    expect(r.errors.map((e) => e.message)).toEqual([]);
    expect(r.groups.map((g) => g.name)).toEqual(['NewAlerts_OrderCheck', 'PendingAndFiringAndResolved', 'PendingAndResolved_AlwaysInactive', 'ZeroFor_SmallFor']);
  });

  it('ZeroFor_SmallFor: template functions, query in templates, $labels/.Labels, $value/.Value', async () => {
    const r = parseRuleFileText(readFileSync(rulesFile, 'utf8'), rulesFile);
    const cfg = r.groups.find((g) => g.name === 'ZeroFor_SmallFor')!;
    const clock = new FakeClock(T0 + 10 * M);
    const head = newHead(clock);
    const src = { __name__: 'alert_generator_test_suite', rulegroup: 'ZeroFor_SmallFor' };
    await load(
      head,
      [
        { ...src, alertname: 'ZeroFor_SmallFor_ZeroFor' },
        { ...src, alertname: 'ZeroFor_SmallFor_SmallFor' },
        { ...src, for: 'template', id: '2' },
        { ...src, for: 'template', id: '1' },
      ],
      T0 - M,
      T0 + M,
      15 * S,
      (_ts, i) => [15, 14, 20, 10][i]!,
    );
    const { deps: d, notified } = deps(head, clock, { templater: goTemplater });
    const g = new RuleGroup(cfg, d, { defaultIntervalMs: M });
    await g.evalAt(T0);
    await g.evalAt(T0 + 30 * S);
    for (const rule of g.rules()) expect(rule.lastError()).toBeUndefined();
    const zero = notified.find((n) => labelsToObject(n.alerts[0]!.labels).alertname === 'ZeroFor_SmallFor_ZeroFor')!.alerts[0]!;
    const ann = labelsToObject(zero.annotations);
    expect(zero.firedAt).toBe(T0);
    expect(ann.template_query_test).toBe('Args are: foo bar 99. first_id:1,1:10,2:20,');
    expect(ann.template_test).toBe('1.049M 1Mi 2m 15s 95.9% 2022-01-25 12:36:43 +0000 UTC');
    const small = notified.find((n) => labelsToObject(n.alerts[0]!.labels).alertname === 'ZeroFor_SmallFor_SmallFor')!.alerts[0]!;
    expect(small.firedAt).toBe(T0 + 30 * S);
    expect(labelsToObject(small.annotations).template_test).toBe('This Part IS TESTING the strings. ::1 127.0.0.1. 7815. replaced text. .');
    const pf = parseRuleFileText(readFileSync(rulesFile, 'utf8'), rulesFile).groups.find((x) => x.name === 'PendingAndFiringAndResolved')!;
    const g2 = new RuleGroup(pf, d, { defaultIntervalMs: M });
    await load(head, [{ ...src, rulegroup: 'PendingAndFiringAndResolved', alertname: 'PendingAndFiringAndResolved_SimpleAlert' }], T0 - M, T0 + M, 15 * S, () => 12.5);
    await g2.evalAt(T0);
    expect(labelsToObject(g2.rules()[0]!.activeAlerts!()[0]!.annotations).summary).toBe('The value is 12.5 12.5');
  });
});

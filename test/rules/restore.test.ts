import { describe, expect, it } from 'vitest';
import { parseRuleFileText } from '../../src/config/rule-files.js';
import { FakeClock } from '../../src/model/clock.js';
import { RuleGroup } from '../../src/rules/group.js';
import { basicTemplater } from '../../src/rules/templating.js';
import { deps, load, M, newHead, raw, S, T0, type Head } from './helpers.js';

const cfg = parseRuleFileText(
  `groups:
- name: g
  interval: 1m
  rules:
  - alert: Slow
    expr: x > 0
    for: 20m
  - alert: Quick
    expr: x > 0
    for: 2m
`,
  'r.yml',
  { checkTemplate: basicTemplater.check },
).groups[0]!;

/** Runs the group every minute over [from, to]. */
async function run(g: RuleGroup, from: number, to: number): Promise<void> {
  for (let ts = from; ts <= to; ts += M) await g.evalAt(ts);
}

function slow(g: RuleGroup) {
  return g.rules()[0]!.activeAlerts!()[0];
}

async function scenario(dataFrom: number, downAt: number, upAt: number) {
  const clock = new FakeClock(upAt + 2 * 3600 * S);
  const head: Head = newHead(clock);
  await load(head, [{ __name__: 'x', i: '1' }], dataFrom - 5 * M, upAt + 60 * M, 15 * S, (ts) => (ts >= dataFrom ? 1 : 0));
  const before = new RuleGroup(cfg, deps(head, clock).deps, { defaultIntervalMs: M });
  await run(before, dataFrom, downAt);
  const after = new RuleGroup(cfg, deps(head, clock).deps, { defaultIntervalMs: M, restore: true });
  await after.evalAt(upAt);
  return { head, before, after };
}

describe('restoring `for` state after a restart', () => {
  it('an alert that was firing fires again at the next evaluation with the same activeAt', async () => {
    const { head, before, after } = await scenario(T0, T0 + 25 * M, T0 + 30 * M);
    expect(slow(before)!.state).toBe('firing');
    // the first evaluation after the restart produces no ALERTS for restored rules …
    expect(raw(head, { __name__: 'ALERTS', alertname: 'Slow', alertstate: 'pending', i: '1' }).t).not.toContain(T0 + 30 * M);
    expect(slow(after)!.activeAt).toBe(T0);
    await after.evalAt(T0 + 31 * M);
    expect(slow(after)!.state).toBe('firing');
    expect(slow(after)!.activeAt).toBe(T0);
    expect(raw(head, { __name__: 'ALERTS_FOR_STATE', alertname: 'Slow', i: '1' }).v.at(-1)).toBe(T0 / 1000);
    // rules with `for` below the grace period are not restored (and produce ALERTS right away)
    expect(after.rules()[1]!.activeAlerts!()[0]!.activeAt).toBe(T0 + 30 * M);
  });

  it('a pending alert keeps its pending time, the downtime is added', async () => {
    const { after } = await scenario(T0, T0 + 5 * M, T0 + 8 * M);
    // spent 5m pending, 15m left (>= grace 10m): activeAt shifted by the 3m downtime
    expect(slow(after)!.activeAt).toBe(T0 + 3 * M);
    await run(after, T0 + 9 * M, T0 + 22 * M);
    expect(slow(after)!.state).toBe('pending');
    await after.evalAt(T0 + 23 * M);
    expect(slow(after)!.state).toBe('firing');
  });

  it('when less than the grace period is left, it fires a grace period after the restart', async () => {
    const { after } = await scenario(T0, T0 + 15 * M, T0 + 16 * M);
    expect(slow(after)!.activeAt).toBe(T0 + 16 * M + 10 * M - 20 * M);
    await run(after, T0 + 17 * M, T0 + 25 * M);
    expect(slow(after)!.state).toBe('pending');
    await after.evalAt(T0 + 26 * M);
    expect(slow(after)!.state).toBe('firing');
  });

  it('no restoration after a downtime longer than the outage tolerance', async () => {
    const { after } = await scenario(T0, T0 + 25 * M, T0 + 90 * M);
    expect(slow(after)!.activeAt).toBe(T0 + 90 * M);
  });

  it('an alert whose data arrives only after the first evaluation is restored when it appears', async () => {
    const clock = new FakeClock(T0 + 4 * 3600 * S);
    const head: Head = newHead(clock);
    // Data until the outage, then a gap (the sender is still retrying), then data again.
    await load(head, [{ __name__: 'x', i: '1' }], T0 - 5 * M, T0 + 25 * M, 15 * S, () => 1);
    const before = new RuleGroup(cfg, deps(head, clock).deps, { defaultIntervalMs: M });
    await run(before, T0, T0 + 25 * M);
    expect(slow(before)!.state).toBe('firing');
    const after = new RuleGroup(cfg, deps(head, clock).deps, { defaultIntervalMs: M, restore: true });
    await after.evalAt(T0 + 37 * M); // no data within the lookback yet: nothing active
    expect(after.rules()[0]!.activeAlerts!()).toHaveLength(0);
    await load(head, [{ __name__: 'x', i: '1' }], T0 + 37 * M + 15 * S, T0 + 39 * M, 15 * S, () => 1);
    await after.evalAt(T0 + 38 * M);
    expect(slow(after)!.activeAt).toBe(T0);
    await after.evalAt(T0 + 39 * M);
    expect(slow(after)!.state).toBe('firing');
  });
});


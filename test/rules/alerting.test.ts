import { describe, expect, it } from 'vitest';
import { labelsFrom, labelsToObject, type Labels } from '../../src/model/labels.js';
import type { Vector } from '../../src/promql/engine/values.js';
import { AlertingRule, generatorURL, needsSending, RESOLVED_RETENTION_MS } from '../../src/rules/alerting.js';
import type { Alert, AlertingRuleConfig, EvalContext, QueryFunc } from '../../src/rules/rule.js';
import { basicTemplater } from '../../src/rules/templating.js';

const S = 1000;
const M = 60 * S;
const T0 = 1_700_000_000_000; // aligned to 30s? not needed: the rule only compares differences

/** A fake QueryFunc returning `values(ts)` as samples of one metric. */
function fakeQuery(series: (ts: number) => { labels: Record<string, string>; v: number }[]): QueryFunc {
  return async (_e, ts): Promise<Vector> => series(ts).map((s) => ({ metric: labelsFrom(s.labels), t: ts, f: s.v }));
}

function rule(over: Partial<AlertingRuleConfig> = {}): AlertingRuleConfig {
  return {
    kind: 'alerting',
    alert: 'SimpleAlert',
    expr: 'alert_generator_test_suite{rulegroup="g"} > 10',
    for: 6 * M,
    keepFiringFor: 0,
    labels: { foo: 'bar' },
    annotations: { description: 'SimpleAlert is firing', summary: 'The value is {{$value}} {{.Value}}' },
    pos: { file: 't.yml', line: 1 },
    ...over,
  };
}

function ctx(ts: number, query: QueryFunc, extra: Partial<EvalContext> = {}): EvalContext {
  return { ts, query, externalLabels: { cluster: 'c1' }, externalURL: 'http://vigil:9090', interval: 30 * S, limit: 0, ...extra };
}

const metric = { __name__: 'alert_generator_test_suite', alertname: 'SimpleAlert_src', rulegroup: 'g', instance: 'i1' };

interface Sent {
  ts: number;
  alerts: Alert[];
}

/** Runs a rule every 30s over [from, to) and collects what it sends and produces. */
async function drive(r: AlertingRule, q: QueryFunc, from: number, to: number, extra: Partial<EvalContext> = {}) {
  const sent: Sent[] = [];
  const states: { ts: number; state: string; series: Labels[] }[] = [];
  for (let ts = from; ts < to; ts += 30 * S) {
    const res = await r.eval(ctx(ts, q, extra));
    if (res.toSend?.length) sent.push({ ts, alerts: [...res.toSend] });
    states.push({ ts, state: r.state(), series: res.series.map((s) => s.metric) });
  }
  return { sent, states };
}

describe('alerting rule: compliance spec state machine', () => {
  it('pending → firing after `for` → resolved, with resend timing, endsAt and 15 min retention', async () => {
    const up = 10 * M; // value above threshold during [T0, T0+10m)
    const q = fakeQuery((ts) => (ts >= T0 && ts < T0 + up ? [{ labels: metric, v: 15 }] : []));
    const r = new AlertingRule(rule(), { resendDelayMs: M, templater: basicTemplater });
    const { sent, states } = await drive(r, q, T0, T0 + up + 20 * M);

    // pending for 6m, then firing
    expect(states.find((s) => s.ts === T0)!.state).toBe('pending');
    expect(states.find((s) => s.ts === T0 + 6 * M - 30 * S)!.state).toBe('pending');
    expect(states.find((s) => s.ts === T0 + 6 * M)!.state).toBe('firing');
    expect(states.find((s) => s.ts === T0 + up)!.state).toBe('inactive');

    // nothing sent while pending; first send when it starts firing
    expect(sent[0]!.ts).toBe(T0 + 6 * M);
    const first = sent[0]!.alerts[0]!;
    expect(first.state).toBe('firing');
    expect(first.firedAt).toBe(T0 + 6 * M);
    expect(first.activeAt).toBe(T0);
    expect(first.validUntil).toBe(T0 + 6 * M + 4 * M); // ts + 4 * max(resendDelay, interval)
    expect(labelsToObject(first.labels)).toEqual({ alertname: 'SimpleAlert', foo: 'bar', instance: 'i1', rulegroup: 'g' });
    expect(labelsToObject(first.annotations)).toEqual({ description: 'SimpleAlert is firing', summary: 'The value is 15 15' });

    // resent every 60s (first multiple of the 30s interval >= resendDelay) while firing
    const firingSends = sent.filter((s) => s.alerts[0]!.state === 'firing').map((s) => s.ts - T0);
    expect(firingSends).toEqual([6 * M, 7 * M, 8 * M, 9 * M]);

    // resolved: sent immediately, then every minute until 15 min after resolution
    const resolvedSends = sent.filter((s) => s.alerts[0]!.state === 'inactive');
    expect(resolvedSends[0]!.ts).toBe(T0 + up);
    expect(resolvedSends[0]!.alerts[0]!.resolvedAt).toBe(T0 + up);
    const resolvedTs = resolvedSends.map((s) => s.ts - (T0 + up));
    expect(resolvedTs.every((d, i) => d === i * M)).toBe(true);
    expect(resolvedTs.at(-1)).toBe(RESOLVED_RETENTION_MS);
    // after the retention the alert is gone: no further sends
    expect(sent.at(-1)!.ts).toBeLessThanOrEqual(T0 + up + RESOLVED_RETENTION_MS);
    expect(r.heldAlerts()).toHaveLength(0);
  });

  it('ALERTS and ALERTS_FOR_STATE series: only for active alerts, with state and activeAt', async () => {
    const q = fakeQuery((ts) => (ts < T0 + 2 * M ? [{ labels: { ...metric, alertstate: 'bogus' }, v: 11 }] : []));
    const r = new AlertingRule(rule({ for: 30 * S }), { templater: basicTemplater });
    const r0 = await r.eval(ctx(T0, q));
    expect(r0.series.map((s) => labelsToObject(s.metric))).toEqual([
      { __name__: 'ALERTS', alertname: 'SimpleAlert', alertstate: 'pending', foo: 'bar', instance: 'i1', rulegroup: 'g' },
      { __name__: 'ALERTS_FOR_STATE', alertname: 'SimpleAlert', alertstate: 'bogus', foo: 'bar', instance: 'i1', rulegroup: 'g' },
    ]);
    expect(r0.series[0]!.f).toBe(1);
    expect(r0.series[1]!.f).toBe(T0 / 1000);
    expect(r0.series.every((s) => s.t === T0)).toBe(true);
    const r1 = await r.eval(ctx(T0 + 30 * S, q));
    expect(labelsToObject(r1.series[0]!.metric).alertstate).toBe('firing');
    const r2 = await r.eval(ctx(T0 + 2 * M, q));
    expect(r2.series).toEqual([]); // inactive: no series
    expect(r2.toSend).toHaveLength(1);
  });

  it('zero `for` fires at once; `for` below the interval fires at the next evaluation', async () => {
    const q = fakeQuery(() => [{ labels: metric, v: 20 }]);
    const zero = new AlertingRule(rule({ for: 0 }), { templater: basicTemplater });
    const res = await zero.eval(ctx(T0, q));
    expect(zero.state()).toBe('firing');
    expect(res.toSend![0]!.firedAt).toBe(T0);
    expect(res.toSend![0]!.activeAt).toBe(T0);

    const small = new AlertingRule(rule({ for: 15 * S }), { templater: basicTemplater });
    expect((await small.eval(ctx(T0, q))).toSend).toEqual([]);
    expect(small.state()).toBe('pending');
    const r1 = await small.eval(ctx(T0 + 30 * S, q));
    expect(small.state()).toBe('firing');
    expect(r1.toSend![0]!.firedAt).toBe(T0 + 30 * S);
  });

  it('a pending alert that disappears is dropped and never sent; it comes back as a new alert', async () => {
    let on = true;
    const q = fakeQuery(() => (on ? [{ labels: metric, v: 20 }] : []));
    const r = new AlertingRule(rule({ for: 3 * M }), { templater: basicTemplater });
    await r.eval(ctx(T0, q));
    on = false;
    const res = await r.eval(ctx(T0 + 30 * S, q));
    expect(res.toSend).toEqual([]);
    expect(r.heldAlerts()).toHaveLength(0);
    on = true;
    await r.eval(ctx(T0 + 60 * S, q));
    expect(r.activeAlerts()[0]!.activeAt).toBe(T0 + 60 * S);
  });

  it('a resolved alert that comes back is a new alert (new activeAt), the resolved one is no longer re-sent', async () => {
    let on = true;
    const q = fakeQuery(() => (on ? [{ labels: metric, v: 20 }] : []));
    const r = new AlertingRule(rule({ for: 0 }), { templater: basicTemplater });
    await r.eval(ctx(T0, q));
    on = false;
    await r.eval(ctx(T0 + 30 * S, q));
    on = true;
    const res = await r.eval(ctx(T0 + 60 * S, q));
    expect(res.toSend).toHaveLength(1);
    expect(res.toSend![0]!.state).toBe('firing');
    expect(res.toSend![0]!.activeAt).toBe(T0 + 60 * S);
    expect(res.toSend![0]!.resolvedAt).toBe(0);
  });

  it('keep_firing_for keeps a firing alert firing after the condition clears', async () => {
    const q = fakeQuery((ts) => (ts < T0 + M ? [{ labels: metric, v: 20 }] : []));
    const r = new AlertingRule(rule({ for: 0, keepFiringFor: 2 * M }), { templater: basicTemplater });
    const { states, sent } = await drive(r, q, T0, T0 + 5 * M);
    const at = (d: number) => states.find((s) => s.ts === T0 + d)!.state;
    expect(at(30 * S)).toBe('firing');
    expect(at(M)).toBe('firing'); // cleared at T0+1m: keepFiringSince = T0+1m
    expect(at(2 * M + 30 * S)).toBe('firing');
    expect(at(3 * M)).toBe('inactive'); // 2m after keepFiringSince
    const resolved = sent.find((s) => s.alerts[0]!.state === 'inactive')!;
    expect(resolved.ts).toBe(T0 + 3 * M);
    expect(resolved.alerts[0]!.firedAt).toBe(T0);
  });

  it('duplicate label sets after applying labels are an error: no series, no alerts', async () => {
    const q = fakeQuery(() => [
      { labels: { __name__: 'a', job: 'x' }, v: 1 },
      { labels: { __name__: 'b', job: 'x' }, v: 2 },
    ]);
    const r = new AlertingRule(rule({ for: 0 }), { templater: basicTemplater });
    const res = await r.eval(ctx(T0, q));
    expect(res.series).toEqual([]);
    expect(res.toSend ?? []).toEqual([]);
    expect(r.health()).toBe('err');
    expect(r.lastError()).toBe('vector contains metrics with the same labelset after applying alert labels');
    expect(r.activeAlerts()).toEqual([]);
  });

  it('limit exceeded: error, all alerts cleared', async () => {
    let n = 1;
    const q = fakeQuery(() => Array.from({ length: n }, (_, i) => ({ labels: { i: String(i) }, v: 1 })));
    const r = new AlertingRule(rule({ for: 0 }), { templater: basicTemplater });
    await r.eval(ctx(T0, q, { limit: 2 }));
    expect(r.activeAlerts()).toHaveLength(1);
    n = 3;
    const res = await r.eval(ctx(T0 + 30 * S, q, { limit: 2 }));
    expect(r.lastError()).toBe('exceeded limit of 2 with 3 alerts');
    expect(res.series).toEqual([]);
    expect(r.heldAlerts()).toEqual([]);
  });

  it('query errors become rule health, state is kept', async () => {
    let fail = false;
    const base = fakeQuery(() => [{ labels: metric, v: 20 }]);
    const q: QueryFunc = async (e, ts) => {
      if (fail) throw new Error('boom');
      return base(e, ts);
    };
    const r = new AlertingRule(rule({ for: 0 }), { templater: basicTemplater });
    await r.eval(ctx(T0, q));
    fail = true;
    const res = await r.eval(ctx(T0 + 30 * S, q));
    expect(res.series).toEqual([]);
    expect(r.health()).toBe('err');
    expect(r.lastError()).toBe('boom');
    expect(r.activeAlerts()).toHaveLength(1);
    expect(r.recent().map((e) => e.error)).toEqual([undefined, 'boom']);
  });

  it('templates see $labels, $value, $externalLabels and $externalURL; template labels override', async () => {
    const q = fakeQuery(() => [{ labels: { ...metric, foo: 'orig' }, v: 42 }]);
    const r = new AlertingRule(
      rule({ for: 0, labels: { foo: 'x-{{ $labels.instance }}', alertname: 'ignored' }, annotations: { a: '{{ $externalLabels.cluster }} {{ $externalURL }} {{ $value }}' } }),
      { templater: basicTemplater },
    );
    const res = await r.eval(ctx(T0, q));
    const a = res.toSend![0]!;
    expect(labelsToObject(a.labels)).toMatchObject({ foo: 'x-i1', alertname: 'SimpleAlert' });
    expect(labelsToObject(a.annotations)).toEqual({ a: 'c1 http://vigil:9090 42' });
  });

  it('keeps a ring of the last 32 evaluations', async () => {
    const q = fakeQuery(() => []);
    const r = new AlertingRule(rule(), { templater: basicTemplater });
    for (let i = 0; i < 40; i++) await r.eval(ctx(T0 + i * 30 * S, q));
    const rec = r.recent();
    expect(rec).toHaveLength(32);
    expect(rec[0]!.ts).toBe(T0 + 8 * 30 * S);
    expect(rec.at(-1)!.ts).toBe(T0 + 39 * 30 * S);
  });
});

describe('alerting helpers', () => {
  it('needsSending follows the resend policy', () => {
    const a = { state: 'firing', lastSentAt: 1000, resolvedAt: 0 } as Alert;
    expect(needsSending(a, 1000 + 59_999, 60_000)).toBe(false);
    expect(needsSending(a, 1000 + 60_000, 60_000)).toBe(true);
    expect(needsSending({ ...a, state: 'pending' }, 1e9, 60_000)).toBe(false);
    expect(needsSending({ ...a, state: 'inactive', resolvedAt: 2000 }, 2000, 60_000)).toBe(true);
  });

  it('generatorURL escapes like Go url.QueryEscape', () => {
    expect(generatorURL('http://h:9090/', 'sum(rate(x{a="b c"}[5m])) > 0')).toBe(
      'http://h:9090/graph?g0.expr=sum%28rate%28x%7Ba%3D%22b+c%22%7D%5B5m%5D%29%29+%3E+0&g0.tab=1',
    );
  });
});

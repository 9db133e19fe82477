import { describe, expect, it } from 'vitest';
import { labelsFrom, labelsKey, labelsToObject, type Labels } from '../../src/model/labels.js';
import { STALE_NAN } from '../../src/model/samples.js';
import type { Vector } from '../../src/promql/engine/values.js';
import { AlertingRule } from '../../src/rules/alerting.js';
import { outputKey } from '../../src/rules/base.js';
import { RuleGroup } from '../../src/rules/group.js';
import { RecordingRule } from '../../src/rules/recording.js';
import type { AlertingRuleConfig, EvalContext, QueryFunc, RuleGroupConfig } from '../../src/rules/rule.js';
import { goTemplater, templateDependence, type Templater } from '../../src/rules/templating.js';
import type { Appendable, Appender, SeriesRef } from '../../src/storage/interface.js';

const S = 1000;
const T0 = 1_700_000_000_000;

function ctx(ts: number, query: QueryFunc, extra: Partial<EvalContext> = {}): EvalContext {
  return { ts, query, externalLabels: { cluster: 'c1' }, externalURL: 'http://vigil:9090', interval: 30 * S, limit: 0, ...extra };
}

/** A goTemplater that counts expansions per text. */
function countingTemplater(): { t: Templater; calls: Map<string, number> } {
  const calls = new Map<string, number>();
  return {
    calls,
    t: {
      pure: true,
      check: goTemplater.check,
      expand: (name, text, data, opts) => {
        calls.set(text, (calls.get(text) ?? 0) + 1);
        return goTemplater.expand(name, text, data, opts);
      },
    },
  };
}

function alertCfg(labels: Record<string, string>, annotations: Record<string, string>): AlertingRuleConfig {
  return { kind: 'alerting', alert: 'A', expr: 'm > 0', for: 0, keepFiringFor: 0, labels, annotations, pos: { file: 't.yml', line: 1 } };
}

describe('templateDependence', () => {
  it('classifies label-only, value-dependent and time/query-dependent templates', () => {
    expect(templateDependence('plain text')).toBe('labels');
    expect(templateDependence('{{ $labels.instance }} of {{ .Labels.job }} at {{ $externalURL }}')).toBe('labels');
    expect(templateDependence('{{ index $labels "a.b" }} {{ printf "%.2f" 1.5 }}')).toBe('labels');
    expect(templateDependence('VALUE = {{ $value }}')).toBe('value');
    expect(templateDependence('{{ .Value | humanize }}')).toBe('value');
    expect(templateDependence('{{ . }}')).toBe('value');
    expect(templateDependence('{{ template "x" $ }}')).toBe('value');
    expect(templateDependence('{{ range $labels }}{{ . }}{{ end }}')).toBe('value');
    expect(templateDependence('{{ $v := $value }}{{ $v }}')).toBe('value');
    expect(templateDependence('{{ now }}')).toBe('volatile');
    expect(templateDependence('{{ with query "up" }}{{ . | first | value }}{{ end }}')).toBe('volatile');
    expect(templateDependence('{{ "}}" }}{{ now }}')).toBe('volatile');
  });
});

describe('alerting rule: expansion reuse', () => {
  const m1 = { __name__: 'm', instance: 'i1' };
  const m2 = { __name__: 'm', instance: 'i2' };

  it('re-expands only what can change and still yields the same output as fresh expansion', async () => {
    const labels = { severity: 'page', who: '{{ $labels.instance }}' };
    const annotations = { summary: 'v={{ $value }}', desc: '{{ $labels.instance }} down', when: 'at {{ printf "%.0f" now }}' };
    let values: [Record<string, string>, number][] = [
      [m1, 1],
      [m2, 2],
    ];
    const q: QueryFunc = async (_e, ts): Promise<Vector> => values.map(([l, v]) => ({ metric: labelsFrom(l), t: ts, f: v }));
    const { t, calls } = countingTemplater();
    const cached = new AlertingRule(alertCfg(labels, annotations), { templater: t });
    const fresh = () => new AlertingRule(alertCfg(labels, annotations), { templater: goTemplater });
    const seq: [Record<string, string>, number][][] = [
      values,
      values, // unchanged
      [
        [m1, 1],
        [m2, 5],
      ], // i2's value changed
      [[m2, 5]], // i1 gone
      [
        [m1, 1],
        [m2, 5],
      ], // i1 back
    ];
    for (let i = 0; i < seq.length; i++) {
      values = seq[i]!;
      const ts = T0 + i * 30 * S;
      const a = await cached.eval(ctx(ts, q));
      const b = await fresh().eval(ctx(ts, q));
      expect(cached.health()).toBe('ok');
      // Same output series as an uncached rule (fresh rule: every alert new, so compare labels only).
      expect(a.series.map((s) => labelsKey(s.metric)).sort()).toEqual(b.series.map((s) => labelsKey(s.metric)).sort());
      expect(cached.activeAlerts()).toHaveLength(values.length);
      for (const al of cached.activeAlerts()) {
        const v = values.find(([l]) => l.instance === labelsToObject(al.labels).instance)?.[1];
        expect(labelsToObject(al.annotations)).toEqual({ summary: `v=${v}`, desc: `${labelsToObject(al.labels).instance} down`, when: `at ${ts / 1000}` });
        expect(labelsToObject(al.labels).who).toBe(labelsToObject(al.labels).instance);
      }
    }
    // 'now' is expanded every time for every series (2+2+2+1+2), the label-only ones once per
    // appearance of a series (i1 twice: it vanished once), $value when the value changed.
    expect(calls.get('at {{ printf "%.0f" now }}')).toBe(9);
    expect(calls.get('{{ $labels.instance }}')).toBe(3);
    expect(calls.get('{{ $labels.instance }} down')).toBe(3);
    expect(calls.get('v={{ $value }}')).toBe(4);
  });

  it('does not reuse expansions of a templater that is not declared pure', async () => {
    let n = 0;
    const t: Templater = { check: () => undefined, expand: () => String(++n) };
    const r = new AlertingRule(alertCfg({ x: 'a' }, { s: 'b' }), { templater: t });
    const q: QueryFunc = async (_e, ts) => [{ metric: labelsFrom({ __name__: 'm' }), t: ts, f: 1 }];
    await r.eval(ctx(T0, q));
    await r.eval(ctx(T0 + 30 * S, q));
    expect(n).toBe(4);
    expect(labelsToObject(r.activeAlerts()[0]!.annotations)).toEqual({ s: '4' });
  });

  it('re-expands after the external labels change', async () => {
    const r = new AlertingRule(alertCfg({}, { s: '{{ $externalLabels.cluster }}' }), { templater: goTemplater });
    const q: QueryFunc = async (_e, ts) => [{ metric: labelsFrom({ __name__: 'm' }), t: ts, f: 1 }];
    await r.eval(ctx(T0, q));
    expect(labelsToObject(r.activeAlerts()[0]!.annotations)).toEqual({ s: 'c1' });
    await r.eval(ctx(T0 + 30 * S, q, { externalLabels: { cluster: 'c2' } }));
    expect(labelsToObject(r.activeAlerts()[0]!.annotations)).toEqual({ s: 'c2' });
  });

  it('reuses ALERTS label sets and updates them when the alert state changes', async () => {
    const r = new AlertingRule({ ...alertCfg({}, {}), for: 30 * S }, { templater: goTemplater });
    const q: QueryFunc = async (_e, ts) => [{ metric: labelsFrom({ __name__: 'm', i: '1' }), t: ts, f: 1 }];
    const a = await r.eval(ctx(T0, q));
    const b = await r.eval(ctx(T0 + 10 * S, q));
    const c = await r.eval(ctx(T0 + 30 * S, q));
    const state = (x: typeof a) => labelsToObject(x.series[0]!.metric).alertstate;
    expect([state(a), state(b), state(c)]).toEqual(['pending', 'pending', 'firing']);
    expect(b.series[0]!.metric).toBe(a.series[0]!.metric);
    expect(c.series[1]!.metric).toBe(a.series[1]!.metric); // ALERTS_FOR_STATE
    expect(outputKey(c.series[0]!.metric)).toBe(labelsKey(c.series[0]!.metric));
  });
});

describe('recording rule: output label reuse', () => {
  it('reuses output labels per input series and still detects collisions', async () => {
    const r = new RecordingRule({ kind: 'recording', record: 'r', expr: 'm', labels: { a: 'x' }, pos: { file: 't.yml', line: 1 } });
    let vec: Vector = [];
    const q: QueryFunc = async () => vec;
    vec = [{ metric: labelsFrom({ __name__: 'm', i: '1' }), t: T0, f: 1 }];
    const a = await r.eval(ctx(T0, q));
    vec = [{ metric: labelsFrom({ __name__: 'm', i: '1' }), t: T0, f: 2 }];
    const b = await r.eval(ctx(T0 + 30 * S, q));
    expect(b.series[0]!.metric).toBe(a.series[0]!.metric);
    expect(labelsToObject(b.series[0]!.metric)).toEqual({ __name__: 'r', a: 'x', i: '1' });
    expect(b.series[0]!.f).toBe(2);
    vec = [
      { metric: labelsFrom({ __name__: 'm', i: '1' }), t: T0, f: 1 },
      { metric: labelsFrom({ __name__: 'other', i: '1' }), t: T0, f: 1 },
    ];
    await r.eval(ctx(T0 + 60 * S, q));
    expect(r.health()).toBe('err');
  });
});

describe('rule group: appends by ref', () => {
  it('appends repeated output series by the ref storage returned, stale markers too', async () => {
    const appends: { ref: SeriesRef; key: string; v: number }[] = [];
    const refs = new Map<string, SeriesRef>();
    const storage: Appendable = {
      appender: (): Appender =>
        ({
          append: (ref: SeriesRef, l: Labels, _t: number, v: number) => {
            const key = labelsKey(l);
            if (!refs.has(key)) refs.set(key, refs.size + 1);
            appends.push({ ref, key, v });
            return refs.get(key)!;
          },
          appendHistogram: () => 0,
          commit: async () => {},
          rollback: () => {},
          rejected: { total: 0, first: [] },
        }) as unknown as Appender,
    };
    let present = ['1', '2'];
    const q: QueryFunc = async (_e, ts) => present.map((i) => ({ metric: labelsFrom({ __name__: 'm', i }), t: ts, f: 1 }));
    const cfg: RuleGroupConfig = {
      name: 'g',
      file: 'f.yml',
      interval: 30 * S,
      queryOffset: 0,
      limit: 0,
      labels: {},
      evalOnIngest: false,
      rules: [{ kind: 'recording', record: 'r', expr: 'm', labels: {}, pos: { file: 'f.yml', line: 2 } }],
      pos: { file: 'f.yml', line: 1 },
    } as unknown as RuleGroupConfig;
    const g = new RuleGroup(cfg, { query: q, appendable: storage, externalLabels: {}, externalURL: '', resendDelayMs: 60_000, outageToleranceMs: 3_600_000, gracePeriodMs: 600_000 }, { defaultIntervalMs: 30 * S, restore: false });
    await g.evalAt(T0);
    present = ['1'];
    await g.evalAt(T0 + 30 * S);
    expect(appends.slice(0, 2).map((a) => a.ref)).toEqual([0, 0]);
    const k1 = labelsKey(labelsFrom({ __name__: 'r', i: '1' }));
    const k2 = labelsKey(labelsFrom({ __name__: 'r', i: '2' }));
    const second = appends.slice(2);
    expect(second.find((a) => a.key === k1)).toMatchObject({ ref: refs.get(k1), v: 1 });
    const stale = second.find((a) => a.key === k2)!;
    expect(stale.ref).toBe(refs.get(k2));
    expect(Object.is(stale.v, STALE_NAN) || Number.isNaN(stale.v)).toBe(true);
  });
});

describe('engine label memos', () => {
  it('dropMetricName returns one shared copy per input label set; labelsKeyOf equals labelsKey', async () => {
    const { dropMetricName, labelsKeyOf } = await import('../../src/promql/engine/labels.js');
    const ls = labelsFrom({ __name__: 'm', __unit__: 'seconds', a: '1' });
    const d = dropMetricName(ls);
    expect(labelsToObject(d)).toEqual({ a: '1' });
    expect(dropMetricName(ls)).toBe(d);
    expect(dropMetricName(d)).toBe(d);
    expect(labelsToObject(ls)).toEqual({ __name__: 'm', __unit__: 'seconds', a: '1' });
    expect(labelsKeyOf(ls)).toBe(labelsKey(ls));
    expect(labelsKeyOf(d)).toBe(labelsKey(d));
  });
});

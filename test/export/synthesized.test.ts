import { spawnSync } from 'node:child_process';
import { Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { metricsText, SynthesizedSeries } from '../../src/export/synthesized.js';
import { labelsFrom } from '../../src/model/labels.js';
import { STALE_NAN } from '../../src/model/samples.js';
import type { Sample } from '../../src/promql/engine/values.js';
import { havePeer } from '../e2e/peers.js';

const smp = (labels: Record<string, string>, f: number, t = 1000): Sample => ({ metric: labelsFrom(labels), t, f });

function promtool(text: string): { status: number | null; out: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('SynthesizedSeries.exposition', () => {
  it('renders one HELP/TYPE gauge per name, sorted, merged across groups, without timestamps', () => {
    const s = new SynthesizedSeries();
    s.publish('g2', 2000, [smp({ __name__: 'b_metric', x: '1' }, 2), smp({ __name__: 'a_metric' }, 1)]);
    s.publish('g1', 2000, [smp({ __name__: 'b_metric', x: '0' }, 3)]);
    expect(s.exposition()).toBe(
      [
        '# HELP a_metric Series synthesized by vigil rule evaluation.',
        '# TYPE a_metric gauge',
        'a_metric 1',
        '# HELP b_metric Series synthesized by vigil rule evaluation.',
        '# TYPE b_metric gauge',
        'b_metric{x="0"} 3',
        'b_metric{x="1"} 2',
        '',
      ].join('\n'),
    );
  });

  it('formats NaN/±Inf like Prometheus, escapes label values, never renders stale markers or histograms', () => {
    const s = new SynthesizedSeries({ help: (n) => `help of ${n}\nwith \\ newline` });
    s.publish('g', 1, [
      smp({ __name__: 'v', k: 'nan' }, NaN),
      smp({ __name__: 'v', k: 'inf' }, Infinity),
      smp({ __name__: 'v', k: 'ninf' }, -Infinity),
      smp({ __name__: 'v', k: 'big' }, 1234567),
      smp({ __name__: 'v', k: 'esc', path: 'C:\\dir "q"\nx' }, 1),
      smp({ __name__: 'v', k: 'stale' }, STALE_NAN),
      { metric: labelsFrom({ __name__: 'h' }), t: 1, f: 0, h: { counterResetHint: 0, schema: 0, zeroThreshold: 0, zeroCount: 0, count: 1, sum: 1, positiveSpans: [], negativeSpans: [], positiveBuckets: [], negativeBuckets: [] } as unknown as NonNullable<Sample['h']> },
    ]);
    const text = s.exposition();
    expect(text).toContain('# HELP v help of v\\nwith \\\\ newline\n');
    expect(text).toContain('v{k="nan"} NaN\n');
    expect(text).toContain('v{k="inf"} +Inf\n');
    expect(text).toContain('v{k="ninf"} -Inf\n');
    expect(text).toContain('v{k="big"} 1.234567e+06\n');
    expect(text).toContain('v{k="esc",path="C:\\\\dir \\"q\\"\\nx"} 1\n');
    expect(text).not.toContain('stale');
    expect(text).not.toMatch(/^h/m);
    expect(text).not.toContain('# TYPE h ');
  });

  it('skips invalid names and duplicate series (first group by key wins), drops removed groups', () => {
    const s = new SynthesizedSeries();
    s.publish('a', 1, [smp({ __name__: 'dup', i: '1' }, 1), smp({ __name__: 'bad.name' }, 1), smp({ __name__: 'ok', 'bad-label': 'x' }, 1)]);
    s.publish('b', 1, [smp({ __name__: 'dup', i: '1' }, 2), smp({ __name__: 'only_b' }, 5)]);
    const text = s.exposition();
    expect(text).toContain('dup{i="1"} 1\n');
    expect(text).not.toContain('dup{i="1"} 2');
    expect(text).not.toContain('bad');
    expect(s.skippedSamples).toBe(3);
    s.drop('b');
    expect(s.exposition()).not.toContain('only_b');
    s.publish('a', 2, []);
    expect(s.exposition()).toBe('');
    expect(s.groupCount).toBe(0);
  });

  it('adds a tenant label and filters by tenant', () => {
    const s = new SynthesizedSeries({ tenantOf: (k) => (k.startsWith('t1/') ? 't1' : undefined) });
    s.publish('t1/g', 1, [smp({ __name__: 'm', a: '1', z: '2' }, 1), smp({ __name__: 'm', tenant: 'own' }, 2)]);
    s.publish('g', 1, [smp({ __name__: 'm', a: '0' }, 3)]);
    const text = s.exposition({ tenantLabel: 'tenant' });
    expect(text).toContain('m{a="1",tenant="t1",z="2"} 1\n');
    expect(text).toContain('m{tenant="own"} 2\n');
    expect(text).toContain('m{a="0"} 3\n');
    expect(s.exposition({ tenant: 't1' })).not.toContain('m{a="0"}');
    expect(s.exposition({ tenant: '' })).toBe('# HELP m Series synthesized by vigil rule evaluation.\n# TYPE m gauge\nm{a="0"} 3\n');
  });

  it('metricsText appends synthesized families the registry does not already expose', async () => {
    const registry = new Registry();
    new Gauge({ name: 'vigil_self', help: 'x', registers: [registry] }).set(1);
    const s = new SynthesizedSeries();
    s.publish('g', 1, [smp({ __name__: 'vigil_self' }, 9), smp({ __name__: 'rule_out' }, 2)]);
    const text = await metricsText(registry, s);
    expect(text.match(/# TYPE vigil_self /g)).toHaveLength(1);
    expect(text).toContain('vigil_self 1\n');
    expect(text).toContain('rule_out 2\n');
  });
});

describe.skipIf(!havePeer('promtool'))('promtool check metrics (real binary)', () => {
  it('accepts the exposition of varied series', () => {
    const s = new SynthesizedSeries();
    s.publish('rules/a', 1, [
      smp({ __name__: 'ALERTS', alertname: 'HighLoad', alertstate: 'firing', severity: 'critical', instance: 'h:9100' }, 1),
      smp({ __name__: 'ALERTS_FOR_STATE', alertname: 'HighLoad', severity: 'critical', instance: 'h:9100' }, 1.7e9),
      smp({ __name__: 'node_load_forecast', level: '0.9' }, NaN),
      smp({ __name__: 'node_load_forecast', level: '0.99' }, Infinity),
      smp({ __name__: 'anomaly_score', msg: 'quote " backslash \\ newline \n unicode ✓' }, -1e-7),
    ]);
    s.publish('rules/b', 1, [smp({ __name__: 'ALERTS', alertname: 'DiskFull', alertstate: 'pending' }, 1), smp({ __name__: 'x_ratio' }, 0.25)]);
    const text = s.exposition({ tenantLabel: 'tenant' });
    const r = promtool(text);
    expect(r.out).toBe('');
    expect(r.status).toBe(0);
  });

  it('recording-rule names with colons parse fine; promtool only lints the colon', () => {
    const s = new SynthesizedSeries();
    s.publish('g', 1, [smp({ __name__: 'job:http_requests:rate5m', job: 'a' }, 3.5)]);
    const r = promtool(s.exposition());
    expect(r.out.trim().split('\n')).toEqual(["job:http_requests:rate5m metric names should not contain ':'"]);
  });
});

/** Unit-test file parsing, promtool-style formatting and the CLI helper. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { floatsMatch, formatGoDuration, formatGoE, parseTestDuration, parseTestFile, testRulesCommand } from '../../../src/rules/unittest/index.js';

describe('formatting like Go', () => {
  it.each([
    [0, '0E+00'],
    [1, '1E+00'],
    [50, '5E+01'],
    [1.5e-10, '1.5E-10'],
    [123456789.123, '1.23456789123E+08'],
    [NaN, 'NaN'],
    [Infinity, '+Inf'],
    [-Infinity, '-Inf'],
    [-2.5, '-2.5E+00'],
  ])('formatGoE(%s) = %s', (v, s) => expect(formatGoE(v)).toBe(s));

  it.each([
    [0, '0s'],
    [60_000, '1m0s'],
    [3_600_000, '1h0m0s'],
    [90_500, '1m30.5s'],
    [250, '250ms'],
  ])('formatGoDuration(%s) = %s', (ms, s) => expect(formatGoDuration(ms)).toBe(s));
});

describe('parseTestFile', () => {
  it('reads all fields with their defaults', () => {
    const f = parseTestFile(`
rule_files: [a.yml]
tests:
  - name: g
    start_timestamp: "2024-01-01T00:00:00Z"
    input_series: [{series: up, values: 0x10}]
    alert_rule_test: [{eval_time: 5m, alertname: A, exp_alerts: [{exp_labels: {a: b}}]}]
    promql_expr_test: [{expr: up, eval_time: 1d, exp_samples: [{labels: up, value: .nan}]}]
    external_labels: {cluster: c1}
    external_url: http://x
`);
    expect(f.evaluationInterval).toBe(60_000);
    expect(f.fuzzyCompare).toBe(false);
    const g = f.tests[0]!;
    expect(g.startMs).toBe(1704067200000);
    expect(g.inputSeries[0]).toEqual({ series: 'up', values: '0x10' });
    expect(g.alertRuleTests[0]!.evalTime).toBe(300_000);
    expect(g.promqlExprTests[0]!.evalTime).toBe(86_400_000);
    expect(Number.isNaN(g.promqlExprTests[0]!.expSamples[0]!.value)).toBe(true);
    expect(g.externalLabels).toEqual({ cluster: 'c1' });
  });

  it('reports unknown fields and wrong types with lines, like promtool', () => {
    expect(() => parseTestFile('tests:\n  - bogus: 1\n')).toThrow('yaml: unmarshal errors:\n  line 2: field bogus not found in type main.testGroup');
    expect(() => parseTestFile('tests:\n  - promql_expr_test:\n      - exp_samples: [{value: "1"}]\n')).toThrow(/line 3: cannot unmarshal !!str `1` into float64/);
    expect(() => parseTestFile('evaluation_interval: 5x\n')).toThrow(/not a valid duration/);
  });

  it('accepts durations up to the year 2262, like Go', () => {
    expect(parseTestDuration('106700d')).toBe(106700 * 86_400_000);
    expect(() => parseTestDuration('200000d')).toThrow(/out of range/);
  });
});

describe('floatsMatch', () => {
  it('is exact without fuzzy compare, one ulp with it', () => {
    expect(floatsMatch(3, 3, false)).toBe(true);
    expect(floatsMatch(3, 2.9999999999999996, false)).toBe(false);
    expect(floatsMatch(3, 2.9999999999999996, true)).toBe(true);
    expect(floatsMatch(3, 3.0000000000000013, true)).toBe(false);
    expect(floatsMatch(NaN, NaN, true)).toBe(false);
  });
});

describe('testRulesCommand', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-unittest-'));
  writeFileSync(join(dir, 'r.yml'), 'groups:\n  - name: g\n    rules:\n      - alert: Down\n        expr: up == 0\n        for: 2m\n        labels: {severity: page}\n        annotations: {summary: "{{ $labels.job }} down"}\n      - record: job:up:sum\n        expr: sum by (job) (up)\n');
  const body = (exp: string): string =>
    `rule_files: [r.yml]\ntests:\n  - interval: 1m\n    input_series: [{series: 'up{job="a"}', values: '1 0 0 0 0'}]\n    alert_rule_test:\n      - {eval_time: 2m, alertname: Down, exp_alerts: []}\n      - eval_time: 3m\n        alertname: Down\n        exp_alerts: [{exp_labels: {severity: page, job: a}, exp_annotations: {summary: "${exp} down"}}]\n    promql_expr_test:\n      - {expr: job:up:sum, eval_time: 4m, exp_samples: [{labels: 'job:up:sum{job="a"}', value: 0}]}\n`;
  writeFileSync(join(dir, 'ok.yml'), body('a'));
  writeFileSync(join(dir, 'bad.yml'), body('b'));

  it('returns 0 and prints SUCCESS when everything passes', async () => {
    let out = '';
    expect(await testRulesCommand([join(dir, 'ok.yml')], { write: (s) => (out += s) })).toBe(0);
    expect(out).toBe(`Unit Testing:  ${join(dir, 'ok.yml')}\n  SUCCESS\n\n`);
  });

  it('returns 1 and prints the diff when an alert differs', async () => {
    let out = '';
    expect(await testRulesCommand([join(dir, 'ok.yml'), join(dir, 'bad.yml')], { write: (s) => (out += s) })).toBe(1);
    expect(out).toContain('  FAILED:\n    alertname: Down, time: 3m, \n');
    expect(out).toContain('Annotations:{summary="b down"}');
    expect(out).toContain('Annotations:{summary="a down"}');
  });
});

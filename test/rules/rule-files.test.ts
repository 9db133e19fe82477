import { mkdtemp, writeFile, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandGlob } from '../../src/config/glob.js';
import { checkRuleFiles, loadRuleFiles, parseRuleFileText, MAX_RULES_PER_FILE } from '../../src/config/rule-files.js';

const shared = fileURLToPath(new URL('../../../shared/', import.meta.url));
const fixtures = join(shared, 'conformance/rule-fixtures');

function errorsOf(text: string): string[] {
  return parseRuleFileText(text, 'f.yml', { checkTemplate: (_n, t) => (t.includes('{{ oops') ? new Error('unclosed action') : undefined) }).errors.map((e) => e.message);
}

describe('rule files: loading', () => {
  it('loads the Prometheus rule fixtures', async () => {
    const { groups, errors } = await loadRuleFiles(['rules*.yaml', 'alert_rule*.yaml'], fixtures);
    expect(errors).toEqual([]);
    const names = groups.map((g) => g.name);
    expect(names).toContain('chain');
    expect(names).toContain('multi_doc');
    expect(names).toContain('test2');
    const chain = groups.find((g) => g.name === 'chain')!;
    expect(chain.rules).toHaveLength(7);
    expect(chain.rules[0]).toMatchObject({ kind: 'recording', record: 'job:http_requests:rate1m', labels: {} });
    expect(chain.rules[0]!.pos.line).toBe(5);
    const alert = groups.find((g) => g.name === 'test')!;
    expect(alert.interval === 0 || alert.interval === 1000).toBe(true);
    const a = groups.find((g) => g.name === 'test2')!;
    expect(a.interval).toBe(1000);
    expect(a.rules[0]).toMatchObject({ kind: 'alerting', alert: 'rule2', for: 0, keepFiringFor: 0 });
  });

  it('reports unknown keys with file and line', async () => {
    const { errors, groups } = await loadRuleFiles(['invalid_rules.yaml'], fixtures);
    expect(groups).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.line).toBe(6);
    expect(errors[0]!.group).toBe('invalid');
    expect(errors[0]!.message).toContain('invalid_rules.yaml:6: group "invalid", rule 1 "job:http_requests:rate5m": unknown key "unexpected_field"');
  });

  it('reads PrometheusRule CRDs, multi-document files and vigil extensions', () => {
    const text = `apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: x
spec:
  groups:
  - name: a
    interval: 30s
    limit: 5
    query_offset: 1m
    labels: { team: t1 }
    eval_on_ingest: true
    tenant: acme
    rules:
    - alert: A
      expr: up == 0
      for: 5m
      keep_firing_for: 10m
      labels: { severity: page }
      annotations: { summary: "{{ $labels.job }} down" }
---
groups:
- name: b
  rules:
  - record: job:up:sum
    expr: sum by (job) (up)
`;
    const r = parseRuleFileText(text, 'crd.yaml', { checkTemplate: () => undefined });
    expect(r.errors).toEqual([]);
    expect(r.groups).toHaveLength(2);
    expect(r.groups[0]).toMatchObject({ name: 'a', file: 'crd.yaml', interval: 30_000, limit: 5, queryOffset: 60_000, labels: { team: 't1' }, evalOnIngest: true, tenant: 'acme' });
    expect(r.groups[0]!.rules[0]).toMatchObject({ kind: 'alerting', alert: 'A', for: 300_000, keepFiringFor: 600_000, labels: { severity: 'page' }, annotations: { summary: '{{ $labels.job }} down' } });
    expect(r.groups[0]!.pos.line).toBe(7);
    expect(r.groups[1]).toMatchObject({ name: 'b', evalOnIngest: false, interval: 0 });
    expect(r.groups[1]!.tenant).toBeUndefined();
    expect(r.rules).toBe(2);
  });

  it('expands globs like filepath.Glob', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-rules-'));
    try {
      await mkdir(join(dir, 'sub'));
      await writeFile(join(dir, 'sub', 'a.yml'), 'groups: []\n');
      await writeFile(join(dir, 'sub', 'b.yml'), 'groups: []\n');
      await writeFile(join(dir, 'sub', 'c.txt'), 'x');
      expect((await expandGlob('sub/*.yml', dir)).map((p) => p.slice(dir.length))).toEqual(['/sub/a.yml', '/sub/b.yml']);
      expect((await expandGlob('s?b/[ab].yml', dir)).length).toBe(2);
      expect(await expandGlob('nothing/*.yml', dir)).toEqual([]);
      const missing = await loadRuleFiles(['missing.yml'], dir);
      expect(missing.errors[0]!.message).toMatch(/missing\.yml: cannot read rule file/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('checkRuleFiles counts groups and rules and names the file as given', async () => {
    const r = await checkRuleFiles([join(fixtures, 'rules_multiple_groups.yaml'), join(fixtures, 'invalid_rules.yaml')]);
    expect(r.groups).toBe(2);
    expect(r.rules).toBe(10);
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.file).toBe(join(fixtures, 'invalid_rules.yaml'));
  });
});

describe('rule files: validation (promtool check rules)', () => {
  const cases: [string, string, RegExp][] = [
    ['duplicate group', 'groups:\n- name: g\n  rules: []\n- name: g\n  rules: []\n', /^f\.yml:4: group "g": group name "g" is repeated in the same file$/],
    ['empty group name', 'groups:\n- rules: []\n', /^f\.yml:2: group name must not be empty$/],
    ['missing expr', 'groups:\n- name: g\n  rules:\n  - record: a\n', /^f\.yml:4: group "g", rule 1 "a": field 'expr' must be set in rule$/],
    ['both alert and record', 'groups:\n- name: g\n  rules:\n  - record: a\n    alert: b\n    expr: up\n', /^f\.yml:4: group "g", rule 1 .*only one of 'record' and 'alert' must be set/],
    ['neither alert nor record', 'groups:\n- name: g\n  rules:\n  - expr: up\n', /^f\.yml:4: group "g", rule 1: one of 'record' or 'alert' must be set$/],
    ['bad record name', 'groups:\n- name: g\n  rules:\n  - record: "a-b"\n    expr: up\n', /^f\.yml:4: group "g", rule 1 "a-b": invalid recording rule name: "a-b"$/],
    ['bad label name', 'groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    labels:\n      "0x": y\n', /^f\.yml:7: group "g", rule 1 "A": invalid label name: "0x"$/],
    ['bad annotation name', 'groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n      "a b": y\n', /^f\.yml:7: .*invalid annotation name: "a b"$/],
    ['parse error with position', 'groups:\n- name: g\n  rules:\n  - alert: A\n    expr: sum(up\n', /^f\.yml:5: group "g", rule 1 "A": could not parse expression: 1:\d+: parse error: /],
    ['parse error in block scalar', 'groups:\n- name: g\n  rules:\n  - alert: A\n    expr: |\n      up\n      + * 1\n', /^f\.yml:7: group "g", rule 1 "A": could not parse expression: 2:\d+: parse error/],
    ['template error', 'groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n      s: "{{ oops"\n', /^f\.yml:7: group "g", rule 1 "A": annotation "s": template: unclosed action$/],
    ['annotations on recording rule', 'groups:\n- name: g\n  rules:\n  - record: a\n    expr: up\n    annotations:\n      a: b\n', /^f\.yml:6: .*invalid field 'annotations' in recording rule$/],
    ['bad duration', 'groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    for: 5 minutes\n', /^f\.yml:6: group "g", rule 1 "A": for: not a valid duration string/],
    ['unknown group key', 'groups:\n- name: g\n  bogus: 1\n  rules: []\n', /^f\.yml:3: group "g": unknown key "bogus" in rule group$/],
    ['unknown top-level key', 'groupz: []\n', /^f\.yml:1: unknown key "groupz" in rule file$/],
    ['bad limit', 'groups:\n- name: g\n  limit: -1\n  rules: []\n', /^f\.yml:3: group "g": limit: expected a non-negative integer$/],
    ['bad tenant', 'groups:\n- name: g\n  tenant: "a b"\n  rules: []\n', /^f\.yml:3: group "g": tenant: invalid tenant id/],
    ['YAML syntax', 'groups:\n- name: g\n  rules: [\n', /^f\.yml:\d+: YAML syntax error/],
    ['wrong CRD kind', 'apiVersion: v1\nkind: ConfigMap\nspec: {}\n', /^f\.yml:2: unsupported kind "ConfigMap"/],
  ];
  for (const [name, text, re] of cases) {
    it(name, () => {
      const errs = errorsOf(text);
      expect(errs.length, errs.join('\n')).toBeGreaterThan(0);
      expect(errs.some((e) => re.test(e)), errs.join('\n')).toBe(true);
    });
  }

  it('collects several errors in one pass and drops only the bad groups', () => {
    const r = parseRuleFileText('groups:\n- name: ok\n  rules:\n  - record: a\n    expr: up\n- name: bad\n  rules:\n  - record: b\n  - alert: "x"\n    expr: "1 +"\n', 'f.yml', { checkTemplate: () => undefined });
    expect(r.groups.map((g) => g.name)).toEqual(['ok']);
    expect(r.errors).toHaveLength(2);
    expect(r.errors.map((e) => e.line)).toEqual([8, 10]);
  });

  it('bounds the number of rules per file', () => {
    const rules = Array.from({ length: MAX_RULES_PER_FILE + 1 }, (_, i) => `  - record: r${i}\n    expr: up\n`).join('');
    const r = parseRuleFileText(`groups:\n- name: g\n  rules:\n${rules}`, 'big.yml', { checkTemplate: () => undefined });
    expect(r.errors.some((e) => /too many rules in file/.test(e.message))).toBe(true);
  });
});

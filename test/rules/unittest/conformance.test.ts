/**
 * Every file of Prometheus's promtool test data: vigil's pass/fail must match the recorded
 * outcome (promtool 2.42's, except where 2.42 lacks a documented feature — see the fixture).
 * When the real promtool is installed, the fixture itself is re-checked against it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runRuleTests } from '../../../src/rules/unittest/index.js';

const DIR = fileURLToPath(new URL('../../../../shared/conformance/promtool/', import.meta.url));
const fixture = JSON.parse(readFileSync(new URL('./promtool-outcomes.json', import.meta.url), 'utf8')) as {
  files: Record<string, { kind: string; promtool_2_42_passes: boolean; vigil_passes: boolean; divergence?: string }>;
  run_filter: { file: string; run: string; vigil_passes: boolean }[];
};

function hasPromtool(): boolean {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const PROMTOOL = hasPromtool();

describe('promtool conformance files', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yml')).sort();

  it('the fixture covers every file of the conformance directory', () => {
    expect(files.length).toBeGreaterThan(20);
    expect(Object.keys(fixture.files).sort()).toEqual(files);
  });

  for (const f of files) {
    it(`${f}: vigil ${fixture.files[f]?.vigil_passes ? 'passes' : 'fails'}`, async () => {
      const exp = fixture.files[f]!;
      const res = await runRuleTests([DIR + f]);
      expect(res.passed, res.output).toBe(exp.vigil_passes);
      expect(res.output.startsWith(`Unit Testing:  ${DIR + f}\n`)).toBe(true);
      expect(res.output).toContain(exp.vigil_passes ? '  SUCCESS\n' : '  FAILED:\n');
    });
  }

  for (const rf of fixture.run_filter) {
    it(`${rf.file} with run=${rf.run}: ${rf.vigil_passes ? 'passes' : 'fails'}`, async () => {
      const res = await runRuleTests([DIR + rf.file], { run: new RegExp(rf.run) });
      expect(res.passed, res.output).toBe(rf.vigil_passes);
    });
  }

  it.skipIf(!PROMTOOL)('the recorded promtool outcomes match the installed promtool', () => {
    for (const f of files) {
      const r = spawnSync('promtool', ['test', 'rules', f], { cwd: DIR, encoding: 'utf8', timeout: 30_000 });
      expect({ f, passes: r.status === 0 }).toEqual({ f, passes: fixture.files[f]!.promtool_2_42_passes });
    }
  });
});

describe('promtool-identical diagnostics', () => {
  it('failing.yml reports the same failures as promtool, in the same form', async () => {
    const res = await runRuleTests([DIR + 'failing.yml']);
    expect(res.passed).toBe(false);
    expect(res.files[0]!.errors).toHaveLength(4);
    expect(res.output).toContain(
      [
        '    name: Failing test,',
        '    alertname: Test, time: 0s, ',
        '        exp:[',
        '            0:',
        '              Labels:{alertname="Test"}',
        '              Annotations:{}',
        '            ], ',
        '        got:[]',
      ].join('\n'),
    );
    expect(res.output).toContain('    expr: "test", time: 0s,\n        exp: {__name__="test"} 1E+00\n        got: {__name__="test"} 0E+00\n');
    expect(res.output).toContain(
      'Labels:{alertname="InstanceDown", job="test", severity="page"}\n              Annotations:{description=" of job test has been down for more than 5 minutes.", summary="Instance  down"}',
    );
  });

  it.skipIf(!PROMTOOL)('failing.yml: the diff text equals promtool 2.42 output', async () => {
    const r = spawnSync('promtool', ['test', 'rules', 'failing.yml'], { cwd: DIR, encoding: 'utf8' });
    const promtoolErrors = r.stderr.replace(/^ {2}FAILED:\n/, '').trimEnd();
    const res = await runRuleTests([DIR + 'failing.yml']);
    expect(res.files[0]!.errors.join('\n')).toBe(promtoolErrors);
  });

  it('a rule evaluation error stops the group with the rule, time and error', async () => {
    const res = await runRuleTests([DIR + 'bad-rules-error-test.yml']);
    expect(res.files[0]!.errors).toHaveLength(1);
    expect(res.files[0]!.errors[0]).toMatch(/^ {4}rule: joined, time: 0s, err: .*many-to-many matching not allowed/);
  });

  it('a rule file syntax error is reported with file, group and rule', async () => {
    const res = await runRuleTests([DIR + 'bad-rules-syntax-test.yml']);
    expect(res.files[0]!.errors[0]).toMatch(/bad-rules-syntax\.yml:7: group "bad-syntax", rule 1 "x": could not parse expression: 1:7: parse error/);
  });

  it('unknown fields are rejected like promtool strict YAML', async () => {
    const res = await runRuleTests([DIR + 'rules.yml']);
    expect(res.files[0]!.errors[0]).toBe('yaml: unmarshal errors:\n  line 3: field groups not found in type main.unitTestFile');
  });

  it('fuzzy_compare accepts a one-ulp difference and rejects three', async () => {
    const res = await runRuleTests([DIR + 'rules_run_fuzzy.yml']);
    expect(res.files[0]!.errors).toHaveLength(2);
    expect(res.output).toContain('got: {__name__="test_low"} 2.9999999999999987E+00');
    expect(res.output).not.toContain('2.9999999999999996E+00');
  });
});

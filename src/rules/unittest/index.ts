/**
 * `vigil test rules`: promtool-compatible rule unit tests. Reads unit-test files in promtool's
 * format (rule_files, evaluation_interval, group_eval_order, fuzzy_compare, tests with
 * input_series / alert_rule_test / promql_expr_test / external_labels / external_url / name /
 * start_timestamp) and prints promtool-like output:
 *
 * ```
 * Unit Testing:  file.yml
 *   FAILED:
 *     alertname: X, time: 5m, ...
 * ```
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { expandGlob } from '../../config/glob.js';
import { loadRuleFile } from '../../config/rule-files.js';
import type { Logger } from '../../model/logger.js';
import type { PredictiveDeps } from '../predictive-base.js';
import type { RuleGroupConfig } from '../rule.js';
import type { Templater } from '../templating.js';
import { runTestGroup } from './group-runner.js';
import { MAX_TEST_FILE_BYTES, parseTestFile, TestFileError, type UnitTestFile } from './test-file.js';

export { parseTestFile, parseTestDuration, TestFileError, type UnitTestFile, type TestGroup } from './test-file.js';
export { runTestGroup, floatsMatch, type GroupRunOptions } from './group-runner.js';
export { formatGoE, formatGoDuration } from './format.js';

/** Options of {@link runRuleTests}. */
export interface RuleTestOptions {
  /** Only run test groups whose `name` matches (promtool's `--run`). */
  readonly run?: RegExp;
  /** Print the result of every PromQL test case. */
  readonly debug?: boolean;
  /** Template engine for alert labels/annotations (default: the rules' default). */
  readonly templater?: Templater;
  readonly logger?: Logger;
  /** Models for forecast/anomaly rules (default: the shipped models directory). */
  readonly predictive?: PredictiveDeps;
}

/** Result of {@link runRuleTests}. */
export interface RuleTestResult {
  /** True when every file passed. */
  readonly passed: boolean;
  /** promtool-like report of all files. */
  readonly output: string;
  /** Per-file outcome. */
  readonly files: readonly { readonly file: string; readonly passed: boolean; readonly errors: readonly string[] }[];
}

async function readBounded(path: string): Promise<string> {
  const st = await stat(path);
  if (!st.isFile()) throw new TestFileError(`${path}: not a regular file`);
  if (st.size > MAX_TEST_FILE_BYTES) throw new TestFileError(`${path}: file is larger than ${MAX_TEST_FILE_BYTES} bytes (${st.size})`);
  return readFile(path, 'utf8');
}

/** Loads the rule files of a test file (relative to it, globs allowed). */
async function loadRules(file: UnitTestFile, testPath: string, warn: (s: string) => void): Promise<{ groups: RuleGroupConfig[]; errors: string[] }> {
  const base = dirname(testPath);
  const groups: RuleGroupConfig[] = [];
  const errors: string[] = [];
  for (const rf of file.ruleFiles) {
    const pattern = rf !== '' && !isAbsolute(rf) ? join(base, rf) : rf;
    let matches: string[];
    try {
      matches = await expandGlob(resolve(pattern), base);
      const existing: string[] = [];
      for (const m of matches) {
        try {
          if ((await stat(m)).isFile()) existing.push(m);
        } catch {
          // like filepath.Glob: a missing literal path matches nothing
        }
      }
      matches = existing;
    } catch (e) {
      errors.push(`invalid rule file pattern ${JSON.stringify(rf)}: ${(e as Error).message}`);
      continue;
    }
    if (matches.length === 0) warn(`  WARNING: no file match pattern ${pattern}`);
    for (const m of matches) {
      const r = await loadRuleFile(m);
      groups.push(...r.groups);
      for (const e of r.errors) errors.push(e.message);
    }
  }
  return { groups, errors };
}

/** Orders groups like promtool: by position in group_eval_order (unlisted count as 0), stable. */
function orderGroups(groups: RuleGroupConfig[], order: readonly string[]): RuleGroupConfig[] {
  const idx = new Map(order.map((n, i) => [n, i]));
  return groups
    .map((g, i) => ({ g, i }))
    .sort((a, b) => (idx.get(a.g.name) ?? 0) - (idx.get(b.g.name) ?? 0) || a.i - b.i)
    .map((x) => x.g);
}

/** Runs one unit-test file; returns its failure messages (empty = passed). */
export async function runRuleTestFile(path: string, opts: RuleTestOptions = {}, log: (s: string) => void = () => {}): Promise<string[]> {
  let file: UnitTestFile;
  try {
    file = parseTestFile(await readBounded(path));
  } catch (e) {
    return [(e as Error).message];
  }
  const seen = new Set<string>();
  for (const g of file.groupEvalOrder) {
    if (seen.has(g)) return [`group name repeated in evaluation order: ${g}`];
    seen.add(g);
  }
  let rules: { groups: RuleGroupConfig[]; errors: string[] } | undefined;
  const errs: string[] = [];
  for (const tg of file.tests) {
    if (opts.run && !opts.run.test(tg.name)) continue;
    rules ??= await loadRules(file, path, log);
    if (rules.errors.length > 0) {
      errs.push(...rules.errors);
      continue;
    }
    const names = new Set(rules.groups.map((g) => g.name));
    const missing = file.groupEvalOrder.find((n) => !names.has(n));
    if (missing !== undefined) return [...errs, `group name ${JSON.stringify(missing)} in group_eval_order not present in the rule files`];
    const groups = orderGroups(rules.groups, file.groupEvalOrder);
    errs.push(
      ...(await runTestGroup(file, tg, {
        groups,
        fuzzyCompare: file.fuzzyCompare,
        ...(opts.templater ? { templater: opts.templater } : {}),
        ...(opts.logger ? { logger: opts.logger } : {}),
        ...(opts.predictive ? { predictive: opts.predictive } : {}),
        ...(opts.debug ? { debug: true, log } : {}),
      })),
    );
  }
  return errs;
}

/** Runs unit-test files and builds promtool's report. Never throws for bad input files. */
export async function runRuleTests(files: readonly string[], opts: RuleTestOptions = {}): Promise<RuleTestResult> {
  let output = '';
  const results: { file: string; passed: boolean; errors: string[] }[] = [];
  for (const f of files) {
    output += `Unit Testing:  ${f}\n`;
    const errors = await runRuleTestFile(f, opts, (line) => {
      output += `${line}\n`;
    });
    if (errors.length === 0) {
      output += '  SUCCESS\n\n';
    } else {
      output += '  FAILED:\n';
      for (const e of errors) output += `${e}\n\n`;
      output += '\n';
    }
    results.push({ file: f, passed: errors.length === 0, errors });
  }
  return { passed: results.every((r) => r.passed), output, files: results };
}

/**
 * CLI entry for `vigil test rules FILE...`: prints the report to stdout and returns the exit
 * code (0 all passed, 1 any failure).
 */
export async function testRulesCommand(files: readonly string[], opts: RuleTestOptions & { readonly write?: (s: string) => void } = {}): Promise<number> {
  const res = await runRuleTests(files, opts);
  (opts.write ?? ((s: string) => process.stdout.write(s)))(res.output);
  return res.passed ? 0 : 1;
}

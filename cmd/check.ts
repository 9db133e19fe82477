/**
 * `vigil check config FILE…` and `vigil check rules FILE…` (like `promtool check config|rules`):
 * validate without starting anything; `vigil test rules FILE…` runs promtool-format unit tests.
 */
import { loadConfigFile } from '../src/config/loader.js';
import { UsageError } from './flags.js';
import type { CliIO } from './io.js';

/** Help text of `vigil check`. */
export function checkHelp(): string {
  return `usage: vigil check config FILE...
       vigil check rules FILE...

config: validates vigil configuration files and reports the first error of each with file:line.
rules:  validates Prometheus rule files (and PrometheusRule documents) like promtool check rules,
        with file, group, rule and line for every error.
Exit code 0 when all are valid, 1 otherwise.
`;
}

/** Runs `vigil check ...`. Returns the exit code. */
export async function checkCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const [what, ...rest] = argv;
  if (what === undefined || what === '-h' || what === '--help') {
    io.stdout(checkHelp());
    return what === undefined ? 1 : 0;
  }
  if (what !== 'config' && what !== 'rules') throw new UsageError(`unknown check ${JSON.stringify(what)}: expected "vigil check config FILE..." or "vigil check rules FILE..."`);
  if (rest.includes('-h') || rest.includes('--help')) {
    io.stdout(checkHelp());
    return 0;
  }
  const bad = rest.find((a) => a.startsWith('-'));
  if (bad) throw new UsageError(`unknown flag ${bad}`);
  if (rest.length === 0) throw new UsageError('vigil check config needs at least one FILE');
  if (what === 'rules') return checkRules(rest, io);
  let failed = 0;
  for (const file of rest) {
    io.stdout(`Checking ${file}\n`);
    try {
      const { config } = await loadConfigFile(file);
      io.stdout(
        `  SUCCESS: ${file} is valid vigil configuration (${config.scrapeConfigs.length} scrape configs, ${config.ruleFiles.length} rule file patterns, ` +
          `host collector ${config.host.enabled ? 'on' : 'off'}, remote-write receiver ${config.receiver.enabled ? 'on' : 'off'})\n`,
      );
    } catch (e) {
      failed++;
      io.stderr(`  FAILED: ${(e as Error).message}\n`);
    }
  }
  return failed === 0 ? 0 : 1;
}

async function checkRules(files: readonly string[], io: CliIO): Promise<number> {
  const { checkRuleFiles } = await import('../src/config/rule-files.js');
  let failed = 0;
  for (const file of files) {
    io.stdout(`Checking ${file}\n`);
    const res = await checkRuleFiles([file]);
    if (res.errors.length === 0) {
      io.stdout(`  SUCCESS: ${res.rules} rules found\n\n`);
      continue;
    }
    failed++;
    io.stderr(`  FAILED:\n${res.errors.map((e) => `${e.message}\n`).join('')}\n`);
  }
  return failed === 0 ? 0 : 1;
}

/** Help text of `vigil test`. */
export function testHelp(): string {
  return `usage: vigil test rules FILE...

Runs rule unit tests in promtool's format (input_series, alert_rule_test, promql_expr_test).
Exit code 0 when every test passes, 1 otherwise.
`;
}

/** Runs `vigil test rules ...`. Returns the exit code. */
export async function testCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const [what, ...rest] = argv;
  if (what === undefined || what === '-h' || what === '--help' || rest.includes('-h') || rest.includes('--help')) {
    io.stdout(testHelp());
    return what === undefined ? 1 : 0;
  }
  if (what !== 'rules') throw new UsageError(`unknown test ${JSON.stringify(what)}: expected "vigil test rules FILE..."`);
  const bad = rest.find((a) => a.startsWith('-'));
  if (bad) throw new UsageError(`unknown flag ${bad}`);
  if (rest.length === 0) throw new UsageError('vigil test rules needs at least one FILE');
  const { testRulesCommand } = await import('../src/rules/unittest/index.js');
  return testRulesCommand(rest, { write: (s) => io.stdout(s) });
}

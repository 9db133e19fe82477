/** `vigil check config FILE…`: validates configuration files without starting anything. */
import { loadConfigFile } from '../src/config/loader.js';
import { UsageError } from './flags.js';
import type { CliIO } from './io.js';

/** Help text of `vigil check`. */
export function checkHelp(): string {
  return `usage: vigil check config FILE...

Validates vigil configuration files and reports the first error of each with file:line.
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
  if (what !== 'config') throw new UsageError(`unknown check ${JSON.stringify(what)}: expected "vigil check config FILE..."`);
  if (rest.includes('-h') || rest.includes('--help')) {
    io.stdout(checkHelp());
    return 0;
  }
  const bad = rest.find((a) => a.startsWith('-'));
  if (bad) throw new UsageError(`unknown flag ${bad}`);
  if (rest.length === 0) throw new UsageError('vigil check config needs at least one FILE');
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

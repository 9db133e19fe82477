/**
 * vigil's command line: `vigil run`, `vigil check config|rules`, `vigil test rules`, `vigil query`. `main()` returns
 * the exit code; user errors print one line on stderr (no stack) and give exit code 1.
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../src/model/errors.js';
import { checkCommand, testCommand } from './check.js';
import { flagsHelp, RUN_FLAGS, UsageError } from './flags.js';
import { processIO, type CliIO } from './io.js';
import { queryCommand } from './query.js';
import { runCommand } from './run.js';

/** Top-level help text (documents every flag of `vigil run`). */
export function mainHelp(): string {
  return `usage: vigil <command> [<flags>] [<args>]

vigil: Prometheus-native exporter and rule-engine sidecar (host metrics, scrapes,
remote-write receiver, in-memory TSDB, PromQL API, rules).

Commands:
  run                       Start vigil (flags below).
  check config FILE...      Validate configuration files.
  check rules FILE...       Validate rule files (like promtool check rules).
  test rules FILE...        Run rule unit tests in promtool's format.
  models build|eval         Build the shipped ONNX models, evaluate them on NAB (vigil models --help).
  query EXPR                Instant query against a running vigil (vigil query --help).
  help                      Show this help.

Global flags:
  -h, --help                Show help (also: vigil <command> --help).
  --version                 Show the version.

Flags of "vigil run":
${flagsHelp(RUN_FLAGS)}

A config file containing just {} runs a bare remote-write receiver + query API
(host collector off, no scrapes, no rules).
`;
}

/** Runs the CLI with `argv` (without node and script). Resolves with the exit code. */
export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
        io.stderr(mainHelp());
        return 1;
      case '-h':
      case '--help':
      case 'help':
        io.stdout(mainHelp());
        return 0;
      case '--version': {
        const { buildInfo } = await import('../src/web/build-info.js');
        const b = buildInfo();
        io.stdout(`vigil, version ${b.version} (revision: ${b.revision}, branch: ${b.branch})\n  node: ${b.goVersion}\n`);
        return 0;
      }
      case 'run':
        return await runCommand(rest, io);
      case 'check':
        return await checkCommand(rest, io);
      case 'test':
        return await testCommand(rest, io);
      case 'models': {
        const { modelsCommand } = await import('./models.js');
        return await modelsCommand(rest, io);
      }
      case 'query':
        return await queryCommand(rest, io);
      default:
        throw new UsageError(cmd.startsWith('-') ? `unknown flag ${cmd} (flags go after the command, e.g. vigil run ${cmd})` : `unknown command ${JSON.stringify(cmd)}`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr(`vigil: error: ${e.message}\nTry "vigil --help".\n`);
      return 1;
    }
    if (e instanceof ValidationError) {
      io.stderr(`vigil: error: ${e.message}\n`);
      return 1;
    }
    // Startup failures (port in use, unreadable WAL, …): one line; the stack only with VIGIL_DEBUG.
    io.stderr(`vigil: error: ${(e as Error).message ?? String(e)}\n`);
    if (process.env.VIGIL_DEBUG) io.stderr(`${(e as Error).stack ?? ''}\n`);
    return 1;
  }
}

/** True when this module is the process's entry point (not when imported by vigil-bin.mjs or tests). */
function isEntryPoint(): boolean {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return realpathSync(arg) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  process.exitCode = await main(process.argv.slice(2));
}


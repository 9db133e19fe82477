/**
 * Command-line flags of `vigil run`, Prometheus style (`--config.file`, `--web.listen-address`,
 * …): definitions, help text, parsing and validation into {@link RunFlags}.
 */
import { parseArgs } from 'node:util';
import { parseDuration } from '../src/config/duration.js';
import { parseFsyncPolicy } from '../src/config/loader.js';
import type { StorageConfig } from '../src/config/types.js';
import type { LogLevel } from '../src/model/logger.js';
import { parseListenAddress } from '../src/web/listen-address.js';

/** A user error on the command line: printed without a stack, exit code 1. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** One flag definition. */
export interface FlagDef {
  readonly name: string;
  readonly default?: string;
  readonly help: string;
  /** Placeholder in help output. */
  readonly arg: string;
}

/** Flags of `vigil run`. */
export const RUN_FLAGS: readonly FlagDef[] = [
  { name: 'config.file', arg: 'FILE', help: 'Configuration file (Prometheus format plus vigil sections). Omitted: the embedded default (host collector, remote-write receiver, shipped rule packs).' },
  { name: 'web.listen-address', arg: 'ADDR', default: '0.0.0.0:9477', help: 'Address to listen on for the API, /metrics and remote-write.' },
  { name: 'web.config.file', arg: 'FILE', help: 'Web config file: listener TLS (cert/key, client certificates mapped to tenants) and credentials (scrypt-hashed bearer tokens and basic auth, bound to a tenant or admin). Re-read when it changes.' },
  { name: 'web.max-concurrent-requests', arg: 'N', default: '512', help: 'Requests handled at once (health checks excluded); more answer 503 with Retry-After.' },
  { name: 'web.read-timeout', arg: 'DURATION', default: '2m', help: 'Maximum time to receive a whole request (headers must arrive within 20s).' },
  { name: 'web.external-url', arg: 'URL', help: 'URL under which vigil is reachable from outside (used in alert links).' },
  { name: 'storage.path', arg: 'DIR', default: './data', help: 'Directory of the write-ahead log.' },
  { name: 'storage.retention', arg: 'DURATION', default: '24h', help: 'How long samples are kept in memory.' },
  { name: 'storage.wal-fsync', arg: 'POLICY', default: '1s', help: 'WAL fsync policy: "always", "never" or an interval (e.g. 1s). Overrides storage.wal_fsync of the config file.' },
  { name: 'query.lookback-delta', arg: 'DURATION', default: '5m', help: 'How far back to look for a sample of an instant vector selector.' },
  { name: 'query.timeout', arg: 'DURATION', default: '2m', help: 'Maximum time a query may take before it is aborted.' },
  { name: 'query.max-samples', arg: 'N', default: '50000000', help: 'Maximum number of samples a single query may load into memory.' },
  { name: 'rules.alert.resend-delay', arg: 'DURATION', default: '1m', help: 'Minimum amount of time to wait before resending an alert to Alertmanager.' },
  { name: 'rules.alert.for-outage-tolerance', arg: 'DURATION', default: '1h', help: 'Max time to tolerate vigil outage for restoring "for" state of alerts.' },
  { name: 'rules.alert.for-grace-period', arg: 'DURATION', default: '10m', help: 'Minimum duration between alert and restored "for" state. Maintained only for alerts with a configured "for" time greater than the grace period.' },
  { name: 'log.level', arg: 'LEVEL', default: 'info', help: 'Only log messages at or above this level: debug, info, warn, error.' },
  { name: 'log.format', arg: 'FORMAT', default: 'logfmt', help: 'Log line format: logfmt or json.' },
];

/** Validated `vigil run` flags. */
export interface RunFlags {
  readonly configFile: string | undefined;
  readonly listenAddress: string;
  readonly externalUrl: string | undefined;
  /** `--web.config.file`. */
  readonly webConfigFile: string | undefined;
  readonly maxConcurrentRequests: number;
  readonly readTimeoutMs: number;
  readonly storagePath: string;
  readonly retentionMs: number;
  readonly walFsync: StorageConfig['walFsync'];
  /** True when `--storage.wal-fsync` was given explicitly (it then overrides the config file). */
  readonly walFsyncExplicit: boolean;
  readonly lookbackDeltaMs: number;
  readonly queryTimeoutMs: number;
  readonly maxSamples: number;
  readonly resendDelayMs: number;
  readonly outageToleranceMs: number;
  readonly gracePeriodMs: number;
  readonly logLevel: LogLevel;
  readonly logFormat: 'logfmt' | 'json';
  /** Every flag with its effective value (for `/api/v1/status/flags`). */
  readonly all: Readonly<Record<string, string>>;
}

/** Help text of a flag list. */
export function flagsHelp(defs: readonly FlagDef[]): string {
  const rows = defs.map((d) => [`  --${d.name}=${d.arg}`, d.help + (d.default !== undefined ? ` (default: ${d.default})` : '')] as const);
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  return rows.map(([a, b]) => a.padEnd(w) + b).join('\n');
}

/** Help text of `vigil run`. */
export function runHelp(): string {
  return `usage: vigil run [<flags>]

Starts vigil: host collector, scrapes, remote-write receiver, in-memory TSDB with WAL,
PromQL API on --web.listen-address. SIGHUP or POST /-/reload reloads the configuration;
SIGTERM/SIGINT shut down gracefully.

Flags:
  -h, --help  Show this help.
${flagsHelp(RUN_FLAGS)}
`;
}

function positiveDuration(flag: string, v: string): number {
  let ms: number;
  try {
    ms = parseDuration(v);
  } catch {
    throw new UsageError(`invalid value ${JSON.stringify(v)} for flag --${flag}: expected a duration like 30s, 5m, 24h`);
  }
  if (ms <= 0) throw new UsageError(`invalid value ${JSON.stringify(v)} for flag --${flag}: must be greater than 0`);
  return ms;
}

/** Parses argv of `vigil run` (after the subcommand). Returns `'help'` for `-h/--help`. */
export function parseRunFlags(argv: readonly string[]): RunFlags | 'help' {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = { help: { type: 'boolean', short: 'h' } };
  for (const d of RUN_FLAGS) options[d.name] = { type: 'string' };
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new UsageError(cleanParseArgsMessage((e as Error).message));
  }
  if (values.help) return 'help';
  const all: Record<string, string> = {};
  for (const d of RUN_FLAGS) {
    const v = values[d.name];
    all[d.name] = typeof v === 'string' ? v : (d.default ?? '');
  }
  const s = (n: string): string => all[n]!;
  try {
    parseListenAddress(s('web.listen-address'));
  } catch (e) {
    throw new UsageError(`invalid value for flag --web.listen-address: ${(e as Error).message}`);
  }
  const ext = s('web.external-url');
  if (ext !== '') {
    try {
      new URL(ext);
    } catch {
      throw new UsageError(`invalid value ${JSON.stringify(ext)} for flag --web.external-url: not an absolute URL`);
    }
  }
  let walFsync: StorageConfig['walFsync'];
  try {
    walFsync = parseFsyncPolicy(s('storage.wal-fsync'));
  } catch (e) {
    throw new UsageError(`invalid value for flag --storage.wal-fsync: ${(e as Error).message}`);
  }
  const maxSamples = s('query.max-samples');
  if (!/^\d+$/.test(maxSamples) || Number(maxSamples) <= 0 || !Number.isSafeInteger(Number(maxSamples))) {
    throw new UsageError(`invalid value ${JSON.stringify(maxSamples)} for flag --query.max-samples: expected a positive integer`);
  }
  const mcr = s('web.max-concurrent-requests');
  if (!/^\d+$/.test(mcr) || Number(mcr) <= 0 || !Number.isSafeInteger(Number(mcr))) {
    throw new UsageError(`invalid value ${JSON.stringify(mcr)} for flag --web.max-concurrent-requests: expected a positive integer`);
  }
  const level = s('log.level');
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`invalid value ${JSON.stringify(level)} for flag --log.level: expected one of debug, info, warn, error`);
  const format = s('log.format');
  if (format !== 'logfmt' && format !== 'json') throw new UsageError(`invalid value ${JSON.stringify(format)} for flag --log.format: expected logfmt or json`);
  if (s('storage.path') === '') throw new UsageError('flag --storage.path must not be empty');
  return {
    configFile: s('config.file') === '' ? undefined : s('config.file'),
    listenAddress: s('web.listen-address'),
    externalUrl: ext === '' ? undefined : ext,
    webConfigFile: s('web.config.file') === '' ? undefined : s('web.config.file'),
    maxConcurrentRequests: Number(mcr),
    readTimeoutMs: positiveDuration('web.read-timeout', s('web.read-timeout')),
    storagePath: s('storage.path'),
    retentionMs: positiveDuration('storage.retention', s('storage.retention')),
    walFsync,
    walFsyncExplicit: typeof values['storage.wal-fsync'] === 'string',
    lookbackDeltaMs: positiveDuration('query.lookback-delta', s('query.lookback-delta')),
    queryTimeoutMs: positiveDuration('query.timeout', s('query.timeout')),
    maxSamples: Number(maxSamples),
    resendDelayMs: positiveDuration('rules.alert.resend-delay', s('rules.alert.resend-delay')),
    outageToleranceMs: positiveDuration('rules.alert.for-outage-tolerance', s('rules.alert.for-outage-tolerance')),
    gracePeriodMs: positiveDuration('rules.alert.for-grace-period', s('rules.alert.for-grace-period')),
    logLevel: level as LogLevel,
    logFormat: format,
    all,
  };
}

/** Turns node:util parseArgs messages into short flag errors. */
export function cleanParseArgsMessage(msg: string): string {
  const unknown = /Unknown option '([^']+)'/.exec(msg);
  if (unknown) return `unknown flag ${unknown[1]}`;
  const needsArg = /Option '(?:-\w, )?(--[^ ']+)[^']*' argument missing/.exec(msg);
  if (needsArg) return `flag ${needsArg[1]} needs a value`;
  const positional = /Unexpected argument '([^']+)'/.exec(msg);
  if (positional) return `unexpected argument ${JSON.stringify(positional[1])}`;
  return msg.split('\n')[0]!;
}

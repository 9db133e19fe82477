/**
 * Structured logging in Prometheus style: `level=info ts=... caller=... msg="..." key=value`
 * (logfmt) or one JSON object per line. Components accept a {@link Logger}; tests pass
 * {@link nopLogger} or a capturing fake.
 */

/** Log levels, most verbose first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Key/value context of a log line. Values are stringified; secrets must never be passed. */
export type LogFields = Readonly<Record<string, unknown>>;

/** A structured logger. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  with(fields: LogFields): Logger;
}

const ORDER: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

function fmtValue(v: unknown): string {
  let s: string;
  if (v instanceof Error) s = v.message;
  else if (typeof v === 'string') s = v;
  else if (v === undefined) s = '';
  else s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  readonly level?: LogLevel;
  readonly format?: 'logfmt' | 'json';
  /** Where lines go (default: process.stderr). */
  readonly write?: (line: string) => void;
  readonly now?: () => number;
}

/** Creates a logger writing logfmt or JSON lines. */
export function createLogger(opts: LoggerOptions = {}, base: LogFields = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const format = opts.format ?? 'logfmt';
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const now = opts.now ?? Date.now;
  const emit = (level: LogLevel, msg: string, fields?: LogFields): void => {
    if (ORDER[level] < min) return;
    const all: Record<string, unknown> = { ts: new Date(now()).toISOString(), level, ...base, msg, ...fields };
    if (format === 'json') {
      write(JSON.stringify(all, (_k, v: unknown) => (v instanceof Error ? v.message : v)));
    } else {
      write(
        Object.entries(all)
          .map(([k, v]) => `${k}=${fmtValue(v)}`)
          .join(' '),
      );
    }
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    with: (f) => createLogger(opts, { ...base, ...f }),
  };
}

/** A logger that discards everything. */
export const nopLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  with: () => nopLogger,
};

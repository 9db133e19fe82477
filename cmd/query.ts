/**
 * `vigil query EXPR`: an instant query against a running vigil's HTTP API, printed as
 * `metric => value @[time]` lines (or the raw JSON with `--output json`).
 */
import { parseArgs } from 'node:util';
import { ParamError, parseDurationParam, parseTimeParam } from '../src/web/params.js';
import { cleanParseArgsMessage, UsageError } from './flags.js';
import type { CliIO } from './io.js';

/** Help text of `vigil query`. */
export function queryHelp(): string {
  return `usage: vigil query [<flags>] EXPR

Runs an instant PromQL query against a running vigil and prints the result.

Flags:
  -h, --help       Show this help.
  --time=TIME      Evaluation time: RFC 3339 or unix seconds (default: now).
  --server=URL     Base URL of the vigil to ask (default: http://127.0.0.1:9477).
  --timeout=DUR    Query timeout passed to the server (e.g. 30s).
  --output=FORMAT  text (default) or json (the API's data object).
  --storage.path=DIR
                   Instead of asking a server, replay DIR/wal read-only and evaluate
                   locally (the WAL is never modified).
`;
}

interface Sample {
  metric: Record<string, string>;
  value?: [number, string];
  values?: [number, string][];
  histogram?: [number, unknown];
  histograms?: [number, unknown][];
}

/** Prometheus text form of a metric from API JSON. */
export function metricString(m: Record<string, string>): string {
  const { __name__: name = '', ...rest } = m;
  const parts = Object.keys(rest)
    .sort()
    .map((k) => `${k}=${JSON.stringify(rest[k])}`);
  return parts.length === 0 && name !== '' ? name : `${name}{${parts.join(', ')}}`;
}

/** Formats an API `data` object (`resultType`, `result`) as text lines. */
export function formatQueryData(data: { resultType: string; result: unknown }): string {
  const lines: string[] = [];
  switch (data.resultType) {
    case 'scalar':
    case 'string': {
      const [t, v] = data.result as [number, string];
      lines.push(`${data.resultType === 'string' ? JSON.stringify(v) : v} @[${t}]`);
      break;
    }
    case 'vector':
      for (const s of data.result as Sample[]) {
        if (s.value) lines.push(`${metricString(s.metric)} => ${s.value[1]} @[${s.value[0]}]`);
        else if (s.histogram) lines.push(`${metricString(s.metric)} => ${JSON.stringify(s.histogram[1])} @[${s.histogram[0]}]`);
      }
      break;
    case 'matrix':
      for (const s of data.result as Sample[]) {
        const pts = [...(s.values ?? []).map(([t, v]) => `${v} @[${t}]`), ...(s.histograms ?? []).map(([t, h]) => `${JSON.stringify(h)} @[${t}]`)];
        lines.push(`${metricString(s.metric)} =>\n${pts.join('\n')}`);
      }
      break;
    default:
      lines.push(JSON.stringify(data));
  }
  return lines.join('\n');
}

/** Runs `vigil query`. Returns the exit code. */
export async function queryCommand(argv: readonly string[], io: CliIO): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: { help: { type: 'boolean', short: 'h' }, time: { type: 'string' }, server: { type: 'string' }, timeout: { type: 'string' }, output: { type: 'string' }, 'storage.path': { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(cleanParseArgsMessage((e as Error).message));
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(queryHelp());
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] === '') throw new UsageError('vigil query needs exactly one PromQL expression argument');
  const output = values.output ?? 'text';
  if (output !== 'text' && output !== 'json') throw new UsageError(`invalid value ${JSON.stringify(output)} for flag --output: expected text or json`);
  const server = (values.server ?? 'http://127.0.0.1:9477').replace(/\/+$/, '');
  let base: URL;
  try {
    base = new URL(server + '/api/v1/query');
  } catch {
    throw new UsageError(`invalid value ${JSON.stringify(server)} for flag --server: not a URL`);
  }
  const form = new URLSearchParams({ query: positionals[0]! });
  if (values.time !== undefined && values.time !== 'now') {
    try {
      form.set('time', String(parseTimeParam('time', values.time) / 1000));
    } catch (e) {
      throw new UsageError(`invalid value for flag --time: ${(e as ParamError).message}`);
    }
  }
  if (values.timeout !== undefined) form.set('timeout', values.timeout);
  const storagePath = values['storage.path'];
  if (storagePath !== undefined) {
    if (values.server !== undefined) throw new UsageError('--server and --storage.path exclude each other');
    let timeoutMs = 120_000;
    if (values.timeout !== undefined) {
      try {
        timeoutMs = parseDurationParam('timeout', values.timeout);
      } catch (e) {
        throw new UsageError(`invalid value for flag --timeout: ${(e as Error).message}`);
      }
    }
    const ts = form.has('time') ? Number(form.get('time')) * 1000 : Date.now();
    const { localQuery } = await import('./local-query.js');
    let r;
    try {
      r = await localQuery(storagePath, positionals[0]!, Math.round(ts), timeoutMs);
    } catch (e) {
      io.stderr(`vigil: error: ${(e as Error).message}\n`);
      return 1;
    }
    for (const n of r.notes) io.stderr(`note: ${n}\n`);
    for (const w of r.warnings) io.stderr(`${w}\n`);
    const out = output === 'json' ? JSON.stringify(r.data) : formatQueryData(r.data);
    io.stdout(out === '' ? '' : out + '\n');
    return 0;
  }
  let res: Response;
  try {
    res = await io.fetch(base, { method: 'POST', body: form, headers: { 'content-type': 'application/x-www-form-urlencoded' }, signal: AbortSignal.timeout(5 * 60_000) });
  } catch (e) {
    io.stderr(`vigil: error: cannot reach vigil at ${server}: ${(e as Error & { cause?: Error }).cause?.message ?? (e as Error).message}\n`);
    return 1;
  }
  const text = await res.text();
  let body: { status?: string; data?: { resultType: string; result: unknown }; error?: string; errorType?: string; warnings?: string[]; infos?: string[] };
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    io.stderr(`vigil: error: unexpected response from ${server} (HTTP ${res.status}): ${text.slice(0, 200)}\n`);
    return 1;
  }
  if (body.status !== 'success' || !body.data) {
    io.stderr(`vigil: error: query failed: ${body.errorType ?? `HTTP ${res.status}`}: ${body.error ?? text.slice(0, 200)}\n`);
    return 1;
  }
  for (const w of [...(body.warnings ?? []), ...(body.infos ?? [])]) io.stderr(`${w}\n`);
  const out = output === 'json' ? JSON.stringify(body.data) : formatQueryData(body.data);
  io.stdout(out === '' ? '' : out + '\n');
  return 0;
}

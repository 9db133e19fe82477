/**
 * Minimal Kubernetes API client for discovery: a bounded JSON GET (list) and a streaming watch
 * (one JSON event per line, each line bounded). Both honour an AbortSignal; errors are
 * {@link KubeApiError} with the HTTP status (0 for transport errors) and the server's message.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { VigilError } from '../../../model/errors.js';
import type { ApiConnection } from './connection.js';
import { isRecord, str, toWatchEvent, type WatchEvent } from './objects.js';

/** Max bytes of one list response page. */
export const MAX_LIST_BYTES = 64 << 20;
/** Max bytes of one watch event line. */
export const MAX_WATCH_LINE_BYTES = 16 << 20;

/** A failed API request. */
export class KubeApiError extends VigilError {
  override name = 'KubeApiError';
  constructor(
    message: string,
    /** HTTP status; 0 for connection errors and malformed responses. */
    readonly status: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

const USER_AGENT = 'vigil/0.1 (kubernetes-sd)';

async function request(conn: ApiConnection, pathAndQuery: string, signal: AbortSignal, accept: string): Promise<http.IncomingMessage> {
  const url = new URL(conn.baseUrl + pathAndQuery);
  const headers: Record<string, string> = { Accept: accept, 'User-Agent': USER_AGENT };
  const auth = await conn.authorization();
  if (auth) headers['Authorization'] = auth;
  const isHttps = url.protocol === 'https:';
  const t = conn.tls;
  const opts: https.RequestOptions = {
    method: 'GET',
    headers,
    signal,
    ...(isHttps
      ? { rejectUnauthorized: t.rejectUnauthorized, ...(t.ca ? { ca: t.ca } : {}), ...(t.cert ? { cert: t.cert } : {}), ...(t.key ? { key: t.key } : {}), ...(t.servername ? { servername: t.servername } : {}) }
      : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (isHttps ? https : http).request(url, opts, resolve);
    req.on('error', (e) => reject(new KubeApiError(`request to ${url.pathname} failed: ${e.message}`, 0, { cause: e })));
    req.end();
  });
}

/** Reads at most `max` bytes of a response body. */
function readBody(res: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    res.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        res.destroy();
        reject(new KubeApiError(`response larger than ${max} bytes`, 0));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks, n)));
    res.on('error', (e) => reject(new KubeApiError(`reading response failed: ${e.message}`, 0, { cause: e })));
  });
}

async function failure(res: http.IncomingMessage, what: string): Promise<KubeApiError> {
  const status = res.statusCode ?? 0;
  let msg = res.statusMessage ?? '';
  try {
    const body: unknown = JSON.parse((await readBody(res, 64 << 10)).toString('utf8'));
    if (isRecord(body) && str(body['message']) !== '') msg = str(body['message']);
  } catch {
    // keep the status text
  }
  return new KubeApiError(`${what}: HTTP ${status}${msg ? `: ${msg}` : ''}`, status);
}

/** GETs a JSON document (a list page). */
export async function getJson(conn: ApiConnection, pathAndQuery: string, signal: AbortSignal, maxBytes = MAX_LIST_BYTES): Promise<Record<string, unknown>> {
  const res = await request(conn, pathAndQuery, signal, 'application/json');
  if (res.statusCode !== 200) throw await failure(res, `GET ${pathAndQuery.split('?')[0]}`);
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    res.destroy();
    throw new KubeApiError(`response of ${declared} bytes is larger than ${maxBytes} bytes`, 0);
  }
  const body = await readBody(res, maxBytes);
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new KubeApiError(`invalid JSON from the API server: ${(e as Error).message}`, 0, { cause: e });
  }
  if (!isRecord(doc)) throw new KubeApiError('API server answered with JSON that is not an object', 0);
  return doc;
}

/**
 * Opens a watch and calls `onEvent` for every event line, in order. Resolves when the server
 * ends the stream (watch timeout) or `onEvent` returns `'stop'` (the connection is closed), rejects on HTTP/transport errors, oversized lines, or when no
 * byte arrives for `idleTimeoutMs`. Lines that are not watch events are skipped.
 */
export async function watchStream(
  conn: ApiConnection,
  pathAndQuery: string,
  signal: AbortSignal,
  onEvent: (e: WatchEvent) => void | 'stop',
  opts: { idleTimeoutMs: number; maxLineBytes?: number },
): Promise<void> {
  const res = await request(conn, pathAndQuery, signal, 'application/json');
  if (res.statusCode !== 200) throw await failure(res, `watch ${pathAndQuery.split('?')[0]}`);
  const maxLine = opts.maxLineBytes ?? MAX_WATCH_LINE_BYTES;
  return new Promise<void>((resolve, reject) => {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let done = false;
    let idle: NodeJS.Timeout | undefined;
    const finish = (err?: Error): void => {
      if (done) return;
      done = true;
      if (idle) clearTimeout(idle);
      if (err) {
        res.destroy();
        reject(err);
      } else {
        if (!res.complete) res.destroy();
        resolve();
      }
    };
    const arm = (): void => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => finish(new KubeApiError(`watch idle for ${opts.idleTimeoutMs}ms`, 0)), opts.idleTimeoutMs);
      idle.unref();
    };
    const line = (buf: Buffer): void => {
      const s = buf.toString('utf8').trim();
      if (s === '') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(s);
      } catch (e) {
        finish(new KubeApiError(`invalid JSON in watch stream: ${(e as Error).message}`, 0, { cause: e }));
        return;
      }
      const ev = toWatchEvent(parsed);
      if (ev && onEvent(ev) === 'stop') finish();
    };
    arm();
    res.on('data', (chunk: Buffer) => {
      if (done) return;
      arm();
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(10, start);
        if (nl < 0) break;
        const part = chunk.subarray(start, nl);
        if (pendingBytes + part.length > maxLine) return finish(new KubeApiError(`watch event larger than ${maxLine} bytes`, 0));
        const whole = pending.length > 0 ? Buffer.concat([...pending, part]) : part;
        pending = [];
        pendingBytes = 0;
        line(whole);
        if (done) return;
        start = nl + 1;
      }
      const rest = chunk.subarray(start);
      if (rest.length > 0) {
        pendingBytes += rest.length;
        if (pendingBytes > maxLine) return finish(new KubeApiError(`watch event larger than ${maxLine} bytes`, 0));
        pending.push(Buffer.from(rest));
      }
    });
    res.on('end', () => {
      if (pendingBytes > 0 && !done) line(Buffer.concat(pending));
      finish();
    });
    res.on('error', (e) => finish(new KubeApiError(`watch stream failed: ${e.message}`, 0, { cause: e })));
    res.on('aborted', () => finish(new KubeApiError('watch stream aborted', 0)));
    res.on('close', () => finish(new KubeApiError('watch stream closed before its end', 0)));
  });
}

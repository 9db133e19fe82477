/**
 * The HTTP side of a scrape: content negotiation, gzip, auth, TLS, timeout and a hard limit on
 * the uncompressed body size (the request is aborted as soon as it is exceeded).
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { readFile } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import type { HttpClientConfig } from '../../config/types.js';
import { VigilError } from '../../model/errors.js';
import type { ScrapeFailureReason } from './metrics.js';

/** Accept header sent with every scrape. */
export const SCRAPE_ACCEPT = 'application/openmetrics-text;version=1.0.0;q=0.9,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

/** Default max uncompressed body: 64 MiB. */
export const DEFAULT_BODY_SIZE_LIMIT = 64 << 20;

/** A failed scrape with a stable reason. */
export class ScrapeError extends VigilError {
  override name = 'ScrapeError';
  constructor(
    message: string,
    readonly reason: ScrapeFailureReason,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** What a successful fetch returns. */
export interface FetchedBody {
  readonly body: string;
  readonly contentType: string;
  readonly bytes: number;
}

/** Options of {@link fetchScrapeBody}. */
export interface FetchOptions {
  readonly timeoutMs: number;
  readonly bodySizeLimit: number;
  readonly http?: HttpClientConfig;
  /** Aborts the scrape (loop stopping). */
  readonly signal?: AbortSignal;
  readonly userAgent?: string;
}

const SECRET_FILE_MAX = 64 << 10;
/** Max size of a CA bundle, certificate or key file (1 MiB). */
const TLS_FILE_MAX = 1 << 20;

/** Reads a credentials/TLS file, bounded in size; failures become `internal` scrape errors. */
async function readBounded(file: string, max: number, what: string): Promise<Buffer> {
  let b: Buffer;
  try {
    b = await readFile(file);
  } catch (e) {
    throw new ScrapeError(`cannot read ${what} ${file}: ${(e as Error).message}`, 'internal', { cause: e });
  }
  if (b.length > max) throw new ScrapeError(`${what} ${file} is too large (${b.length} > ${max} bytes)`, 'internal');
  return b;
}

async function readSecret(file: string): Promise<string> {
  return (await readBounded(file, SECRET_FILE_MAX, 'credentials file')).toString('utf8').trim();
}

async function authHeader(c: HttpClientConfig | undefined): Promise<string | undefined> {
  if (!c) return undefined;
  if (c.basicAuth) {
    const pw = c.basicAuth.passwordFile ? await readSecret(c.basicAuth.passwordFile) : (c.basicAuth.password ?? '');
    return `Basic ${Buffer.from(`${c.basicAuth.username}:${pw}`).toString('base64')}`;
  }
  if (c.bearerTokenFile) return `Bearer ${await readSecret(c.bearerTokenFile)}`;
  if (c.bearerToken) return `Bearer ${c.bearerToken}`;
  return undefined;
}

/** TLS options of `tls_config`: CA bundle, client certificate and key, SNI name, skip-verify. */
async function tlsOptions(c: HttpClientConfig | undefined): Promise<https.RequestOptions> {
  const t = c?.tls;
  if (!t) return {};
  const o: https.RequestOptions = {};
  if (t.caFile) o.ca = await readBounded(t.caFile, TLS_FILE_MAX, 'CA file');
  if (t.certFile) o.cert = await readBounded(t.certFile, TLS_FILE_MAX, 'certificate file');
  if (t.keyFile) o.key = await readBounded(t.keyFile, TLS_FILE_MAX, 'key file');
  if (t.serverName) o.servername = t.serverName;
  if (t.insecureSkipVerify) o.rejectUnauthorized = false;
  return o;
}

/**
 * Fetches a scrape URL. Rejects with {@link ScrapeError}: `timeout`, `http_status`,
 * `connection`, `body_size_limit`.
 */
export async function fetchScrapeBody(url: string, opts: FetchOptions): Promise<FetchedBody> {
  const u = new URL(url);
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([timeout, opts.signal]) : timeout;
  const headers: Record<string, string> = {
    Accept: SCRAPE_ACCEPT,
    'Accept-Encoding': 'gzip',
    'User-Agent': opts.userAgent ?? 'vigil/0.1',
    'X-Prometheus-Scrape-Timeout-Seconds': String(opts.timeoutMs / 1000),
  };
  const auth = await authHeader(opts.http);
  if (auth) headers['Authorization'] = auth;
  const isHttps = u.protocol === 'https:';
  const reqOpts: https.RequestOptions = { method: 'GET', headers, signal, ...(isHttps ? await tlsOptions(opts.http) : {}) };
  const mod = isHttps ? https : http;
  const limit = opts.bodySizeLimit;

  return new Promise<FetchedBody>((resolve, reject) => {
    let settled = false;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      if (err instanceof ScrapeError) reject(err);
      else if (timeout.aborted) reject(new ScrapeError(`scrape timed out after ${opts.timeoutMs}ms`, 'timeout', { cause: err }));
      else if (opts.signal?.aborted) reject(new ScrapeError('scrape aborted', 'connection', { cause: err }));
      else reject(new ScrapeError(`scrape failed: ${(err as Error)?.message ?? String(err)}`, 'connection', { cause: err }));
    };
    const req = mod.request(u, reqOpts, (res) => {
      const status = res.statusCode ?? 0;
      if (status !== 200) {
        fail(new ScrapeError(`server returned HTTP status ${status} ${res.statusMessage ?? ''}`.trim(), 'http_status'));
        res.resume();
        req.destroy();
        return;
      }
      const declared = Number(res.headers['content-length']);
      const enc = String(res.headers['content-encoding'] ?? '').toLowerCase();
      if (enc === '' && Number.isFinite(declared) && declared > limit) {
        fail(new ScrapeError(`body size limit exceeded: Content-Length ${declared} > ${limit} bytes`, 'body_size_limit'));
        req.destroy();
        return;
      }
      let stream: Readable = res;
      if (enc === 'gzip' || enc === 'x-gzip') {
        const gz = createGunzip();
        res.pipe(gz);
        res.on('error', (e) => gz.destroy(e));
        stream = gz;
      } else if (enc !== '' && enc !== 'identity') {
        fail(new ScrapeError(`unsupported Content-Encoding ${JSON.stringify(enc)}`, 'connection'));
        req.destroy();
        return;
      }
      const chunks: Buffer[] = [];
      let total = 0;
      stream.on('data', (c: Buffer) => {
        total += c.length;
        if (total > limit) {
          fail(new ScrapeError(`body size limit exceeded: more than ${limit} bytes`, 'body_size_limit'));
          req.destroy();
          stream.destroy();
          return;
        }
        chunks.push(c);
      });
      stream.on('error', fail);
      res.on('aborted', () => fail(new Error('response aborted')));
      stream.on('end', () => {
        if (settled) return;
        settled = true;
        resolve({ body: Buffer.concat(chunks, total).toString('utf8'), contentType: String(res.headers['content-type'] ?? ''), bytes: total });
      });
    });
    req.on('error', fail);
    req.end();
  });
}

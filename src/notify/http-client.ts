/**
 * A small outgoing HTTP POST client shared by the Alertmanager notifier and remote-write out.
 * It applies {@link HttpClientConfig}: basic auth and bearer tokens (the `*_file` variants are
 * read at every request, so a rotated Kubernetes secret is picked up) and TLS (CA, client
 * certificate, server name, insecure skip verify) through a `node:https` Agent, rebuilt when a
 * TLS file changes (size or mtime, checked before each HTTPS request), so rotated certificates
 * are picked up too. Response bodies
 * are read only up to a bound. A `fetch` implementation can be injected (tests); TLS settings
 * are then the caller's business.
 */
import { readFile, stat } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { HttpClientConfig } from '../config/types.js';
import { VigilError } from '../model/errors.js';

/** Default bound of a response body kept in memory (enough for error messages). */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024;

/** `User-Agent` sent by vigil's outgoing clients. */
export const USER_AGENT = 'vigil/0.1.0';

/** One POST request. */
export interface PostRequest {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | Uint8Array;
  /** Whole-request timeout (connect + send + response body). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

/** A response; header names are lower case; `body` is truncated to the configured bound. */
export interface PostResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
}

/** Sends one POST; rejects with {@link HttpClientError} on network errors and timeouts only. */
export type PostFunc = (req: PostRequest) => Promise<PostResponse>;

/** A `fetch`-compatible function (the global one or a test double). */
export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body: string | Uint8Array; signal: AbortSignal }) => Promise<Response>;

/** A request failed before an HTTP status was received (network error, timeout, bad config file). */
export class HttpClientError extends VigilError {
  override name = 'HttpClientError';
}

/** Options of {@link createPoster}. */
export interface PosterOptions {
  /** Use this instead of `node:http(s)` (TLS settings of the config are then ignored). */
  readonly fetch?: FetchLike;
  /** Bound of the response body kept (default {@link DEFAULT_MAX_RESPONSE_BYTES}). */
  readonly maxResponseBytes?: number;
}

async function readSecretFile(path: string, what: string): Promise<string> {
  try {
    const buf = await readFile(path);
    if (buf.length > 64 * 1024) throw new Error(`file larger than 64 KiB`);
    return buf.toString('utf8').trim();
  } catch (err) {
    throw new HttpClientError(`cannot read ${what} from ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The `Authorization` header for `cfg`, or undefined. Files are read now (on every call).
 * Rejects with {@link HttpClientError} when a file cannot be read.
 */
export async function authorizationHeader(cfg: HttpClientConfig): Promise<string | undefined> {
  if (cfg.basicAuth !== undefined) {
    const { username, password, passwordFile } = cfg.basicAuth;
    const pw = passwordFile !== undefined && passwordFile !== '' ? await readSecretFile(passwordFile, 'basic_auth password') : (password ?? '');
    return `Basic ${Buffer.from(`${username}:${pw}`, 'utf8').toString('base64')}`;
  }
  if (cfg.bearerTokenFile !== undefined && cfg.bearerTokenFile !== '') {
    return `Bearer ${await readSecretFile(cfg.bearerTokenFile, 'bearer token')}`;
  }
  if (cfg.bearerToken !== undefined && cfg.bearerToken !== '') return `Bearer ${cfg.bearerToken}`;
  return undefined;
}

function combinedSignal(timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(Math.max(1, timeoutMs));
  return signal ? AbortSignal.any([t, signal]) : t;
}

function describeAbort(signal: AbortSignal, timeoutMs: number): string {
  const r: unknown = signal.reason;
  if (r instanceof Error && r.name === 'TimeoutError') return `timeout after ${timeoutMs} ms`;
  return 'aborted';
}

async function buildAgent(cfg: HttpClientConfig): Promise<https.Agent> {
  const tls = cfg.tls ?? {};
  const opts: https.AgentOptions = { keepAlive: true, maxSockets: 4 };
  if (tls.caFile) opts.ca = await readFile(tls.caFile);
  if (tls.certFile) opts.cert = await readFile(tls.certFile);
  if (tls.keyFile) opts.key = await readFile(tls.keyFile);
  if (tls.serverName) opts.servername = tls.serverName;
  if (tls.insecureSkipVerify) opts.rejectUnauthorized = false;
  return new https.Agent(opts);
}

/** A signature of the TLS files (size and mtime of each; '' when none are configured). */
async function tlsFilesSignature(cfg: HttpClientConfig): Promise<string> {
  const tls = cfg.tls ?? {};
  let sig = '';
  for (const f of [tls.caFile, tls.certFile, tls.keyFile]) {
    if (!f) continue;
    try {
      const st = await stat(f);
      sig += `${st.size}:${st.mtimeMs};`;
    } catch {
      sig += 'missing;'; // buildAgent reports the error
    }
  }
  return sig;
}

/** Idle keep-alive sockets of a replaced agent are closed after this long. */
const OLD_AGENT_GRACE_MS = 60_000;

function postWithNode(req: PostRequest, agent: http.Agent, maxBytes: number, signal: AbortSignal): Promise<PostResponse> {
  return new Promise((resolve, reject) => {
    const url = new URL(req.url);
    const mod = url.protocol === 'https:' ? https : http;
    const body = typeof req.body === 'string' ? Buffer.from(req.body, 'utf8') : req.body;
    const r = mod.request(
      url,
      { method: 'POST', agent, signal, headers: { ...req.headers, 'Content-Length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (c: Buffer) => {
          if (kept < maxBytes) {
            const part = c.subarray(0, maxBytes - kept);
            chunks.push(part);
            kept += part.length;
          }
        });
        res.on('close', () => {
          if (!res.complete) reject(new Error('connection closed before the response was complete'));
        });
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

async function readBounded(res: Response, maxBytes: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let kept = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (kept < maxBytes) {
      const part = value.subarray(0, maxBytes - kept);
      chunks.push(part);
      kept += part.length;
    }
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Creates a {@link PostFunc} for one client config. The `Authorization` header is added when
 * configured (callers' headers cannot override it). Never throws synchronously.
 */
export function createPoster(cfg: HttpClientConfig, opts: PosterOptions = {}): PostFunc {
  const maxBytes = opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const httpAgent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  let httpsAgent: Promise<https.Agent> | undefined;
  let tlsSig: string | undefined;
  return async (req) => {
    const signal = combinedSignal(req.timeoutMs, req.signal);
    const auth = await authorizationHeader(cfg);
    const headers: Record<string, string> = { 'User-Agent': USER_AGENT, ...req.headers };
    if (auth !== undefined) headers.Authorization = auth;
    try {
      if (opts.fetch !== undefined) {
        const res = await opts.fetch(req.url, { method: 'POST', headers, body: req.body, signal });
        const out: Record<string, string> = {};
        res.headers.forEach((v, k) => (out[k.toLowerCase()] = v));
        return { status: res.status, headers: out, body: await readBounded(res, maxBytes) };
      }
      let agent: http.Agent = httpAgent;
      if (req.url.startsWith('https:')) {
        const sig = await tlsFilesSignature(cfg);
        if (httpsAgent !== undefined && sig !== tlsSig) {
          // Rotated certificate or CA: new connections use the new files; requests in flight
          // on the old agent finish, its idle sockets are closed later.
          const old = httpsAgent;
          httpsAgent = undefined;
          setTimeout(() => void old.then((a) => a.destroy(), () => {}), OLD_AGENT_GRACE_MS).unref();
        }
        tlsSig = sig;
        httpsAgent ??= buildAgent(cfg);
        try {
          agent = await httpsAgent;
        } catch (err) {
          httpsAgent = undefined; // retry reading the files next time
          throw new HttpClientError(`cannot load TLS files: ${(err as Error).message}`, { cause: err });
        }
      }
      return await postWithNode({ ...req, headers }, agent, maxBytes, signal);
    } catch (err) {
      if (err instanceof HttpClientError) throw err;
      const msg = signal.aborted ? describeAbort(signal, req.timeoutMs) : (err as Error).message;
      throw new HttpClientError(`POST ${redactURL(req.url)}: ${msg}`, { cause: err });
    }
  };
}

/** The URL without user info and query (for logs and metric labels). */
export function redactURL(u: string): string {
  try {
    const url = new URL(u);
    url.username = '';
    url.password = '';
    return url.origin + url.pathname;
  } catch {
    return '<invalid url>';
  }
}

/** Parses a `Retry-After` header (seconds or an HTTP date) into ms from `now`; undefined if absent/invalid. */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

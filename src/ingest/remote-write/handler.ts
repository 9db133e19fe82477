/**
 * HTTP handler of the remote-write receiver (1.0 and 2.0 on one endpoint), on plain Node
 * request/response types so it mounts anywhere (`app.post('/api/v1/write', handler)`).
 *
 * Status codes follow the specs: 204 when everything was written; 400 with a message when
 * anything was invalid or refused by the storage (valid data is still committed first);
 * 413 for bodies over the limits; 415 for unsupported content type or encoding; 503 with
 * `Retry-After` when too many requests are in flight (5xx is retried by every Prometheus
 * sender, while 429 is only retried when the sender opts in; 429 is kept for rate limits);
 * 500 for retryable failures (commit/WAL
 * errors, bugs). 2.0 responses carry the `X-Prometheus-Remote-Write-*-Written` headers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Registry } from 'prom-client';
import { LimitError } from '../../model/errors.js';
import type { Logger } from '../../model/logger.js';
import { nopLogger } from '../../model/logger.js';
import type { Appendable, Appender, SeriesRef } from '../../storage/interface.js';
import type { SpanFactory, SpanTagValue, TraceSpan } from '../../tracing/span.js';
import { ingestV1 } from './decode-v1.js';
import { ingestV2 } from './decode-v2.js';
import type { ReceiverMetrics } from './metrics.js';
import { receiverMetrics } from './metrics.js';
import type { IngestContext, ReceiverLimits } from './series.js';
import { DEFAULT_LIMITS, IngestReport, SeriesCache, flushPending, formatLabels } from './series.js';
import { SnappyError, SnappyScratch, snappyDecompress } from './snappy.js';
import { DecodeError } from './wire.js';

/** Protocol version of a request. */
export type RemoteWriteVersion = '1.0' | '2.0';

/** Fully qualified proto names accepted in `Content-Type: application/x-protobuf;proto=…`. */
export const PROTO_V1 = 'prometheus.WriteRequest';
/** The 2.0 message name. */
export const PROTO_V2 = 'io.prometheus.write.v2.Request';

/** Options of {@link createRemoteWriteHandler}. */
export interface RemoteWriteHandlerOptions {
  /** Where data goes (one appender, i.e. one transaction, per request). */
  readonly appendable: Appendable;
  /** Storage check for cached refs (the head's `hasSeries`); without it cached refs are trusted. */
  readonly hasSeries?: (ref: SeriesRef) => boolean;
  /** Max compressed body bytes (default 32 MiB); larger answers 413. */
  readonly maxBodyBytes?: number;
  /** Max snappy-declared decompressed bytes (default 64 MiB); checked before allocating. */
  readonly maxDecompressedBytes?: number;
  /** Max concurrent requests (default 16); more answer 503 with Retry-After. */
  readonly maxInflight?: number;
  /** Seconds for `Retry-After` on overload (default 1). */
  readonly retryAfterSeconds?: number;
  /** Per-series limits (defaults in {@link DEFAULT_LIMITS}); a function is read per request (hot-reloadable per-tenant limits). */
  readonly limits?: Partial<ReceiverLimits> | (() => Partial<ReceiverLimits>);
  /** Max entries of the series fast-path cache (default 200,000). */
  readonly seriesCacheSize?: number;
  /** Registry for the `vigil_remote_write_*` metrics (default: a private registry). */
  readonly registry?: Registry;
  readonly logger?: Logger;
  /**
   * Self-tracing (default off): each request gets a `remote_write.request` span with children
   * `remote_write.decode` (decompression + decoding into the appender) and `remote_write.commit`.
   */
  readonly tracer?: SpanFactory;
  /** Tags added to every `remote_write.request` span (e.g. the tenant). */
  readonly spanTags?: Readonly<Record<string, SpanTagValue>>;
}

/** Response header names of 2.0. */
export const WRITTEN_HEADERS = {
  samples: 'X-Prometheus-Remote-Write-Samples-Written',
  histograms: 'X-Prometheus-Remote-Write-Histograms-Written',
  exemplars: 'X-Prometheus-Remote-Write-Exemplars-Written',
} as const;

const MiB = 1024 * 1024;

/**
 * Picks the protobuf message from `Content-Type`: missing or plain `application/x-protobuf`
 * is 1.0 (as Prometheus does); returns null for anything unsupported.
 */
export function negotiateContentType(ct: string | undefined): RemoteWriteVersion | null {
  if (ct === undefined || ct.trim() === '') return '1.0';
  const parts = ct.split(';');
  if (parts[0]!.trim().toLowerCase() !== 'application/x-protobuf') return null;
  let proto: string | null = null;
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i]!;
    const eq = p.indexOf('=');
    if (eq < 0) continue;
    if (p.slice(0, eq).trim().toLowerCase() !== 'proto') continue;
    proto = p.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  if (proto === null || proto === PROTO_V1) return '1.0';
  if (proto === PROTO_V2) return '2.0';
  return null;
}

/** True for an acceptable `Content-Encoding` (snappy; missing is treated as snappy). */
export function acceptableEncoding(enc: string | undefined): boolean {
  return enc === undefined || enc.trim() === '' || enc.trim().toLowerCase() === 'snappy';
}

type BodyResult = Buffer | 'too-large' | 'aborted';

/**
 * Reusable buffers for request bodies that arrive in several chunks (they are copied into one
 * buffer): at most `maxKept` buffers of up to `maxBytes` each are kept between requests, so a
 * steady stream of requests does not allocate and free a body-sized buffer each time.
 */
class BodyPool {
  private readonly free: ArrayBuffer[] = [];
  private readonly owned = new Set<ArrayBuffer>();
  constructor(
    private readonly maxKept: number,
    private readonly maxBytes = 4 * MiB,
  ) {}

  /** A buffer of exactly `n` bytes. */
  take(n: number): Buffer {
    if (n > this.maxBytes) return Buffer.allocUnsafeSlow(n);
    for (let i = this.free.length - 1; i >= 0; i--) {
      const ab = this.free[i]!;
      if (ab.byteLength >= n) {
        this.free.splice(i, 1);
        return Buffer.from(ab, 0, n);
      }
    }
    if (this.free.length > 0) this.owned.delete(this.free.pop()!); // too small: replace it
    if (this.owned.size >= this.maxKept) return Buffer.allocUnsafeSlow(n);
    const ab = new ArrayBuffer(Math.min(this.maxBytes, Math.max(n, 256 * 1024)));
    this.owned.add(ab);
    return Buffer.from(ab, 0, n);
  }

  /** Gives a buffer from {@link take} back (others are ignored). */
  give(b: Buffer): void {
    const ab = b.buffer as ArrayBuffer;
    if (this.owned.has(ab) && !this.free.includes(ab)) this.free.push(ab);
  }
}

function readBody(req: IncomingMessage, max: number, pool: BodyPool): Promise<BodyResult> {
  const pre = (req as { body?: unknown }).body;
  if (pre instanceof Uint8Array && req.readableEnded) {
    return Promise.resolve(pre.length > max ? 'too-large' : Buffer.from(pre.buffer, pre.byteOffset, pre.byteLength));
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let done = false;
    const finish = (v: BodyResult): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onClose);
      resolve(v);
    };
    const onData = (c: Buffer): void => {
      total += c.length;
      if (total > max) {
        chunks.length = 0;
        finish('too-large');
        req.resume(); // discard the rest without buffering it
        return;
      }
      chunks.push(c);
    };
    const onEnd = (): void => {
      if (chunks.length === 1) return finish(chunks[0]!);
      const out = pool.take(total);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.length;
      }
      finish(out);
    };
    const onAbort = (): void => finish('aborted');
    const onClose = (): void => {
      if (!req.complete) finish('aborted');
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onClose);
  });
}

function send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.statusCode = status;
  for (const [k, v] of Object.entries(headers)) res.setHeader(k, v);
  if (status === 204 || body === '') {
    res.end();
    return;
  }
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(body.endsWith('\n') ? body : body + '\n');
}

function writtenHeaders(c: { samples: number; histograms: number; exemplars: number }): Record<string, string> {
  return {
    [WRITTEN_HEADERS.samples]: String(c.samples),
    [WRITTEN_HEADERS.histograms]: String(c.histograms),
    [WRITTEN_HEADERS.exemplars]: String(c.exemplars),
  };
}

const ZERO = { samples: 0, histograms: 0, exemplars: 0 };

/** Builds the 400 message for a partially (or not) written request. */
function failureMessage(rep: IngestReport, app: Appender): string {
  const c = app.counts;
  const rj = app.rejected;
  const reasons: string[] = [];
  for (const [r, n] of rep.invalidByReason) reasons.push(`${r}=${n}`);
  for (const [r, n] of rj.byReason) reasons.push(`${r}=${n}`);
  const parts = [
    `remote write: ${c.samples} of ${rep.samples} samples, ${c.histograms} of ${rep.histograms} histograms, ` +
      `${c.exemplars} of ${rep.exemplars} exemplars written`,
  ];
  if (reasons.length > 0) parts.push(`rejected: ${reasons.join(', ')}`);
  const details = [...rep.messages];
  for (const r of rj.first) {
    if (details.length >= 8) break;
    details.push(`${r.reason} for series ${formatLabels(r.labels)} at t=${r.t}: ${r.message}`);
  }
  if (details.length > 0) parts.push(`first errors: ${details.join('; ')}`);
  return parts.join('; ');
}

/**
 * Creates the remote-write HTTP handler. The returned function never throws or rejects:
 * unexpected errors answer 500 and are logged.
 */
export function createRemoteWriteHandler(opts: RemoteWriteHandlerOptions): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const maxBody = opts.maxBodyBytes ?? 32 * MiB;
  const maxDecompressed = opts.maxDecompressedBytes ?? 64 * MiB;
  const maxInflight = opts.maxInflight ?? 16;
  const retryAfter = String(opts.retryAfterSeconds ?? 1);
  const fixedLimits: ReceiverLimits | undefined = typeof opts.limits === 'function' ? undefined : { ...DEFAULT_LIMITS, ...opts.limits };
  const limitsGetter = typeof opts.limits === 'function' ? opts.limits : undefined;
  const cache = new SeriesCache(opts.seriesCacheSize ?? 200_000);
  // Bodies are decompressed and decoded synchronously, one at a time: one scratch suffices.
  const scratch = new SnappyScratch();
  const bodies = new BodyPool(maxInflight);
  const logger = opts.logger ?? nopLogger;
  const metrics: ReceiverMetrics = receiverMetrics(opts.registry ?? new Registry());
  let inflight = 0;

  const tracer = opts.tracer?.enabled ? opts.tracer : undefined;

  const handle = async (req: IncomingMessage, res: ServerResponse, t0: number, span: TraceSpan | undefined): Promise<void> => {
    let version: RemoteWriteVersion | 'unknown' = 'unknown';
    const reply = (status: number, body: string, headers?: Record<string, string>): void => {
      metrics.requests.inc({ version, code: String(status) });
      send(res, status, body, headers);
    };
    if (req.method !== undefined && req.method !== 'POST') {
      reply(405, 'remote write: only POST is supported', { Allow: 'POST' });
      return;
    }
    const v = negotiateContentType(req.headers['content-type']);
    if (v === null) {
      reply(415, `remote write: unsupported Content-Type ${JSON.stringify(req.headers['content-type'])}; expected application/x-protobuf or application/x-protobuf;proto=${PROTO_V2}`);
      return;
    }
    version = v;
    const zeroHeaders = version === '2.0' ? writtenHeaders(ZERO) : {};
    if (!acceptableEncoding(req.headers['content-encoding'])) {
      reply(415, `remote write: unsupported Content-Encoding ${JSON.stringify(req.headers['content-encoding'])}; only snappy is supported`, zeroHeaders);
      return;
    }
    const tooLarge = (): void => {
      res.setHeader('Connection', 'close');
      reply(413, `remote write: request body exceeds the limit of ${maxBody} bytes`, zeroHeaders);
    };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBody) {
      req.resume();
      tooLarge();
      return;
    }
    const body = await readBody(req, maxBody, bodies);
    if (body === 'aborted') {
      metrics.requests.inc({ version, code: 'aborted' });
      return;
    }
    if (body === 'too-large') {
      tooLarge();
      return;
    }
    metrics.requestBytes.observe({ version }, body.length);

    span?.setTag('version', version);
    const decodeSpan = tracer?.startSpan('remote_write.decode', { ...(span ? { childOf: span } : {}), tags: { version, bytes: body.length } });
    let raw: Buffer;
    try {
      raw = snappyDecompress(body, maxDecompressed, scratch);
    } catch (err) {
      decodeSpan?.fail(err);
      decodeSpan?.finish();
      bodies.give(body);
      if (err instanceof LimitError) reply(err.status, `remote write: ${err.message}`, zeroHeaders);
      else if (err instanceof SnappyError) reply(400, `remote write: invalid snappy body: ${err.message}`, zeroHeaders);
      else throw err;
      return;
    }
    bodies.give(body);

    const app = opts.appendable.appender();
    const rep = new IngestReport();
    const limits = fixedLimits ?? { ...DEFAULT_LIMITS, ...limitsGetter!() };
    const ctx: IngestContext = { limits, cache, hasSeries: opts.hasSeries, pending: [] };
    try {
      if (version === '2.0') ingestV2(raw, app, ctx, rep);
      else ingestV1(raw, app, ctx, rep);
      decodeSpan?.setTag('decompressed_bytes', raw.length).setTag('samples', rep.samples).setTag('histograms', rep.histograms);
    } catch (err) {
      decodeSpan?.fail(err);
      app.rollback();
      if (err instanceof DecodeError) {
        reply(400, err.message, zeroHeaders);
        return;
      }
      throw err;
    } finally {
      decodeSpan?.finish();
    }
    metrics.samplesReceived.inc({ version }, rep.samples + rep.histograms);
    const commitSpan = tracer?.startSpan('remote_write.commit', { ...(span ? { childOf: span } : {}) });
    try {
      await app.commit();
      commitSpan?.setTag('samples', app.counts.samples).setTag('histograms', app.counts.histograms).setTag('rejected', app.rejected.total);
    } catch (err) {
      commitSpan?.fail(err);
      if (err instanceof LimitError) {
        // A limit checked at commit (per-tenant ingestion rate): nothing was written.
        const ra = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
        reply(err.status, `remote write: ${err.message}`, { ...zeroHeaders, ...(typeof ra === 'number' ? { 'Retry-After': String(ra) } : {}) });
        return;
      }
      logger.error('remote write: commit failed', { err, version });
      reply(500, `remote write: storage commit failed: ${err instanceof Error ? err.message : String(err)}`, zeroHeaders);
      return;
    } finally {
      commitSpan?.finish();
    }
    flushPending(ctx);
    for (const [r, n] of rep.invalidByReason) metrics.rejectedSamples.inc({ reason: r }, n);
    for (const [r, n] of app.rejected.byReason) metrics.rejectedSamples.inc({ reason: r }, n);
    const c = app.counts;
    const headers = version === '2.0' ? writtenHeaders(c) : {};
    const complete =
      !rep.failed && app.rejected.total === 0 && c.samples >= rep.samples && c.histograms >= rep.histograms && c.exemplars >= rep.exemplars;
    if (complete) {
      reply(204, '', headers);
    } else {
      const msg = failureMessage(rep, app);
      logger.debug('remote write: partial write', { msg, version });
      reply(400, msg, headers);
    }
    metrics.duration.observe({ version }, (performance.now() - t0) / 1000);
  };

  return async (req, res) => {
    const t0 = performance.now();
    const span = tracer ? requestSpan(tracer, req, opts.spanTags) : undefined;
    try {
      if (inflight >= maxInflight) {
        metrics.requests.inc({ version: 'unknown', code: '503' });
        send(res, 503, `remote write: too many concurrent requests (limit ${maxInflight})`, { 'Retry-After': retryAfter });
        req.resume();
        return;
      }
      inflight++;
      try {
        await handle(req, res, t0, span);
      } finally {
        inflight--;
      }
    } catch (err) {
      logger.error('remote write: request failed', { err });
      try {
        metrics.requests.inc({ version: 'unknown', code: '500' });
        send(res, 500, `remote write: internal error: ${err instanceof Error ? err.message : String(err)}`);
      } catch {
        // the response is unusable; nothing more to do
      }
      span?.fail(err);
    } finally {
      if (span && res.statusCode >= 500) span.setTag('error', true);
      span?.setTag('http.status_code', res.statusCode);
      span?.finish();
    }
  };
}

/** The `remote_write.request` span of a request (server kind, body size, encoding). */
function requestSpan(tracer: SpanFactory, req: IncomingMessage, extra: Readonly<Record<string, SpanTagValue>> | undefined): TraceSpan {
  const len = Number(req.headers['content-length'] ?? NaN);
  const enc = req.headers['content-encoding'];
  return tracer.startSpan('remote_write.request', {
    tags: {
      'span.kind': 'server',
      ...(extra ?? {}),
      ...(Number.isFinite(len) ? { 'http.request_content_length': len } : {}),
      ...(typeof enc === 'string' ? { encoding: enc.slice(0, 64) } : {}),
    },
  });
}

/**
 * Request parameter parsing for the Prometheus-compatible API: form values from the query
 * string and (bounded) form-encoded POST bodies, timestamps, durations, limits.
 */
import type { IncomingMessage } from 'node:http';
import { parseDuration } from '../config/duration.js';

/** A client error in a parameter (answered 400 `bad_data`, or `status` when set). */
export class ParamError extends Error {
  override name = 'ParamError';
  constructor(
    message: string,
    readonly status: 400 | 413 | 415 = 400,
  ) {
    super(message);
  }
}

/** Largest accepted form-encoded body. */
export const MAX_FORM_BYTES = 1024 * 1024;

/** Smallest/largest timestamps (ms): what `start`/`end` default to. */
export const MIN_TIME = -9_223_372_036_854; // ≈ Prometheus MinTime in ms (int64 min / 1e6)
/** See {@link MIN_TIME}. */
export const MAX_TIME = 9_223_372_036_854;

/** Prometheus's printed forms of its min/max time (clients echo them back). */
const MIN_TIME_STRINGS = new Set(['-292273086-05-16T16:47:06Z', '-292273086-05-16T16:47:06.000Z']);
const MAX_TIME_STRINGS = new Set(['292277025-08-18T07:12:54.999999999Z', '292277025-08-18T07:12:54.999Z']);

const FLOAT_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/**
 * Reads the form values of a request: the body of a form-encoded POST (bounded to
 * `maxBytes`) first, then the URL query string (body values win for single-valued reads, as
 * with Go's `r.FormValue`).
 */
export async function readForm(req: IncomingMessage, maxBytes = MAX_FORM_BYTES): Promise<URLSearchParams> {
  const url = new URL(req.url ?? '/', 'http://x');
  const out = new URLSearchParams();
  if (req.method === 'POST') {
    const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (ct === 'application/x-www-form-urlencoded') {
      const body = await readBounded(req, maxBytes);
      for (const [k, v] of new URLSearchParams(body.toString('utf8'))) out.append(k, v);
    } else if (ct !== '' && (req.headers['content-length'] ?? '0') !== '0') {
      throw new ParamError(`unsupported Content-Type ${JSON.stringify(ct)}: use application/x-www-form-urlencoded`, 415);
    }
  }
  for (const [k, v] of url.searchParams) out.append(k, v);
  return out;
}

/** Reads a request body, refusing more than `maxBytes` (by Content-Length first, then while reading). */
export async function readBounded(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) {
    req.resume();
    throw new ParamError(`request body of ${declared} bytes exceeds the limit of ${maxBytes} bytes`, 413);
  }
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of req as AsyncIterable<Buffer>) {
    n += c.length;
    if (n > maxBytes) {
      req.resume();
      throw new ParamError(`request body exceeds the limit of ${maxBytes} bytes`, 413);
    }
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/**
 * Parses a timestamp parameter: unix seconds (float) or RFC 3339. Returns integer ms.
 * Prometheus's printed min/max time strings map to {@link MIN_TIME}/{@link MAX_TIME}.
 */
export function parseTimeParam(name: string, s: string): number {
  if (FLOAT_RE.test(s)) {
    const f = Number(s);
    if (Number.isFinite(f)) {
      const ms = Math.round(f * 1000);
      if (ms >= MIN_TIME && ms <= MAX_TIME) return ms;
    }
  } else if (MIN_TIME_STRINGS.has(s)) {
    return MIN_TIME;
  } else if (MAX_TIME_STRINGS.has(s)) {
    return MAX_TIME;
  } else if (RFC3339_RE.test(s)) {
    const t = Date.parse(s);
    if (Number.isFinite(t)) return t;
  }
  throw new ParamError(`invalid parameter ${JSON.stringify(name)}: cannot parse ${JSON.stringify(s)} to a valid timestamp`);
}

/** Parses a duration parameter: float seconds or a Prometheus duration (`15s`, `1m`). Returns ms (≥ 0 not enforced). */
export function parseDurationParam(name: string, s: string): number {
  if (FLOAT_RE.test(s)) {
    const f = Number(s);
    if (Number.isFinite(f) && Math.abs(f) < 9.2e15) return Math.round(f * 1000);
  } else {
    try {
      return parseDuration(s);
    } catch {
      // fall through to the error below
    }
  }
  throw new ParamError(`invalid parameter ${JSON.stringify(name)}: cannot parse ${JSON.stringify(s)} to a valid duration`);
}

/** A time parameter with a default when absent or empty. */
export function timeOr(form: URLSearchParams, name: string, dflt: number): number {
  const v = form.get(name);
  return v === null || v === '' ? dflt : parseTimeParam(name, v);
}

/** Parses `limit` (non-negative integer; 0 or absent = no limit). */
export function parseLimit(form: URLSearchParams, name = 'limit'): number {
  const v = form.get(name);
  if (v === null || v === '') return 0;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new ParamError(`invalid parameter ${JSON.stringify(name)}: cannot parse ${JSON.stringify(v)} to a non-negative integer`);
  }
  return Number(v);
}

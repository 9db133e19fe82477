/**
 * Native histogram decoding (shared by remote-write 1.0 `prometheus.Histogram` and 2.0
 * `io.prometheus.write.v2.Histogram`, which use the same field numbers; 2.0 adds
 * `start_timestamp = 17`) and validation, producing the {@link FloatHistogram} the appender
 * stores. Integer histograms (delta-encoded bucket counts) become absolute float counts.
 */
import type { BucketSpan, FloatHistogram } from '../../model/histogram.js';
import { CUSTOM_BUCKETS_SCHEMA, CounterResetHint, deltasToAbsolute } from '../../model/histogram.js';
import type { Reader } from './wire.js';
import {
  DecodeError,
  WT_FIXED64,
  WT_LEN,
  WT_VARINT,
  enter,
  leave,
  readDouble,
  readDoubles,
  readInt64,
  readSint64,
  readTag,
  readUint32,
  readUint64,
  readVarints,
  skipField,
} from './wire.js';

/** A decoded histogram sample: the value, or why it is invalid. */
export interface DecodedHistogram {
  readonly t: number;
  /** Start (created) timestamp, 0 when unset. */
  readonly st: number;
  readonly h: FloatHistogram;
  /** Validation error, or null when the histogram is valid. */
  readonly error: string | null;
}

function readSpans(r: Reader, out: BucketSpan[]): void {
  const saved = enter(r);
  let offset = 0;
  let length = 0;
  while (r.pos < r.len) {
    const tag = readTag(r);
    if (tag === 8) offset = r.sint32();
    else if (tag === 16) length = readUint32(r);
    else skipField(r, tag & 7);
  }
  leave(r, saved);
  out.push({ offset, length });
}

function expectWire(tag: number, wt: number): void {
  if ((tag & 7) !== wt) throw new DecodeError(`histogram field ${tag >>> 3}: wire type ${tag & 7}, want ${wt}`);
}

/**
 * Decodes one Histogram message; the reader is positioned at its length prefix. Malformed
 * protobuf throws {@link DecodeError}; semantically invalid histograms come back with `error`.
 */
export function readHistogram(r: Reader): DecodedHistogram {
  const saved = enter(r);
  let countInt = 0;
  let countFloat = 0;
  let isFloat: boolean | null = null;
  let sum = 0;
  let schema = 0;
  let zeroThreshold = 0;
  let zeroCount = 0;
  let resetHint = 0;
  let t = 0;
  let st = 0;
  const negSpans: BucketSpan[] = [];
  const posSpans: BucketSpan[] = [];
  const negDeltas: number[] = [];
  const posDeltas: number[] = [];
  const negCounts: number[] = [];
  const posCounts: number[] = [];
  const customValues: number[] = [];
  while (r.pos < r.len) {
    const tag = readTag(r);
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expectWire(tag, WT_VARINT);
        countInt = readUint64(r);
        isFloat = false;
        break;
      case 2:
        expectWire(tag, WT_FIXED64);
        countFloat = readDouble(r);
        isFloat = true;
        break;
      case 3:
        expectWire(tag, WT_FIXED64);
        sum = readDouble(r);
        break;
      case 4:
        expectWire(tag, WT_VARINT);
        schema = r.sint32();
        break;
      case 5:
        expectWire(tag, WT_FIXED64);
        zeroThreshold = readDouble(r);
        break;
      case 6:
        expectWire(tag, WT_VARINT);
        zeroCount = readUint64(r);
        break;
      case 7:
        expectWire(tag, WT_FIXED64);
        zeroCount = readDouble(r);
        break;
      case 8:
        expectWire(tag, WT_LEN);
        readSpans(r, negSpans);
        break;
      case 9:
        readVarints(r, wt, negDeltas, readSint64);
        break;
      case 10:
        readDoubles(r, wt, negCounts);
        break;
      case 11:
        expectWire(tag, WT_LEN);
        readSpans(r, posSpans);
        break;
      case 12:
        readVarints(r, wt, posDeltas, readSint64);
        break;
      case 13:
        readDoubles(r, wt, posCounts);
        break;
      case 14:
        expectWire(tag, WT_VARINT);
        resetHint = readUint32(r);
        break;
      case 15:
        expectWire(tag, WT_VARINT);
        t = readInt64(r);
        break;
      case 16:
        readDoubles(r, wt, customValues);
        break;
      case 17:
        expectWire(tag, WT_VARINT);
        st = readInt64(r);
        break;
      default:
        skipField(r, wt);
    }
  }
  leave(r, saved);
  if (isFloat === null) isFloat = posCounts.length + negCounts.length > 0 && posDeltas.length + negDeltas.length === 0;
  let error: string | null = null;
  if (isFloat && posDeltas.length + negDeltas.length > 0) error = 'float histogram with integer bucket deltas';
  if (!isFloat && posCounts.length + negCounts.length > 0) error = 'integer histogram with float bucket counts';
  const h: FloatHistogram = {
    counterResetHint: resetHint <= 3 ? (resetHint as CounterResetHint) : CounterResetHint.Unknown,
    schema,
    zeroThreshold,
    zeroCount,
    count: isFloat ? countFloat : countInt,
    sum,
    positiveSpans: posSpans,
    negativeSpans: negSpans,
    positiveBuckets: isFloat ? posCounts : deltasToAbsolute(posDeltas),
    negativeBuckets: isFloat ? negCounts : deltasToAbsolute(negDeltas),
    ...(customValues.length > 0 ? { customValues } : {}),
  };
  return { t, st, h, error: error ?? validateHistogram(h, !isFloat) };
}

function checkSide(spans: readonly BucketSpan[], buckets: readonly number[], side: string): string | null {
  let n = 0;
  for (let i = 0; i < spans.length; i++) {
    const s = spans[i]!;
    if (i > 0 && s.offset < 0) return `${side} span ${i} has negative offset ${s.offset}`;
    n += s.length;
  }
  if (n !== buckets.length) return `${side} spans cover ${n} buckets but ${buckets.length} bucket counts were sent`;
  for (const c of buckets) {
    if (!(c >= 0)) return `${side} bucket count ${c} is negative or NaN`;
  }
  return null;
}

/**
 * Validates a histogram the way Prometheus does before storing it: schema range, spans
 * matching bucket counts, non-negative counts, custom-bucket rules (schema -53), and the
 * observation count against the bucket total. Returns null when valid.
 */
export function validateHistogram(h: FloatHistogram, isInt: boolean): string | null {
  const custom = h.schema === CUSTOM_BUCKETS_SCHEMA;
  if (!custom && (h.schema < -4 || h.schema > 8)) return `invalid histogram schema ${h.schema}`;
  if (!(h.zeroThreshold >= 0)) return `invalid zero threshold ${h.zeroThreshold}`;
  if (!(h.zeroCount >= 0)) return `invalid zero bucket count ${h.zeroCount}`;
  const err = checkSide(h.positiveSpans, h.positiveBuckets, 'positive') ?? checkSide(h.negativeSpans, h.negativeBuckets, 'negative');
  if (err !== null) return err;
  const cv = h.customValues ?? [];
  if (custom) {
    if (h.negativeSpans.length > 0 || h.negativeBuckets.length > 0) return 'custom-bucket histogram with negative buckets';
    if (h.zeroCount !== 0 || h.zeroThreshold !== 0) return 'custom-bucket histogram with a zero bucket';
    for (let i = 0; i < cv.length; i++) {
      if (Number.isNaN(cv[i]!) || cv[i] === Infinity || (i > 0 && !(cv[i]! > cv[i - 1]!))) {
        return 'custom bucket bounds must be finite and strictly increasing';
      }
    }
    let idx = -1;
    for (const s of h.positiveSpans) {
      if (s.offset < 0) return `custom-bucket span with negative offset ${s.offset}`;
      idx += s.offset + s.length;
    }
    if (idx > cv.length) return `custom-bucket index ${idx} exceeds the ${cv.length} bounds`;
  } else if (cv.length > 0) {
    return `histogram with exponential schema ${h.schema} has custom bounds`;
  }
  let total = h.zeroCount;
  for (const c of h.positiveBuckets) total += c;
  for (const c of h.negativeBuckets) total += c;
  if (isInt) {
    if (Number.isNaN(h.sum) ? total > h.count : total !== h.count) {
      return `${total} observations found in buckets, but the count is ${h.count}`;
    }
  } else if (total > h.count * (1 + 1e-9) + 1e-9) {
    return `${total} observations found in buckets, but the count is only ${h.count}`;
  }
  return null;
}

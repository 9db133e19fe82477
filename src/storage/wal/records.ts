/**
 * Binary encoding of {@link WalRecord}s (the payload of one WAL frame; framing is in
 * `segment.ts`). Layouts, all integers varints unless noted:
 *
 * - series:     count, then per series: ref, labels (count, then name and value as
 *               length-prefixed UTF-8).
 * - samples:    tsMode (u8), n, refs as zigzag deltas from the previous ref (starting at 0),
 *               timestamps (tsMode 0: first as raw f64 then zigzag deltas; tsMode 1, used when a
 *               timestamp is not a safe integer or a delta is too large: n raw f64), then the n
 *               values as raw little-endian f64 bytes (bit-exact, the staleness NaN survives).
 * - histograms: count, then per sample: ref, t (f64), counterResetHint (u8), schema (zigzag),
 *               zeroThreshold, zeroCount, count, sum (f64), positive spans, negative spans
 *               (count, then zigzag offset and length), positive and negative buckets (count,
 *               f64s), customValues (u8 present flag, count, f64s).
 * - samples with start timestamps (own type, so older readers reject rather than misread it):
 *               a samples layout, then stMode (u8) and per sample (stMode 0) a varint that is 0
 *               for "unknown" or 1 + zigzag(st - t), or (stMode 1, when an offset is too large)
 *               the raw f64 start timestamp (0: unknown).
 * - histograms with start timestamps: the histograms layout with st (f64, 0: unknown) after t.
 * - exemplars:  count, then per exemplar: ref, labels, value (f64), t (f64).
 * - metadata:   count, then per entry: metric name, type (u8 index), help, unit.
 *
 * Decoding validates every length against the payload and throws only {@link WalCorruptionError}.
 */
import type { BucketSpan, FloatHistogram } from '../../model/histogram.js';
import type { Label, Labels } from '../../model/labels.js';
import type { Exemplar, MetricMetadata, MetricType } from '../../model/samples.js';
import { assertNever } from '../../model/errors.js';
import { ByteReader, ByteWriter } from './bytes.js';
import { WalCorruptionError } from './errors.js';
import type { WalRecord } from './interface.js';

/** Frame type byte of each record kind. 0 is never used (zero-filled tails are corrupt). */
export const RECORD_TYPE = { series: 1, samples: 2, histograms: 3, exemplars: 4, metadata: 5, samplesWithStart: 6, histogramsWithStart: 7 } as const;

/** Upper bound of one record's payload, checked on write and before reading. */
export const MAX_RECORD_BYTES = 128 * 1024 * 1024;

/** Float samples per record; larger samples records are split. */
export const MAX_SAMPLES_PER_RECORD = 1 << 20;
/** Entries per record for the other kinds; larger records are split. */
export const MAX_ENTRIES_PER_RECORD = 1 << 16;

const METRIC_TYPES: readonly MetricType[] = ['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown'];
const METRIC_TYPE_INDEX = new Map<MetricType, number>(METRIC_TYPES.map((t, i) => [t, i]));
const MAX_DELTA = 2 ** 52;

/** One encoded record: its frame type byte and payload. */
export interface EncodedRecord {
  readonly type: number;
  readonly payload: Buffer;
}

function writeLabels(w: ByteWriter, ls: Labels): void {
  w.uvarint(ls.length);
  for (const l of ls) {
    w.str(l.name);
    w.str(l.value);
  }
}

function readLabels(r: ByteReader): Labels {
  const n = r.count(2, 'label');
  const out: Label[] = new Array<Label>(n);
  for (let i = 0; i < n; i++) out[i] = { name: r.str(), value: r.str() };
  return out;
}

function writeSpans(w: ByteWriter, spans: readonly BucketSpan[]): void {
  w.uvarint(spans.length);
  for (const s of spans) {
    w.zigzag(s.offset | 0);
    w.uvarint(s.length >>> 0);
  }
}

function readSpans(r: ByteReader): BucketSpan[] {
  const n = r.count(2, 'span');
  const out = new Array<BucketSpan>(n);
  for (let i = 0; i < n; i++) out[i] = { offset: r.zigzag(), length: r.uvarint() };
  return out;
}

function writeFloats(w: ByteWriter, fs: readonly number[]): void {
  w.uvarint(fs.length);
  for (const f of fs) w.f64(f);
}

function readFloats(r: ByteReader): number[] {
  const n = r.count(8, 'float');
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = r.f64();
  return out;
}

function writeHistogram(w: ByteWriter, h: FloatHistogram): void {
  w.u8(h.counterResetHint);
  w.zigzag(h.schema | 0);
  w.f64(h.zeroThreshold);
  w.f64(h.zeroCount);
  w.f64(h.count);
  w.f64(h.sum);
  writeSpans(w, h.positiveSpans);
  writeSpans(w, h.negativeSpans);
  writeFloats(w, h.positiveBuckets);
  writeFloats(w, h.negativeBuckets);
  if (h.customValues === undefined) w.u8(0);
  else {
    w.u8(1);
    writeFloats(w, h.customValues);
  }
}

function readHistogram(r: ByteReader): FloatHistogram {
  const hint = r.u8();
  if (hint > 3) throw new WalCorruptionError(`invalid counter reset hint ${hint}`, r.offset);
  const schema = r.zigzag();
  const zeroThreshold = r.f64();
  const zeroCount = r.f64();
  const count = r.f64();
  const sum = r.f64();
  const positiveSpans = readSpans(r);
  const negativeSpans = readSpans(r);
  const positiveBuckets = readFloats(r);
  const negativeBuckets = readFloats(r);
  const flag = r.u8();
  if (flag > 1) throw new WalCorruptionError(`invalid custom values flag ${flag}`, r.offset);
  const h: FloatHistogram = {
    counterResetHint: hint,
    schema,
    zeroThreshold,
    zeroCount,
    count,
    sum,
    positiveSpans,
    negativeSpans,
    positiveBuckets,
    negativeBuckets,
  };
  return flag === 1 ? { ...h, customValues: readFloats(r) } : h;
}

function encodeSamples(w: ByteWriter, refs: Uint32Array, ts: Float64Array, vs: Float64Array, from: number, n: number): void {
  let intTs = true;
  let prev = 0;
  for (let i = 0; i < n; i++) {
    const t = ts[from + i]!;
    if (!Number.isSafeInteger(t) || (i > 0 && Math.abs(t - prev) > MAX_DELTA)) {
      intTs = false;
      break;
    }
    prev = t;
  }
  w.u8(intTs ? 0 : 1);
  w.uvarint(n);
  let pr = 0;
  for (let i = 0; i < n; i++) {
    const ref = refs[from + i]!;
    w.zigzag(ref - pr);
    pr = ref;
  }
  if (intTs) {
    if (n > 0) w.f64(ts[from]!);
    for (let i = 1; i < n; i++) w.zigzag(ts[from + i]! - ts[from + i - 1]!);
  } else {
    for (let i = 0; i < n; i++) w.f64(ts[from + i]!);
  }
  w.f64Column(from === 0 ? vs : vs.subarray(from), n);
}

function decodeSamples(r: ByteReader): WalRecord {
  const mode = r.u8();
  if (mode > 1) throw new WalCorruptionError(`invalid timestamp mode ${mode}`, r.offset);
  // Each sample takes at least 1 (ref) + 1 (ts) + 8 (value) bytes.
  const n = r.count(10, 'sample');
  const refs = new Uint32Array(n);
  let ref = 0;
  for (let i = 0; i < n; i++) {
    ref += r.zigzag();
    if (ref < 0 || ref > 0xffffffff) throw new WalCorruptionError(`series ref ${ref} out of range`, r.offset);
    refs[i] = ref;
  }
  const ts = new Float64Array(n);
  if (mode === 0) {
    if (n > 0) ts[0] = r.f64();
    for (let i = 1; i < n; i++) ts[i] = ts[i - 1]! + r.zigzag();
  } else {
    for (let i = 0; i < n; i++) ts[i] = r.f64();
  }
  const vs = r.f64Column(n);
  return { kind: 'samples', n, refs, ts, vs };
}

/** Largest |st - t| written as a varint (keeps 1 + zigzag within 2^53). */
const MAX_ST_OFFSET = 2 ** 50;

function encodeStarts(w: ByteWriter, ts: Float64Array, sts: Float64Array, from: number, n: number): void {
  let small = true;
  for (let i = from; i < from + n; i++) {
    const st = sts[i]!;
    const d = st - ts[i]!;
    if (st !== 0 && !(Number.isSafeInteger(d) && Math.abs(d) <= MAX_ST_OFFSET)) {
      small = false;
      break;
    }
  }
  w.u8(small ? 0 : 1);
  for (let i = from; i < from + n; i++) {
    const st = sts[i]!;
    if (!small) w.f64(st);
    else if (st === 0) w.uvarint(0);
    else {
      const d = st - ts[i]!;
      w.uvarint(1 + (d >= 0 ? d * 2 : -d * 2 - 1));
    }
  }
}

function decodeStarts(r: ByteReader, ts: Float64Array): Float64Array {
  const mode = r.u8();
  if (mode > 1) throw new WalCorruptionError(`invalid start timestamp mode ${mode}`, r.offset);
  const n = ts.length;
  const sts = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (mode === 1) {
      sts[i] = r.f64();
      continue;
    }
    const u = r.uvarint();
    if (u === 0) continue;
    const z = u - 1;
    sts[i] = ts[i]! + (z % 2 === 0 ? z / 2 : -(z + 1) / 2);
  }
  return sts;
}

function chunks<T>(arr: readonly T[], size: number): (readonly T[])[] {
  if (arr.length <= size) return [arr];
  const out: T[][] = [];
  for (let i = 0; i < arr.length; i += size) out.push(arr.slice(i, i + size));
  return out;
}

function finish(type: number, w: ByteWriter): EncodedRecord {
  if (w.length > MAX_RECORD_BYTES) {
    throw new RangeError(`WAL record of ${w.length} bytes exceeds the ${MAX_RECORD_BYTES}-byte limit`);
  }
  return { type, payload: w.finish() };
}

/**
 * Encodes one record, split into several when it holds more than
 * {@link MAX_SAMPLES_PER_RECORD} samples or {@link MAX_ENTRIES_PER_RECORD} entries.
 * A samples record's `n` is clamped to the shortest column. Throws a RangeError only when a
 * single entry makes a record exceed {@link MAX_RECORD_BYTES}.
 */
export function encodeRecord(rec: WalRecord, out: EncodedRecord[] = []): EncodedRecord[] {
  switch (rec.kind) {
    case 'series':
      for (const part of chunks(rec.series, MAX_ENTRIES_PER_RECORD)) {
        const w = new ByteWriter(64 + part.length * 64);
        w.uvarint(part.length);
        for (const s of part) {
          w.uvarint(s.ref >>> 0);
          writeLabels(w, s.labels);
        }
        out.push(finish(RECORD_TYPE.series, w));
      }
      return out;
    case 'samples': {
      const n = Math.max(0, Math.min(rec.n, rec.refs.length, rec.ts.length, rec.vs.length));
      const sts = rec.sts !== undefined && rec.sts.length >= n ? rec.sts : undefined;
      for (let from = 0; from < n || from === 0; from += MAX_SAMPLES_PER_RECORD) {
        const m = Math.min(MAX_SAMPLES_PER_RECORD, n - from);
        const w = new ByteWriter(16 + m * (sts ? 14 : 12));
        encodeSamples(w, rec.refs, rec.ts, rec.vs, from, m);
        if (sts) encodeStarts(w, rec.ts, sts, from, m);
        out.push(finish(sts ? RECORD_TYPE.samplesWithStart : RECORD_TYPE.samples, w));
        if (n === 0) break;
      }
      return out;
    }
    case 'histograms':
      for (const part of chunks(rec.samples, MAX_ENTRIES_PER_RECORD)) {
        const withStart = part.some((s) => s.st !== undefined && s.st !== 0);
        const w = new ByteWriter(64 + part.length * 96);
        w.uvarint(part.length);
        for (const s of part) {
          w.uvarint(s.ref >>> 0);
          w.f64(s.t);
          if (withStart) w.f64(s.st ?? 0);
          writeHistogram(w, s.h);
        }
        out.push(finish(withStart ? RECORD_TYPE.histogramsWithStart : RECORD_TYPE.histograms, w));
      }
      return out;
    case 'exemplars':
      for (const part of chunks(rec.exemplars, MAX_ENTRIES_PER_RECORD)) {
        const w = new ByteWriter(64 + part.length * 48);
        w.uvarint(part.length);
        for (const x of part) {
          w.uvarint(x.ref >>> 0);
          writeLabels(w, x.e.labels);
          w.f64(x.e.value);
          w.f64(x.e.t);
        }
        out.push(finish(RECORD_TYPE.exemplars, w));
      }
      return out;
    case 'metadata':
      for (const part of chunks(rec.metadata, MAX_ENTRIES_PER_RECORD)) {
        const w = new ByteWriter(64 + part.length * 64);
        w.uvarint(part.length);
        for (const m of part) {
          w.str(m.metric);
          w.u8(METRIC_TYPE_INDEX.get(m.md.type) ?? METRIC_TYPE_INDEX.get('unknown')!);
          w.str(m.md.help);
          w.str(m.md.unit);
        }
        out.push(finish(RECORD_TYPE.metadata, w));
      }
      return out;
    default:
      return assertNever(rec, 'WAL record kind');
  }
}

/**
 * Decodes one payload of frame type `type`. Never throws anything but
 * {@link WalCorruptionError}. The result does not reference `payload`'s memory.
 */
export function decodeRecord(type: number, payload: Uint8Array): WalRecord {
  const r = new ByteReader(payload);
  let rec: WalRecord;
  try {
    rec = decodeBody(type, r);
  } catch (err) {
    if (err instanceof WalCorruptionError) throw err;
    throw new WalCorruptionError(`cannot decode record of type ${type}: ${String(err)}`, r.offset, { cause: err });
  }
  if (r.remaining !== 0) throw new WalCorruptionError(`${r.remaining} trailing bytes after record of type ${type}`, r.offset);
  return rec;
}

function decodeBody(type: number, r: ByteReader): WalRecord {
  switch (type) {
    case RECORD_TYPE.series: {
      const n = r.count(2, 'series');
      const series = new Array<{ ref: number; labels: Labels }>(n);
      for (let i = 0; i < n; i++) series[i] = { ref: r.uvarint(), labels: readLabels(r) };
      return { kind: 'series', series };
    }
    case RECORD_TYPE.samples:
      return decodeSamples(r);
    case RECORD_TYPE.samplesWithStart: {
      const rec = decodeSamples(r) as WalRecord & { kind: 'samples' };
      return { ...rec, sts: decodeStarts(r, rec.ts) };
    }
    case RECORD_TYPE.histograms: {
      const n = r.count(20, 'histogram');
      const samples = new Array<{ ref: number; t: number; h: FloatHistogram }>(n);
      for (let i = 0; i < n; i++) samples[i] = { ref: r.uvarint(), t: r.f64(), h: readHistogram(r) };
      return { kind: 'histograms', samples };
    }
    case RECORD_TYPE.histogramsWithStart: {
      const n = r.count(28, 'histogram');
      const samples = new Array<{ ref: number; t: number; h: FloatHistogram; st?: number }>(n);
      for (let i = 0; i < n; i++) {
        const ref = r.uvarint();
        const t = r.f64();
        const st = r.f64();
        const h = readHistogram(r);
        samples[i] = st !== 0 ? { ref, t, h, st } : { ref, t, h };
      }
      return { kind: 'histograms', samples };
    }
    case RECORD_TYPE.exemplars: {
      const n = r.count(18, 'exemplar');
      const exemplars = new Array<{ ref: number; e: Exemplar }>(n);
      for (let i = 0; i < n; i++) {
        const ref = r.uvarint();
        const labels = readLabels(r);
        exemplars[i] = { ref, e: { labels, value: r.f64(), t: r.f64() } };
      }
      return { kind: 'exemplars', exemplars };
    }
    case RECORD_TYPE.metadata: {
      const n = r.count(4, 'metadata');
      const metadata = new Array<{ metric: string; md: MetricMetadata }>(n);
      for (let i = 0; i < n; i++) {
        const metric = r.str();
        const ti = r.u8();
        const mt = METRIC_TYPES[ti];
        if (mt === undefined) throw new WalCorruptionError(`invalid metric type ${ti}`, r.offset);
        metadata[i] = { metric, md: { type: mt, help: r.str(), unit: r.str() } };
      }
      return { kind: 'metadata', metadata };
    }
    default:
      throw new WalCorruptionError(`unknown record type ${type}`, 0);
  }
}

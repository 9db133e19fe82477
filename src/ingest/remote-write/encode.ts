/**
 * Remote-write encoders (protobufjs `Writer`, no generated code): 1.0 `prometheus.WriteRequest`
 * and 2.0 `io.prometheus.write.v2.Request`, plus snappy compression. Used by tests,
 * benchmarks and the remote-write sender. Labels are encoded exactly as given (order and
 * duplicates included), so tests can build invalid requests on purpose.
 */
import protobuf from 'protobufjs/minimal.js';
import type { FloatHistogram } from '../../model/histogram.js';
import type { Label } from '../../model/labels.js';
import type { MetricType } from '../../model/samples.js';
import { metricTypeToProto } from './series.js';
import { snappyCompress } from './snappy.js';

export { snappyCompress };

type Writer = protobuf.Writer;

/** A sample to encode; `st` is the 2.0 start (created) timestamp, 0/absent = unset. */
export interface EncodeSample {
  readonly t: number;
  readonly v: number;
  readonly st?: number;
}

/** An exemplar to encode. */
export interface EncodeExemplar {
  readonly labels: readonly Label[];
  readonly value: number;
  readonly t: number;
}

/**
 * A histogram sample to encode. With `integer: true` the bucket counts (which must be whole
 * numbers) are sent delta-encoded with integer count fields; otherwise as float counts.
 */
export interface EncodeHistogram {
  readonly t: number;
  readonly h: FloatHistogram;
  readonly integer?: boolean;
  readonly st?: number;
}

/** Metadata of a series (2.0) or of a metric family (1.0). */
export interface EncodeMetadata {
  readonly type: MetricType;
  readonly help?: string;
  readonly unit?: string;
}

/** One series to encode. */
export interface EncodeSeries {
  readonly labels: readonly Label[];
  readonly samples?: readonly EncodeSample[];
  readonly exemplars?: readonly EncodeExemplar[];
  readonly histograms?: readonly EncodeHistogram[];
  /** 2.0 only. */
  readonly metadata?: EncodeMetadata;
  /** 2.0 only: raw label refs sent instead of `labels` (to build invalid requests). */
  readonly labelRefs?: readonly number[];
  /** 2.0 only: legacy `created_timestamp` (TimeSeries field 6 of pre-release senders). */
  readonly createdTimestamp?: number;
}

/** 1.0 metadata entry (sent in `WriteRequest.metadata`). */
export interface EncodeFamilyMetadata extends EncodeMetadata {
  readonly metricFamilyName: string;
}

function writeLabel(w: Writer, field: number, l: Label): void {
  w.uint32((field << 3) | 2).fork();
  if (l.name !== '') w.uint32(10).string(l.name);
  if (l.value !== '') w.uint32(18).string(l.value);
  w.ldelim();
}

function writeSpans(w: Writer, field: number, spans: FloatHistogram['positiveSpans']): void {
  for (const s of spans) {
    w.uint32((field << 3) | 2).fork();
    if (s.offset !== 0) w.uint32(8).sint32(s.offset);
    if (s.length !== 0) w.uint32(16).uint32(s.length);
    w.ldelim();
  }
}

function toDeltas(abs: readonly number[]): number[] {
  const out: number[] = [];
  let prev = 0;
  for (const c of abs) {
    out.push(c - prev);
    prev = c;
  }
  return out;
}

function writeHistogram(w: Writer, field: number, e: EncodeHistogram, v2: boolean): void {
  const h = e.h;
  w.uint32((field << 3) | 2).fork();
  if (e.integer) {
    w.uint32(8).uint64(h.count);
  } else {
    w.uint32(17).double(h.count);
  }
  w.uint32(25).double(h.sum);
  if (h.schema !== 0) w.uint32(32).sint32(h.schema);
  if (h.zeroThreshold !== 0) w.uint32(41).double(h.zeroThreshold);
  if (e.integer) w.uint32(48).uint64(h.zeroCount);
  else w.uint32(57).double(h.zeroCount);
  writeSpans(w, 8, h.negativeSpans);
  if (h.negativeBuckets.length > 0) {
    if (e.integer) {
      w.uint32(74).fork();
      for (const d of toDeltas(h.negativeBuckets)) w.sint64(d);
      w.ldelim();
    } else {
      w.uint32(82).fork();
      for (const c of h.negativeBuckets) w.double(c);
      w.ldelim();
    }
  }
  writeSpans(w, 11, h.positiveSpans);
  if (h.positiveBuckets.length > 0) {
    if (e.integer) {
      w.uint32(98).fork();
      for (const d of toDeltas(h.positiveBuckets)) w.sint64(d);
      w.ldelim();
    } else {
      w.uint32(106).fork();
      for (const c of h.positiveBuckets) w.double(c);
      w.ldelim();
    }
  }
  if (h.counterResetHint !== 0) w.uint32(112).uint32(h.counterResetHint);
  if (e.t !== 0) w.uint32(120).int64(e.t);
  if (h.customValues !== undefined && h.customValues.length > 0) {
    w.uint32(130).fork();
    for (const c of h.customValues) w.double(c);
    w.ldelim();
  }
  if (v2 && e.st !== undefined && e.st !== 0) w.uint32(136).int64(e.st);
  w.ldelim();
}

function writeSample(w: Writer, field: number, s: EncodeSample, v2: boolean): void {
  w.uint32((field << 3) | 2).fork();
  w.uint32(9).double(s.v);
  if (s.t !== 0) w.uint32(16).int64(s.t);
  if (v2 && s.st !== undefined && s.st !== 0) w.uint32(24).int64(s.st);
  w.ldelim();
}

/** Encodes a 1.0 `prometheus.WriteRequest` (uncompressed protobuf bytes). */
export function encodeWriteRequestV1(series: readonly EncodeSeries[], metadata: readonly EncodeFamilyMetadata[] = []): Uint8Array {
  const w = protobuf.Writer.create();
  for (const s of series) {
    w.uint32(10).fork();
    for (const l of s.labels) writeLabel(w, 1, l);
    for (const smp of s.samples ?? []) writeSample(w, 2, smp, false);
    for (const e of s.exemplars ?? []) {
      w.uint32(26).fork();
      for (const l of e.labels) writeLabel(w, 1, l);
      w.uint32(17).double(e.value);
      if (e.t !== 0) w.uint32(24).int64(e.t);
      w.ldelim();
    }
    for (const h of s.histograms ?? []) writeHistogram(w, 4, h, false);
    w.ldelim();
  }
  for (const m of metadata) {
    w.uint32(26).fork();
    const type = metricTypeToProto(m.type);
    if (type !== 0) w.uint32(8).uint32(type);
    if (m.metricFamilyName !== '') w.uint32(18).string(m.metricFamilyName);
    if (m.help) w.uint32(34).string(m.help);
    if (m.unit) w.uint32(42).string(m.unit);
    w.ldelim();
  }
  return w.finish();
}

/** Builds a 2.0 symbol table: index 0 is always the empty string. */
class SymbolTable {
  readonly list: string[] = [''];
  private readonly index = new Map<string, number>([['', 0]]);
  ref(s: string): number {
    let i = this.index.get(s);
    if (i === undefined) {
      i = this.list.length;
      this.list.push(s);
      this.index.set(s, i);
    }
    return i;
  }
}

/** Encodes a 2.0 `io.prometheus.write.v2.Request` (uncompressed protobuf bytes). */
export function encodeWriteRequestV2(series: readonly EncodeSeries[]): Uint8Array {
  const sym = new SymbolTable();
  const body = protobuf.Writer.create();
  for (const s of series) {
    body.uint32(42).fork();
    const refs = s.labelRefs ?? s.labels.flatMap((l) => [sym.ref(l.name), sym.ref(l.value)]);
    if (refs.length > 0) {
      body.uint32(10).fork();
      for (const r of refs) body.uint32(r);
      body.ldelim();
    }
    for (const smp of s.samples ?? []) writeSample(body, 2, smp, true);
    for (const h of s.histograms ?? []) writeHistogram(body, 3, h, true);
    for (const e of s.exemplars ?? []) {
      body.uint32(34).fork();
      const er = e.labels.flatMap((l) => [sym.ref(l.name), sym.ref(l.value)]);
      if (er.length > 0) {
        body.uint32(10).fork();
        for (const r of er) body.uint32(r);
        body.ldelim();
      }
      body.uint32(17).double(e.value);
      if (e.t !== 0) body.uint32(24).int64(e.t);
      body.ldelim();
    }
    if (s.metadata !== undefined) {
      body.uint32(42).fork();
      const type = metricTypeToProto(s.metadata.type);
      if (type !== 0) body.uint32(8).uint32(type);
      const help = sym.ref(s.metadata.help ?? '');
      const unit = sym.ref(s.metadata.unit ?? '');
      if (help !== 0) body.uint32(24).uint32(help);
      if (unit !== 0) body.uint32(32).uint32(unit);
      body.ldelim();
    }
    if (s.createdTimestamp !== undefined && s.createdTimestamp !== 0) body.uint32(48).int64(s.createdTimestamp);
    body.ldelim();
  }
  const seriesBytes = body.finish();
  const w = protobuf.Writer.create();
  for (const str of sym.list) w.uint32(34).string(str);
  const head = w.finish();
  const out = new Uint8Array(head.length + seriesBytes.length);
  out.set(head, 0);
  out.set(seriesBytes, head.length);
  return out;
}

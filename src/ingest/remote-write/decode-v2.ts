/**
 * Remote-write 2.0 (`io.prometheus.write.v2.Request`) decoder that appends straight into an
 * {@link Appender}. Field numbers (prompb/io/prometheus/write/v2/types.proto):
 * Request{symbols=4, timeseries=5}; TimeSeries{labels_refs=1 packed uint32, samples=2,
 * histograms=3, exemplars=4, metadata=5, 6 = created_timestamp of pre-release senders, used
 * as the start timestamp of samples without their own}; Sample{value=1, timestamp=2,
 * start_timestamp=3 (0 = unset)}; Histogram{…, start_timestamp=17}; Exemplar{labels_refs=1, value=2,
 * timestamp=3}; Metadata{type=1, help_ref=3, unit_ref=4}.
 *
 * The symbol table is read first (whatever its position in the message), then each series.
 * Fast path: the series cache is keyed by a fingerprint of the resolved label strings, so a
 * known series skips label validation and label-set construction.
 */
import type { Labels } from '../../model/labels.js';
import { METRIC_NAME } from '../../model/labels.js';
import type { Appender, SeriesRef } from '../../storage/interface.js';
import { readHistogram } from './histogram.js';
import type { Fingerprint, IngestContext, IngestReport, RawLabels } from './series.js';
import { NO_LABELS, buildExemplarLabels, cachedSeriesRef, buildSeriesLabels, formatRaw, hashLabelStrings, metricTypeFromProto, newRawLabels } from './series.js';
import type { Reader } from './wire.js';
import {
  DecodeError,
  WT_LEN,
  WT_VARINT,
  asDecodeError,
  enter,
  leave,
  lengthEnd,
  newReader,
  readDouble,
  readInt64,
  readTag,
  readUint32,
  skipField,
  utf8At,
} from './wire.js';

/** The decoded symbol table of one request. */
interface Symbols {
  readonly strs: string[];
  readonly bytes: number[];
}

const refs: number[] = [];
const exRefs: number[] = [];
const raw: RawLabels = newRawLabels();
const exRaw: RawLabels = newRawLabels();
const fp: Fingerprint = { h1: 0, h2: 0, len: 0 };

/**
 * Reads label refs (packed or not) into `out`, storing at most `cap` of them; returns how
 * many were sent (the caller rejects more than `cap` without having stored them).
 */
function readRefs(r: Reader, wt: number, out: number[], cap: number, count: number): number {
  if (wt === WT_VARINT) {
    const v = readUint32(r);
    if (count < cap) out.push(v);
    return count + 1;
  }
  if (wt !== WT_LEN) throw new DecodeError(`labels_refs: wire type ${wt}`);
  const saved = enter(r);
  while (r.pos < r.len) {
    const v = readUint32(r);
    if (count < cap) out.push(v);
    count++;
  }
  leave(r, saved);
  return count;
}

/** Resolves label refs into `into`; returns an error message for bad refs. */
function resolveRefs(rs: readonly number[], sym: Symbols, into: RawLabels): string | null {
  if (rs.length % 2 !== 0) return `odd number of label references (${rs.length})`;
  const n = sym.strs.length;
  into.n = 0;
  for (let i = 0; i < rs.length; i += 2) {
    const a = rs[i]!;
    const b = rs[i + 1]!;
    if (a >= n || b >= n) return `label symbol reference ${Math.max(a, b)} out of range (${n} symbols)`;
    const j = into.n++;
    into.names[j] = sym.strs[a]!;
    into.values[j] = sym.strs[b]!;
    into.nameBytes[j] = sym.bytes[a]!;
    into.valueBytes[j] = sym.bytes[b]!;
  }
  return null;
}

function readSeries(r: Reader, app: Appender, ctx: IngestContext, rep: IngestReport, sym: Symbols): void {
  const saved = enter(r);
  const start = r.pos;
  const end = r.len;
  const maxLabels = ctx.limits.maxLabelNamesPerSeries;
  const cap = 2 * maxLabels + 2;
  refs.length = 0;
  let nRefs = 0;
  let nSamples = 0;
  let nHist = 0;
  let nEx = 0;
  let mdStart = -1;
  // Series-level created timestamp of pre-release senders: the start timestamp of samples
  // that do not carry their own.
  let created = 0;
  // Pass 1: label refs, counts, metadata position.
  while (r.pos < end) {
    const tag = readTag(r);
    const field = tag >>> 3;
    const wt = tag & 7;
    if (field === 1) {
      nRefs = readRefs(r, wt, refs, cap, nRefs);
    } else if (field >= 2 && field <= 5) {
      if (wt !== WT_LEN) throw new DecodeError(`TimeSeries field ${field}: wire type ${wt}, want 2`);
      if (field === 5) mdStart = r.pos;
      r.pos = lengthEnd(r);
      if (field === 2) nSamples++;
      else if (field === 3) nHist++;
      else if (field === 4) nEx++;
    } else if (field === 6 && wt === WT_VARINT) {
      created = readInt64(r);
    } else skipField(r, wt);
  }
  rep.series++;
  rep.samples += nSamples;
  rep.histograms += nHist;
  rep.exemplars += nEx;

  const fail = (msg: string): void => {
    rep.reject('invalid_labels', nSamples + nHist, `invalid series: ${msg}`);
    if (nEx > 0) rep.reject('invalid_exemplar', nEx, 'exemplars of an invalid series dropped');
    leave(r, saved);
  };
  if (nRefs > 2 * maxLabels) return fail(`series has ${nRefs >> 1} labels, more than the limit of ${maxLabels}`);
  const bad = resolveRefs(refs, sym, raw);
  if (bad !== null) return fail(bad);

  hashLabelStrings(ctx.cache.seeds, raw.names, raw.values, raw.n, fp);
  let ref: SeriesRef = 0;
  let labels: Labels | null = null;
  const cachedRef: SeriesRef = cachedSeriesRef(ctx, fp);
  if (cachedRef !== 0) {
    ref = cachedRef;
    if (ctx.hasSeries !== undefined) labels = NO_LABELS;
  }
  if (labels === null) {
    const res = buildSeriesLabels(raw, ctx.limits);
    if (typeof res === 'string') return fail(res);
    labels = res;
  }
  const h1 = fp.h1;
  const h2 = fp.h2;
  const klen = fp.len;

  if (mdStart >= 0) {
    r.pos = mdStart;
    readMetadata(r, app, rep, sym);
  }

  // Pass 2: append data.
  r.pos = start;
  while (r.pos < end) {
    const tag = readTag(r);
    const field = tag >>> 3;
    if (field === 2) {
      const s = enter(r);
      let v = 0;
      let t = 0;
      let st = created;
      while (r.pos < r.len) {
        const tg = readTag(r);
        if (tg === 9) v = readDouble(r);
        else if (tg === 16) t = readInt64(r);
        else if (tg === 24) st = readInt64(r) || created; // start_timestamp; 0 = unset
        else skipField(r, tg & 7);
      }
      leave(r, s);
      const nr = st === 0 ? app.append(ref, labels, t, v) : app.append(ref, labels, t, v, st);
      if (nr !== 0) ref = nr;
    } else if (field === 3) {
      const d = readHistogram(r);
      if (d.error !== null) {
        rep.reject('histogram_invalid', 1, `invalid histogram for series ${formatRaw(raw)} at t=${d.t}: ${d.error}`);
      } else {
        const hst = d.st !== 0 ? d.st : created;
        const nr = hst === 0 ? app.appendHistogram(ref, labels, d.t, d.h) : app.appendHistogram(ref, labels, d.t, d.h, hst);
        if (nr !== 0) ref = nr;
      }
    } else if (field === 4) {
      const s = enter(r);
      exRefs.length = 0;
      let nExRefs = 0;
      let v = 0;
      let t = 0;
      while (r.pos < r.len) {
        const tg = readTag(r);
        const f = tg >>> 3;
        if (f === 1) nExRefs = readRefs(r, tg & 7, exRefs, 1024, nExRefs);
        else if (tg === 17) v = readDouble(r);
        else if (tg === 24) t = readInt64(r);
        else skipField(r, tg & 7);
      }
      leave(r, s);
      const err = nExRefs > 1000 ? `too many exemplar labels (${nExRefs >> 1})` : resolveRefs(exRefs, sym, exRaw);
      const el = err ?? buildExemplarLabels(exRaw);
      if (typeof el === 'string') {
        rep.reject('invalid_exemplar', 1, `invalid exemplar for series ${formatRaw(raw)}: ${el}`);
      } else {
        const nr = app.appendExemplar(ref, labels, { labels: el, value: v, t });
        if (nr !== 0) ref = nr;
      }
    } else {
      skipField(r, tag & 7);
    }
  }
  leave(r, saved);
  if (ref !== 0 && ref !== cachedRef) ctx.pending.push(h1, h2, klen, ref);
}

/** Last metadata applied in this request, to skip repeats across series of one family. */
let lastMd = '';

function readMetadata(r: Reader, app: Appender, rep: IngestReport, sym: Symbols): void {
  const saved = enter(r);
  let type = 0;
  let help = 0;
  let unit = 0;
  while (r.pos < r.len) {
    const tag = readTag(r);
    if (tag === 8) type = readUint32(r);
    else if (tag === 24) help = readUint32(r);
    else if (tag === 32) unit = readUint32(r);
    else skipField(r, tag & 7);
  }
  leave(r, saved);
  if (type === 0 && help === 0 && unit === 0) return;
  const n = sym.strs.length;
  if (help >= n || unit >= n) {
    rep.reject('invalid_metadata', 1, `metadata symbol reference out of range for series ${formatRaw(raw)}`);
    return;
  }
  let name = '';
  for (let i = 0; i < raw.n; i++) if (raw.names[i] === METRIC_NAME) name = raw.values[i]!;
  if (name === '') return;
  const k = `${name}\xff${type}\xff${help}\xff${unit}`;
  rep.metadata++;
  if (k === lastMd) return;
  lastMd = k;
  app.updateMetadata(name, { type: metricTypeFromProto(type), help: sym.strs[help]!, unit: sym.strs[unit]! });
}

function readSymbols(r: Reader): Symbols {
  const strs: string[] = [];
  const bytes: number[] = [];
  const buf = r.buf;
  while (r.pos < r.len) {
    const tag = readTag(r);
    if (tag === 34) {
      const e = lengthEnd(r);
      strs.push(e === r.pos ? '' : utf8At(buf, r.pos, e));
      bytes.push(e - r.pos);
      r.pos = e;
    } else skipField(r, tag & 7);
  }
  return { strs, bytes };
}

/**
 * Decodes a (decompressed) `io.prometheus.write.v2.Request` and appends its data. Invalid
 * series (bad symbol refs, labels, limits), histograms, exemplars and metadata are skipped
 * and recorded in `rep` (the request then answers 400); malformed protobuf throws
 * {@link DecodeError}. Never throws anything else for bad input.
 */
export function ingestV2(body: Uint8Array, app: Appender, ctx: IngestContext, rep: IngestReport): void {
  try {
    const r = newReader(body);
    const sym = readSymbols(r);
    if (sym.strs.length > 0 && sym.strs[0] !== '') {
      throw new DecodeError('the first symbol must be the empty string');
    }
    lastMd = '';
    r.pos = 0;
    while (r.pos < r.len) {
      const tag = readTag(r);
      if (tag >>> 3 === 5) {
        if ((tag & 7) !== WT_LEN) throw new DecodeError(`Request.timeseries: wire type ${tag & 7}`);
        readSeries(r, app, ctx, rep, sym);
      } else {
        skipField(r, tag & 7);
      }
    }
  } catch (err) {
    throw asDecodeError(err, 'remote-write 2.0 request');
  }
}

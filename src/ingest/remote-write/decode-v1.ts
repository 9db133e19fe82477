/**
 * Remote-write 1.0 (`prometheus.WriteRequest`) decoder that appends straight into an
 * {@link Appender}: no intermediate object tree. Field numbers (prompb/remote.proto,
 * prompb/types.proto): WriteRequest{timeseries=1, metadata=3}; TimeSeries{labels=1,
 * samples=2, exemplars=3, histograms=4}; Label{name=1, value=2}; Sample{value=1 double,
 * timestamp=2 int64}; Exemplar{labels=1, value=2, timestamp=3}; MetricMetadata{type=1,
 * metric_family_name=2, help=4, unit=5}.
 *
 * Fast path: a series whose raw label bytes were seen before (and committed) is appended by
 * its cached ref without decoding its labels (see `series-cache.ts`).
 */
import type { Labels } from '../../model/labels.js';
import type { Appender, SeriesRef } from '../../storage/interface.js';
import { readHistogram } from './histogram.js';
import type { Fingerprint, IngestContext, IngestReport, RawLabels } from './series.js';
import { NO_LABELS, buildExemplarLabels, cachedSeriesRef, buildSeriesLabels, formatLabels, formatRaw, hashBytes, metricTypeFromProto, newRawLabels } from './series.js';
import type { Reader } from './wire.js';
import {
  DecodeError,
  WT_LEN,
  asDecodeError,
  enter,
  leave,
  lengthEnd,
  newReader,
  readDouble,
  readInt64,
  readString,
  readTag,
  readUint32,
  skipField,
  utf8At,
} from './wire.js';

/** Label sub-message spans of the current series: [start, end) pairs (module scratch). */
let spans = new Int32Array(256);
const raw: RawLabels = newRawLabels();
const exRaw: RawLabels = newRawLabels();
const fp: Fingerprint = { h1: 0, h2: 0, len: 0 };

/** Decodes one Label message body in [r.pos, end) into `into` at index `into.n`. */
function readLabel(r: Reader, end: number, into: RawLabels): void {
  const saved = r.len;
  r.len = end;
  const buf = r.buf;
  let name = '';
  let value = '';
  let nb = 0;
  let vb = 0;
  while (r.pos < end) {
    const tag = readTag(r);
    if (tag === 10 || tag === 18) {
      const e = lengthEnd(r);
      const n = e - r.pos;
      const str = n === 0 ? '' : utf8At(buf, r.pos, e);
      r.pos = e;
      if (tag === 10) {
        name = str;
        nb = n;
      } else {
        value = str;
        vb = n;
      }
    } else skipField(r, tag & 7);
  }
  r.len = saved;
  const i = into.n++;
  into.names[i] = name;
  into.values[i] = value;
  into.nameBytes[i] = nb;
  into.valueBytes[i] = vb;
}

/**
 * Printable labels of the current series for a message: `labels`, or (for a series resolved
 * by the cache, whose labels were not decoded) the labels decoded from their spans.
 */
function describe(r: Reader, labels: Labels, nLabels: number, maxLabels: number): string {
  if (labels !== NO_LABELS) return formatLabels(labels);
  const pos = r.pos;
  const len = r.len;
  raw.n = 0;
  const n = Math.min(nLabels, maxLabels + 1);
  for (let i = 0; i < n; i++) {
    r.pos = spans[2 * i]!;
    readLabel(r, spans[2 * i + 1]!, raw);
  }
  r.pos = pos;
  r.len = len;
  return formatRaw(raw);
}

function expectLen(tag: number, what: string): void {
  if ((tag & 7) !== WT_LEN) throw new DecodeError(`${what}: wire type ${tag & 7}, want 2`);
}

function readSeries(r: Reader, app: Appender, ctx: IngestContext, rep: IngestReport): void {
  const saved = enter(r);
  const start = r.pos;
  const end = r.len;
  const maxLabels = ctx.limits.maxLabelNamesPerSeries;
  let nLabels = 0;
  let labelsStart = -1;
  let labelsEnd = -1;
  let contiguous = true;
  let nSamples = 0;
  let nHist = 0;
  let nEx = 0;
  // Pass 1: locate labels, count data.
  while (r.pos < end) {
    const tagStart = r.pos;
    const tag = readTag(r);
    const field = tag >>> 3;
    if (field >= 1 && field <= 4) {
      expectLen(tag, 'TimeSeries');
      const e = lengthEnd(r);
      if (field === 1) {
        if (nLabels === 0) labelsStart = tagStart;
        else if (tagStart !== labelsEnd) contiguous = false;
        if (nLabels <= maxLabels) {
          if (spans.length < 2 * nLabels + 2) {
            const bigger = new Int32Array(spans.length * 2);
            bigger.set(spans);
            spans = bigger;
          }
          spans[2 * nLabels] = r.pos;
          spans[2 * nLabels + 1] = e;
        }
        nLabels++;
        labelsEnd = e;
      } else if (field === 2) nSamples++;
      else if (field === 3) nEx++;
      else nHist++;
      r.pos = e;
    } else skipField(r, tag & 7);
  }
  rep.series++;
  rep.samples += nSamples;
  rep.histograms += nHist;
  rep.exemplars += nEx;

  // Resolve the series: cache (by a fingerprint of the raw label bytes), else decode and
  // validate labels.
  const keyed = contiguous && nLabels > 0;
  let ref: SeriesRef = 0;
  let labels: Labels | null = null;
  let cachedRef: SeriesRef = 0;
  if (keyed) {
    hashBytes(ctx.cache.seeds, r.buf, labelsStart, labelsEnd, fp);
    cachedRef = cachedSeriesRef(ctx, fp);
    if (cachedRef !== 0) {
      ref = cachedRef;
      if (ctx.hasSeries !== undefined) labels = NO_LABELS;
    }
  }
  if (labels === null) {
    let res: Labels | string;
    if (nLabels > maxLabels) {
      res = `series has ${nLabels} labels, more than the limit of ${maxLabels}`;
    } else {
      raw.n = 0;
      for (let i = 0; i < nLabels; i++) {
        r.pos = spans[2 * i]!;
        readLabel(r, spans[2 * i + 1]!, raw);
      }
      res = buildSeriesLabels(raw, ctx.limits);
    }
    if (typeof res === 'string') {
      rep.reject('invalid_labels', nSamples + nHist, `invalid series: ${res}`);
      if (nEx > 0) rep.reject('invalid_exemplar', nEx, `exemplars of an invalid series dropped`);
      leave(r, saved);
      return;
    }
    labels = res;
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
      while (r.pos < r.len) {
        const tg = readTag(r);
        if (tg === 9) v = readDouble(r);
        else if (tg === 16) t = readInt64(r);
        else skipField(r, tg & 7);
      }
      leave(r, s);
      const nr = app.append(ref, labels, t, v);
      if (nr !== 0) ref = nr;
    } else if (field === 4) {
      const d = readHistogram(r);
      if (d.error !== null) {
        rep.reject('histogram_invalid', 1, `invalid histogram for series ${describe(r, labels, nLabels, maxLabels)} at t=${d.t}: ${d.error}`);
      } else {
        const nr = app.appendHistogram(ref, labels, d.t, d.h);
        if (nr !== 0) ref = nr;
      }
    } else if (field === 3) {
      const s = enter(r);
      exRaw.n = 0;
      let v = 0;
      let t = 0;
      while (r.pos < r.len) {
        const tg = readTag(r);
        if (tg === 10) {
          const e = lengthEnd(r);
          readLabel(r, e, exRaw);
          r.pos = e;
        } else if (tg === 17) v = readDouble(r);
        else if (tg === 24) t = readInt64(r);
        else skipField(r, tg & 7);
      }
      leave(r, s);
      const el = buildExemplarLabels(exRaw);
      if (typeof el === 'string') {
        rep.reject('invalid_exemplar', 1, `invalid exemplar for series ${describe(r, labels, nLabels, maxLabels)}: ${el}`);
      } else {
        const nr = app.appendExemplar(ref, labels, { labels: el, value: v, t });
        if (nr !== 0) ref = nr;
      }
    } else {
      skipField(r, tag & 7);
    }
  }
  leave(r, saved);
  if (keyed && ref !== 0 && ref !== cachedRef) ctx.pending.push(fp.h1, fp.h2, fp.len, ref);
}

function readMetadata(r: Reader, app: Appender, rep: IngestReport): void {
  const saved = enter(r);
  let type = 0;
  let name = '';
  let help = '';
  let unit = '';
  while (r.pos < r.len) {
    const tag = readTag(r);
    if (tag === 8) type = readUint32(r);
    else if (tag === 18) name = readString(r);
    else if (tag === 34) help = readString(r);
    else if (tag === 42) unit = readString(r);
    else skipField(r, tag & 7);
  }
  leave(r, saved);
  if (name === '') {
    rep.reject('invalid_metadata', 1, 'metadata without a metric family name');
    return;
  }
  app.updateMetadata(name, { type: metricTypeFromProto(type), help, unit });
  rep.metadata++;
}

/**
 * Decodes a (decompressed) `prometheus.WriteRequest` and appends its data. Invalid series,
 * histograms and exemplars are skipped and recorded in `rep` (the request then answers 400);
 * malformed protobuf throws {@link DecodeError} (nothing should then be committed). Never
 * throws anything else.
 */
export function ingestV1(body: Uint8Array, app: Appender, ctx: IngestContext, rep: IngestReport): void {
  try {
    const r = newReader(body);
    while (r.pos < r.len) {
      const tag = readTag(r);
      const field = tag >>> 3;
      if (field === 1) {
        expectLen(tag, 'WriteRequest.timeseries');
        readSeries(r, app, ctx, rep);
      } else if (field === 3) {
        expectLen(tag, 'WriteRequest.metadata');
        readMetadata(r, app, rep);
      } else {
        skipField(r, tag & 7);
      }
    }
  } catch (err) {
    throw asDecodeError(err, 'remote-write 1.0 request');
  }
}

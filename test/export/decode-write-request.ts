/** A minimal remote-write 1.0 decoder for tests (labels and float samples, bit-exact values). */
import protobuf from 'protobufjs/minimal.js';
import { snappyDecompress } from '../../src/ingest/remote-write/snappy.js';

/** One decoded float sample: value bits kept as hex so stale markers are checkable. */
export interface DecodedSample {
  readonly t: number;
  readonly v: number;
  readonly bits: string;
}

/** One decoded series. */
export interface DecodedSeries {
  readonly labels: Record<string, string>;
  readonly samples: DecodedSample[];
  readonly histograms: number;
}

function readLabel(r: protobuf.Reader, end: number): [string, string] {
  let name = '';
  let value = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) name = r.string();
    else if (tag >>> 3 === 2) value = r.string();
    else r.skipType(tag & 7);
  }
  return [name, value];
}

function readSample(r: protobuf.Reader, end: number): DecodedSample {
  let v = 0;
  let t = 0;
  let bits = '';
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 9) {
      bits = Buffer.from(r.buf.subarray(r.pos, r.pos + 8)).reverse().toString('hex');
      v = r.double();
    } else if (tag === 16) {
      t = Number(r.int64().toString());
    } else r.skipType(tag & 7);
  }
  return { t, v, bits };
}

/** Decodes a snappy-compressed `prometheus.WriteRequest`. */
export function decodeWriteRequest(body: Uint8Array): DecodedSeries[] {
  const raw = snappyDecompress(body, 64 << 20);
  const r = protobuf.Reader.create(raw);
  const out: DecodedSeries[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 !== 1) {
      r.skipType(tag & 7);
      continue;
    }
    const end = r.uint32() + r.pos;
    const s: DecodedSeries = { labels: {}, samples: [], histograms: 0 };
    while (r.pos < end) {
      const t2 = r.uint32();
      const f = t2 >>> 3;
      if (f === 1) {
        const [n, v] = readLabel(r, r.uint32() + r.pos);
        s.labels[n] = v;
      } else if (f === 2) {
        s.samples.push(readSample(r, r.uint32() + r.pos));
      } else if (f === 4) {
        (s as { histograms: number }).histograms++;
        r.skipType(t2 & 7);
      } else r.skipType(t2 & 7);
    }
    out.push(s);
  }
  return out;
}

/** Hex bits of the staleness marker. */
export const STALE_BITS = '7ff0000000000002';

import protobuf from 'protobufjs/minimal.js';
import { describe, expect, it } from 'vitest';
import { encodeWriteRequestV1, encodeWriteRequestV2 } from '../../../src/ingest/remote-write/encode.js';
import type { FloatHistogram } from '../../../src/model/histogram.js';
import { CounterResetHint } from '../../../src/model/histogram.js';
import { labelsFrom } from '../../../src/model/labels.js';
import { STALE_NAN, isStaleNaN } from '../../../src/model/samples.js';
import { SeriesCache } from '../../../src/ingest/remote-write/series.js';
import { DecodeError } from '../../../src/ingest/remote-write/wire.js';
import { FakeStorage } from './fake-appender.js';
import { L, ingestInto } from './helpers.js';

/** Offset where the leading symbol records of a 2.0 request end. */
function symbolsEnd(body: Uint8Array): number {
  const r = protobuf.Reader.create(Buffer.from(body));
  let end = 0;
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 !== 4) break;
    r.skipType(tag & 7);
    end = r.pos;
  }
  return end;
}

const VERSIONS = ['1.0', '2.0'] as const;
const enc = (v: '1.0' | '2.0', ...a: Parameters<typeof encodeWriteRequestV2>) => (v === '1.0' ? encodeWriteRequestV1(...a) : encodeWriteRequestV2(...a));

const intHist: FloatHistogram = {
  counterResetHint: CounterResetHint.No,
  schema: 1,
  zeroThreshold: 0.001,
  zeroCount: 2,
  count: 12,
  sum: 42.5,
  positiveSpans: [{ offset: -1, length: 2 }, { offset: 1, length: 1 }],
  negativeSpans: [{ offset: 0, length: 1 }],
  positiveBuckets: [1, 4, 2],
  negativeBuckets: [3],
};
const floatHist: FloatHistogram = { ...intHist, count: 12.5, zeroCount: 2.5, counterResetHint: CounterResetHint.Gauge };
const customHist: FloatHistogram = {
  counterResetHint: CounterResetHint.Unknown,
  schema: -53,
  zeroThreshold: 0,
  zeroCount: 0,
  count: 6,
  sum: 3.25,
  positiveSpans: [{ offset: 0, length: 4 }],
  negativeSpans: [],
  positiveBuckets: [1, 2, 0, 3],
  negativeBuckets: [],
  customValues: [0.1, 0.5, 1],
};

describe.each(VERSIONS)('remote-write %s decoder', (version) => {
  it('stores samples, special values (stale NaN bit-exact), int64 timestamps, histograms and exemplars', async () => {
    const st = new FakeStorage();
    const body = enc(version, [
      {
        labels: L({ __name__: 'up', instance: 'a:9100', job: 'node' }),
        samples: [
          { t: -1000, v: 1 },
          { t: 0, v: Number.NaN },
          { t: 1_700_000_000_123, v: Number.POSITIVE_INFINITY },
          { t: 2 ** 52, v: Number.NEGATIVE_INFINITY },
          { t: 2 ** 52 + 1, v: STALE_NAN },
        ],
        exemplars: [{ labels: L({ trace_id: 'abc', span_id: 'def' }), value: 0.5, t: 1_700_000_000_000 }],
      },
      {
        labels: L({ __name__: 'rpc_seconds', job: 'api' }),
        histograms: [
          { t: 1000, h: intHist, integer: true },
          { t: 2000, h: floatHist },
          { t: 3000, h: customHist, integer: true },
        ],
      },
    ]);
    const { rep, counts, rejected } = await ingestInto(version, body, st);
    expect(rep.failed).toBe(false);
    expect(rejected).toBe(0);
    expect(counts).toEqual({ samples: 5, histograms: 3, exemplars: 1 });
    expect(rep.samples).toBe(5);
    const up = st.get(labelsFrom({ __name__: 'up', instance: 'a:9100', job: 'node' }))!;
    expect(up.samples.map((s) => s.t)).toEqual([-1000, 0, 1_700_000_000_123, 2 ** 52, 2 ** 52 + 1]);
    expect(up.samples[1]!.v).toBeNaN();
    expect(isStaleNaN(up.samples[1]!.v)).toBe(false);
    expect(up.samples[2]!.v).toBe(Infinity);
    expect(up.samples[3]!.v).toBe(-Infinity);
    expect(isStaleNaN(up.samples[4]!.v)).toBe(true);
    expect(up.exemplars).toEqual([{ labels: labelsFrom({ span_id: 'def', trace_id: 'abc' }), value: 0.5, t: 1_700_000_000_000 }]);
    const h = st.get(labelsFrom({ __name__: 'rpc_seconds', job: 'api' }))!.histograms;
    expect(h.map((x) => x.t)).toEqual([1000, 2000, 3000]);
    expect(h[0]!.h).toMatchObject({ ...intHist });
    expect(h[1]!.h).toMatchObject({ ...floatHist });
    expect(h[2]!.h).toMatchObject({ ...customHist });
  });

  it('sorts unsorted labels and drops empty values', async () => {
    const st = new FakeStorage();
    const { rep } = await ingestInto(version, enc(version, [{ labels: L({ job: 'x', __name__: 'm', empty: '', a: '1' }), samples: [{ t: 1, v: 1 }] }]), st);
    expect(rep.failed).toBe(false);
    const s = [...st.series.values()][0]!;
    expect(s.labels).toEqual(labelsFrom({ __name__: 'm', a: '1', job: 'x' }));
  });

  it.each([
    ['empty label name', L({ __name__: 'm', '': 'v' }), /empty label name/],
    ['duplicate label names', [...L({ __name__: 'm', a: '1' }), { name: 'a', value: '2' }], /duplicate label name "a"/],
    ['no metric name', L({ job: 'x' }), /without a metric name/],
    ['empty metric name', L({ __name__: '', job: 'x' }), /without a metric name/],
    ['no labels at all', [], /without a metric name/],
    ['label name too long', L({ __name__: 'm', ['n'.repeat(1025)]: 'v' }), /label name of 1025 bytes/],
    ['label value too long', L({ __name__: 'm', v: 'é'.repeat(2049) }), /4098 bytes/],
  ])('rejects a series with %s and keeps the others', async (_name, labels, msg) => {
    const st = new FakeStorage();
    const { rep, counts } = await ingestInto(
      version,
      enc(version, [
        { labels: L({ __name__: 'good_before' }), samples: [{ t: 1, v: 1 }] },
        { labels, samples: [{ t: 1, v: 1 }, { t: 2, v: 2 }], exemplars: [{ labels: [], value: 1, t: 1 }] },
        { labels: L({ __name__: 'good_after' }), samples: [{ t: 1, v: 1 }] },
      ]),
      st,
    );
    expect(rep.failed).toBe(true);
    expect(rep.messages[0]).toMatch(msg);
    expect(rep.invalidByReason.get('invalid_labels')).toBe(2);
    expect(rep.invalidByReason.get('invalid_exemplar')).toBe(1);
    expect(counts.samples).toBe(2);
    expect([...st.series.values()].map((s) => s.labels[0]!.value).sort()).toEqual(['good_after', 'good_before']);
  });

  it('rejects 10k labels on a series quickly without building them', async () => {
    const st = new FakeStorage();
    const labels = [{ name: '__name__', value: 'm' }, ...Array.from({ length: 10_000 }, (_, i) => ({ name: `l${i}`, value: 'v' }))];
    const body = enc(version, [{ labels, samples: [{ t: 1, v: 1 }] }]);
    const t0 = performance.now();
    const { rep } = await ingestInto(version, body, st);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(rep.messages[0]).toMatch(/10001 labels, more than the limit of 64/);
    expect(st.series.size).toBe(0);
  });

  it('honours configured limits', async () => {
    const st = new FakeStorage();
    const { rep } = await ingestInto(version, enc(version, [{ labels: L({ __name__: 'm', a: '1', b: '2' }), samples: [{ t: 1, v: 1 }] }]), st, {
      limits: { maxLabelNamesPerSeries: 2 },
    });
    expect(rep.messages[0]).toMatch(/3 labels/);
  });

  it.each([
    ['count mismatch (integer)', { ...intHist, count: 5 }, true, /observations found in buckets/],
    ['count too small (float)', { ...floatHist, count: 1 }, false, /observations found in buckets/],
    ['spans not matching buckets', { ...intHist, positiveBuckets: [1, 4] }, true, /spans cover 3 buckets but 2/],
    ['bad schema', { ...intHist, schema: 9 }, true, /schema 9/],
    ['negative bucket count', { ...floatHist, positiveBuckets: [1, -4, 2] }, false, /negative/],
    ['unsorted custom bounds', { ...customHist, customValues: [0.5, 0.1, 1] }, true, /strictly increasing/],
    ['custom bucket index past bounds', { ...customHist, positiveSpans: [{ offset: 1, length: 4 }] }, true, /exceeds/],
  ])('rejects an invalid histogram: %s', async (_n, h, integer, msg) => {
    const st = new FakeStorage();
    const { rep, counts } = await ingestInto(
      version,
      enc(version, [{ labels: L({ __name__: 'h' }), histograms: [{ t: 1, h: intHist, integer: true }, { t: 2, h, integer }] }]),
      st,
    );
    expect(rep.invalidByReason.get('histogram_invalid')).toBe(1);
    expect(rep.messages[0]).toMatch(msg);
    expect(counts.histograms).toBe(1);
  });

  it('fast path: a known series skips label decoding; a dropped ref is looked up again', async () => {
    const st = new FakeStorage();
    const cache = new SeriesCache();
    const series = Array.from({ length: 50 }, (_, i) => ({ labels: L({ __name__: 'm', i: String(i) }), samples: [{ t: 1, v: 1 }] }));
    await ingestInto(version, enc(version, series), st, { cache });
    expect(cache.size).toBe(50);
    expect(st.refMisses).toBe(50);
    const later = series.map((s) => ({ ...s, samples: [{ t: 2, v: 2 }] }));
    await ingestInto(version, enc(version, later), st, { cache });
    expect(st.refHits).toBe(50);
    expect(st.refMisses).toBe(50);
    const dropped = st.get(labelsFrom({ __name__: 'm', i: '7' }))!.ref;
    st.drop(dropped);
    const third = series.map((s) => ({ ...s, samples: [{ t: 3, v: 3 }] }));
    await ingestInto(version, enc(version, third), st, { cache });
    expect(st.refMisses).toBe(51);
    expect(st.get(labelsFrom({ __name__: 'm', i: '7' }))!.samples).toEqual([{ t: 3, v: 3 }]);
    expect(st.get(labelsFrom({ __name__: 'm', i: '8' }))!.samples.map((s) => s.t)).toEqual([1, 2, 3]);
  });

  it('throws DecodeError for truncated and mistyped protobuf', async () => {
    const body = enc(version, [{ labels: L({ __name__: 'm' }), samples: [{ t: 1, v: 1 }] }]);
    // Every prefix that ends inside the (only) series is malformed (v2: after the symbols).
    for (let cut = version === '1.0' ? 1 : symbolsEnd(body) + 1; cut < body.length; cut++) {
      const st = new FakeStorage();
      await expect(ingestInto(version, body.subarray(0, cut), st)).rejects.toBeInstanceOf(DecodeError);
    }
    const w = protobuf.Writer.create();
    w.uint32(version === '1.0' ? 8 : 40).uint32(5); // timeseries field as varint
    await expect(ingestInto(version, w.finish(), new FakeStorage())).rejects.toThrow(/wire type/);
  });
});

describe('remote-write 2.0 specifics', () => {
  it('applies per-series metadata and accepts start/created timestamps', async () => {
    const st = new FakeStorage();
    const { rep, counts } = await ingestInto(
      '2.0',
      encodeWriteRequestV2([
        {
          labels: L({ __name__: 'http_requests_total', job: 'api' }),
          samples: [{ t: 2000, v: 5, st: 1000 }],
          metadata: { type: 'counter', help: 'Requests.', unit: 'requests' },
          createdTimestamp: 1000,
        },
        { labels: L({ __name__: 'temp' }), metadata: { type: 'gauge', help: 'T' } },
      ]),
      st,
    );
    expect(rep.failed).toBe(false);
    expect(counts.samples).toBe(1);
    expect(st.metadata.get('http_requests_total')).toEqual({ type: 'counter', help: 'Requests.', unit: 'requests' });
    expect(st.metadata.get('temp')).toEqual({ type: 'gauge', help: 'T', unit: '' });
  });

  it('rejects odd and out-of-range label refs per series', async () => {
    const st = new FakeStorage();
    const { rep } = await ingestInto(
      '2.0',
      encodeWriteRequestV2([
        { labels: L({ __name__: 'ok' }), samples: [{ t: 1, v: 1 }] },
        { labels: [], labelRefs: [1, 2, 3], samples: [{ t: 1, v: 1 }] },
        { labels: [], labelRefs: [1, 999], samples: [{ t: 1, v: 1 }] },
      ]),
      st,
    );
    expect(rep.messages).toHaveLength(2);
    expect(rep.messages[0]).toMatch(/odd number/);
    expect(rep.messages[1]).toMatch(/999 out of range/);
    expect(st.series.size).toBe(1);
  });

  it('requires the empty string as first symbol', async () => {
    const w = protobuf.Writer.create();
    w.uint32(34).string('__name__');
    await expect(ingestInto('2.0', w.finish(), new FakeStorage())).rejects.toThrow(/first symbol/);
  });

  it('decodes symbols that come after the series', async () => {
    const body = encodeWriteRequestV2([{ labels: L({ __name__: 'm', a: 'b' }), samples: [{ t: 5, v: 6 }] }]);
    // Move the symbol table (leading field-4 records) to the end.
    const symEnd = symbolsEnd(body);
    const swapped = Buffer.concat([body.subarray(symEnd), body.subarray(0, symEnd)]);
    const st = new FakeStorage();
    await ingestInto('2.0', swapped, st);
    expect(st.get(labelsFrom({ __name__: 'm', a: 'b' }))!.samples).toEqual([{ t: 5, v: 6 }]);
  });
});

describe('remote-write 1.0 specifics', () => {
  it('applies WriteRequest.metadata', async () => {
    const st = new FakeStorage();
    const { rep } = await ingestInto('1.0', encodeWriteRequestV1([], [{ metricFamilyName: 'up', type: 'gauge', help: 'Up.', unit: '' }]), st);
    expect(rep.metadata).toBe(1);
    expect(st.metadata.get('up')).toEqual({ type: 'gauge', help: 'Up.', unit: '' });
  });

  it('handles labels interleaved with samples (no fast-path key) and still caches nothing wrong', async () => {
    const w = protobuf.Writer.create();
    w.uint32(10).fork();
    w.uint32(10).fork().uint32(10).string('job').uint32(18).string('j').ldelim();
    w.uint32(18).fork().uint32(9).double(7).uint32(16).int64(123).ldelim();
    w.uint32(10).fork().uint32(10).string('__name__').uint32(18).string('m').ldelim();
    w.ldelim();
    const st = new FakeStorage();
    const { rep, ctx } = await ingestInto('1.0', w.finish(), st);
    expect(rep.failed).toBe(false);
    expect(st.get(labelsFrom({ __name__: 'm', job: 'j' }))!.samples).toEqual([{ t: 123, v: 7 }]);
    expect(ctx.cache.size).toBe(0);
  });
});

describe('SeriesCache', () => {
  it('is bounded: clears when full', () => {
    const c = new SeriesCache(2);
    c.set(1, 1, 1, 1);
    c.set(2, 2, 2, 2);
    c.set(1, 1, 1, 3);
    expect(c.size).toBe(2);
    c.set(3, 3, 3, 4);
    expect(c.size).toBe(1);
    expect(c.get({ h1: 1, h2: 1, len: 1 })).toBe(0);
    expect(c.get({ h1: 3, h2: 3, len: 3 })).toBe(4);
  });
});

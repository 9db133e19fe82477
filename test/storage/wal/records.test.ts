import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FloatHistogram } from '../../../src/model/histogram.js';
import { isStaleNaN, STALE_NAN } from '../../../src/model/samples.js';
import type { MetricType } from '../../../src/model/samples.js';
import { WalCorruptionError } from '../../../src/storage/wal/errors.js';
import type { WalRecord } from '../../../src/storage/wal/interface.js';
import { decodeRecord, encodeRecord, MAX_ENTRIES_PER_RECORD, RECORD_TYPE } from '../../../src/storage/wal/records.js';

const labelsArb = fc.array(fc.record({ name: fc.string({ unit: 'grapheme', maxLength: 12 }), value: fc.string({ unit: 'grapheme', maxLength: 20 }) }), {
  maxLength: 6,
});
const refArb = fc.integer({ min: 0, max: 0xffffffff });
const timeArb = fc.oneof(fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }), fc.integer({ min: 1.6e12, max: 1.8e12 }), fc.double());

/** Float64Array with arbitrary bit patterns (all NaN payloads included). */
function bitsArb(n: number): fc.Arbitrary<Float64Array> {
  return fc.uint8Array({ minLength: n * 8, maxLength: n * 8 }).map((b) => new Float64Array(new Uint8Array(b).buffer));
}

const samplesArb: fc.Arbitrary<WalRecord> = fc.integer({ min: 0, max: 40 }).chain((n) =>
  fc
    .record({
      refs: fc.array(refArb, { minLength: n, maxLength: n }),
      ts: fc.array(timeArb, { minLength: n, maxLength: n }),
      vs: bitsArb(n),
      extra: fc.integer({ min: 0, max: 3 }),
    })
    .map(({ refs, ts, vs, extra }) => {
      // Columns may be longer than n: only [0, n) counts.
      const r = new Uint32Array(n + extra);
      r.set(refs);
      const t = new Float64Array(n + extra);
      t.set(ts);
      const v = new Float64Array(n + extra);
      v.set(vs);
      return { kind: 'samples' as const, n, refs: r, ts: t, vs: v };
    }),
);

const spansArb = fc.array(fc.record({ offset: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), length: fc.integer({ min: 0, max: 2 ** 32 - 1 }) }), {
  maxLength: 4,
});
const histArb: fc.Arbitrary<FloatHistogram> = fc
  .record({
    counterResetHint: fc.integer({ min: 0, max: 3 }),
    schema: fc.integer({ min: -53, max: 8 }),
    zeroThreshold: fc.double(),
    zeroCount: fc.double(),
    count: fc.double(),
    sum: fc.double(),
    positiveSpans: spansArb,
    negativeSpans: spansArb,
    positiveBuckets: fc.array(fc.double(), { maxLength: 8 }),
    negativeBuckets: fc.array(fc.double(), { maxLength: 8 }),
    customValues: fc.option(fc.array(fc.double(), { maxLength: 5 }), { nil: undefined }),
  })
  .map((h) => {
    const { customValues, ...rest } = h;
    return (customValues === undefined ? rest : { ...rest, customValues }) as FloatHistogram;
  });

const metricTypes: MetricType[] = ['counter', 'gauge', 'histogram', 'gaugehistogram', 'summary', 'info', 'stateset', 'unknown'];

const recordArb: fc.Arbitrary<WalRecord> = fc.oneof(
  fc.array(fc.record({ ref: refArb, labels: labelsArb }), { maxLength: 10 }).map((series) => ({ kind: 'series' as const, series })),
  samplesArb,
  fc.array(fc.record({ ref: refArb, t: timeArb, h: histArb }), { maxLength: 5 }).map((samples) => ({ kind: 'histograms' as const, samples })),
  fc
    .array(fc.record({ ref: refArb, e: fc.record({ labels: labelsArb, value: fc.double(), t: timeArb }) }), { maxLength: 5 })
    .map((exemplars) => ({ kind: 'exemplars' as const, exemplars })),
  fc
    .array(
      fc.record({
        metric: fc.string({ unit: 'grapheme', maxLength: 20 }),
        md: fc.record({ type: fc.constantFrom(...metricTypes), help: fc.string({ unit: 'grapheme', maxLength: 40 }), unit: fc.string({ maxLength: 8 }) }),
      }),
      { maxLength: 5 },
    )
    .map((metadata) => ({ kind: 'metadata' as const, metadata })),
);

function bits(a: Float64Array, n: number): number[] {
  return [...new Uint32Array(a.buffer, a.byteOffset, n * 2)];
}

/** Compares a decoded record with the original, samples columns bit-exact on [0, n). */
function expectSame(got: WalRecord, want: WalRecord): void {
  expect(got.kind).toBe(want.kind);
  if (want.kind === 'samples' && got.kind === 'samples') {
    expect(got.n).toBe(want.n);
    expect([...got.refs]).toEqual([...want.refs.subarray(0, want.n)]);
    for (let i = 0; i < want.n; i++) {
      const a = got.ts[i]!;
      const b = want.ts[i]!;
      // -0 after a delta decodes as 0; every other timestamp is exact.
      if (!(Object.is(a, b) || (a === 0 && b === 0))) expect(a).toBe(b);
    }
    expect(bits(got.vs, got.n)).toEqual(bits(want.vs, want.n));
    return;
  }
  expect(got).toEqual(want);
}

function roundTrip(rec: WalRecord): WalRecord[] {
  return encodeRecord(rec).map((e) => decodeRecord(e.type, e.payload));
}

describe('WAL record encoding', () => {
  it('round-trips every record kind', () => {
    fc.assert(
      fc.property(recordArb, (rec) => {
        const out = roundTrip(rec);
        expect(out).toHaveLength(1);
        expectSame(out[0]!, rec);
      }),
      { numRuns: 400 },
    );
  });

  it('keeps the staleness NaN bit-exact and distinct from an ordinary NaN', () => {
    // Note: `new Float64Array([STALE_NAN])` goes through a JS double array, which V8 may
    // canonicalise (it sets the quiet bit); element assignment keeps the bits.
    const vs = new Float64Array(4);
    vs[0] = STALE_NAN;
    vs[1] = NaN;
    vs[2] = 1.5;
    vs[3] = -0;
    expect(isStaleNaN(vs[0])).toBe(true);
    const rec: WalRecord = { kind: 'samples', n: 4, refs: new Uint32Array([1, 2, 3, 4]), ts: new Float64Array([1000, 1015, 1030, 990]), vs };
    const [got] = roundTrip(rec);
    if (got?.kind !== 'samples') throw new Error('expected samples');
    expect(isStaleNaN(got.vs[0]!)).toBe(true);
    expect(isStaleNaN(got.vs[1]!)).toBe(false);
    expect(Number.isNaN(got.vs[1]!)).toBe(true);
    expect(got.vs[2]).toBe(1.5);
    expect(Object.is(got.vs[3], -0)).toBe(true);
    expect([...got.ts]).toEqual([1000, 1015, 1030, 990]);
  });

  it('encodes integer timestamps compactly (delta varints)', () => {
    const n = 1000;
    const refs = new Uint32Array(n).fill(7);
    const ts = Float64Array.from({ length: n }, (_, i) => 1.7e12 + i * 15000);
    const rec: WalRecord = { kind: 'samples', n, refs, ts, vs: new Float64Array(n) };
    const [e] = encodeRecord(rec);
    // 8 bytes per value + ~1 byte ref delta + ~3 bytes ts delta.
    expect(e!.payload.length).toBeLessThan(n * 13);
    expect(e!.payload.length).toBeGreaterThanOrEqual(n * 8);
  });

  it('splits oversized records and keeps all entries', () => {
    const count = MAX_ENTRIES_PER_RECORD + 10;
    const series = Array.from({ length: count }, (_, i) => ({ ref: i + 1, labels: [{ name: '__name__', value: `m${i}` }] }));
    const parts = roundTrip({ kind: 'series', series });
    expect(parts.length).toBe(2);
    const all = parts.flatMap((p) => (p.kind === 'series' ? p.series : []));
    expect(all).toEqual(series);
  });

  it('clamps a samples record n to the shortest column', () => {
    const rec: WalRecord = { kind: 'samples', n: 10, refs: new Uint32Array([1, 2]), ts: new Float64Array([5, 6, 7]), vs: new Float64Array([1, 2, 3]) };
    const [got] = roundTrip(rec);
    expect(got?.kind === 'samples' && got.n).toBe(2);
  });

  it('throws only WalCorruptionError on arbitrary or mutated payloads', () => {
    fc.assert(
      fc.property(
        recordArb,
        fc.array(fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        (rec, flips, cut) => {
          const [e] = encodeRecord(rec);
          const p = Buffer.from(e!.payload);
          for (const f of flips) if (p.length > 0) p[f.at % p.length] = f.byte;
          const variants = [p, p.subarray(0, p.length === 0 ? 0 : cut % p.length)];
          for (const v of variants) {
            try {
              decodeRecord(e!.type, v);
            } catch (err) {
              expect(err).toBeInstanceOf(WalCorruptionError);
            }
          }
        },
      ),
      { numRuns: 400 },
    );
    expect(() => decodeRecord(99, Buffer.alloc(4))).toThrow(WalCorruptionError);
    // A huge declared count must not allocate: it is checked against the bytes left.
    expect(() => decodeRecord(RECORD_TYPE.samples, Buffer.from([0, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(/exceeds/);
    expect(() => decodeRecord(RECORD_TYPE.series, Buffer.from([0]))).not.toThrow();
    expect(() => decodeRecord(RECORD_TYPE.series, Buffer.from([0, 0]))).toThrow(/trailing/);
  });
});

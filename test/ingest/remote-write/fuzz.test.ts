/**
 * Fuzzing of the 1.0 and 2.0 decoders and of snappy decompression with fast-check: random
 * bytes and mutated valid messages. Decoders must return (possibly with validation errors in
 * the report) or throw a DecodeError — never anything else, never hang — and never report
 * more written than sent. Seeds are fixed (override with FUZZ_SEED) and printed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LimitError } from '../../../src/model/errors.js';
import type { EncodeSeries } from '../../../src/ingest/remote-write/encode.js';
import { encodeWriteRequestV1, encodeWriteRequestV2, snappyCompress } from '../../../src/ingest/remote-write/encode.js';
import { ingestV1 } from '../../../src/ingest/remote-write/decode-v1.js';
import { ingestV2 } from '../../../src/ingest/remote-write/decode-v2.js';
import { DEFAULT_LIMITS, IngestReport, SeriesCache } from '../../../src/ingest/remote-write/series.js';
import { SnappyError, snappyDecompress } from '../../../src/ingest/remote-write/snappy.js';
import { DecodeError } from '../../../src/ingest/remote-write/wire.js';
import { FakeStorage } from './fake-appender.js';

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 20240607;
const RUNS = 10_000;
console.log(`remote-write fuzz seed=${SEED} runs=${RUNS}`);

const labelArb = fc.record({
  name: fc.oneof(fc.constantFrom('__name__', 'job', 'instance', 'le', ''), fc.string({ maxLength: 6 })),
  value: fc.string({ maxLength: 8 }),
});
const histArb = fc.record({
  t: fc.integer({ min: -1e6, max: 1e13 }),
  integer: fc.boolean(),
  h: fc.record({
    counterResetHint: fc.integer({ min: 0, max: 3 }),
    schema: fc.oneof(fc.integer({ min: -5, max: 9 }), fc.constant(-53)),
    zeroThreshold: fc.double({ min: 0, max: 1, noNaN: true }),
    zeroCount: fc.nat(5),
    count: fc.nat(30),
    sum: fc.double(),
    positiveSpans: fc.array(fc.record({ offset: fc.integer({ min: -3, max: 3 }), length: fc.nat(3) }), { maxLength: 3 }),
    negativeSpans: fc.array(fc.record({ offset: fc.integer({ min: -3, max: 3 }), length: fc.nat(3) }), { maxLength: 2 }),
    positiveBuckets: fc.array(fc.nat(5), { maxLength: 6 }),
    negativeBuckets: fc.array(fc.nat(5), { maxLength: 4 }),
    customValues: fc.option(fc.array(fc.double({ noNaN: true }), { maxLength: 4 }), { nil: undefined }),
  }),
});
const seriesArb: fc.Arbitrary<EncodeSeries> = fc.record({
  labels: fc.array(labelArb, { maxLength: 5 }),
  samples: fc.array(fc.record({ t: fc.integer({ min: -1e6, max: 1e13 }), v: fc.double(), st: fc.integer({ min: 0, max: 1e13 }) }), { maxLength: 4 }),
  exemplars: fc.array(fc.record({ labels: fc.array(labelArb, { maxLength: 2 }), value: fc.double(), t: fc.integer({ min: 0, max: 1e13 }) }), { maxLength: 2 }),
  histograms: fc.array(histArb, { maxLength: 2 }),
  metadata: fc.option(
    fc.record({ type: fc.constantFrom('counter', 'gauge', 'histogram', 'unknown' as const), help: fc.string({ maxLength: 5 }), unit: fc.string({ maxLength: 3 }) }),
    { nil: undefined },
  ),
});

type Mutation = { kind: 'flip'; at: number; byte: number } | { kind: 'cut'; at: number } | { kind: 'insert'; at: number; bytes: number[] } | { kind: 'dup'; at: number; len: number };
const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.nat(255) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.array(fc.nat(255), { minLength: 1, maxLength: 6 }) }),
  fc.record({ kind: fc.constant('dup' as const), at: fc.nat(), len: fc.nat(20) }),
);

function mutate(buf: Uint8Array, muts: readonly Mutation[]): Uint8Array {
  let b = Array.from(buf);
  for (const m of muts) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'flip') b[at] = m.byte;
    else if (m.kind === 'cut') b = b.slice(0, at);
    else if (m.kind === 'insert') b.splice(at, 0, ...m.bytes);
    else b.splice(at, 0, ...b.slice(at, at + m.len));
  }
  return Uint8Array.from(b);
}

/** Decodes; returns false when the body was malformed (DecodeError). */
function decodeSafely(version: '1.0' | '2.0', body: Uint8Array): boolean {
  const st = new FakeStorage();
  const app = st.appender();
  const rep = new IngestReport();
  const ctx = { limits: DEFAULT_LIMITS, cache: new SeriesCache(100), hasSeries: st.hasSeries, pending: [] };
  try {
    if (version === '1.0') ingestV1(body, app, ctx, rep);
    else ingestV2(body, app, ctx, rep);
  } catch (err) {
    if (!(err instanceof DecodeError)) throw new Error(`non-DecodeError thrown: ${String(err)}`, { cause: err });
    app.rollback();
    return false;
  }
  expect(app.counts.samples).toBeLessThanOrEqual(rep.samples);
  expect(app.counts.histograms).toBeLessThanOrEqual(rep.histograms);
  expect(app.counts.exemplars).toBeLessThanOrEqual(rep.exemplars);
  return true;
}

describe.each(['1.0', '2.0'] as const)('fuzz %s decoder', (version) => {
  const encode = version === '1.0' ? encodeWriteRequestV1 : encodeWriteRequestV2;

  it(`random bytes (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        decodeSafely(version, bytes);
      }),
      { numRuns: RUNS, seed: SEED },
    );
  });

  it(`mutated valid messages (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.array(seriesArb, { minLength: 1, maxLength: 3 }), fc.array(mutationArb, { minLength: 1, maxLength: 3 }), (series, muts) => {
        const valid = encode(series);
        expect(decodeSafely(version, valid)).toBe(true);
        decodeSafely(version, mutate(valid, muts));
      }),
      { numRuns: RUNS, seed: SEED + 1 },
    );
  });
});

describe('fuzz snappy', () => {
  it(`random and mutated snappy blocks (${RUNS} runs)`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(mutationArb, { maxLength: 2 }), (bytes, muts) => {
        for (const input of [bytes, mutate(snappyCompress(bytes), muts)]) {
          try {
            const out = snappyDecompress(input, 4096);
            expect(out.length).toBeLessThanOrEqual(4096);
          } catch (err) {
            if (!(err instanceof SnappyError) && !(err instanceof LimitError)) throw err;
          }
        }
        expect(Buffer.compare(snappyDecompress(snappyCompress(bytes), 4096), Buffer.from(bytes))).toBe(0);
      }),
      { numRuns: RUNS, seed: SEED + 2 },
    );
  });
});

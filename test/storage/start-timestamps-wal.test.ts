/** Start timestamps through the WAL: record encoding, restart, and retention checkpoints. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/model/clock.js';
import { labelsFrom } from '../../src/model/labels.js';
import { newMatcher } from '../../src/model/matchers.js';
import type { Head } from '../../src/storage/head/index.js';
import { openStorage } from '../../src/storage/open.js';
import { decodeRecord, encodeRecord, RECORD_TYPE } from '../../src/storage/wal/records.js';
import type { WalRecord } from '../../src/storage/wal/interface.js';
import { rmDir, tempDir } from './wal/helpers.js';
import { countOnlyHistogram } from '../fakes/histograms.js';

const T0 = 1_700_000_000_000;
const hist = countOnlyHistogram;
const HOUR = 3_600_000;

function roundTrip(rec: WalRecord): { types: number[]; recs: WalRecord[] } {
  const enc = encodeRecord(rec);
  return { types: enc.map((e) => e.type), recs: enc.map((e) => decodeRecord(e.type, e.payload)) };
}

describe('WAL records with start timestamps', () => {
  it('encodes samples without start timestamps in the old format and with them in the new one', () => {
    const base = { kind: 'samples' as const, n: 3, refs: Uint32Array.from([1, 2, 3]), ts: Float64Array.from([T0, T0 + 1, T0 + 2]), vs: Float64Array.from([1, 2, 3]) };
    const plain = roundTrip(base);
    expect(plain.types).toEqual([RECORD_TYPE.samples]);
    expect((plain.recs[0] as { sts?: Float64Array }).sts).toBeUndefined();

    // Small offsets, unknown (0) and an offset too large for the varint form (raw mode).
    for (const sts of [Float64Array.from([T0 - 60_000, 0, T0 + 2]), Float64Array.from([1, 0, T0 - 5])]) {
      const got = roundTrip({ ...base, sts });
      expect(got.types).toEqual([RECORD_TYPE.samplesWithStart]);
      const r = got.recs[0] as WalRecord & { kind: 'samples' };
      expect([...r.ts]).toEqual([...base.ts]);
      expect([...r.sts!]).toEqual([...sts]);
    }
  });

  it('encodes histogram start timestamps only when one is set', () => {
    const plain = roundTrip({ kind: 'histograms', samples: [{ ref: 1, t: T0, h: hist(1) }] });
    expect(plain.types).toEqual([RECORD_TYPE.histograms]);
    const got = roundTrip({ kind: 'histograms', samples: [{ ref: 1, t: T0, h: hist(1), st: T0 - 1000 }, { ref: 1, t: T0 + 1, h: hist(2) }] });
    expect(got.types).toEqual([RECORD_TYPE.histogramsWithStart]);
    const r = got.recs[0] as WalRecord & { kind: 'histograms' };
    expect(r.samples.map((s) => s.st)).toEqual([T0 - 1000, undefined]);
    expect(r.samples[1]!.h.count).toBe(2);
  });

  it('rejects a corrupt start timestamp mode', () => {
    const enc = encodeRecord({ kind: 'samples', n: 1, refs: Uint32Array.from([1]), ts: Float64Array.from([T0]), vs: Float64Array.from([1]), sts: Float64Array.from([T0 - 1]) })[0]!;
    const bad = Buffer.from(enc.payload);
    bad[bad.length - 2] = 9; // the mode byte precedes the one-byte varint of the single sample
    expect(() => decodeRecord(enc.type, bad)).toThrow(/start timestamp mode/);
  });
});

let dir: string;
beforeEach(async () => {
  dir = await tempDir('vigil-st-');
});
afterEach(async () => {
  await rmDir(dir);
});

function read(head: Head, name: string, mint = 0): { t: number[]; st: number[] | undefined; hst: (number | undefined)[] } {
  const q = head.querier(mint, Number.MAX_SAFE_INTEGER);
  const ss = q.select({ mint, maxt: Number.MAX_SAFE_INTEGER, matchers: [newMatcher('=', '__name__', name)] });
  const d = ss[0]!.samples();
  return { t: [...d.t], st: d.st ? [...d.st] : undefined, hst: d.histograms.map((h) => h.st) };
}

describe('start timestamps survive a restart', () => {
  it('replays acknowledged float and histogram start timestamps, also from a checkpoint', async () => {
    const clock = new FakeClock(T0);
    const s1 = await openStorage({ dir, retentionMs: HOUR, clock, fsync: 'never', segmentBytes: 1024 });
    const c = labelsFrom({ __name__: 'c_total' });
    const h = labelsFrom({ __name__: 'h' });
    for (let k = 0; k < 20; k++) {
      const app = s1.head.appender();
      const t = T0 - 200_000 + k * 10_000;
      app.append(0, c, t, k, k === 5 ? 0 : t - 10_000);
      app.append(0, labelsFrom({ __name__: 'plain' }), t, k);
      app.appendHistogram(0, h, t, hist(k), T0 - 300_000);
      await app.commit();
    }
    const before = read(s1.head, 'c_total');
    expect(before.st![5]).toBe(0);
    expect(before.st![6]).toBe(before.t[6]! - 10_000);
    // Retention drops the older half and checkpoints the WAL.
    clock.set(T0 - 100_000 + HOUR);
    const res = await s1.truncateNow();
    expect(res!.checkpoint).not.toBeNull();
    // Some kept samples (with their start timestamps) now live only in the checkpoint.
    expect(res!.checkpoint!.samples).toBeGreaterThan(0);
    expect(res!.checkpoint!.histograms).toBeGreaterThan(0);
    // The head drops whole chunks only; replay keeps samples from mint on.
    const live = read(s1.head, 'c_total', res!.mint);
    expect(live.t.length).toBeLessThan(20);
    await s1.close();

    const s2 = await openStorage({ dir, retentionMs: HOUR, clock, fsync: 'never', segmentBytes: 1024 });
    const after = read(s2.head, 'c_total', res!.mint);
    expect(after.t).toEqual(live.t);
    expect(after.st).toEqual(live.st);
    expect(after.st!.every((s, i) => s === after.t[i]! - 10_000)).toBe(true);
    expect(read(s2.head, 'plain').st).toBeUndefined();
    const hs = read(s2.head, 'h').hst;
    expect(hs.length).toBeGreaterThan(0);
    expect(hs.every((s) => s === T0 - 300_000)).toBe(true);
    await s2.close();
  });
});

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/model/clock.js';
import { ValidationError } from '../../src/model/errors.js';
import { labelsFrom } from '../../src/model/labels.js';
import { newMatcher } from '../../src/model/matchers.js';
import { isStaleNaN, STALE_NAN } from '../../src/model/samples.js';
import type { Head } from '../../src/storage/head/index.js';
import { openStorage, type ReplayableHead } from '../../src/storage/open.js';
import type { WalRecord } from '../../src/storage/wal/interface.js';
import { CaptureLogger, rmDir, tempDir } from './wal/helpers.js';

const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

let dir: string;
beforeEach(async () => {
  dir = await tempDir('vigil-open-');
});
afterEach(async () => {
  await rmDir(dir);
});

/** Appends `steps` samples (every 10 s from `from`) to `series` series, one commit per step. */
async function ingest(head: Head, series: number, from: number, steps: number): Promise<void> {
  for (let k = 0; k < steps; k++) {
    const app = head.appender();
    const t = from + k * 10_000;
    for (let i = 0; i < series; i++) {
      const ref = app.append(0, labelsFrom({ __name__: 'm', i: String(i) }), t, i === 0 && k === steps - 1 ? STALE_NAN : i * 1000 + k);
      expect(ref).toBeGreaterThan(0);
    }
    await app.commit();
  }
}

function query(head: Head, mint = 0, maxt = Number.MAX_SAFE_INTEGER): Map<string, { t: number[]; v: Float64Array }> {
  const q = head.querier(mint, maxt);
  const out = new Map<string, { t: number[]; v: Float64Array }>();
  for (const s of q.select({ mint, maxt, matchers: [newMatcher('=', '__name__', 'm')] })) {
    const d = s.samples();
    out.set(s.labels.find((l) => l.name === 'i')!.value, { t: [...d.t], v: d.v });
  }
  q.close();
  return out;
}

describe('openStorage', () => {
  it('makes committed samples queryable again after a restart (stale NaN included)', async () => {
    const clock = new FakeClock(T0);
    const s1 = await openStorage({ dir, retentionMs: HOUR, clock, fsync: 'never', registry: new Registry() });
    expect(s1.replay.records).toBe(0);
    await ingest(s1.head, 20, T0 - 100_000, 10);
    const before = query(s1.head);
    await s1.close();

    const s2 = await openStorage({ dir, retentionMs: HOUR, clock, fsync: 'never' });
    expect(s2.replay).toMatchObject({ series: 20, samples: 200, corrupt: 0 });
    const after = query(s2.head);
    expect(after.size).toBe(20);
    for (const [k, v] of before) {
      expect(after.get(k)!.t).toEqual(v.t);
      expect([...new Uint32Array(after.get(k)!.v.buffer)]).toEqual([...new Uint32Array(v.v.buffer)]);
    }
    expect(isStaleNaN(after.get('0')!.v[9]!)).toBe(true);
    // New commits after the restart append to the same WAL.
    await ingest(s2.head, 20, T0, 1);
    await s2.close();
    const s3 = await openStorage({ dir, retentionMs: HOUR, clock, fsync: 'never' });
    expect(s3.replay.samples).toBe(220);
    await s3.close();
  });

  it('retention run drops old data from the head and the WAL (checkpoint), and replay agrees', async () => {
    const clock = new FakeClock(T0);
    const registry = new Registry();
    const s1 = await openStorage({ dir, retentionMs: HOUR, clock, fsync: 'never', segmentBytes: 1024, registry });
    await ingest(s1.head, 30, T0 - 100_000, 10); // "old" data
    clock.set(T0 + HOUR - 50_000);
    await ingest(s1.head, 30, T0 + HOUR - 60_000, 5); // fresh data
    const res = await s1.truncateNow();
    expect(res).not.toBeNull();
    expect(res!.mint).toBe(T0 - 50_000);
    expect(res!.checkpoint).not.toBeNull();
    expect(res!.checkpoint!.droppedSamples).toBeGreaterThan(0);
    const files = await readdir(join(dir, 'wal'));
    expect(files.some((f) => f.startsWith('checkpoint.'))).toBe(true);
    expect(await registry.getSingleMetricAsString('vigil_wal_truncations_total')).toMatch(/ 1$/);
    const live = query(s1.head, res!.mint);
    await s1.close();

    const s2 = await openStorage({ dir, retentionMs: HOUR, clock, fsync: 'never', segmentBytes: 1024 });
    // Replayed samples are only those at or after mint (plus the unfolded current segment).
    expect(s2.replay.samples).toBeLessThan(450);
    const got = query(s2.head);
    expect(got.size).toBe(30);
    for (const [k, v] of live) expect(got.get(k)!.t).toEqual(v.t);
    for (const v of got.values()) expect(Math.min(...v.t)).toBeGreaterThanOrEqual(res!.mint);
    await s2.close();
  });

  it('counts and logs a failed retention run and keeps going', async () => {
    const registry = new Registry();
    const logger = new CaptureLogger();
    let calls = 0;
    const replayed: WalRecord[] = [];
    const fake: ReplayableHead = {
      replayRecord: (r) => void replayed.push(r),
      hasSeries: () => true,
      truncate: () => {
        calls++;
        if (calls === 2) throw new Error('boom');
        return [];
      },
      close: async () => {},
    };
    const s = await openStorage({ dir, retentionMs: HOUR, registry, logger, createHead: () => fake });
    expect(calls).toBe(1); // truncation right after replay
    expect(await s.truncateNow()).toBeNull();
    expect(await registry.getSingleMetricAsString('vigil_wal_truncations_failed_total')).toMatch(/ 1$/);
    expect(logger.lines.some((l) => l.level === 'error' && l.msg.includes('retention'))).toBe(true);
    const ok = await s.truncateNow();
    expect(ok).toMatchObject({ droppedSeries: 0, checkpoint: null });
    await s.close();
    await s.close();
  });

  it('runs the retention task on its timer', async () => {
    let calls = 0;
    const fake: ReplayableHead = { replayRecord: () => {}, hasSeries: () => true, truncate: () => (calls++, []), close: async () => {} };
    const s = await openStorage({ dir, retentionMs: HOUR, truncateIntervalMs: 20, createHead: () => fake });
    await new Promise((r) => setTimeout(r, 120));
    await s.close();
    expect(calls).toBeGreaterThanOrEqual(3);
  });

  it('cuts a new segment once per retention period so slow ingest still gets checkpointed', async () => {
    const clock = new FakeClock(T0);
    const fake: ReplayableHead = { replayRecord: () => {}, hasSeries: () => true, truncate: () => [], close: async () => {} };
    const s = await openStorage({ dir, retentionMs: HOUR, clock, fsync: 'never', createHead: () => fake });
    await s.wal.log([{ kind: 'series', series: [{ ref: 1, labels: labelsFrom({ __name__: 'x' }) }] }]);
    expect((await s.truncateNow())!.checkpoint).toBeNull();
    expect(s.wal.state().current).toBe(1);
    clock.advance(HOUR);
    const res = await s.truncateNow();
    expect(res!.checkpoint).toMatchObject({ checkpoint: 1, series: 1 });
    expect(s.wal.state()).toMatchObject({ current: 2, checkpoint: 1, segments: [2] });
    await s.close();
  });

  it('validates options', async () => {
    await expect(openStorage({ dir, retentionMs: 0 })).rejects.toBeInstanceOf(ValidationError);
    await expect(openStorage({ dir, retentionMs: HOUR, truncateIntervalMs: -1 })).rejects.toBeInstanceOf(ValidationError);
    await expect(openStorage({ dir, retentionMs: HOUR, segmentBytes: 1 })).rejects.toBeInstanceOf(ValidationError);
  });
});

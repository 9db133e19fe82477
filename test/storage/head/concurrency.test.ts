import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/model/clock.js';
import { labelsFrom } from '../../../src/model/labels.js';
import { newMatcher } from '../../../src/model/matchers.js';
import { Head, HeadCommitError } from '../../../src/storage/head/index.js';
import type { WalRecord, WalWriter } from '../../../src/storage/wal/interface.js';

const T0 = 1_700_000_000_000;
const up = (job: string) => labelsFrom({ __name__: 'up', job });

/** A WAL whose writes complete only when the test says so. */
class SlowWal implements WalWriter {
  readonly calls: { records: readonly WalRecord[]; resolve: () => void; reject: (e: Error) => void }[] = [];
  log(records: readonly WalRecord[]): Promise<void> {
    return new Promise((resolve, reject) => this.calls.push({ records, resolve, reject }));
  }
}

function setup() {
  const wal = new SlowWal();
  const head = new Head({ retentionMs: 3_600_000, clock: new FakeClock(T0), wal });
  const values = (job = 'a') =>
    head
      .querier(0, Infinity)
      .select({ mint: 0, maxt: Infinity, matchers: [newMatcher('=', 'job', job)] })
      .map((s) => Array.from(s.samples().t));
  return { wal, head, values };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('Head concurrent commits', () => {
  it('keeps data invisible until the WAL write resolves', async () => {
    const { wal, head, values } = setup();
    const a = head.appender();
    a.append(0, up('a'), T0, 1);
    const p = a.commit();
    await tick();
    expect(values()).toEqual([]);
    expect(wal.calls).toHaveLength(1);
    wal.calls[0]!.resolve();
    await p;
    expect(values()).toEqual([[T0]]);
  });

  it('rejects at commit time samples made out of order by a transaction committed in between', async () => {
    const { wal, head, values } = setup();
    const a = head.appender();
    const b = head.appender();
    a.append(0, up('a'), T0 + 100, 1);
    b.append(0, up('a'), T0 + 50, 2); // fine when appended: A is not committed yet
    b.append(0, up('a'), T0 + 200, 3);
    const pa = a.commit();
    const pb = b.commit();
    expect(b.rejected.byReason.get('out_of_order')).toBe(1);
    expect(b.counts.samples).toBe(1);
    // B's WAL records contain only what will be applied, and no second series record.
    expect(wal.calls[1]!.records.map((r) => r.kind)).toEqual(['samples']);
    wal.calls[0]!.resolve();
    wal.calls[1]!.resolve();
    await Promise.all([pa, pb]);
    expect(values()).toEqual([[T0 + 100, T0 + 200]]);
  });

  it('applies in commit order even if WAL writes resolve out of order', async () => {
    const { wal, head, values } = setup();
    const a = head.appender();
    a.append(0, up('a'), T0 + 1, 1);
    const pa = a.commit();
    const b = head.appender();
    b.append(0, up('a'), T0 + 2, 2);
    b.append(0, up('b'), T0 + 2, 2);
    let bDone = false;
    const pb = b.commit().then(() => (bDone = true));
    wal.calls[1]!.resolve();
    await tick();
    await tick();
    expect(bDone).toBe(false);
    expect(values('b')).toEqual([]);
    wal.calls[0]!.resolve();
    await Promise.all([pa, pb]);
    expect(values('a')).toEqual([[T0 + 1, T0 + 2]]);
    expect(values('b')).toEqual([[T0 + 2]]);
  });

  it('shares a pending new series between transactions and logs it once', async () => {
    const { wal, head } = setup();
    const a = head.appender();
    const b = head.appender();
    const ra = a.append(0, up('n'), T0, 1);
    const rb = b.append(0, up('n'), T0 + 1, 1);
    expect(rb).toBe(ra);
    a.rollback();
    const pb = b.commit();
    expect(wal.calls[0]!.records[0]).toEqual({ kind: 'series', series: [{ ref: ra, labels: up('n') }] });
    wal.calls[0]!.resolve();
    await pb;
    expect(head.hasSeries(ra)).toBe(true);
  });

  it('discards a transaction whose WAL write fails and lets the samples be retried', async () => {
    const { wal, head, values } = setup();
    const a = head.appender();
    a.append(0, up('a'), T0, 1);
    const pa = a.commit();
    wal.calls[0]!.reject(new Error('disk full'));
    await expect(pa).rejects.toBeInstanceOf(HeadCommitError);
    await expect(pa).rejects.toThrow('disk full');
    expect(values()).toEqual([]);
    expect(head.stats().series).toBe(0);
    const b = head.appender();
    expect(b.append(0, up('a'), T0, 1)).toBeGreaterThan(0);
    const pb = b.commit();
    expect(wal.calls[1]!.records.map((r) => r.kind)).toEqual(['series', 'samples']);
    wal.calls[1]!.resolve();
    await pb;
    expect(values()).toEqual([[T0]]);
  });

  it('close waits for commits in flight', async () => {
    const { wal, head, values } = setup();
    const a = head.appender();
    a.append(0, up('a'), T0, 1);
    const pa = a.commit();
    let closed = false;
    const pc = head.close().then(() => (closed = true));
    await tick();
    expect(closed).toBe(false);
    wal.calls[0]!.resolve();
    await Promise.all([pa, pc]);
    expect(closed).toBe(true);
    expect(values()).toEqual([[T0]]);
  });
});

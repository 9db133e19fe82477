import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../src/model/clock.js';
import { labelsFrom } from '../../../src/model/labels.js';
import { Head } from '../../../src/storage/head/index.js';
import type { WalRecord } from '../../../src/storage/wal/interface.js';
import { decodeRecord, encodeRecord } from '../../../src/storage/wal/records.js';

const T0 = 1_700_000_000_000;

/** Samples of the `samples` records in `recs` as [ref, t, v] triples. */
function samplesOf(recs: readonly WalRecord[]): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (const r of recs) if (r.kind === 'samples') for (let i = 0; i < r.n; i++) out.push([r.refs[i]!, r.ts[i]!, r.vs[i]!]);
  return out;
}

/** Runs 30 transactions of 1..300 samples over 50 series; returns what each logged, read right after the commit. */
async function run(head: Head, logged: () => [number, number, number][]): Promise<{ want: [number, number, number][]; got: [number, number, number][] }> {
  const want: [number, number, number][] = [];
  const got: [number, number, number][] = [];
  const refs = new Map<number, number>();
  for (let tx = 0; tx < 30; tx++) {
    const app = head.appender();
    const n = 1 + ((tx * 97) % 300);
    for (let i = 0; i < n; i++) {
      const s = i % 50;
      const t = T0 + tx * 1000 + Math.floor(i / 50);
      const v = tx * 10_000 + i;
      const ref = app.append(refs.get(s) ?? 0, labelsFrom({ __name__: 'm', s: String(s) }), t, v);
      refs.set(s, ref);
      want.push([ref, t, v]);
    }
    await app.commit();
  }
  got.push(...logged());
  return { want, got };
}

describe('staging buffers and WAL refs are reused only when the WAL copies records', () => {
  it('a copying WAL gets every sample right although the head reuses its arrays', async () => {
    const bytes: { type: number; payload: Buffer }[] = [];
    const wal = {
      copiesRecords: true,
      log: async (rs: readonly WalRecord[]) => {
        for (const r of rs) bytes.push(...encodeRecord(r)); // synchronous, before log() returns
      },
    };
    const head = new Head({ retentionMs: 3_600_000, clock: new FakeClock(T0), wal });
    const { want, got } = await run(head, () => samplesOf(bytes.map((b) => decodeRecord(b.type, b.payload))));
    expect(got).toEqual(want);
    // The refs array of the samples records is reused by the head.
    expect(head.walRefs(1)).toBe(head.walRefs(2));
  });

  it('a WAL that keeps the record objects sees them unchanged by later transactions', async () => {
    const kept: WalRecord[] = [];
    const wal = { log: async (rs: readonly WalRecord[]) => void kept.push(...rs) };
    const head = new Head({ retentionMs: 3_600_000, clock: new FakeClock(T0), wal });
    const { want, got } = await run(head, () => samplesOf(kept));
    expect(got).toEqual(want);
    expect(head.walRefs(1)).not.toBe(head.walRefs(1));
  });
});

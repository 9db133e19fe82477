import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WalCorruptionError } from '../../../src/storage/wal/errors.js';
import { decodeRecord } from '../../../src/storage/wal/records.js';
import { scanSegment } from '../../../src/storage/wal/segment.js';
import { Wal } from '../../../src/storage/wal/wal.js';
import { flatSamples, rmDir, samplesRec, seriesRec, tempDir } from './helpers.js';

let dir: string;
let pristine: Buffer;
let expectedAll: string[];
beforeAll(async () => {
  dir = await tempDir();
  const wal = await Wal.open(join(dir, 'src'), { fsync: 'never' });
  await wal.log([seriesRec([1, 'a'], [2, 'b'])]);
  for (let i = 0; i < 60; i++) await wal.log([samplesRec([1, 2], [i, i], [i, -i])]);
  await wal.close();
  pristine = await readFile(join(dir, 'src', 'wal', '00000001'));
  expectedAll = Array.from({ length: 60 }, (_, i) => [`1:${i}:${i}`, `2:${i}:${-i}`]).flat();
});
afterAll(async () => {
  await rmDir(dir);
});

describe('segment scanning', () => {
  it('any damage yields a clean prefix of the written records, never an exception', async () => {
    const file = join(dir, 'damaged');
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { maxLength: 3 }),
        fc.option(fc.nat(), { nil: undefined }),
        fc.integer({ min: 64, max: 4096 }),
        async (flips, cut, readBytes) => {
          const b = Buffer.from(pristine);
          for (const f of flips) {
            const at = f.at % b.length;
            b[at] = b[at]! ^ f.xor;
          }
          const data = cut === undefined ? b : b.subarray(0, cut % b.length);
          await writeFile(file, data);
          const recs: ReturnType<typeof decodeRecord>[] = [];
          const res = await scanSegment(file, (t, p) => void recs.push(decodeRecord(t, p)), { readBytes, corruptionError: WalCorruptionError });
          const got = flatSamples(recs);
          expect(got).toEqual(expectedAll.slice(0, got.length));
          if (flips.length === 0 && cut === undefined) expect(res.corruption).toBeUndefined();
          else if (res.corruption) expect(res.validBytes).toBe(res.corruption.offset);
          expect(res.validBytes).toBeLessThanOrEqual(data.length);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reads records larger than the read buffer', async () => {
    const wal = await Wal.open(join(dir, 'big'), { fsync: 'never' });
    const n = 5000;
    await wal.log([seriesRec([1, 'a']), samplesRec(new Array<number>(n).fill(1), Array.from({ length: n }, (_, i) => i), new Array<number>(n).fill(2))]);
    await wal.close();
    let samples = 0;
    const res = await scanSegment(join(dir, 'big', 'wal', '00000001'), (t, p) => {
      const r = decodeRecord(t, p);
      if (r.kind === 'samples') samples += r.n;
    }, { readBytes: 64 });
    expect(res.corruption).toBeUndefined();
    expect(samples).toBe(n);
  });
});

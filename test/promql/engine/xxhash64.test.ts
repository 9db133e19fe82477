import { describe, expect, it } from 'vitest';
import { prometheusLabelsHash, xxhash64 } from '../../../src/promql/engine/xxhash64.js';
import { ratioOffset } from '../../../src/promql/engine/aggregate.js';
import { labelsFrom } from '../../../src/model/labels.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

describe('xxhash64', () => {
  it('matches the published XXH64 (seed 0) test vectors for each input-length path', () => {
    expect(xxhash64(enc('')).toString(16)).toBe('ef46db3751d8e999');
    expect(xxhash64(enc('a')).toString(16)).toBe('d24ec4f1a98c6e5b');
    expect(xxhash64(enc('abc')).toString(16)).toBe('44bc2cf5ad770999');
    // 39 bytes: one 32-byte stripe, then a 4-byte word and 3 single bytes.
    expect(xxhash64(enc('Nobody inspects the spammish repetition')).toString(16)).toBe('fbcea83c8a378bf1');
  });

  it('hashes label sets as name 0xff value 0xff, in order', () => {
    const ls = labelsFrom({ __name__: 'up', job: 'a' });
    const bytes = [...enc('__name__'), 0xff, ...enc('up'), 0xff, ...enc('job'), 0xff, ...enc('a'), 0xff];
    expect(prometheusLabelsHash(ls)).toBe(xxhash64(Uint8Array.from(bytes)));
    expect(prometheusLabelsHash(labelsFrom({ job: 'a' }))).not.toBe(prometheusLabelsHash(labelsFrom({ job: 'b' })));
  });

  it('limit_ratio offsets are in [0, 1] and spread out', () => {
    const offs = Array.from({ length: 200 }, (_, i) => ratioOffset(labelsFrom({ __name__: 'm', i: String(i) })));
    for (const o of offs) expect(o >= 0 && o <= 1).toBe(true);
    const below = offs.filter((o) => o < 0.5).length;
    expect(below).toBeGreaterThan(60);
    expect(below).toBeLessThan(140);
  });
});

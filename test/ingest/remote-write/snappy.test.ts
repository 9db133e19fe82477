import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LimitError } from '../../../src/model/errors.js';
import { SnappyError, snappyCompress, snappyDeclaredLength, snappyDecompress } from '../../../src/ingest/remote-write/snappy.js';

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
}

describe('snappy block format', () => {
  it('round-trips random and repetitive data through snappyjs compression', () => {
    const inputs = [
      new Uint8Array(0),
      randomBytes(1),
      randomBytes(70_000),
      Buffer.from('abcabcabcabcabcabcabcabc'.repeat(5000)),
      Buffer.alloc(100_000, 7),
    ];
    for (const input of inputs) {
      const c = snappyCompress(input);
      expect(snappyDeclaredLength(c)).toBe(input.length);
      expect(Buffer.compare(snappyDecompress(c, 1 << 20), Buffer.from(input))).toBe(0);
    }
  });

  it('answers 413 from the declared length without allocating', () => {
    // Declares 4 GiB - 1 with no data behind it: must fail on the limit, not on allocation.
    const body = Uint8Array.from([...varint(0xffffffff), 0x00]);
    let err: unknown;
    try {
      snappyDecompress(body, 64 << 20);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(LimitError);
    expect((err as LimitError).status).toBe(413);
  });

  it('rejects truncated streams, bad offsets, overflowing copies and bad preambles', () => {
    const c = snappyCompress(Buffer.from('hello world, hello world, hello world! '.repeat(50)));
    expect(() => snappyDecompress(c.subarray(0, c.length - 3), 1 << 20)).toThrow(SnappyError);
    expect(() => snappyDecompress(new Uint8Array(0), 100)).toThrow(SnappyError);
    expect(() => snappyDecompress(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 100)).toThrow(SnappyError);
    // declared 4, copy with offset 1 before any output
    expect(() => snappyDecompress(Uint8Array.from([4, 0x01, 0x01]), 100)).toThrow(/offset/);
    // declared 2, literal of 4 bytes: output exceeds declared length
    expect(() => snappyDecompress(Uint8Array.from([2, 0x0c, 1, 2, 3, 4]), 100)).toThrow(/declared/);
    // declared 10, literal of 2: truncated
    expect(() => snappyDecompress(Uint8Array.from([10, 0x04, 1, 2]), 100)).toThrow(/truncated/);
    // a copy whose length runs past the declared size
    expect(() => snappyDecompress(Uint8Array.from([5, 0x00, 9, 0x01 | (4 << 2), 1]), 100)).toThrow(SnappyError);
  });

  it('handles overlapping copies (run-length) exactly', () => {
    // literal "ab" then copy len 8 offset 2 → "ababababab"
    const body = Uint8Array.from([10, 0x04, 0x61, 0x62, 0x01 | ((8 - 4) << 2), 2]);
    expect(snappyDecompress(body, 100).toString()).toBe('ababababab');
  });
});

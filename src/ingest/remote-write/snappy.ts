/**
 * Snappy block format (the format remote-write uses; never the framed format).
 *
 * Compression delegates to `snappyjs`. Decompression is done here with strict bounds checks,
 * because `snappyjs.uncompress` neither verifies that the output reaches the declared length
 * nor rejects copies that run past it (a truncated or corrupt body would decode to a buffer
 * with a zero-filled tail). The declared length is readable on its own
 * ({@link snappyDeclaredLength}) so callers can refuse a huge body before allocating.
 */
import { createRequire } from 'node:module';
import { LimitError, ValidationError } from '../../model/errors.js';

interface SnappyJs {
  compress(input: Uint8Array): Uint8Array;
}

const snappyjs = createRequire(import.meta.url)('snappyjs') as SnappyJs;

/** A snappy body that is not a valid block-format stream. Maps to HTTP 400. */
export class SnappyError extends ValidationError {
  override name = 'SnappyError';
}

/**
 * Reads the varint uncompressed length at the start of a snappy block.
 * Throws {@link SnappyError} when the preamble is missing or longer than 32 bits.
 */
export function snappyDeclaredLength(input: Uint8Array): number {
  let result = 0;
  for (let i = 0, shift = 0; i < 5 && i < input.length; i++, shift += 7) {
    const b = input[i]!;
    if (i === 4 && b > 0x0f) break;
    result += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) return result;
  }
  throw new SnappyError('snappy: invalid or truncated length preamble');
}

/**
 * A reusable output buffer for {@link snappyDecompress}: a receiver that consumes each
 * decompressed body synchronously decodes every request into the same memory instead of
 * allocating (and later freeing) a body-sized buffer per request. Buffers above `keepBytes`
 * are not kept.
 */
export class SnappyScratch {
  private buf: Buffer | null = null;

  /** @param keepBytes largest buffer kept for reuse (default 8 MiB) */
  constructor(readonly keepBytes = 8 * 1024 * 1024) {}

  /** A buffer of exactly `n` bytes (a view of the kept one when it fits). Contents are undefined. */
  take(n: number): Buffer {
    if (n > this.keepBytes) return Buffer.allocUnsafeSlow(n);
    if (this.buf === null || this.buf.length < n) {
      const size = Math.min(this.keepBytes, Math.max(n, this.buf === null ? 0 : this.buf.length * 2, 64 * 1024));
      this.buf = Buffer.allocUnsafeSlow(size);
    }
    return this.buf.subarray(0, n);
  }
}

/**
 * Decompresses a snappy block. Checks the declared length against `maxLength` first and
 * throws a 413 {@link LimitError} before allocating anything when it is larger. Corrupt or
 * truncated input throws {@link SnappyError}. With `scratch`, the result is a view of the
 * scratch buffer, valid until the next call with the same scratch.
 */
export function snappyDecompress(input: Uint8Array, maxLength: number, scratch?: SnappyScratch): Buffer {
  const declared = snappyDeclaredLength(input);
  if (declared > maxLength) {
    throw new LimitError(
      `snappy: declared decompressed size ${declared} bytes exceeds the limit of ${maxLength} bytes`,
      'maxDecompressedBytes',
      413,
    );
  }
  let pos = 0;
  while (input[pos]! >= 0x80) pos++;
  pos++;
  const out = scratch !== undefined ? scratch.take(declared) : Buffer.allocUnsafe(declared);
  const inLen = input.length;
  let outPos = 0;
  while (pos < inLen) {
    const tag = input[pos++]!;
    const type = tag & 3;
    if (type === 0) {
      let len = tag >>> 2;
      if (len >= 60) {
        const extra = len - 59;
        if (pos + extra > inLen) throw new SnappyError('snappy: truncated literal length');
        len = 0;
        for (let i = 0; i < extra; i++) len += input[pos + i]! * 2 ** (8 * i);
        pos += extra;
      }
      len += 1;
      if (pos + len > inLen) throw new SnappyError('snappy: truncated literal');
      if (outPos + len > declared) throw new SnappyError('snappy: output exceeds declared length');
      if (len < 16) {
        for (let i = 0; i < len; i++) out[outPos + i] = input[pos + i]!;
      } else {
        out.set(input.subarray(pos, pos + len), outPos);
      }
      pos += len;
      outPos += len;
      continue;
    }
    let len: number;
    let offset: number;
    if (type === 1) {
      if (pos + 1 > inLen) throw new SnappyError('snappy: truncated copy');
      len = ((tag >>> 2) & 7) + 4;
      offset = ((tag >>> 5) << 8) | input[pos]!;
      pos += 1;
    } else if (type === 2) {
      if (pos + 2 > inLen) throw new SnappyError('snappy: truncated copy');
      len = (tag >>> 2) + 1;
      offset = input[pos]! | (input[pos + 1]! << 8);
      pos += 2;
    } else {
      if (pos + 4 > inLen) throw new SnappyError('snappy: truncated copy');
      len = (tag >>> 2) + 1;
      offset = (input[pos]! | (input[pos + 1]! << 8) | (input[pos + 2]! << 16)) + input[pos + 3]! * 0x1000000;
      pos += 4;
    }
    if (offset === 0 || offset > outPos) throw new SnappyError('snappy: invalid copy offset');
    if (outPos + len > declared) throw new SnappyError('snappy: output exceeds declared length');
    if (offset >= len) {
      out.copyWithin(outPos, outPos - offset, outPos - offset + len);
    } else {
      for (let i = 0; i < len; i++) out[outPos + i] = out[outPos - offset + i]!;
    }
    outPos += len;
  }
  if (outPos !== declared) {
    throw new SnappyError(`snappy: truncated stream (${outPos} of ${declared} declared bytes)`);
  }
  return out;
}

/** Compresses `input` into a snappy block. */
export function snappyCompress(input: Uint8Array): Uint8Array {
  return snappyjs.compress(input);
}

/**
 * Low-level protobuf wire helpers on top of protobufjs's `Reader`: 64-bit varints as JS
 * numbers (no `Long`), bounded sub-messages, field skipping that refuses groups, and a typed
 * decode error. Everything here throws only {@link DecodeError}s for malformed input once
 * wrapped by {@link asDecodeError}.
 */
import protobuf from 'protobufjs/minimal.js';
import { ValidationError } from '../../model/errors.js';

/** The protobufjs reader type. */
export type Reader = protobuf.Reader;

/** Malformed protobuf (not a validation failure of well-formed data). Maps to HTTP 400. */
export class DecodeError extends ValidationError {
  override name = 'DecodeError';
}

/** Node's Buffer has fast undocumented slice decoders (the ones protobufjs uses). */
interface SliceBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

/** UTF-8 string of `buf[start, end)` (`buf` must come from {@link newReader}). */
export function utf8At(buf: Uint8Array, start: number, end: number): string {
  return (buf as SliceBuffer).utf8Slice(start, end);
}

/** Latin-1 string of `buf[start, end)`: a byte-exact string key. */
export function latin1At(buf: Uint8Array, start: number, end: number): string {
  return (buf as SliceBuffer).latin1Slice(start, end);
}

/** Wire types. */
export const WT_VARINT = 0;
export const WT_FIXED64 = 1;
export const WT_LEN = 2;
export const WT_FIXED32 = 5;

/** Creates a reader over `buf` (a Buffer reader when possible, for fast UTF-8 decoding). */
export function newReader(buf: Uint8Array): Reader {
  const b = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  return protobuf.Reader.create(b);
}

/**
 * Converts what the protobufjs reader throws on malformed input (RangeError, invalid varint)
 * into a {@link DecodeError} prefixed with `what`. Anything else (e.g. a bug in an appender)
 * is returned unchanged so that it surfaces as a server error, not as a client error.
 */
export function asDecodeError(err: unknown, what: string): unknown {
  if (err instanceof DecodeError) return new DecodeError(`${what}: ${err.message}`, { cause: err });
  if (err instanceof RangeError || (err instanceof Error && /varint|index out of range/.test(err.message))) {
    return new DecodeError(`${what}: malformed protobuf: ${err.message}`, { cause: err });
  }
  return err;
}

/** Scratch for the two 32-bit halves of the last 64-bit varint read. */
const parts = { lo: 0, hi: 0 };

function readVarint64Parts(r: Reader): void {
  const buf = r.buf;
  const len = r.len;
  let pos = r.pos;
  let lo = 0;
  let hi = 0;
  let b: number;
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= len) throw new DecodeError('truncated varint');
    b = buf[pos++]!;
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      r.pos = pos;
      parts.lo = lo;
      parts.hi = 0;
      return;
    }
  }
  if (pos >= len) throw new DecodeError('truncated varint');
  b = buf[pos++]!;
  lo |= (b & 0x7f) << 28;
  hi = (b & 0x7f) >>> 4;
  if (b >= 0x80) {
    for (let shift = 3; shift < 32; shift += 7) {
      if (pos >= len) throw new DecodeError('truncated varint');
      b = buf[pos++]!;
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) break;
      if (shift === 31) throw new DecodeError('varint longer than 10 bytes');
    }
  }
  r.pos = pos;
  parts.lo = lo;
  parts.hi = hi;
}

/** Reads an `int64` varint as a number (exact up to 2^53; two's complement negatives). */
export function readInt64(r: Reader): number {
  const pos = r.pos;
  if (pos < r.len) {
    const b = r.buf[pos]!;
    if (b < 0x80) {
      r.pos = pos + 1;
      return b;
    }
  }
  readVarint64Parts(r);
  return (parts.hi | 0) * 4294967296 + (parts.lo >>> 0);
}

/** Reads a `uint64` varint as a number (exact up to 2^53). */
export function readUint64(r: Reader): number {
  readVarint64Parts(r);
  return (parts.hi >>> 0) * 4294967296 + (parts.lo >>> 0);
}

/** Reads a zigzag `sint64` varint as a number. */
export function readSint64(r: Reader): number {
  readVarint64Parts(r);
  const { lo, hi } = parts;
  const neg = lo & 1;
  let l = (lo >>> 1) | (hi << 31);
  let h = hi >>> 1;
  if (neg) {
    l = ~l;
    h = ~h;
  }
  return (h | 0) * 4294967296 + (l >>> 0);
}

/** Reads a varint that must fit 32 bits unsigned (tags, lengths, refs, enums). */
export function readUint32(r: Reader): number {
  if (r.pos >= r.len) throw new DecodeError('truncated varint');
  return r.uint32();
}

/**
 * Reads a length prefix and narrows the reader to the sub-message: returns the previous
 * `len`, to be restored with {@link leave}. Rejects lengths past the enclosing message.
 */
export function enter(r: Reader): number {
  const n = readUint32(r);
  const end = r.pos + n;
  if (end > r.len) throw new DecodeError(`length ${n} exceeds the enclosing message`);
  const saved = r.len;
  r.len = end;
  return saved;
}

/** Restores the reader after {@link enter}: moves to the end of the sub-message. */
export function leave(r: Reader, saved: number): void {
  r.pos = r.len;
  r.len = saved;
}

/** Reads a length prefix and returns the end offset (checked) without narrowing. */
export function lengthEnd(r: Reader): number {
  const n = readUint32(r);
  const end = r.pos + n;
  if (end > r.len) throw new DecodeError(`length ${n} exceeds the enclosing message`);
  return end;
}

/** Reads a little-endian double. */
export function readDouble(r: Reader): number {
  if (r.pos + 8 > r.len) throw new DecodeError('truncated double');
  return r.double();
}

/** Reads a length-delimited UTF-8 string. */
export function readString(r: Reader): string {
  const end = lengthEnd(r);
  const start = r.pos;
  r.pos = end;
  if (start === end) return '';
  return utf8At(r.buf, start, end);
}

/** Skips one field of the given wire type; groups (3, 4) and unknown types are malformed. */
export function skipField(r: Reader, wireType: number): void {
  switch (wireType) {
    case WT_VARINT:
      readVarint64Parts(r);
      return;
    case WT_FIXED64:
      if (r.pos + 8 > r.len) throw new DecodeError('truncated fixed64');
      r.pos += 8;
      return;
    case WT_LEN:
      r.pos = lengthEnd(r);
      return;
    case WT_FIXED32:
      if (r.pos + 4 > r.len) throw new DecodeError('truncated fixed32');
      r.pos += 4;
      return;
    default:
      throw new DecodeError(`unsupported wire type ${wireType}`);
  }
}

/** Reads a tag and rejects field number 0. */
export function readTag(r: Reader): number {
  const tag = readUint32(r);
  if (tag >>> 3 === 0) throw new DecodeError('illegal field number 0');
  return tag;
}

/**
 * Reads a repeated double field into `out`: packed (wire type 2) or one unpacked value
 * (wire type 1). Other wire types are malformed.
 */
export function readDoubles(r: Reader, wireType: number, out: number[]): void {
  if (wireType === WT_FIXED64) {
    out.push(readDouble(r));
    return;
  }
  if (wireType !== WT_LEN) throw new DecodeError(`wire type ${wireType} for a repeated double`);
  const end = lengthEnd(r);
  if ((end - r.pos) % 8 !== 0) throw new DecodeError('packed doubles length is not a multiple of 8');
  while (r.pos < end) out.push(r.double());
}

/** Reads a repeated varint field (packed or not) with `read` into `out`. */
export function readVarints(r: Reader, wireType: number, out: number[], read: (r: Reader) => number): void {
  if (wireType === WT_VARINT) {
    out.push(read(r));
    return;
  }
  if (wireType !== WT_LEN) throw new DecodeError(`wire type ${wireType} for a repeated varint`);
  const saved = enter(r);
  while (r.pos < r.len) out.push(read(r));
  leave(r, saved);
}

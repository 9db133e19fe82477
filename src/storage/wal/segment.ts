/**
 * WAL segment files: naming, record framing and a streaming scanner.
 *
 * A segment is a sequence of frames `type(1) | length(4, LE) | crc32(4, LE) | payload`. The CRC
 * (zlib.crc32) covers the type and length bytes followed by the payload, so a corrupted length
 * is detected as well. Segments are named with 8 decimal digits (`00000001`, ...), checkpoints
 * are directories `checkpoint.<8 digits>` holding segment files of their own.
 */
import { open, readdir } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { MAX_RECORD_BYTES, RECORD_TYPE } from './records.js';

/** Bytes of a frame header. */
export const FRAME_HEADER_BYTES = 9;

const MAX_TYPE = Math.max(...Object.values(RECORD_TYPE));
const SEGMENT_RE = /^\d{8}$/;
const CHECKPOINT_RE = /^checkpoint\.(\d{8})$/;

/** File name of segment `n`. */
export function segmentName(n: number): string {
  return String(n).padStart(8, '0');
}

/** Directory name of the checkpoint that covers segments up to and including `n`. */
export function checkpointName(n: number): string {
  return `checkpoint.${segmentName(n)}`;
}

/** Segment number of a file name, or null when it is not a segment. */
export function parseSegmentName(name: string): number | null {
  return SEGMENT_RE.test(name) ? Number(name) : null;
}

/** Checkpoint number of a directory name, or null (temporary `.tmp` dirs are not checkpoints). */
export function parseCheckpointName(name: string): number | null {
  const m = CHECKPOINT_RE.exec(name);
  return m ? Number(m[1]) : null;
}

/** Sorted segment numbers found in `dir`. */
export async function listSegments(dir: string): Promise<number[]> {
  const names = await readdir(dir);
  const out: number[] = [];
  for (const n of names) {
    const s = parseSegmentName(n);
    if (s !== null) out.push(s);
  }
  return out.sort((a, b) => a - b);
}

/** The 9-byte header framing `payload` as a record of frame type `type`. */
export function frameHeader(type: number, payload: Uint8Array): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  h[0] = type;
  h.writeUInt32LE(payload.length, 1);
  h.writeUInt32LE(crc32(payload, crc32(h.subarray(0, 5))), 5);
  return h;
}

/** Where and why a scan stopped early. */
export interface ScanCorruption {
  /** File offset of the first bad frame: everything before it is valid. */
  readonly offset: number;
  readonly reason: string;
}

/** Outcome of {@link scanSegment}. */
export interface ScanResult {
  /** Size of the file when it was scanned. */
  readonly fileBytes: number;
  /** Bytes of valid frames from the start of the file. */
  readonly validBytes: number;
  /** Frames read successfully. */
  readonly records: number;
  /** Set when the scan stopped at a bad frame. */
  readonly corruption?: ScanCorruption;
}

/**
 * Called for each valid frame. `payload` is only valid during the synchronous part of the call.
 * Throwing the configured corruption error marks the frame as corrupt (scan stops there); other
 * errors propagate. A returned promise is awaited before the next frame (back-pressure).
 */
export type FrameHandler = (type: number, payload: Buffer, offset: number) => void | Promise<void>;

/** Options of {@link scanSegment}. */
export interface ScanOptions {
  /** Read size in bytes (default 4 MiB). */
  readonly readBytes?: number;
  /** Error class treated as frame corruption when thrown by the handler. */
  readonly corruptionError?: abstract new (...args: never[]) => Error;
}

/**
 * Reads the frames of one segment file in order, streaming it in chunks, and stops at the first
 * invalid frame (unknown type, length beyond the file or the record limit, CRC mismatch, or a
 * handler-reported decode failure).
 */
export async function scanSegment(path: string, onFrame: FrameHandler, opts: ScanOptions = {}): Promise<ScanResult> {
  const fh = await open(path, 'r');
  try {
    const size = (await fh.stat()).size;
    let buf = Buffer.allocUnsafe(Math.min(Math.max(opts.readBytes ?? 4 << 20, 64), Math.max(size, 64)));
    let bufStart = 0; // file offset of buf[0]
    let bufLen = 0;
    let pos = 0;
    let records = 0;
    const fill = async (need: number): Promise<void> => {
      // Make buf hold [pos, pos + need) (need <= size - pos).
      const keep = bufStart + bufLen - pos;
      if (need > buf.length) {
        const next = Buffer.allocUnsafe(need);
        buf.copy(next, 0, pos - bufStart, bufLen);
        buf = next;
      } else if (pos !== bufStart) {
        buf.copy(buf, 0, pos - bufStart, bufLen);
      }
      bufStart = pos;
      bufLen = keep;
      while (bufLen < need) {
        const want = Math.min(buf.length - bufLen, size - (bufStart + bufLen));
        if (want <= 0) break;
        const { bytesRead } = await fh.read(buf, bufLen, want, bufStart + bufLen);
        if (bytesRead === 0) break;
        bufLen += bytesRead;
      }
    };
    const stop = (reason: string): ScanResult => ({ fileBytes: size, validBytes: pos, records, corruption: { offset: pos, reason } });
    while (pos < size) {
      if (bufStart + bufLen - pos < FRAME_HEADER_BYTES) {
        if (size - pos < FRAME_HEADER_BYTES) return stop(`torn frame header: ${size - pos} bytes at end of file`);
        await fill(FRAME_HEADER_BYTES);
        if (bufStart + bufLen - pos < FRAME_HEADER_BYTES) return stop('short read of frame header');
      }
      const h = pos - bufStart;
      const type = buf[h]!;
      const len = buf.readUInt32LE(h + 1);
      if (type === 0 || type > MAX_TYPE) return stop(`invalid record type ${type}`);
      if (len > MAX_RECORD_BYTES) return stop(`record length ${len} exceeds the ${MAX_RECORD_BYTES}-byte limit`);
      const total = FRAME_HEADER_BYTES + len;
      if (pos + total > size) return stop(`record length ${len} runs past end of file (${size - pos - FRAME_HEADER_BYTES} bytes left)`);
      if (bufStart + bufLen - pos < total) {
        await fill(total);
        if (bufStart + bufLen - pos < total) return stop('short read of record');
      }
      const o = pos - bufStart;
      const payload = buf.subarray(o + FRAME_HEADER_BYTES, o + total);
      const want = buf.readUInt32LE(o + 5);
      if (crc32(payload, crc32(buf.subarray(o, o + 5))) !== want) return stop('CRC mismatch');
      try {
        const r = onFrame(type, payload, pos);
        if (r) await r;
      } catch (err) {
        if (opts.corruptionError && err instanceof opts.corruptionError) return stop(`undecodable record: ${err.message}`);
        throw err;
      }
      records++;
      pos += total;
    }
    return { fileBytes: size, validBytes: pos, records };
  } finally {
    await fh.close();
  }
}

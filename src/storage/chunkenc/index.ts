/** Chunk encodings: Gorilla/XOR float chunks with decimal modes, and the bit stream they use. */
export { BitReader, BitWriter, type ByteAllocator } from './bstream.js';
export { SlotPool } from './pool.js';
export { ChunkArena, ChunkEncoder, ENC_F64, ENC_I32, type SealedChunk, floatBits, bitsHi, bitsLo, floatFromBits } from './xor.js';
export { XorIterator } from './iterator.js';
export { decodeChunkInto, type ChunkRef } from './bulk.js';
export { XorChunk } from './chunk.js';
export { Recoder, type RecodeResult } from './recode.js';
export { VAL_XOR, VAL_DEC_DD, VAL_DEC_D, TS_DOD, TS_GRID } from './codec.js';
import type { SealedChunk } from './xor.js';
import { XorIterator } from './iterator.js';

/** An iterator over a sealed chunk. */
export function sealedIterator(c: SealedChunk): XorIterator {
  return new XorIterator(c.buf, c.off, c.n, c.minT);
}

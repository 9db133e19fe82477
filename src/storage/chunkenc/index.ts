/** Chunk encodings: Gorilla/XOR float chunks and the bit stream they use. */
export { BitReader, BitWriter, type ByteAllocator } from './bstream.js';
export { SlotPool } from './pool.js';
export {
  ChunkArena,
  XorChunk,
  XorIterator,
  sealedIterator,
  floatBits,
  bitsHi,
  bitsLo,
  floatFromBits,
  type SealedChunk,
} from './xor.js';

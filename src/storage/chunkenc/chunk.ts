/** A self-contained appendable chunk (its own encoder and buffer), used by tests and tools. */
import type { ByteAllocator } from './bstream.js';
import { floatBits, bitsHi, bitsLo } from './codec.js';
import { Recoder } from './recode.js';
import { ChunkArena, ChunkEncoder, type SealedChunk } from './xor.js';

let recoder: Recoder | undefined;

/** An appendable chunk. Samples must be appended with strictly increasing timestamps. */
export class XorChunk extends ChunkEncoder {
  /**
   * @param initialBytes initial buffer capacity
   * @param alloc shared region allocator (e.g. a `SlotPool`); default a private buffer
   */
  constructor(initialBytes = 32, alloc?: ByteAllocator) {
    super(initialBytes, alloc);
  }

  /** Capacity of the backing buffer. */
  get capacity(): number {
    return this.w.cap;
  }

  /** High word of the last value's bits (valid when n > 0). */
  get lastHi(): number {
    return this.phi;
  }
  /** Low word of the last value's bits (valid when n > 0). */
  get lastLo(): number {
    return this.plo;
  }

  /** A view of the encoded bytes (valid until the next append or reset). */
  bytes(): Uint8Array {
    return this.w.bytes();
  }

  /** Appends a float value. */
  append(t: number, v: number): void {
    floatBits(v);
    this.appendBits(t, bitsHi(), bitsLo());
  }

  /**
   * Copies the chunk into `arena` as a sealed chunk, re-encoded in its cheapest modes (which
   * become this chunk's preference), and resets this chunk for reuse.
   */
  seal(arena: ChunkArena): SealedChunk {
    const r = (recoder ??= new Recoder()).best(this.w.buf, this.w.base, this.byteLength, this.n, this.minT);
    const { buf, off } = arena.store(r.bytes);
    const sealed: SealedChunk = { buf, off, len: r.bytes.length, n: this.n, minT: this.minT, maxT: this.maxT };
    this.prefVal = r.valMode;
    this.prefTs = r.tsMode;
    this.prefK = r.k;
    this.reset();
    return sealed;
  }

  /** Returns the chunk's region to its allocator; the chunk must not be used afterwards. */
  release(): void {
    this.w.release();
    this.n = 0;
  }
}

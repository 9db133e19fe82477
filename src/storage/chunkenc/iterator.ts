/** Decoder of the chunk format described in `xor.ts`. */
import { BitReader } from './bstream.js';
import {
  floatBits,
  bitsHi,
  bitsLo,
  floatFromBits,
  gridOf,
  POW10,
  readResidual,
  readVarint,
  readZPayload,
  readZPrefix,
  TS_GRID,
  unzig,
  VAL_DEC_DD,
  VAL_XOR,
  Z_ESCAPE,
} from './codec.js';

/** Decodes the samples of a chunk one at a time. After {@link next} returns true, `t`, `hi`, `lo` hold the sample. */
export class XorIterator {
  private readonly r: BitReader;
  private i = 0;
  /** Timestamp of the current sample. */
  t = 0;
  /** High bit word of the current value. */
  hi = 0;
  /** Low bit word of the current value. */
  lo = 0;
  /** Value mode of the chunk at the current sample (it may switch from decimal to XOR once). */
  valMode = VAL_XOR;
  /** Timestamp mode of the chunk. */
  tsMode = TS_GRID;
  private td = 0;
  private leading = 0;
  private trailing = 0;
  private e = 0;
  private k = 0;
  private m = 0;
  private dm = 0;

  /**
   * @param buf bytes holding the chunk
   * @param off byte offset of the chunk in `buf`
   * @param n number of samples to decode
   * @param t0 timestamp of the first sample (the chunk's minT; not stored in the bytes)
   */
  constructor(
    buf: Uint8Array,
    off: number,
    private readonly n: number,
    private readonly t0: number,
  ) {
    this.r = new BitReader(buf, off);
  }

  /** The current value as a number (bit-exact only when stored straight into a typed array). */
  get v(): number {
    return floatFromBits(this.hi, this.lo);
  }

  /** Advances to the next sample; false at the end. */
  next(): boolean {
    const i = this.i;
    if (i >= this.n) return false;
    const r = this.r;
    if (i === 0) {
      const h = r.readBits(3);
      this.valMode = h >>> 1;
      this.tsMode = h & 1;
      this.t = this.t0;
      if (this.valMode === VAL_XOR) {
        this.hi = r.readBits(32);
        this.lo = r.readBits(32);
      } else {
        this.e = r.readBits(4);
        this.k = r.readBits(6);
        this.setDec(unzig(readVarint(r)));
        this.dm = 0;
      }
    } else {
      let d: number;
      if (i === 1) {
        d = readVarint(r);
        this.td = this.tsMode === TS_GRID ? gridOf(d) : d;
      } else {
        d = this.td + readResidual(r);
        if (this.tsMode !== TS_GRID) this.td = d;
      }
      this.t += d;
      if (this.valMode === VAL_XOR) this.readXor();
      else this.readDec();
    }
    this.i = i + 1;
    return true;
  }

  private setDec(m: number): void {
    this.m = m;
    floatBits(m / POW10[this.e]!);
    this.hi = bitsHi();
    this.lo = bitsLo();
  }

  private readDec(): void {
    const r = this.r;
    const k = readZPrefix(r);
    if (k < Z_ESCAPE) {
      const x = k === 0 ? 0 : unzig(readZPayload(r, k, this.k));
      const dm = this.valMode === VAL_DEC_DD ? this.dm + x : x;
      this.dm = dm;
      this.setDec(this.m + dm);
      return;
    }
    if (r.readBit() === 1) {
      this.e = r.readBits(4);
      this.setDec(unzig(readVarint(r)));
      this.dm = 0;
      return;
    }
    this.valMode = VAL_XOR;
    this.readXor();
  }

  private readXor(): void {
    const r = this.r;
    if (r.readBit() === 0) return;
    if (r.readBit() === 1) {
      this.leading = r.readBits(5);
      let sig = r.readBits(6);
      if (sig === 0) sig = 64;
      this.trailing = 64 - this.leading - sig;
    }
    const sig = 64 - this.leading - this.trailing;
    let h = 0;
    let l: number;
    if (sig > 32) {
      h = r.readBits(sig - 32);
      l = r.readBits(32);
    } else {
      l = r.readBits(sig);
    }
    const s = this.trailing;
    if (s >= 32) {
      h = l << (s - 32);
      l = 0;
    } else if (s > 0) {
      h = (h << s) | (l >>> (32 - s));
      l = l << s;
    }
    this.hi = (this.hi ^ h) >>> 0;
    this.lo = (this.lo ^ l) >>> 0;
  }

  /**
   * Decodes the remaining samples with `mint ≤ t ≤ maxt` into `ts` / `vs` starting at index
   * `at` (values are copied as bit words, so NaN payloads survive). Stops after `maxt`.
   * Returns the index after the last written sample. The arrays must have room.
   */
  readInto(ts: Float64Array, vs: Float64Array, at: number, mint = -Infinity, maxt = Infinity): number {
    const vw = new Uint32Array(vs.buffer, vs.byteOffset, vs.length * 2);
    while (this.next()) {
      const t = this.t;
      if (t < mint) continue;
      if (t > maxt) break;
      ts[at] = t;
      vw[2 * at] = this.lo;
      vw[2 * at + 1] = this.hi;
      at++;
    }
    return at;
  }
}

/**
 * Seal-time re-encoding: a full chunk is decoded, the bit cost of each value mode and each
 * timestamp mode is computed (without writing), and the chunk is encoded again in the cheapest
 * modes when they differ from the ones it was written in. The modes that won become the series'
 * preference for its next open chunk, so steady series rarely change encoding.
 */
import { BitReader } from './bstream.js';
import {
  bitLength,
  decScale,
  DEFAULT_ZK,
  floatFromBits,
  gridOf,
  MAX_ZK,
  minScale,
  residualBits,
  TS_DOD,
  TS_GRID,
  VAL_DEC_D,
  VAL_DEC_DD,
  VAL_XOR,
  zBitsByLength,
  zig,
} from './codec.js';
import { XorIterator } from './iterator.js';
import { ChunkEncoder } from './xor.js';

/** Result of {@link Recoder.best}. */
export interface RecodeResult {
  /** The bytes to keep (valid until the next call). */
  readonly bytes: Uint8Array;
  /** Modes (and first-bucket width) the kept encoding started with. */
  readonly valMode: number;
  readonly tsMode: number;
  readonly k: number;
}

/** Reusable scratch state for re-encoding chunks (one per head). */
export class Recoder {
  private ts = new Float64Array(128);
  private hi = new Uint32Array(128);
  private lo = new Uint32Array(128);
  private readonly lens = new Uint32Array(54);
  private readonly trial = new ChunkEncoder(512);

  /**
   * Finds the smallest encoding of the `n` samples of the chunk at `buf[off..off+len)` (first
   * timestamp `t0`). Returns the original bytes when nothing beats them.
   */
  best(buf: Uint8Array, off: number, len: number, n: number, t0: number): RecodeResult {
    const hr = new BitReader(buf, off);
    const head = hr.readBits(3);
    const curVal = head >>> 1;
    const curTs = head & 1;
    hr.readBits(4);
    const curK = curVal === VAL_XOR ? DEFAULT_ZK : hr.readBits(6);
    const orig: RecodeResult = { bytes: buf.subarray(off, off + len), valMode: curVal, tsMode: curTs, k: curK };
    if (n < 3) return orig;
    if (n > this.ts.length) {
      this.ts = new Float64Array(n);
      this.hi = new Uint32Array(n);
      this.lo = new Uint32Array(n);
    }
    const ts = this.ts;
    const his = this.hi;
    const los = this.lo;
    const it = new XorIterator(buf, off, n, t0);
    let c = 0;
    while (it.next()) {
      ts[c] = it.t;
      his[c] = it.hi;
      los[c] = it.lo;
      c++;
    }
    const tsMode = cheaperTs(ts, n);
    // Value cost of each mode (and bucket width), estimated without writing; the winner is encoded once.
    let bestVal = VAL_XOR;
    let bestBits = 64 + xorBits(his, los, n);
    let bestK = curK;
    const hi0 = his[0]!;
    const e0 = minScale(floatFromBits(hi0, los[0]!), hi0);
    if (e0 >= 0) {
      for (let val = VAL_DEC_DD; val <= VAL_DEC_D; val++) {
        const b = this.decBits(his, los, n, e0, val === VAL_DEC_DD);
        if (b < bestBits) {
          bestBits = b;
          bestVal = val;
          bestK = this.k;
        }
      }
    }
    if (bestVal === curVal && tsMode === curTs && (bestVal === VAL_XOR || bestK === curK)) return orig;
    const enc = this.trial;
    enc.reset();
    enc.prefVal = bestVal;
    enc.prefTs = tsMode;
    enc.prefK = bestK;
    for (let i = 0; i < n; i++) enc.appendBits(ts[i]!, his[i]!, los[i]!);
    if (enc.byteLength >= len) return orig;
    return { bytes: enc.w.bytes(), valMode: bestVal, tsMode, k: bestK };
  }

  /** Best first-bucket width found by the last {@link decBits}. */
  private k = DEFAULT_ZK;

  /**
   * Bits a decimal mode spends on the values with the best bucket width (left in `this.k`).
   * Escapes are approximated: a rescale as 4 + 1 + 4 + 64 bits, a switch to XOR as the XOR
   * cost of the rest.
   */
  private decBits(his: Uint32Array, los: Uint32Array, n: number, e0: number, dd: boolean): number {
    const lens = this.lens;
    lens.fill(0);
    let e = e0;
    let pm = decScale(floatFromBits(his[0]!, los[0]!), his[0]!, e);
    let fixed = 4 + 6 + 8;
    for (let z = zig(pm); z >= 128; z = Math.floor(z / 128)) fixed += 8;
    let pdm = 0;
    for (let i = 1; i < n; i++) {
      const hi = his[i]!;
      const v = floatFromBits(hi, los[i]!);
      const m = decScale(v, hi, e);
      if (m === m) {
        const dm = m - pm;
        lens[bitLength(zig(dd ? dm - pdm : dm))]!++;
        pm = m;
        pdm = dm;
        continue;
      }
      const e2 = minScale(v, hi);
      if (e2 < 0) {
        fixed += 5 + xorBits(his.subarray(i - 1), los.subarray(i - 1), n - i + 1);
        break;
      }
      fixed += 4 + 1 + 4 + 64;
      e = e2;
      pm = decScale(v, hi, e);
      pdm = 0;
    }
    let best = Infinity;
    for (let k = 1; k <= MAX_ZK; k++) {
      let b = 0;
      for (let l = 0; l < 54; l++) if (lens[l]! > 0) b += lens[l]! * zBitsByLength(l, k);
      if (b < best) {
        best = b;
        this.k = k;
      }
    }
    return fixed + best;
  }
}

/** Bits the XOR mode spends on values 1..n-1 (mirrors `ChunkEncoder.writeXor`). */
function xorBits(his: Uint32Array, los: Uint32Array, n: number): number {
  let bits = 0;
  let leading = -1;
  let trailing = 0;
  for (let i = 1; i < n; i++) {
    const xh = (his[i]! ^ his[i - 1]!) >>> 0;
    const xl = (los[i]! ^ los[i - 1]!) >>> 0;
    if (xh === 0 && xl === 0) {
      bits += 1;
      continue;
    }
    let lz = xh !== 0 ? Math.clz32(xh) : 32 + Math.clz32(xl);
    const tz = xl !== 0 ? 31 - Math.clz32(xl & -xl) : 63 - Math.clz32(xh & -xh);
    if (lz > 31) lz = 31;
    if (leading >= 0 && lz >= leading && tz >= trailing) {
      bits += 2 + 64 - leading - trailing;
    } else {
      bits += 13 + 64 - lz - tz;
      leading = lz;
      trailing = tz;
    }
  }
  return bits;
}

/** The timestamp mode that encodes `ts[0..n)` in fewer bits. */
function cheaperTs(ts: Float64Array, n: number): number {
  const d1 = ts[1]! - ts[0]!;
  const grid = gridOf(d1);
  let dod = 0;
  let g = 0;
  let prev = d1;
  for (let i = 2; i < n; i++) {
    const d = ts[i]! - ts[i - 1]!;
    dod += residualBits(d - prev);
    g += residualBits(d - grid);
    prev = d;
  }
  return dod < g ? TS_DOD : TS_GRID;
}

/**
 * Start timestamps of one series' float samples, created on the series' first sample that has
 * one (series that never had one hold nothing and pay nothing).
 *
 * Stored as runs over consecutive samples: a run covers the samples with timestamps in
 * [t0, t1] and gives each either the same absolute start (a cumulative counter since its
 * start) or the same offset from its own timestamp (deltas: ST = previous T at a steady
 * interval). Typical series thus take one run (32 bytes) however many samples they have; an
 * irregular one costs at most one run per sample. Samples without a start timestamp fall
 * between runs.
 */

/** Run fields, stride 4 in one Float64Array. */
const T0 = 0;
const T1 = 1;
const VAL = 2;
const MODE = 3;
const STRIDE = 4;
/** `VAL` is the start timestamp itself. */
const ABSOLUTE = 0;
/** `VAL` is the start timestamp minus the sample's timestamp. */
const OFFSET = 1;

/** Run-length encoded start timestamps of a series (see the file comment). */
export class StartRuns {
  private runs = new Float64Array(2 * STRIDE);
  private n = 0;

  /** Number of runs held. */
  get size(): number {
    return this.n;
  }

  /** Bytes reserved. */
  get bytes(): number {
    return this.runs.byteLength;
  }

  /**
   * Records start timestamp `st` (≠ 0) of the sample at `t`. `prevT` is the series' previous
   * float sample's timestamp (-Infinity when none): a run extends only over consecutive samples,
   * so a sample without a start timestamp in between ends it. Samples arrive in time order.
   */
  append(prevT: number, t: number, st: number): void {
    const r = this.runs;
    const o = (this.n - 1) * STRIDE;
    if (this.n > 0 && r[o + T1] === prevT) {
      const mode = r[o + MODE];
      if (mode === ABSOLUTE && r[o + VAL] === st) {
        r[o + T1] = t;
        return;
      }
      if (mode === OFFSET && r[o + VAL] === st - t) {
        r[o + T1] = t;
        return;
      }
      // A one-sample run has no mode yet: switch it to offsets when those match.
      if (r[o + T0] === r[o + T1] && mode === ABSOLUTE && r[o + VAL]! - r[o + T0]! === st - t) {
        r[o + VAL] = st - t;
        r[o + MODE] = OFFSET;
        r[o + T1] = t;
        return;
      }
    }
    if ((this.n + 1) * STRIDE > r.length) {
      const g = new Float64Array(r.length * 2);
      g.set(r);
      this.runs = g;
    }
    const p = this.n * STRIDE;
    this.runs[p + T0] = t;
    this.runs[p + T1] = t;
    this.runs[p + VAL] = st;
    this.runs[p + MODE] = ABSOLUTE;
    this.n++;
  }

  /** Index of the first run with t1 >= t. */
  private runFrom(t: number): number {
    let lo = 0;
    let hi = this.n;
    const r = this.runs;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (r[mid * STRIDE + T1]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The start timestamp of the sample at `t` (0 when it has none). */
  at(t: number): number {
    const k = this.runFrom(t);
    if (k >= this.n) return 0;
    const o = k * STRIDE;
    const r = this.runs;
    if (r[o + T0]! > t) return 0;
    return r[o + MODE] === OFFSET ? t + r[o + VAL]! : r[o + VAL]!;
  }

  /**
   * The start timestamps of samples at times `ts` (ascending), 0 where unknown; undefined when
   * none of them has one.
   */
  column(ts: Float64Array): Float64Array | undefined {
    const n = ts.length;
    if (n === 0 || this.n === 0) return undefined;
    const r = this.runs;
    let k = this.runFrom(ts[0]!);
    if (k >= this.n || r[k * STRIDE + T0]! > ts[n - 1]!) return undefined;
    const out = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = ts[i]!;
      while (k < this.n && r[k * STRIDE + T1]! < t) k++;
      if (k >= this.n) break;
      const o = k * STRIDE;
      if (r[o + T0]! > t) continue;
      out[i] = r[o + MODE] === OFFSET ? t + r[o + VAL]! : r[o + VAL]!;
    }
    return out;
  }

  /** Drops runs that end before `mint`; true when none is left. */
  truncate(mint: number): boolean {
    const k = this.runFrom(mint);
    if (k > 0) {
      this.runs.copyWithin(0, k * STRIDE, this.n * STRIDE);
      this.n -= k;
    }
    return this.n === 0;
  }
}

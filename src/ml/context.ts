/**
 * Online contextual memory of one series: "has this short pattern been seen before?".
 *
 * Our own design after the published descriptions of contextual detectors (CAD OSE's contexts
 * of discretised values, HTM's sequence memory, ARTime's resonance with known categories):
 *
 * - Levels: after `learn` points the level width is fixed to (range of those points) / `levels`.
 *   Later values outside that range get new levels (level numbers are unbounded integers), so
 *   nothing is ever re-binned: a new level is simply a new symbol.
 * - Facts: the last `order` levels form facts of every order 1..`order` (the current level, the
 *   last two levels, …), i.e. an n-gram memory of the level sequence.
 * - Memory: facts are hashed into `slots` saturating 8-bit counters. When more than `maxFill`
 *   of the slots are in use, every counter is halved, so facts seen once are forgotten first
 *   and hash collisions (which can only make a fact look familiar, never novel) stay rare.
 * - Novelty of a point: the share of its facts the memory did not know before this point. A
 *   rhythm that keeps coming back stops being novel; a level sequence never seen before is
 *   novel even when each value in it is inside the usual range.
 *
 * Bounded: `slots` bytes plus `order` integers per series, whatever the number of points;
 * O(order) per point plus an amortised O(1) for the halvings. Deterministic; never throws on bad
 * input (non-finite values are skipped). Calibration into a score is the caller's
 * ({@link SeriesAnomalyState} runs the novelty through an anomaly likelihood).
 */

/** Parameters of {@link ContextMemory} (stored in the anomaly model's metadata). */
export interface ContextParams {
  /** Levels across the range of the learning points (resolution of the discretisation). */
  readonly levels: number;
  /** Longest fact: the number of most recent levels in a context. */
  readonly order: number;
  /** Points that fix the level width; facts are learnt but not scored until `2 × learn`. */
  readonly learn: number;
  /** Counters of the memory (rounded up to a power of two, at most 65536). */
  readonly slots: number;
  /** Share of slots in use that triggers a halving of every counter (forgetting). */
  readonly maxFill: number;
}

/** Defaults (see models/anomaly.md for how they were chosen). */
export const DEFAULT_CONTEXT: ContextParams = {
  levels: 8,
  order: 4,
  learn: 150,
  slots: 4096,
  maxFill: 0.5,
};

/** Bounds for parameters read from (untrusted) model metadata. */
const MAX_ORDER = 16;
const MAX_SLOTS = 1 << 16;
const MAX_LEVELS = 1 << 16;

function clampInt(x: unknown, lo: number, hi: number, dflt: number): number {
  return typeof x === 'number' && Number.isFinite(x) ? Math.min(hi, Math.max(lo, Math.floor(x))) : dflt;
}

/** Valid parameters from possibly untrusted ones (out-of-range values are clamped). */
export function sanitizeContext(p: Partial<ContextParams> | undefined): ContextParams {
  const d = DEFAULT_CONTEXT;
  const fill = typeof p?.maxFill === 'number' && p.maxFill > 0 && p.maxFill <= 1 ? p.maxFill : d.maxFill;
  let slots = 64;
  const want = clampInt(p?.slots, 64, MAX_SLOTS, d.slots);
  while (slots < want) slots <<= 1;
  return {
    levels: clampInt(p?.levels, 1, MAX_LEVELS, d.levels),
    order: clampInt(p?.order, 1, MAX_ORDER, d.order),
    learn: clampInt(p?.learn, 2, 1e7, d.learn),
    slots,
    maxFill: fill,
  };
}

/** One series' contextual memory. */
export class ContextMemory {
  readonly params: ContextParams;
  private readonly counts: Uint8Array;
  private readonly mask: number;
  /** The last `order` levels, newest first. */
  private readonly seq: Int32Array;
  private seqLen = 0;
  private used = 0;
  private n = 0;
  private lo = Infinity;
  private hi = -Infinity;
  private width = NaN;
  private halvings = 0;

  constructor(params: Partial<ContextParams> = DEFAULT_CONTEXT) {
    this.params = sanitizeContext(params);
    this.counts = new Uint8Array(this.params.slots);
    this.mask = this.params.slots - 1;
    this.seq = new Int32Array(this.params.order);
  }

  /** Finite points fed so far. */
  get count(): number {
    return this.n;
  }

  /** Bytes of state held (fixed by the parameters, independent of the points fed). */
  get stateBytes(): number {
    return this.counts.byteLength + this.seq.byteLength;
  }

  /** Slots in use (≤ `maxFill × slots` after every update). */
  get slotsUsed(): number {
    return this.used;
  }

  /** How often the memory has halved its counters. */
  get forgettings(): number {
    return this.halvings;
  }

  /**
   * Feeds the newest value; returns its novelty in [0, 1] (share of the point's facts not
   * recognised), or NaN while learning and for a non-finite value.
   */
  update(value: number): number {
    if (!Number.isFinite(value)) return NaN;
    const p = this.params;
    this.n++;
    if (this.n <= p.learn) {
      if (value < this.lo) this.lo = value;
      if (value > this.hi) this.hi = value;
      if (this.n === p.learn) {
        // A flat learning period still needs a usable resolution.
        const r = this.hi - this.lo;
        this.width = r > 0 ? r / p.levels : Math.max(Math.abs(this.hi) * 1e-3, 1e-9);
      }
      return NaN;
    }
    const level = this.levelOf(value);
    for (let i = Math.min(this.seqLen, this.seq.length - 1); i > 0; i--) this.seq[i] = this.seq[i - 1]!;
    this.seq[0] = level;
    if (this.seqLen < this.seq.length) this.seqLen++;
    // Facts of every order: a running hash over the newest 1..seqLen levels (FNV-style mixing,
    // the position folded in so that the same levels at other offsets are other facts).
    let h = 0x811c9dc5 | 0;
    let unknown = 0;
    for (let k = 0; k < this.seqLen; k++) {
      h = Math.imul(h ^ (this.seq[k]! + Math.imul(0x9e3779b9, k + 1)), 0x01000193);
      const slot = (h ^ (h >>> 15)) & this.mask;
      const c = this.counts[slot]!;
      if (c === 0) {
        unknown++;
        this.used++;
      }
      if (c < 255) this.counts[slot] = c + 1;
    }
    if (this.used > p.maxFill * this.counts.length) this.forget();
    const scoring = this.n > 2 * p.learn;
    return scoring ? unknown / this.seqLen : NaN;
  }

  /**
   * Level of a value: `levels` equal bins over the learnt range. The learnt extremes are only a
   * sample's, so the edge bins reach half a bin further out (a value a hair beyond the range seen
   * while learning is not a new symbol); further out, each bin is a new level. Clamped so that
   * absurd outliers cannot overflow the Int32 sequence.
   */
  private levelOf(value: number): number {
    const L = this.params.levels;
    const u = (value - this.lo) / this.width;
    if (u >= L && u < L + 0.5) return L - 1;
    if (u < 0 && u >= -0.5) return 0;
    return Math.max(-1e9, Math.min(1e9, Math.floor(u)));
  }

  /** Halves every counter: facts seen once disappear, frequent ones stay. */
  private forget(): void {
    this.halvings++;
    this.used = 0;
    for (let i = 0; i < this.counts.length; i++) {
      const c = this.counts[i]! >>> 1;
      this.counts[i] = c;
      if (c > 0) this.used++;
    }
  }
}
